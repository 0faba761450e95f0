"""Value weights of the calendar-time portfolio from an events-file or calendar column
(``batch --weight-col``, ``batch_study(calendar_weight_col=)``, ``result.calendar_time(
weight_col=)``), against a weighted portfolio computed by hand from the raw bundled prices."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, read_raw_prices, run_cli

from eventstudy import batch_study
from eventstudy.errors import BadInput

EVENTS = pd.DataFrame({"ticker": ["0020.HK", "3690.HK", "1024.HK", "9660.HK"],
                       "date": ["2022-06-30", "2022-06-30", "2022-07-04", "2025-04-24"],
                       "market_cap": [1.5e11, 8.0e11, 2.5e11, 1.0e11]})


def _trading(ticker: str) -> pd.Series:
    """Closes on the firm's trading days that are ^HSI sessions (placeholders dropped)."""
    frame = read_raw_prices(ticker)
    close, volume = frame["Close"].astype(float), frame["Volume"].astype(float)
    placeholder = (volume == 0) & close.eq(close.shift())
    close = close[~placeholder]
    return close[close.index.isin(read_raw_hsi().index)]


def _hand_portfolio(weights: dict[tuple[str, str], float], days: tuple[int, int]) -> pd.Series:
    """Per date: sum w r / sum w over the firms inside [days] of their event."""
    num: dict[pd.Timestamp, float] = {}
    den: dict[pd.Timestamp, float] = {}
    for (ticker, day0), w in weights.items():
        close = _trading(ticker)
        k0 = close.index.get_loc(pd.Timestamp(day0))
        for k in range(k0 + days[0], k0 + days[1] + 1):
            date = close.index[k]
            r = close.iloc[k] / close.iloc[k - 1] - 1.0
            num[date] = num.get(date, 0.0) + w * r
            den[date] = den.get(date, 0.0) + w
    return pd.Series({d: num[d] / den[d] for d in num}).sort_index()


def test_events_column_weights_match_a_hand_weighted_portfolio() -> None:
    result = batch_study(EVENTS, calendar_time=(0, 5), calendar_weight_col="market_cap",
                         offline=True, bootstrap=0)
    design = result.designs["calendar_time"]
    assert design.weighting == "value"
    assert any("market_cap" in n for n in design.notes)
    hand = _hand_portfolio({(t, d): w for t, d, w in EVENTS.itertuples(index=False)}, (0, 5))
    got = design.portfolio.set_index(pd.to_datetime(design.portfolio["date"]))["return"]
    assert list(got.index) == list(hand.index)
    for date in hand.index:
        assert got[date] == pytest.approx(hand[date], rel=1e-12, abs=0), date
    # 2022-06-30: SenseTime and Meituan together, 1.5 : 8 (not 1 : 1)
    both = hand[pd.Timestamp("2022-06-30")]
    equal = batch_study(EVENTS, calendar_time=(0, 5), offline=True, bootstrap=0)
    eq = equal.designs["calendar_time"].portfolio
    assert abs(eq.set_index(pd.to_datetime(eq["date"]))["return"][pd.Timestamp("2022-06-30")]
               - both) > 1e-3
    # the intercept: OLS of the hand portfolio on the ^HSI return of the same sessions
    hsi = read_raw_hsi().pct_change().reindex(hand.index)
    fit = sm.OLS(hand.to_numpy(), sm.add_constant(hsi.to_numpy())).fit()
    assert design.alpha == pytest.approx(fit.params[0], rel=1e-9, abs=0)


def test_market_cap_from_calendar_shares_times_the_close_before_day0(tmp_path) -> None:
    calendar = tmp_path / "mine.yaml"
    calendar.write_text(
        "listings:\n"
        "  - {ticker: '0020.HK', name: SenseTime, listing_date: 2021-12-30, source: test,"
        " issuer_type: red_chip, issuer_type_source: test, shares_outstanding: 33000000000}\n"
        "  - {ticker: '1024.HK', name: Kuaishou, listing_date: 2021-02-05, source: test,"
        " issuer_type: red_chip, issuer_type_source: test, shares_outstanding: 4300000000}\n",
        encoding="utf-8")
    events = EVENTS.iloc[[0, 2]].drop(columns="market_cap")
    result = batch_study(events, listings=calendar, calendar_time=(0, 3),
                         calendar_weight_col="market_cap", offline=True, bootstrap=0)
    weights = {}
    for ticker, day0, shares in (("0020.HK", "2022-06-30", 33e9), ("1024.HK", "2022-07-04",
                                                                    4.3e9)):
        close = _trading(ticker)
        weights[(ticker, day0)] = shares * close.iloc[close.index.get_loc(pd.Timestamp(day0)) - 1]
    hand = _hand_portfolio(weights, (0, 3))
    got = result.designs["calendar_time"].portfolio["return"].to_numpy()
    assert got == pytest.approx(hand.to_numpy(), rel=1e-12, abs=0)
    assert not math.isclose(weights[("0020.HK", "2022-06-30")],
                            weights[("1024.HK", "2022-07-04")], rel_tol=0.1)


def test_bad_weight_columns_exit_2(tmp_path) -> None:
    bad = EVENTS.assign(market_cap=[1.5e11, 0.0, 2.5e11, 1e11])
    with pytest.raises(BadInput, match=r"no positive number for 1 event\(s\): 3690.HK"):
        batch_study(bad, calendar_time=(0, 5), calendar_weight_col="market_cap", offline=True,
                    bootstrap=0)
    path = tmp_path / "events.csv"
    EVENTS.to_csv(path, index=False)
    base = ("batch", str(path), "--offline", "--no-report", "--bootstrap", "0")
    code, out, err = run_cli(*base, "--calendar-time", "0,5", "--weight-col", "market_cap",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["designs"]["calendar_time"]["weighting"] == "value"
    code, _, err = run_cli(*base, "--calendar-time", "0,5", "--weight-col", "nope")
    assert code == 2 and "--weight-col 'nope': no such column" in err
    assert "Traceback" not in err
    code, _, err = run_cli(*base, "--weight-col", "market_cap")
    assert code == 2 and "add --calendar-time" in err
    EVENTS.assign(market_cap=["1e11", "-3", "", "x"]).to_csv(path, index=False)
    code, _, err = run_cli(*base, "--calendar-time", "0,5", "--weight-col", "market_cap")
    assert code == 2 and "no positive number for 3 event(s)" in err


def test_sessions_without_a_market_return_are_left_out_with_a_note() -> None:
    from eventstudy.engine.calendar_time import calendar_time_portfolio

    hsi = read_raw_hsi().pct_change()
    close = _trading("0020.HK")
    k0 = close.index.get_loc(pd.Timestamp("2022-06-30"))
    dates = close.index[k0 - 2:k0 + 30]
    rows = pd.DataFrame({"ticker": "0020.HK", "day": range(-2, 30), "date": dates,
                         "return": close.pct_change()[dates].to_numpy(),
                         "market_return": hsi.reindex(dates).to_numpy()})
    rows.loc[5, "market_return"] = float("nan")
    res = calendar_time_portfolio(rows, (0, 29))
    assert res.nobs == 29 and any("1 portfolio sessions have no market return" in n
                                  for n in res.notes)
    keep = rows[(rows.day >= 0) & rows.market_return.notna()]
    fit = sm.OLS(keep["return"].to_numpy(), sm.add_constant(keep["market_return"].to_numpy())
                 ).fit()
    assert res.alpha == pytest.approx(fit.params[0], rel=1e-10, abs=0)
