"""Pre-event windows by default (issue 13): [-20,-1] and [-10,-1] measure anticipation of a known
expiry, so every estimation window ends at day -21 unless the user moves it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, read_raw_prices, run_cli

from eventstudy import lockup_study

DAY0 = pd.Timestamp("2022-06-30")


@pytest.fixture(scope="module")
def result():
    return lockup_study("0020.HK", tranches=["cornerstone"], offline=True, volatility=False,
                        model="market")


def test_pre_event_cars_are_the_market_model_sums_before_day0(result) -> None:
    """CAR[-20,-1] and CAR[-10,-1] of SenseTime's 6-month expiry: statsmodels OLS on listing day
    +5 .. day -21 (none of the pre-event days inside), ARs summed over the 20 / 10 sessions."""
    stock = read_raw_prices("0020.HK")["Close"]
    joint = pd.concat([stock.rename("r"), read_raw_hsi().rename("m")], axis=1, join="inner")
    rets = joint.pct_change()
    p0 = joint.index.get_loc(DAY0)
    est = rets.iloc[30:p0 - 20]  # listing day +30 (after price stabilisation) .. day -21
    assert est.index[-1] < rets.index[p0 - 20]  # the estimation ends before day -20
    ols = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
    pre = rets.iloc[p0 - 20:p0]
    ar = pre["r"].to_numpy() - ols.params[0] - ols.params[1] * pre["m"].to_numpy()
    event_id = result.event_ids()[0]
    assert result.car_of(event_id, (-20, -1))["car"] == pytest.approx(ar.sum(), rel=1e-10, abs=0)
    assert result.car_of(event_id, (-10, -1))["car"] == pytest.approx(ar[10:].sum(), rel=1e-10,
                                                                      abs=0)
    row = result.events.iloc[0]
    assert row["estimation_end"] == rets.index[p0 - 21]
    assert row["estimation_days"] == len(est)


def test_pre_event_windows_in_tables_json_and_summary(result) -> None:
    for table in (result.car, result.volume):
        assert {"[-20,-1]", "[-10,-1]"} <= set(table["window"].astype(str))
    doc = json.loads(result.to_json())
    assert doc["options"]["car_windows"][:2] == ["[-20,-1]", "[-10,-1]"]
    assert "[-20,-1]" in str(result.summary())


def test_an_estimation_window_into_the_pre_event_days_drops_those_windows() -> None:
    """The old default [-260,-11] still runs: [-20,-1] would overlap it and is left out, [-10,-1]
    stays; asked for explicitly, an overlapping window is bad input (exit 2)."""
    res = lockup_study("0020.HK", tranches=["cornerstone"], offline=True, volatility=False,
                       estimation=(-260, -11))
    spans = set(zip(res.car["start"], res.car["end"], strict=True))
    assert (-20, -1) not in spans and (-10, -1) in spans and (0, 0) in spans
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--no-garch",
                           "--estimation", "-260,-11", "--car-windows", "-20,-1;0,0")
    assert code == 2 and "estimation window" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_other_events_are_left_out_over_the_pre_event_days_too() -> None:
    """The 12-month tranche's estimation window leaves out [-20,+20] of the 6-month expiry:
    41 sessions, the first of them day -20 of 2022-06-30."""
    res = lockup_study("0020.HK", offline=True, volatility=False)
    twelve = res.events.set_index("event_id").loc["0020.HK:controlling_12m:2022-12-30"]
    stock = read_raw_prices("0020.HK")["Close"]
    dates = stock.index.intersection(read_raw_hsi().index)
    p6 = dates.get_loc(DAY0)
    assert twelve["estimation_excluded"] == len(dates[p6 - 20:p6 + 21]) == 41
    assert np.isfinite(twelve["ar_0"])
