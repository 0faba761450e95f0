"""Single-firm inference: the sample-quantile (SQ) test of Gelbach, Helland & Klick (2013) on
SenseTime's real data, against a plain loop over the estimation-window L-day sums."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, read_raw_prices

from eventstudy.engine.quantile import sq_test
from eventstudy.studies.lockup import lockup_study

DAY0 = pd.Timestamp("2022-06-30")


def _literal_sq(car: float, resid: list[float], length: int) -> tuple[float, float, int]:
    """GHK (2013): the event CAR against every L-day sum of estimation residuals, equal tails,
    the event counted among the draws."""
    sums = []
    for start in range(len(resid) - length + 1):
        total = 0.0
        for k in range(length):
            total += resid[start + k]
        sums.append(total)
    below = sum(1 for s in sums if s <= car)
    above = sum(1 for s in sums if s >= car)
    n = len(sums)
    return min(1.0, 2.0 * (1 + min(below, above)) / (n + 1)), 2.0 / (n + 1), n


@pytest.fixture(scope="module")
def sensetime_resid() -> tuple[list[float], pd.DataFrame, np.ndarray]:
    stock = read_raw_prices("0020.HK")["Close"]
    joint = pd.concat([stock.rename("r"), read_raw_hsi().rename("m")], axis=1, join="inner")
    rets = joint.pct_change()
    p0 = joint.index.get_loc(DAY0)
    est = rets.iloc[30:p0 - 20]  # listing day +30 (after price stabilisation) .. day -21
    event = rets.iloc[p0 - 20:p0 + 21]  # days -20..+20
    ols = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
    ar = event["r"].to_numpy() - ols.params[0] - ols.params[1] * event["m"].to_numpy()
    return [float(e) for e in ols.resid], event, ar


@pytest.fixture(scope="module")
def result():
    return lockup_study("0020.HK", tranches=["cornerstone"], offline=True, model="market")


def test_sq_matches_literal_loop_on_sensetime(sensetime_resid, result) -> None:
    resid, _, ar = sensetime_resid
    assert len(resid) == 71
    car = result.car.set_index("window")
    for window in car.index:
        lo, hi = int(car.loc[window, "start"]), int(car.loc[window, "end"])
        value = float(ar[lo + 20: hi + 21].sum())
        p, min_p, n = _literal_sq(value, resid, hi - lo + 1)
        assert car.loc[window, "car"] == pytest.approx(value, rel=1e-9, abs=0)
        assert car.loc[window, "p_sq"] == pytest.approx(p, rel=1e-12, abs=0)
        assert car.loc[window, "sq_min_p"] == pytest.approx(min_p, rel=1e-12, abs=0)
        assert car.loc[window, "sq_n"] == n
    # the crash lies beyond every estimation-window day: p_SQ is its floor 2/72, not 1e-20
    assert car.loc["[0,0]", "p_sq"] == pytest.approx(2 / 72, rel=1e-6, abs=0)
    assert car.loc["[0,0]", "p"] < 1e-20


def test_sq_interior_values_and_ties() -> None:
    """Interior ranks, ties and missing days, against the loop."""
    rng = np.random.default_rng(5)
    resid = rng.standard_t(3, size=60)
    for length in (1, 3, 10):
        for car in (0.0, 0.5, -1.7, float(resid[:length].sum())):
            p, min_p, n = sq_test(np.array([car]), resid[None, :], length)
            lp, lmin, ln = _literal_sq(car, list(resid), length)
            assert (p[0], min_p[0], n[0]) == pytest.approx((lp, lmin, ln), rel=1e-6, abs=0)
    holed = resid.copy()
    holed[:7] = np.nan  # a shorter (right-aligned) estimation window
    p, _, n = sq_test(np.array([0.3]), holed[None, :], 5)
    assert n[0] == 60 - 7 - 5 + 1
    assert p[0] == pytest.approx(_literal_sq(0.3, list(resid[7:]), 5)[0], rel=1e-6, abs=0)
    gap = resid.copy()
    gap[20:31] = np.nan  # sessions left out in the middle: no sum spans them
    for length in (1, 4):
        p, _, n = sq_test(np.array([-0.8]), gap[None, :], length)
        left, right = _literal_sq(-0.8, list(resid[:20]), length), _literal_sq(
            -0.8, list(resid[31:]), length)
        sums_n = left[2] + right[2]
        below = sum(1 for seg in (resid[:20], resid[31:]) for k in range(len(seg) - length + 1)
                    if seg[k:k + length].sum() <= -0.8)
        above = sums_n - below + sum(
            1 for seg in (resid[:20], resid[31:]) for k in range(len(seg) - length + 1)
            if seg[k:k + length].sum() == -0.8)
        assert n[0] == sums_n
        assert p[0] == pytest.approx(min(1.0, 2 * (1 + min(below, above)) / (sums_n + 1)),
                                     rel=1e-6, abs=0)
    p, min_p, n = sq_test(np.array([0.3]), resid[None, :2], 5)  # no L-day sum at all
    assert np.isnan(p[0]) and np.isnan(min_p[0]) and n[0] == 0


def test_sq_in_json_and_summary(result) -> None:
    doc = json.loads(result.to_json())
    row = doc["events"][0]["car"][0]
    row = next(r for r in doc["events"][0]["car"] if r["window"] == "[0,0]")
    assert row["p_sq"] == pytest.approx(2 / 72, rel=1e-6, abs=0)
    assert row["sq_min_p"] == pytest.approx(2 / 72, rel=1e-6, abs=0)
    text = str(result.summary())
    assert "p_SQ 0.028" in text and "Gelbach, Helland & Klick 2013" in text


def test_events_without_index_volume_are_named(result) -> None:
    """An index without volume leaves the abnormal volume unadjusted; ``unadjusted_events`` names
    the tickers for the study's note."""
    from dataclasses import replace

    from eventstudy.engine.volume import abnormal_volume, unadjusted_events

    assert unadjusted_events(result.ar) == []
    bare = replace(result.ar, market_volume=None)
    assert unadjusted_events(bare) == ["0020.HK"]
    mv = result.ar.market_volume
    holed = replace(result.ar, market_volume=(np.full_like(mv[0], np.nan), mv[1]))
    assert unadjusted_events(holed) == ["0020.HK"]
    # unadjusted: log(1 + V) less its own estimation mean
    est = np.log1p(np.where(bare.panel.est_vol > 0, bare.panel.est_vol, np.nan))
    day0 = np.log1p(bare.panel.vol[0, bare.panel.column(0)]) - np.nanmean(est[0])
    assert abnormal_volume(holed)[0][0, bare.panel.column(0)] == pytest.approx(day0, rel=1e-6,
                                                                               abs=0)
