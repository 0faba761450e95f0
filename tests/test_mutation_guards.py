"""Guards against the small, realistic bugs that survived the suite (issue 26).

Each test recomputes a reported number independently (plain pandas / numpy / scipy /
statsmodels / arch written here) so that a flipped sign, a one-tailed p, a lag rule or a
threshold changed in the product makes it fail. ``make mutate`` (scripts/mutate.py) injects
those bugs one at a time and checks that these tests catch them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, read_raw_hsi, read_raw_prices
from scipy import stats


@pytest.fixture(scope="module")
def sensetime():
    from eventstudy import lockup_study

    return lockup_study("0020.HK", offline=True)


def _buy_and_hold(closes: pd.Series, day0: pd.Timestamp, end: int) -> float:
    """Compounded return from the close before day 0 to the close of day ``end``."""
    dates = closes.index
    at = dates.get_loc(day0)
    return float(closes.iloc[at + end] / closes.iloc[at - 1] - 1.0)


def test_bhar_table_is_stock_less_market_from_raw_prices(sensetime) -> None:
    """BHAR = prod(1 + R_i) - prod(1 + R_m) (Barber & Lyon 1997), from the raw CSVs."""
    stock = read_raw_prices("0020.HK")["Close"].astype(float)
    hsi = read_raw_hsi()
    common = stock.index.intersection(hsi.index)
    stock, hsi = stock.loc[common], hsi.loc[common]
    rows = sensetime.bhar.merge(sensetime.events[["event_id", "day0"]], on="event_id")
    assert len(rows) >= 6
    for row in rows.itertuples():
        day0 = pd.Timestamp(row.day0)
        if common.get_loc(day0) + int(row.end) >= len(common):
            continue
        ours = _buy_and_hold(stock, day0, int(row.end))
        mkt = _buy_and_hold(hsi, day0, int(row.end))
        assert row.bhar == pytest.approx(ours - mkt, rel=1e-9, abs=1e-12)
        assert row.market_return == pytest.approx(mkt, rel=1e-9, abs=1e-12)


def test_newey_west_automatic_lags_follow_newey_west_1994() -> None:
    """Without ``lags``, the HAC lag is floor(4 (T/100)^(2/9)) and the SE is statsmodels' HAC
    with that lag."""
    import statsmodels.api as sm

    from eventstudy.engine.calendar_time import calendar_time_portfolio

    rng = np.random.default_rng(26)  # synthetic returns, seeded
    dates = pd.bdate_range("2021-01-04", periods=900)
    rows = []
    for firm in range(12):
        start = int(rng.integers(0, 600))
        for day in range(0, 21):
            rows.append({"ticker": f"S{firm}", "day": day, "date": dates[start + day],
                         "return": rng.normal(0, 0.02), "market_return": 0.0})
    frame = pd.DataFrame(rows)
    market = pd.Series(rng.normal(0, 0.01, len(dates)), index=dates)
    frame["market_return"] = market.loc[frame["date"]].to_numpy()
    result = calendar_time_portfolio(frame, (0, 20))
    t_obs = result.nobs
    expected_lags = int(math.floor(4 * (t_obs / 100.0) ** (2.0 / 9.0)))
    assert result.lags == expected_lags
    daily = frame.groupby("date").agg(ret=("return", "mean"), mkt=("market_return", "first"))
    fit = sm.OLS(daily["ret"].to_numpy(), sm.add_constant(daily["mkt"].to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": expected_lags})
    assert result.bse["const"] == pytest.approx(fit.bse[0], rel=1e-9)
    assert result.pvalues["const"] == pytest.approx(fit.pvalues[0], rel=1e-9)


def test_sign_test_counts_zero_cars_as_not_positive() -> None:
    """Cowan (1992): w = #{CAR_i > 0}; a CAR of exactly zero is not a success."""
    from eventstudy.engine.significance import sign_test

    car = np.array([0.0, 0.0, 0.01, -0.02, 0.03, 0.0, -0.01, 0.02])
    p_hat = np.full(car.size, 0.5)
    got = sign_test(car, p_hat)
    n, w, p = car.size, 3, 0.5
    z = (w - n * p) / math.sqrt(n * p * (1 - p))
    assert float(got.statistic) == pytest.approx(z, rel=1e-12)
    assert float(got.p_value) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


@pytest.fixture(scope="module")
def dmbp() -> pd.Series:
    frame = pd.read_csv(DATA / "garch" / "dmbp.csv")
    return frame["rate"].iloc[:600] / 100.0  # percent -> decimal (fit_garch scales by 100)


def test_gjr_persistence_counts_half_of_gamma(dmbp: pd.Series) -> None:
    """GJR (Glosten, Jagannathan & Runkle 1993) with symmetric errors: persistence =
    alpha + gamma / 2 + beta, from arch's own estimates."""
    from eventstudy.volatility.garch import fit_garch

    fit = fit_garch(dmbp, vol="GJR")
    p = fit.params
    assert abs(p["gamma[1]"]) > 1e-4  # gamma/2 vs gamma makes a visible difference
    expected = p["alpha[1]"] + 0.5 * p["gamma[1]"] + p["beta[1]"]
    assert fit.persistence == pytest.approx(expected, rel=1e-12)


def test_persistence_threshold_is_0999() -> None:
    """A fit with persistence between 0.99 and 0.999 is usable; at or above 0.999 it is flagged
    (the integrated-GARCH boundary used throughout the volatility docs)."""
    from eventstudy.volatility import base

    assert pytest.approx(0.999, rel=0, abs=0) == base.MAX_PERSISTENCE


def test_variance_dummy_wald_p_is_two_sided(dmbp: pd.Series) -> None:
    """The Wald z of the variance dummy is delta / se(delta), p = 2 (1 - Phi(|z|)); the robust
    QLR p is chi2(1) of the reported statistic."""
    from eventstudy.volatility.dummy import variance_dummy_test

    dummy = np.zeros(len(dmbp))
    dummy[400:420] = 1.0
    test = variance_dummy_test(dmbp, dummy)
    z = test.delta / test.delta_se
    assert test.wald_z == pytest.approx(z, rel=1e-12)
    assert test.wald_pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert test.lr_pvalue == pytest.approx(stats.chi2.sf(test.lr_stat, 1), rel=1e-9)
    if math.isfinite(test.p_value):
        assert test.p_value == pytest.approx(stats.chi2.sf(test.robust_lr, 1), rel=1e-9)


def test_every_min_estimation_default_is_the_one_constant() -> None:
    """MIN_ESTIMATION is defined once; every entry point and CLI option defaults to it."""
    import inspect

    from eventstudy import batch_study, listing_study, lockup_study
    from eventstudy.cli import main
    from eventstudy.engine.models import fit_model
    from eventstudy.engine.windows import MIN_ESTIMATION
    from eventstudy.studies.result import StudyOptions

    for func in (lockup_study, batch_study, listing_study, fit_model):
        assert inspect.signature(func).parameters["min_estimation"].default is MIN_ESTIMATION
    assert StudyOptions().min_estimation == MIN_ESTIMATION
    for name in ("lockup", "batch", "listing"):
        command = main.get_command(None, name)  # type: ignore[arg-type]
        option = next(p for p in command.params if p.name == "min_estimation")
        assert option.default == MIN_ESTIMATION, name
