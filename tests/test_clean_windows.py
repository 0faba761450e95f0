"""Issue 11 items 1 and 2 on the real bundled data, each number computed here independently with
plain pandas / statsmodels from the raw CSV files:

1. placeholder rows (zero volume, unchanged close) are not sessions: no return, no volume, the
   next return spans them (Maynes & Rumsey 1993, trade-to-trade returns), counted per event, and
   day 0 never falls on one; half-days with a price change keep their return, not their volume;
2. each estimation window leaves out the event windows of the firm's other events (MacKinlay
   1997), and the prediction-error variance uses X'X of the rows kept."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, read_raw_prices, run_cli
from scipy import stats

from eventstudy.calendar.events import make_event
from eventstudy.data.clean import placeholder_rows
from eventstudy.data.loader import PriceLoader
from eventstudy.engine.series import align
from eventstudy.studies.lockup import event_study, lockup_study

SPAN = (-20, 20)  # the event window [-10,+20] joined with the CAR windows [-20,-1] .. [0,+20]


def raw_placeholders(raw: pd.DataFrame) -> pd.Series:
    """The rule written out: volume 0 and the same close as the row before."""
    return (raw["Volume"] == 0) & (raw["Close"] == raw["Close"].shift())


def joint_returns(ticker: str) -> pd.DataFrame:
    """Stock (placeholder rows dropped) and ^HSI on common dates: close, volume, r, m."""
    raw = read_raw_prices(ticker)
    raw = raw[~raw_placeholders(raw)]
    joint = pd.concat([raw["Close"].rename("close"), raw["Volume"].rename("volume"),
                       read_raw_hsi().rename("mclose")], axis=1, join="inner")
    joint["r"] = joint["close"].pct_change()
    joint["m"] = joint["mclose"].pct_change()
    return joint


def test_placeholder_rule_on_a_small_synthetic_frame() -> None:
    """A two-day suspension (flat, zero volume) goes; a zero-volume half-day that moved stays."""
    frame = pd.DataFrame({"close": [10.0, 10.0, 10.0, 11.0, 11.5, 11.5],
                          "volume": [5.0, 0.0, 0.0, 7.0, 0.0, 3.0]},
                         index=pd.date_range("2024-01-01", periods=6))  # synthetic
    assert placeholder_rows(frame).tolist() == [False, True, True, False, False, False]
    assert not placeholder_rows(frame.assign(volume=np.nan)).any()  # unknown volume: kept


@pytest.mark.parametrize("ticker, dates", [("0020.HK", ["2024-01-15"]),
                                           ("6682.HK", ["2024-01-15"]),
                                           ("9880.HK", [])])
def test_placeholder_rows_are_dropped_before_returns(ticker: str, dates: list[str]) -> None:
    raw = read_raw_prices(ticker)
    assert [str(d.date()) for d in raw.index[raw_placeholders(raw)]] == dates
    loader = PriceLoader(offline=True)
    series = align(loader.load(ticker), loader.load("^HSI"))
    mine = joint_returns(ticker)
    assert [str(pd.Timestamp(d).date()) for d in series.placeholders] == dates
    np.testing.assert_array_equal(series.dates, mine.index.to_numpy("datetime64[ns]"))
    np.testing.assert_allclose(series.ret[1:], mine["r"].to_numpy()[1:], rtol=1e-12)
    np.testing.assert_allclose(series.mkt[1:], mine["m"].to_numpy()[1:], rtol=1e-12)
    for day in dates:  # the next session's return spans the placeholder
        after = mine.index[mine.index > day][0]
        before = raw.index[raw.index < day][-1]
        assert mine.loc[after, "r"] == pytest.approx(
            raw.loc[after, "Close"] / raw.loc[before, "Close"] - 1, rel=1e-12, abs=0)


def test_placeholders_dropped_are_counted_per_event() -> None:
    """Fourth Paradigm: 2024-01-15 lies in the estimation windows of its 6- and 12-month events."""
    res = lockup_study("6682.HK", offline=True, volatility=False)
    mine = joint_returns("6682.HK")
    placeholder = pd.Timestamp("2024-01-15")
    for event_id, row in res.events.set_index("event_id").iterrows():
        after = mine.index.searchsorted(placeholder)  # the return that spans it
        start = mine.index.get_loc(row["estimation_start"])
        p0 = mine.index.get_loc(row["day0"])
        inside = start <= after <= p0 + SPAN[1]
        assert row["placeholders_dropped"] == int(inside) == 1, event_id
    doc = res.to_dict()
    assert all(e["placeholders_dropped"] == 1 for e in doc["events"])
    assert any("placeholder row" in n for n in doc["notes"])
    assert "no-trade rows" in str(res.summary())


def test_day0_on_a_placeholder_moves_to_the_next_session() -> None:
    """SenseTime 2024-01-15 is a flat, zero-volume row: day 0 is 2024-01-16, with a note, and the
    numbers are the market model on the trade-to-trade returns (statsmodels OLS here)."""
    event = make_event("0020.HK", "2024-01-15")
    assert event is not None and event.session == pd.Timestamp("2024-01-15")
    res = event_study([event], offline=True)
    row = res.events.iloc[0]
    assert row["day0"] == pd.Timestamp("2024-01-16")
    assert res.event_ids() == ["0020.HK:event:2024-01-16"]
    assert "placeholder row" in row["note"] and "2024-01-16" in row["note"]
    mine = joint_returns("0020.HK")
    p0 = mine.index.get_loc(pd.Timestamp("2024-01-16"))
    est = mine.iloc[p0 - 270:p0 - 20]
    ols = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
    x0 = np.array([[1.0, mine["m"].iloc[p0]]])
    pred = ols.get_prediction(x0)
    ar0 = mine["r"].iloc[p0] - pred.predicted_mean[0]
    raw = read_raw_prices("0020.HK")["Close"]  # the return spans 2024-01-15
    assert row["return_0"] == pytest.approx(raw["2024-01-16"] / raw["2024-01-12"] - 1, rel=1e-12,
                                            abs=0)
    assert row["ar_0"] == pytest.approx(ar0, rel=1e-10, abs=0)
    assert row["t_0"] == pytest.approx(ar0 / pred.se_obs[0], rel=1e-10, abs=0)


def test_half_day_keeps_its_return_but_not_its_volume() -> None:
    """UBTech's 12-month expiry (2024-12-30): day +1 is the 2024-12-31 half-day, volume 0 with a
    price change. Its return stays; the [0,+1] abnormal log volume (Campbell & Wasley 1996) is
    the mean over the days with a volume, here day 0 alone (it was -3.60, t -2.56 with
    log(1 + 0) = 0, then n/a once zero volume became missing), market-adjusted with the ^HSI
    volume."""
    # UBTech is an H-share issuer: its 6-month event is the cornerstone tranche (issue 11 item 3)
    res = lockup_study("9880.HK", tranches=["cornerstone", "controlling_12m"], offline=True,
                       volatility=False)
    event_id = "9880.HK:controlling_12m:2024-12-30"
    raw = read_raw_prices("9880.HK")
    assert raw.loc["2024-12-31", "Volume"] == 0
    ars = res.abnormal_returns[res.abnormal_returns.event_id == event_id].set_index("day")
    assert ars.loc[1, "return"] == pytest.approx(
        raw.loc["2024-12-31", "Close"] / raw.loc["2024-12-30", "Close"] - 1, rel=1e-12, abs=0)
    assert ars.loc[1, "return"] != 0

    mine = joint_returns("9880.HK")
    p0, p6 = (mine.index.get_loc(pd.Timestamp(d)) for d in ("2024-12-30", "2024-07-02"))
    rows = [p for p in range(max(30, p0 - 270), p0 - 20)  # after price stabilisation
            if not p6 + SPAN[0] <= p <= p6 + SPAN[1]][-250:]
    est_v = mine["volume"].iloc[rows]
    # Campbell & Wasley (1996) market adjustment: less the ^HSI's log(1 + V_m) of the same day
    index_volume = read_raw_prices("^HSI_2021-06-24_2026-06-23")["Volume"]
    est_lv = np.log1p(est_v[est_v > 0]) - np.log1p(index_volume.reindex(est_v[est_v > 0].index))
    v0 = mine["volume"].iloc[p0]
    abn0 = np.log1p(v0) - np.log1p(index_volume.loc[mine.index[p0]]) - est_lv.mean()
    got = res.volume[(res.volume.event_id == event_id) & (res.volume.window == "[+0,+1]")]
    got = got.iloc[0]
    assert got["volume_ratio"] == pytest.approx(v0 / est_v[est_v > 0].mean(), rel=1e-10, abs=0)
    assert got["abnormal_log_volume"] == pytest.approx(abn0, rel=1e-10, abs=0)
    assert got["t"] == pytest.approx(abn0 / est_lv.std(ddof=1), rel=1e-10, abs=0)
    assert got["abnormal_log_volume"] > 4 and got["t"] > 2.5


@pytest.fixture(scope="module")
def sensetime() -> dict:
    """SenseTime's 12-month tranche (day 0 2022-12-30): estimation window listing day +30 (after
    price stabilisation) .. day -21, without the 6-month event's [-20, +20] around 2022-06-30."""
    mine = joint_returns("0020.HK")
    p0, p6 = (mine.index.get_loc(pd.Timestamp(d)) for d in ("2022-12-30", "2022-06-30"))
    window = list(range(max(30, p0 - 270), p0 - 20))[-250:]
    kept = [p for p in window if not p6 + SPAN[0] <= p <= p6 + SPAN[1]]
    return {"joint": mine, "p0": p0, "p6": p6, "window": window, "kept": kept}


def _expected(data: dict, rows: list[int]) -> dict:
    """alpha, beta, sigma, AR(0), t(0), CAR[0,+20] and its se by statsmodels OLS on ``rows``."""
    joint, p0 = data["joint"], data["p0"]
    est = joint.iloc[rows]
    X = sm.add_constant(est["m"].to_numpy())
    ols = sm.OLS(est["r"].to_numpy(), X).fit()
    event = joint.iloc[p0:p0 + 21]
    xs = sm.add_constant(event["m"].to_numpy(), has_constant="add")
    ar = event["r"].to_numpy() - xs @ ols.params
    ones = np.ones(len(xs))
    var = ols.scale * (len(xs) + ones @ xs @ np.linalg.inv(X.T @ X) @ xs.T @ ones)
    se0 = np.sqrt(ols.scale * (1 + xs[:1] @ np.linalg.inv(X.T @ X) @ xs[:1].T))[0, 0]
    return {"alpha": ols.params[0], "beta": ols.params[1], "sigma": np.sqrt(ols.scale),
            "ar_0": ar[0], "t_0": ar[0] / se0, "car": ar.sum(), "se": np.sqrt(var),
            "dof": ols.df_resid, "n": len(rows)}


def _check(res, data: dict, rows: list[int]) -> dict:
    exp = _expected(data, rows)
    event_id = "0020.HK:controlling_12m:2022-12-30"
    row = res.events.set_index("event_id").loc[event_id]
    for key in ("alpha", "beta", "sigma", "ar_0", "t_0"):
        assert row[key] == pytest.approx(exp[key], rel=1e-10, abs=1e-14), key
    car = res.car_of(event_id, (0, 20))
    assert car["car"] == pytest.approx(exp["car"], rel=1e-10, abs=0)
    assert car["se"] == pytest.approx(exp["se"], rel=1e-10, abs=0)
    assert car["p"] == pytest.approx(2 * stats.t.sf(abs(exp["car"] / exp["se"]), exp["dof"]),
                                     rel=1e-8, abs=0)
    assert row["estimation_days"] == exp["n"]
    return exp


def test_sensetime_12m_estimation_leaves_out_the_6m_crash(sensetime) -> None:
    res = lockup_study("0020.HK", offline=True, volatility=False, model="market")
    _check(res, sensetime, sensetime["kept"])
    row = res.events.set_index("event_id").loc["0020.HK:controlling_12m:2022-12-30"]
    assert len(sensetime["window"]) == 197 and len(sensetime["kept"]) == 156
    assert row["estimation_excluded"] == 41
    # nothing before the 6-month expiry to leave out
    six = res.events.set_index("event_id").loc["0020.HK:cornerstone:2022-06-30"]
    assert six["estimation_excluded"] == 0 and six["estimation_days"] == 71
    joint, p6 = sensetime["joint"], sensetime["p6"]
    est = joint.iloc[30:p6 - 20]
    ols = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
    pred = ols.get_prediction(np.array([[1.0, joint["m"].iloc[p6]]]))
    t6 = (joint["r"].iloc[p6] - pred.predicted_mean[0]) / pred.se_obs[0]
    assert six["t_0"] == pytest.approx(t6, rel=1e-10, abs=0)
    doc = json.loads(res.to_json())
    twelve = [e for e in doc["events"] if e["tranche"] == "controlling_12m"][0]
    assert twelve["estimation_window"]["sessions"] == 156
    assert twelve["estimation_window"]["excluded_sessions"] == 41
    assert doc["options"]["keep_other_events"] is False
    assert any("41 estimation session(s)" in n for n in doc["notes"])


def test_keep_other_events_keeps_them(sensetime) -> None:
    res = lockup_study("0020.HK", offline=True, volatility=False, keep_other_events=True,
                       model="market")
    _check(res, sensetime, sensetime["window"])
    assert res.events["estimation_excluded"].sum() == 0


def test_cli_keep_other_events(sensetime) -> None:
    code, out, _ = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--no-garch",
                           "--json", "--keep-other-events", "--model", "market")
    assert code == 0
    doc = json.loads(out)
    assert doc["options"]["keep_other_events"] is True
    twelve = [e for e in doc["events"] if e["tranche"] == "controlling_12m"][0]
    start = str(sensetime["joint"].index[sensetime["window"][0]].date())
    assert twelve["estimation_window"] == {"start": start, "end": "2022-11-29",
                                           "sessions": 197, "window_sessions": 197,
                                           "excluded_sessions": 0}
    assert twelve["sigma"] == pytest.approx(_expected(sensetime, sensetime["window"])["sigma"],
                                            rel=1e-10, abs=0)
    code, out, _ = run_cli("batch", "--offline", "--no-report", "--json", "--help")
    assert "--keep-other-events" in out


def test_dimson_keeps_the_market_lags_next_to_a_left_out_window(sensetime) -> None:
    """Only the stock's returns are left out: a kept session next to the 6-month window keeps its
    lagged / leading market return (Dimson 1979), so it stays in the regression; so do the
    first and last estimation days, whose lag and lead come from the whole series."""
    res = lockup_study("0020.HK", offline=True, volatility=False, model="dimson")
    joint = sensetime["joint"]
    rows = sensetime["kept"]
    m = joint["m"].to_numpy()
    X = sm.add_constant(np.column_stack([m[[p - 1 for p in rows]], m[rows],
                                         m[[p + 1 for p in rows]]]))
    ols = sm.OLS(joint["r"].to_numpy()[rows], X).fit()
    row = res.events.set_index("event_id").loc["0020.HK:controlling_12m:2022-12-30"]
    assert row["alpha"] == pytest.approx(ols.params[0], rel=1e-10, abs=0)
    assert row["beta"] == pytest.approx(ols.params[1:].sum(), rel=1e-10, abs=0)
    assert row["sigma"] == pytest.approx(np.sqrt(ols.scale), rel=1e-10, abs=0)
    assert len(rows) == 156


def test_lumped_returns_keep_the_no_trade_row() -> None:
    """``returns="lumped"`` (CLI ``--returns lumped``, Maynes & Rumsey 1993): SenseTime's
    2024-01-15 placeholder stays a session with return 0 and is day 0 of an event on it; the
    market model is statsmodels OLS on the raw close-to-close returns, placeholder included."""
    event = make_event("0020.HK", "2024-01-15")
    res = event_study([event], offline=True, returns="lumped")
    row = res.events.iloc[0]
    assert row["day0"] == pd.Timestamp("2024-01-15") and row["return_0"] == 0.0
    assert row["placeholders_dropped"] == 0
    raw = read_raw_prices("0020.HK")
    joint = pd.concat([raw["Close"].rename("close"), read_raw_hsi().rename("mclose")], axis=1,
                      join="inner")
    r, m = joint["close"].pct_change(), joint["mclose"].pct_change()
    p0 = joint.index.get_loc(pd.Timestamp("2024-01-15"))
    rows = slice(p0 - 270, p0 - 20)
    ols = sm.OLS(r.iloc[rows].to_numpy(), sm.add_constant(m.iloc[rows].to_numpy())).fit()
    pred = ols.get_prediction(np.array([[1.0, m.iloc[p0]]]))
    assert row["ar_0"] == pytest.approx(0.0 - pred.predicted_mean[0], rel=1e-10, abs=0)
    assert row["t_0"] == pytest.approx(row["ar_0"] / pred.se_obs[0], rel=1e-10, abs=0)
    assert res.to_dict()["options"]["returns"] == "lumped"
    assert "lumped" in str(res.summary())
    code, out, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--no-garch",
                             "--json", "--returns", "lumped")
    assert code == 0, err
    assert json.loads(out)["options"]["returns"] == "lumped"
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--returns", "x")
    assert code == 2 and "Traceback" not in err



def test_single_event_whose_own_span_reaches_into_its_estimation_window() -> None:
    """A firm's only event (the vectorised path of ``clean_estimation``): a span [-20, +10]
    given to it over an estimation window [-250, -11] covers estimation days -20..-11, left out
    as for a firm with several events (the same as a panel without stored positions)."""
    from dataclasses import replace

    from eventstudy.engine.estimation import clean_estimation
    from eventstudy.engine.panel import build_panel
    from eventstudy.engine.series import prices

    joint = joint_returns("0020.HK")
    p0 = joint.index.get_loc(pd.Timestamp("2023-12-29"))
    kept = [p for p in range(p0 - 250, p0 - 10) if not p0 - 20 <= p <= p0 + 10]
    loader = PriceLoader(offline=True)
    hsi = prices(loader.load("^HSI"))
    events = [make_event("0020.HK", "2023-12-29"), make_event("9880.HK", "2024-12-30")]
    memo = {t: align(loader.load(t), hsi) for t in ("0020.HK", "9880.HK")}
    panel = build_panel(events, memo.__getitem__, window=(-10, 10), estimation=(-250, -11))
    out = clean_estimation(panel, events, memo.__getitem__, (-20, 10))
    row = out.events.loc["0020.HK:event:2023-12-29"]
    assert row["estimation_excluded"] == 10 and row["estimation_days"] == len(kept) == 230
    est = out.est_ret[0][np.isfinite(out.est_ret[0])]
    assert np.array_equal(est, joint["r"].to_numpy()[kept])
    slow = clean_estimation(replace(panel, positions=None), events, memo.__getitem__, (-20, 10))
    pd.testing.assert_frame_equal(slow.events, out.events)
    assert np.array_equal(slow.est_ret, out.est_ret, equal_nan=True)
    assert np.array_equal(slow.est_vol, out.est_vol, equal_nan=True)
