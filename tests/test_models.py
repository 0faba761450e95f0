"""AR, CAR and their t statistics against statsmodels OLS on the same real data (MacKinlay 1997)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, read_raw_prices
from scipy import stats

from eventstudy.studies.lockup import lockup_study

DAY0 = pd.Timestamp("2022-06-30")


@pytest.fixture(scope="module")
def sensetime() -> dict:
    """Returns of 0020.HK and ^HSI on their common dates, computed with plain pandas."""
    stock = read_raw_prices("0020.HK")["Close"]
    joint = pd.concat([stock.rename("r"), read_raw_hsi().rename("m")], axis=1, join="inner")
    rets = joint.pct_change()
    p0 = joint.index.get_loc(DAY0)
    est = rets.iloc[30:p0 - 20]  # listing day +30 (after price stabilisation) .. day -21
    event = rets.iloc[p0 - 10:p0 + 21]  # days -10..+20
    return {"est": est, "event": event, "close": joint["r"]}


@pytest.fixture(scope="module")
def result():
    return lockup_study("0020.HK", tranches=["cornerstone"], model="market", offline=True)


def test_day0_return_is_the_crash(result) -> None:
    row = result.events.iloc[0]
    assert row["day0"] == DAY0
    assert row["return_0"] == pytest.approx(3.13 / 5.88 - 1, abs=1e-6)
    assert round(100 * row["return_0"], 2) == -46.77


def test_market_model_matches_statsmodels_ols(sensetime, result) -> None:
    est, event = sensetime["est"], sensetime["event"]
    X = sm.add_constant(est["m"].to_numpy())
    ols = sm.OLS(est["r"].to_numpy(), X).fit()
    assert result.events.iloc[0]["estimation_days"] == len(est) == 71
    assert result.events.iloc[0]["beta"] == pytest.approx(ols.params[1], rel=1e-10, abs=0)
    assert result.events.iloc[0]["alpha"] == pytest.approx(ols.params[0], rel=1e-10, abs=0)

    Xe = sm.add_constant(event["m"].to_numpy(), has_constant="add")
    pred = ols.get_prediction(Xe)
    ar = event["r"].to_numpy() - pred.predicted_mean
    t = ar / pred.se_obs  # prediction-error standard deviation, s^2 (1 + x'(X'X)^-1 x)
    table = result.abnormal_returns
    np.testing.assert_allclose(table["ar"].to_numpy(), ar, rtol=1e-9)
    np.testing.assert_allclose(table["t"].to_numpy(), t, rtol=1e-9)
    np.testing.assert_allclose(table["return"].to_numpy(), event["r"].to_numpy(), rtol=1e-12)

    # CAR over [-1, +1]: Var = s^2 (tau + 1' X* (X'X)^-1 X*' 1), Campbell-Lo-MacKinlay (4.4.14)
    rows = slice(9, 12)
    car = ar[rows].sum()
    xs = Xe[rows]
    var = ols.scale * (3 + np.ones(3) @ xs @ np.linalg.inv(X.T @ X) @ xs.T @ np.ones(3))
    got = result.car_of(result.event_ids()[0], (-1, 1))
    assert got["car"] == pytest.approx(car, rel=1e-9, abs=0)
    assert got["se"] == pytest.approx(np.sqrt(var), rel=1e-9, abs=0)
    assert got["p"] == pytest.approx(2 * stats.t.sf(abs(car / np.sqrt(var)), ols.df_resid),
                                     rel=1e-6, abs=0)


def test_constant_mean_model(sensetime) -> None:
    est, event = sensetime["est"], sensetime["event"]
    res = lockup_study("0020.HK", tranches=["cornerstone"], model="constant_mean", offline=True)
    mean, s2, n = est["r"].mean(), est["r"].var(ddof=1), len(est)
    ar = event["r"].to_numpy() - mean
    np.testing.assert_allclose(res.abnormal_returns["ar"], ar, rtol=1e-9)
    np.testing.assert_allclose(res.abnormal_returns["t"], ar / np.sqrt(s2 * (1 + 1 / n)),
                               rtol=1e-9)
    car = res.car_of(res.event_ids()[0], (0, 5))
    assert car["se"] == pytest.approx(np.sqrt(s2 * (6 + 36 / n)), rel=1e-9, abs=0)


def test_market_adjusted_model(sensetime) -> None:
    est, event = sensetime["est"], sensetime["event"]
    res = lockup_study("0020.HK", tranches=["cornerstone"], model="market_adjusted",
                       offline=True)
    s2 = (est["r"] - est["m"]).var(ddof=1)
    ar = (event["r"] - event["m"]).to_numpy()
    np.testing.assert_allclose(res.abnormal_returns["ar"], ar, rtol=1e-9)
    car = res.car_of(res.event_ids()[0], (0, 20))
    assert car["car"] == pytest.approx(ar[10:].sum(), rel=1e-9, abs=0)
    assert car["se"] == pytest.approx(np.sqrt(21 * s2), rel=1e-9, abs=0)


def test_abnormal_volume_is_campbell_wasley(sensetime, result) -> None:
    """Campbell & Wasley (1996): log(1 + V) less the ^HSI's log(1 + V_m) of the same day,
    standardised by its estimation-window mean and sd. Zero volume (HK half-days, suspensions)
    is missing, not log(1 + 0) = 0."""
    raw = read_raw_prices("0020.HK")["Volume"]
    index = read_raw_prices("^HSI_2021-06-24_2026-06-23")["Volume"]
    p0 = raw.index.get_loc(DAY0)
    est = raw.iloc[30:p0 - 20]
    assert (est == 0).any()  # the real series has zero-volume rows in its estimation window
    est = est[est > 0]
    adjusted = np.log1p(est) - np.log1p(index.reindex(est.index))
    day0 = np.log1p(raw.iloc[p0]) - np.log1p(index.loc[DAY0])
    t0 = (day0 - adjusted.mean()) / adjusted.std(ddof=1)
    table = result.volume[result.volume.window == "[0,0]"].iloc[0]
    assert table["t"] == pytest.approx(t0, rel=1e-9, abs=0)
    assert table["abnormal_log_volume"] == pytest.approx(day0 - adjusted.mean(), rel=1e-9, abs=0)
    assert table["volume_ratio"] == pytest.approx(raw.iloc[p0] / est.mean(), rel=1e-6, abs=0)
    assert result.events.iloc[0]["volume_ratio_0"] == pytest.approx(raw.iloc[p0] / est.mean(),
                                                                    rel=1e-6, abs=0)
    # one abnormal-volume implementation: the regression designs use the same number
    from eventstudy.results.designs import event_characteristics

    chars = event_characteristics(result, (0, 0))
    assert chars["abnormal_volume"].iloc[0] == pytest.approx(day0 - adjusted.mean(), rel=1e-9,
                                                             abs=0)


def test_too_short_estimation_falls_back_and_says_so() -> None:
    res = lockup_study("0020.HK", tranches=["cornerstone"], estimation=(-50, -11), model="market",
                       offline=True)
    row = res.events.iloc[0]
    assert row["model"] == "market-adjusted"
    assert "40 sessions" in row["note"] and "fell back" in row["note"]


def test_market_adjusted_with_a_short_window_says_so() -> None:
    res = lockup_study("0020.HK", tranches=["cornerstone"], estimation=(-50, -11), offline=True)
    row = res.events.iloc[0]
    assert row["model"] == "market-adjusted"
    assert "40 sessions (fewer than 60)" in row["note"]
    assert res.car_of(res.event_ids()[0], (0, 0))["car"] == pytest.approx(row["ar_0"], abs=0)


def test_lockup_default_is_market_adjusted_with_the_market_model_beside_it(sensetime) -> None:
    """Lock-ups default to market-adjusted returns (Field & Hanka 2001); CAR[-1,+1] and CAR[0,+20]
    under both models, the market model fitted with statsmodels on listing +30 .. day -21."""
    est, event = sensetime["est"], sensetime["event"]
    res = lockup_study("0020.HK", tranches=["cornerstone"], offline=True, volatility=False)
    assert res.options.model == "market_adjusted"
    assert res.events.iloc[0]["model"] == "market-adjusted"
    ols = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
    s2_ma = (est["r"] - est["m"]).var(ddof=1)
    rob = res.robustness.set_index(["role", "window"])
    for window, rows in (("[-1,+1]", slice(9, 12)), ("[+0,+20]", slice(10, 31))):
        part = event.iloc[rows]
        tau = len(part)
        car_ma = (part["r"] - part["m"]).sum()
        study = rob.loc[("study", window)]
        assert study["model"] == "market-adjusted" and study["n"] == 1
        assert study["car"] == pytest.approx(car_ma, rel=1e-9, abs=0)
        t_ma = car_ma / np.sqrt(tau * s2_ma)
        assert study["t"] == pytest.approx(t_ma, rel=1e-9, abs=0)
        assert study["p"] == pytest.approx(2 * stats.t.sf(abs(t_ma), len(est) - 1), rel=1e-9, abs=0)
        x = sm.add_constant(part["m"].to_numpy(), has_constant="add")
        car_mm = (part["r"].to_numpy() - x @ ols.params).sum()
        xs = x.sum(axis=0)
        var = ols.scale * (tau + xs @ np.linalg.inv(ols.model.exog.T @ ols.model.exog) @ xs)
        other = rob.loc[("robustness", window)]
        assert other["model"] == "market model (OLS)"
        assert other["car"] == pytest.approx(car_mm, rel=1e-9, abs=0)
        assert other["t"] == pytest.approx(car_mm / np.sqrt(var), rel=1e-9, abs=0)
        assert other["p"] == pytest.approx(
            2 * stats.t.sf(abs(car_mm / np.sqrt(var)), ols.df_resid), rel=1e-9, abs=0)
    doc = res.to_dict()
    assert {r["role"] for r in doc["robustness"]} == {"study", "robustness"}
    assert "Robustness" in str(res.summary())


def test_estimation_starts_after_the_stabilisation_period() -> None:
    """Default: listing day +30 sessions; ``stabilisation`` moves it (5: the old rule)."""
    from conftest import read_raw_hsi, read_raw_prices

    dates = pd.concat([read_raw_prices("0020.HK")["Close"], read_raw_hsi()], axis=1,
                      join="inner").index
    for gap in (30, 5, 45):
        res = lockup_study("0020.HK", tranches=["cornerstone"], offline=True, volatility=False,
                           stabilisation=gap)
        assert res.events.iloc[0]["estimation_start"] == dates[gap]
