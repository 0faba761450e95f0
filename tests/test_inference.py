"""Issue 22: small-sample regression p-values, HC3 at leverage 1, the Kolari-Pynnonen r-bar floor
and the minimum number of events of the bootstrap tests, each against an independent numpy
computation written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.engine.regression import cross_sectional_regression


def synthetic_events(seed: int, n: int = 40, dates: int = 8) -> pd.DataFrame:
    """Seeded synthetic cross-section: a CAR, one characteristic, a date cluster."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    day = rng.integers(0, dates, size=n)
    shock = rng.normal(scale=0.02, size=dates)[day]
    return pd.DataFrame({"car": 0.01 + 0.02 * x + shock + rng.normal(scale=0.03, size=n),
                         "x": x, "day0": day})


def _hc3_and_cluster(y: np.ndarray, X: np.ndarray, g: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS, HC3 (MacKinnon & White 1985) and CR1 cluster-robust (Cameron & Miller 2015, eq. 12
    with the G/(G-1) (N-1)/(N-K) factor) standard errors, written out."""
    n, k = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ y
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, xtx_inv, X)
    meat = (X * (e**2 / (1 - h) ** 2)[:, None]).T @ X
    se_hc3 = np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv))
    groups = np.unique(g)
    scores = np.array([X[g == c].T @ e[g == c] for c in groups])
    G = len(groups)
    c = G / (G - 1) * (n - 1) / (n - k)
    se_cl = np.sqrt(np.diag(c * xtx_inv @ (scores.T @ scores) @ xtx_inv))
    return b, se_hc3, se_cl


def test_regression_p_values_are_t_with_n_minus_k_and_g_minus_1() -> None:
    """Cameron & Miller (2015): t(n - k) for HC3, t(G - 1) for G date clusters; stars follow."""
    data = synthetic_events(3)
    res = cross_sectional_regression(data, "car ~ x")
    X = np.column_stack([np.ones(len(data)), data["x"]])
    b, se_hc3, se_cl = _hc3_and_cluster(data["car"].to_numpy(), X, data["day0"].to_numpy())
    n, k, G = len(data), 2, data["day0"].nunique()
    coef = res.coef.set_index("term")
    np.testing.assert_allclose(coef["coef"], b, rtol=1e-10)
    np.testing.assert_allclose(coef["se_hc3"], se_hc3, rtol=1e-10)
    np.testing.assert_allclose(coef["se_cluster"], se_cl, rtol=1e-10)
    for name, se, df in (("hc3", se_hc3, n - k), ("cluster", se_cl, G - 1)):
        p = 2 * stats.t.sf(np.abs(b / se), df)
        np.testing.assert_allclose(coef[f"p_{name}"].to_numpy(), p, rtol=1e-8)
        normal = 2 * stats.norm.sf(np.abs(b / se))
        assert (coef[f"p_{name}"].to_numpy() > normal).all()  # not the normal any more


def test_hc3_with_a_leverage_one_event_is_nan_with_a_note() -> None:
    """A category with one event has leverage 1: HC3 is 0/0, NaN as in R's sandwich, whatever
    the row order; the clustered errors stay."""
    data = synthetic_events(5, n=30).assign(kind=["a", "b"] * 14 + ["c", "a"])
    data.loc[28, "kind"] = "c"  # the only "c"
    first = cross_sectional_regression(data, "car ~ x + C(kind)")
    again = cross_sectional_regression(data.iloc[::-1].reset_index(drop=True),
                                       "car ~ x + C(kind)")
    for res in (first, again):
        assert res.coef[["se_hc3", "t_hc3", "p_hc3"]].isna().all().all()
        assert res.coef["se_cluster"].notna().all()
        assert any("leverage 1" in n for n in res.notes)
    plain = cross_sectional_regression(data[data["kind"] != "c"], "car ~ x + C(kind)")
    assert plain.coef["se_hc3"].notna().all() and not any("leverage" in n for n in plain.notes)


def test_kp_floors_a_negative_rbar_at_zero() -> None:
    """Kolari & Pynnonen (2010) t_adj = t_BMP sqrt((1 - r) / (1 + (n - 1) r)) with r = max(r-bar,
    0): a negative r-bar leaves BMP unchanged, a positive one shrinks it."""
    from eventstudy.engine.significance import bmp, kp

    rng = np.random.default_rng(11)
    n, days = 12, 60
    car = rng.normal(0.01, 0.02, size=n)
    scar = car / 0.02 + rng.normal(scale=0.1, size=n)
    common = rng.normal(size=days)
    for sign in (-1.0, 1.0):
        resid = rng.normal(size=(n, days))
        resid[: n // 2] += 1.5 * common
        resid[n // 2:] += sign * 1.5 * common
        z = resid - resid.mean(axis=1, keepdims=True)
        z /= np.sqrt((z**2).sum(axis=1, keepdims=True))
        corr = np.corrcoef(resid)
        rbar = (corr.sum() - n) / (n * (n - 1))
        got = kp(car, scar, z, np.ones((n, days), dtype=bool))
        base = bmp(car, scar)
        r = max(rbar, 0.0)
        want = base.statistic * np.sqrt((1 - r) / (1 + (n - 1) * r))
        assert (rbar < 0) == (sign < 0)
        assert got.statistic == pytest.approx(want, rel=1e-10, abs=0)
        assert got.p_value == pytest.approx(2 * stats.t.sf(abs(want), n - 1), rel=1e-8, abs=0)


def test_bootstrap_tests_need_a_minimum_number_of_events() -> None:
    """Two events once gave p = 0.000 for a statistic of -0.53: below the minimum, no p-value."""
    from eventstudy.engine.bootstrap import MIN_WILD_EVENTS, wild_bootstrap_caar
    from eventstudy.engine.significance import MIN_BOOTSTRAP_EVENTS, boot_skew_t

    rng = np.random.default_rng(2)
    few = rng.normal(size=MIN_BOOTSTRAP_EVENTS - 1)
    enough = rng.normal(size=MIN_BOOTSTRAP_EVENTS)
    assert np.isnan(boot_skew_t(few).p_value)
    assert np.isfinite(boot_skew_t(few).statistic)
    assert 0 < boot_skew_t(enough).p_value <= 1
    assert np.isnan(boot_skew_t(np.array([0.1, -0.2])).p_value)
    assert np.isnan(wild_bootstrap_caar(rng.normal(size=MIN_WILD_EVENTS - 1), 999)["p_boot"])
    assert 0 < wild_bootstrap_caar(rng.normal(size=MIN_WILD_EVENTS), 999)["p_boot"] <= 1


def test_clustered_events_name_the_tests_that_stay_valid() -> None:
    """Five real stocks on one date: every test is marked (none held its size with clustered
    events in the simulation); on spread dates only the tests that fail it anywhere are."""
    from eventstudy.engine.validity import SIZE_FAILS, VALID_CLUSTERED
    from eventstudy.studies.batch import batch_study

    tickers = ["0700.HK", "3690.HK", "9988.HK", "1024.HK", "0020.HK"]
    events = pd.DataFrame({"ticker": tickers, "date": "2023-03-01"})
    res = batch_study(events, offline=True)
    tests = res.tests[res.tests["group"] == "all"]
    assert set(tests.loc[tests["valid"], "test"]) == set(VALID_CLUSTERED) & set(tests["test"])
    assert not tests.loc[tests["test"] == "t", "valid"].any()
    assert any("cluster in calendar time (5 of 5 firm-days" in n for n in res.notes)
    assert "t *" in str(res.summary()) and "kp *" in str(res.summary())

    spread = pd.DataFrame({"ticker": tickers, "date": ["2023-03-01", "2023-05-02", "2023-07-03",
                                                       "2023-09-01", "2023-11-01"]})
    alone = batch_study(spread, offline=True)
    assert (alone.tests["valid"] == ~alone.tests["test"].isin(SIZE_FAILS)).all()
    assert any("patell" in n and "outside 3-7%" in n for n in alone.notes)
    assert not any("cluster" in n for n in alone.notes)


def test_day0_variance_ratio_is_the_chi_square_of_the_standardised_ar() -> None:
    from eventstudy.engine.validity import design_of
    from eventstudy.studies.batch import batch_study

    events = pd.DataFrame({"ticker": ["0700.HK", "3690.HK", "9988.HK", "1024.HK", "0020.HK"] * 3,
                           "date": [d for d in ("2022-03-01", "2022-09-01", "2023-03-01")
                                    for _ in range(5)]})
    res = batch_study(events, offline=True)
    design = design_of(res.ar)
    sar = res.events["t_0"].to_numpy()
    dof = res.parameters["dof"].to_numpy()
    ratio = np.var(sar, ddof=1) / np.mean(dof / (dof - 2))
    n = res.n_events
    assert design.firm_days == n >= 10 and design.largest == 5
    assert design.variance_ratio == pytest.approx(ratio, rel=1e-10, abs=0)
    assert design.variance_p == pytest.approx(stats.chi2.sf((n - 1) * ratio, n - 1), rel=1e-8,
                                              abs=0)


def test_calendar_time_honours_the_factor_model() -> None:
    """``--calendar-time`` with ``--model factors`` regresses the portfolio on the study's
    factors (here the real ^HSI return and two SYNTHETIC seeded factors), not on the market."""
    from eventstudy.engine.pseudo import synthetic_factors
    from eventstudy.studies.batch import batch_study

    factors = synthetic_factors(4)
    events = pd.DataFrame({"ticker": ["0700.HK", "3690.HK", "9988.HK", "1024.HK"],
                           "date": ["2022-03-01", "2022-06-01", "2022-09-01", "2022-12-01"]})
    res = batch_study(events, offline=True, model="factors", factors=factors)
    ct = res.calendar_time((0, 10))
    assert list(ct.params.index) == ["const", "hsi", "synthetic_1", "synthetic_2"]
    port = ct.portfolio
    x = np.column_stack([np.ones(len(port)), factors.reindex(port["date"]).to_numpy()])
    beta = np.linalg.lstsq(x, port["return"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(ct.params.to_numpy(), beta, rtol=1e-8)
    market = batch_study(events, offline=True).calendar_time((0, 10))
    assert list(market.params.index) == ["const", "market"]


def test_garch_ratio_reports_the_raw_residual_variance_ratio_beside_it() -> None:
    """Raw ratio = mean e^2 over [+1,+20] / mean e^2 over [-20,-1] (seeded synthetic path)."""
    from eventstudy.volatility.ratio import VolatilityRatio

    rng = np.random.default_rng(8)
    days = np.arange(-30, 31)
    resid = rng.normal(size=len(days)) * np.where(days > 0, 1.5, 1.0)
    sigma = np.full(len(days), 1.1)
    path = pd.DataFrame({"day": days, "resid": resid, "sigma": sigma, "z": resid / sigma})
    res = VolatilityRatio.from_path(path, (-20, -1), (1, 20))
    post, pre = resid[(days >= 1) & (days <= 20)], resid[(days >= -20) & (days <= -1)]
    assert res.raw_ratio == pytest.approx(np.mean(post**2) / np.mean(pre**2), rel=1e-12, abs=0)
    assert "raw residual variance ratio" in res.summary()
    assert res.to_dict()["raw_ratio"] == pytest.approx(res.raw_ratio, abs=0)
