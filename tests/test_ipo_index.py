"""The IPO-index benchmark (``market="ipo-index"``) against a literal loop over days and firms
written here on the real bundled prices and the bundled calendar read with plain pandas/yaml:
each day, the mean return of the listings of the last N months that traded on that day and the
session before, the event firm excluded, missing below the minimum number of firms."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from conftest import DATA, ROOT, read_raw_hsi, read_raw_prices, run_cli

from eventstudy import lockup_study
from eventstudy.engine.ipo_index import IpoIndex
from eventstudy.errors import BadInput


def _members() -> dict[str, pd.Timestamp]:
    """Calendar listings (listed, not secondary, Hong Kong) that have bundled prices."""
    raw = yaml.safe_load((ROOT / "configs" / "listings.yaml").read_text(encoding="utf-8"))
    out = {}
    for entry in raw["listings"]:
        ticker = str(entry["ticker"])
        if (ticker.endswith(".HK") and entry.get("status", "listed") == "listed"
                and entry.get("issuer_type") != "secondary"
                and (DATA / "prices" / f"{ticker}.csv").exists()):
            out[ticker] = pd.Timestamp(str(entry["listing_date"]))
    return out


class Literal:
    """The IPO index computed by hand, one day and one firm at a time."""

    def __init__(self, months: int, min_firms: int):
        self.months, self.min_firms = months, min_firms
        self.sessions = read_raw_hsi().index
        self.members = _members()
        self.frames = {t: read_raw_prices(t) for t in self.members}

    def _close(self, ticker: str, day: pd.Timestamp) -> float | None:
        """The firm's close on ``day``, None without trading (no row, or a placeholder row of
        zero volume and a close unchanged from the row before)."""
        frame = self.frames[ticker]
        if day not in frame.index:
            return None
        i = frame.index.get_loc(day)
        close, volume = float(frame["Close"].iloc[i]), float(frame["Volume"].iloc[i])
        if i > 0 and volume == 0 and math.isclose(close, float(frame["Close"].iloc[i - 1]),
                                                  rel_tol=1e-9, abs_tol=0.0):
            return None
        return close

    def day(self, day: pd.Timestamp, exclude: str | None) -> tuple[float, int]:
        prev = self.sessions[self.sessions.get_loc(day) - 1]
        returns = []
        for ticker, listed in self.members.items():
            if ticker == exclude:
                continue
            if not listed < day <= listed + pd.DateOffset(months=self.months):
                continue
            now, before = self._close(ticker, day), self._close(ticker, prev)
            if now is not None and before is not None:
                returns.append(now / before - 1.0)
        n = len(returns)
        return (sum(returns) / n if n >= self.min_firms else float("nan")), n

    def between(self, start: pd.Timestamp, end: pd.Timestamp, exclude: str) -> float:
        """The index compounded over the sessions after ``start`` up to ``end``."""
        growth = 1.0
        for day in self.sessions[(self.sessions > start) & (self.sessions <= end)]:
            value, _ = self.day(day, exclude)
            growth *= 1.0 + value
        return growth - 1.0


def _stock_dates(ticker: str) -> pd.DatetimeIndex:
    """The firm's trading days (placeholders dropped) that are ^HSI sessions."""
    literal = Literal(1, 1)
    literal.frames[ticker] = read_raw_prices(ticker)
    days = [d for d in literal.frames[ticker].index if literal._close(ticker, d) is not None]
    return pd.DatetimeIndex(days).intersection(literal.sessions)


def test_market_returns_and_fit_match_a_literal_loop_over_days_and_firms() -> None:
    months, min_firms = 24, 2
    result = lockup_study("9880.HK", market="ipo-index", ipo_index_months=months,
                          ipo_index_min=min_firms, offline=True, volatility=False,
                          keep_other_events=True, model="market")
    literal = Literal(months, min_firms)
    dates = _stock_dates("9880.HK")
    event = "9880.HK:pre_ipo_12m:2024-12-30"
    rows = result.abnormal_returns[result.abnormal_returns["event_id"] == event]
    assert len(rows) == 31
    for date, market in zip(pd.to_datetime(rows["date"]), rows["market_return"], strict=True):
        prev = dates[dates.get_loc(date) - 1]
        expected = literal.between(prev, date, "9880.HK")
        assert (np.isnan(market) and np.isnan(expected)) or market == pytest.approx(
            expected, abs=1e-12), date
    # the market model on the estimation sessions with an index return: statsmodels OLS
    i = result.events.index[result.events["event_id"] == event][0]
    panel = result.ar.panel
    est_dates = pd.to_datetime(panel.est_dates[i][~np.isnat(panel.est_dates[i])])
    y = pd.Series(panel.est_ret[i][~np.isnat(panel.est_dates[i])], index=est_dates)
    x = pd.Series([literal.between(dates[dates.get_loc(d) - 1], d, "9880.HK")
                   for d in est_dates], index=est_dates)
    keep = x.notna() & y.notna()
    assert 60 <= keep.sum() < len(keep)  # some sessions lack an index return: left out
    fit = sm.OLS(y[keep].to_numpy(), sm.add_constant(x[keep].to_numpy())).fit()
    params = result.parameters.set_index("event_id").loc[event]
    assert params["n"] == keep.sum()
    doc = {e["event_id"]: e for e in result.to_dict()["events"]}[event]["estimation_window"]
    assert doc["sessions"] == keep.sum() < doc["window_sessions"]  # what the fit used
    assert params["alpha"] == pytest.approx(fit.params[0], rel=1e-9, abs=1e-12)
    assert params["beta"] == pytest.approx(fit.params[1], rel=1e-9, abs=0)
    assert params["sigma"] == pytest.approx(math.sqrt(fit.scale), rel=1e-9, abs=0)
    day0 = rows[rows["day"] == 0].iloc[0]
    assert day0["ar"] == pytest.approx(day0["return"] - fit.params[0]
                                       - fit.params[1] * day0["market_return"], abs=1e-12)


def test_the_event_firm_is_not_in_its_own_benchmark() -> None:
    result = lockup_study("9660.HK", tranches=["cornerstone"], market="ipo-index",
                          ipo_index_min=2, offline=True, volatility=False)
    literal = Literal(24, 1)
    day0 = pd.Timestamp("2025-04-24")
    market = float(result.events["market_return_0"].iloc[0])
    without, n_without = literal.day(day0, exclude="9660.HK")
    with_it, n_with = literal.day(day0, exclude=None)
    assert n_with == n_without + 1  # 9660.HK, listed 6 months before, traded that day
    assert market == pytest.approx(without, abs=1e-14)
    assert abs(market - with_it) > 1e-4
    assert int(result.events["benchmark_firms_0"].iloc[0]) == n_without
    day = result.extras["ipo_index_table"].query("date == '2025-04-24'").iloc[0]
    assert day["n_constituents"] == n_with  # the table lists every constituent of the day
    assert "9660.HK" in day["constituents"].split(", ")


def test_index_excludes_the_named_firm_and_compounds_over_gaps() -> None:
    dates = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]).to_numpy()
    returns = np.array([[np.nan, np.nan], [0.01, 0.03], [0.02, np.nan], [-0.01, 0.05]])
    index = IpoIndex(dates, returns, ("A.HK", "B.HK"), 24, 1)
    mean, n = index.daily()
    assert np.isnan(mean[0]) and list(n) == [0, 2, 1, 2]
    assert mean[1] == pytest.approx(0.02, rel=1e-6, abs=0)
    assert mean[3] == pytest.approx(0.02, rel=1e-6, abs=0)
    alone, _ = index.daily(exclude="A.HK")
    assert alone[1] == pytest.approx(0.03, rel=1e-6,
                                     abs=0) and np.isnan(alone[2])  # B.HK had no return
    # a stock trading on the 2nd and the 5th only: the index over the 3rd..5th, compounded
    over = index.over(dates[[1, 3]], exclude="B.HK")
    assert np.isnan(over[0]) and over[1] == pytest.approx(1.02 * 0.99 - 1, abs=1e-15)
    assert np.isnan(index.over(dates[[1, 3]], exclude="A.HK")[1])  # the 4th is missing
    strict = IpoIndex(dates, returns, ("A.HK", "B.HK"), 24, 2)
    assert np.isnan(strict.daily()[0][2])  # one firm: below the minimum of two


def test_days_below_the_minimum_are_missing_and_day0_without_index_is_skipped() -> None:
    result = lockup_study("9880.HK", market="ipo-index", ipo_index_min=3, offline=True,
                          volatility=False)
    table = result.extras["ipo_index_table"]
    literal = Literal(24, 3)
    for date in ("2024-06-03", "2024-11-01", "2024-12-30", "2025-01-02"):
        value, n = literal.day(pd.Timestamp(date), exclude=None)
        row = table[table["date"] == date].iloc[0]
        assert row["n_constituents"] == n
        assert (np.isnan(row["return"]) and np.isnan(value)) or row["return"] == pytest.approx(
            value, abs=1e-14)
    reasons = " ".join(result.skipped["reason"])
    assert "IPO index" in reasons  # the 6-month tranche: too few recent listings in 2024
    assert any("fewer than 3" in n for n in result.notes)


def test_cli_route_json_and_report_say_which_benchmark(tmp_path) -> None:
    code, out, err = run_cli("lockup", "9880.HK", "--offline", "--market", "ipo-index",
                             "--ipo-index-min", "2", "--ipo-index-months", "24", "--no-garch",
                             "--no-report", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["options"]["market"] == "ipo-index"
    bench = doc["benchmark"]
    assert bench["months"] == 24 and bench["min_constituents"] == 2
    assert bench["excludes_event_firm"] is True
    assert {"6682.HK", "2533.HK", "9660.HK"} <= set(bench["constituents"])
    code, out, err = run_cli("lockup", "9880.HK", "--offline", "--market", "IPO_INDEX",
                             "--ipo-index-min", "2", "--no-garch", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert "IPO index (24 months, >= 2 firms, own firm excluded)" in out
    table = pd.read_csv(tmp_path / "r" / "ipo_index.csv")
    assert {"date", "return", "n_constituents", "constituents"} <= set(table.columns)
    assert "Benchmark: IPO index" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    code, _, err = run_cli("lockup", "9880.HK", "--offline", "--market", "ipo-index",
                           "--ipo-index-min", "0", "--no-report")
    assert code == 2 and "ipo-index-min" in err


def test_listing_day_refuses_the_ipo_index() -> None:
    from eventstudy import listing_study

    with pytest.raises(BadInput, match="IPO index"):
        listing_study("9880.HK", market="ipo-index", offline=True)


def test_events_file_listing_dates_join_the_index_on_their_exchange() -> None:
    """US events: LYFT and PINS are not in the calendar; their events-file listing dates make
    them constituents, beside the calendar's ZM, each event's own firm excluded."""
    from eventstudy import batch_study

    events = pd.DataFrame({"ticker": ["LYFT", "PINS"], "date": ["2019-09-25", "2019-10-15"],
                           "listing_date": ["2019-03-29", "2019-04-18"]})
    result = batch_study(events, market="ipo-index", ipo_index_min=2, offline=True,
                         bootstrap=0)
    assert {"LYFT", "PINS", "ZM"} <= set(result.extras["benchmark"]["constituents"])
    raw = {t: pd.read_csv(DATA / "prices" / f"{t}.csv", index_col="Date",
                          parse_dates=True)["Adj Close"] for t in ("LYFT", "PINS", "ZM")}
    gspc = pd.read_csv(next((DATA / "prices").glob("^GSPC_*.csv")), index_col="date",
                       parse_dates=True).index
    for _, event in result.events.iterrows():
        day0 = pd.Timestamp(event["day0"])
        prev = gspc[gspc.get_loc(day0) - 1]
        others = [raw[t][day0] / raw[t][prev] - 1 for t in raw if t != event["ticker"]]
        assert event["benchmark_firms_0"] == 2
        assert event["market_return_0"] == pytest.approx(sum(others) / 2, abs=1e-14)
