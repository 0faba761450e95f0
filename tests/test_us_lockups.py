"""Lock-ups outside Hong Kong (issue 11 item 4): the US 180-day preset on real US IPO data, and
events files that carry a ``listing_date``.

US rule (data/research/calendar/rules.md): the lock-up runs "through the close of trading on the
date that is 180 days after the date of the Prospectus" (Law Insider), the prospectus being dated
the evening before the first trade, so the first free day is first trading day + 180 calendar
days; day 0 = the first NYSE/Nasdaq session on or after it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA
from conftest import run_cli as run

from eventstudy.calendar.listings import inferred_listing, load_listings, parse_listing
from eventstudy.errors import ConfigError


def raw_us(ticker: str) -> pd.DataFrame:
    """A bundled classic-Yahoo US file read with plain pandas."""
    frame = pd.read_csv(DATA / "prices" / f"{ticker}.csv", parse_dates=["Date"])
    return frame.set_index("Date")


@pytest.mark.parametrize("ticker, first_trade, day0", [
    ("ZM", "2019-04-18", "2019-10-15"), ("PINS", "2019-04-18", "2019-10-15"),
    ("LYFT", "2019-03-29", "2019-09-25")])
def test_us_lockup_is_180_days_after_the_first_trade(ticker: str, first_trade: str,
                                                    day0: str) -> None:
    prices = raw_us(ticker)
    assert prices.index[0] == pd.Timestamp(first_trade)
    free = pd.Timestamp(first_trade) + pd.Timedelta(days=180)
    expected = prices.index[prices.index >= free][0]
    assert expected == pd.Timestamp(day0)
    code, out, err = run("lockup", ticker, "--offline", "--json", "--no-report")
    assert code == 0, err
    (event,) = json.loads(out)["events"]
    assert event["event_id"] == f"{ticker}:lockup_180d:{day0}"
    assert "^GSPC" in out  # the US market index
    day = next(r for r in event["abnormal_returns"] if r["day"] == 0)
    pos = prices.index.get_loc(expected)
    close = prices["Adj Close"]
    assert day["return"] == pytest.approx(close.iloc[pos] / close.iloc[pos - 1] - 1, abs=1e-12)


def test_us_tickers_get_the_us_preset() -> None:
    uber = inferred_listing("UBER", pd.Timestamp("2019-05-10"))
    assert [(t.name, t.days) for t in uber.tranches] == [("lockup_180d", 180)]
    assert uber.expiry("lockup_180d") == pd.Timestamp("2019-11-06")
    hk = inferred_listing("0020.HK", pd.Timestamp("2021-12-30"))
    assert "controlling_12m" in [t.name for t in hk.tranches]
    entry = parse_listing({"ticker": "ZM", "listing_date": "2019-04-18", "source": "x"}, "t")
    assert [t.length for t in entry.tranches] == ["180d"]
    zoom = load_listings()["ZM"]  # in the calendar with its prospectus as source
    assert zoom.listing_date == pd.Timestamp("2019-04-18") and "424B4" in zoom.source
    assert zoom.expiry("lockup_180d") == pd.Timestamp("2019-10-15")
    assert "LYFT" not in load_listings()  # no source read: inferred from its first trading day


def test_uber_offline_without_data_is_data_unavailable() -> None:
    code, out, err = run("lockup", "UBER", "--offline", "--no-report")
    assert code == 3 and "UBER" in err and err.strip().count("\n") == 0


EVENTS = "ticker,date,tranche,listing_date\n0020.HK,2022-06-30,cornerstone,{listed}\n"


def t0(result) -> float:
    return float(result.events.set_index("event_id").loc["0020.HK:cornerstone:2022-06-30", "t_0"])


def test_events_file_listing_date_gives_the_lockup_estimation_window(tmp_path: Path) -> None:
    """SenseTime through `batch events.csv` with its listing date = through `lockup` with the
    market model (an events file's default): the same estimation window from listing day +30
    (without it, the calendar's listing date is used)."""
    from eventstudy import batch_study, lockup_study

    path = tmp_path / "events.csv"
    path.write_text(EVENTS.format(listed="2021-12-30"))
    batch = batch_study(path, offline=True)
    lockup = lockup_study("0020.HK", offline=True, tranches=["cornerstone"], volatility=False,
                          model="market")
    assert t0(batch) == pytest.approx(t0(lockup), rel=1e-12, abs=0)
    assert batch.events["estimation_start"].iloc[0] == lockup.events["estimation_start"].iloc[0]
    assert batch.events["estimation_days"].iloc[0] == 71  # listing +30 .. day -21
    path.write_text(EVENTS.format(listed=""))
    # without it, the listing date comes from the calendar (issue 21): the same window
    assert t0(batch_study(path, offline=True)) == pytest.approx(t0(lockup), rel=1e-12, abs=0)
    yaml_path = tmp_path / "events.yaml"
    yaml_path.write_text("events:\n  - {ticker: 0020.HK, date: 2022-06-30, tranche: cornerstone,"
                         " listing_date: 2021-12-30}\n")
    assert t0(batch_study(yaml_path, offline=True)) == pytest.approx(t0(lockup), rel=1e-12, abs=0)


def test_events_file_listing_date_after_the_event_is_bad_input(tmp_path: Path) -> None:
    from eventstudy.calendar.events import read_events

    path = tmp_path / "events.csv"
    path.write_text(EVENTS.format(listed="2023-01-01"))
    with pytest.raises(ConfigError, match="row 2: listing date 2023-01-01 is after"):
        read_events(path)
    path.write_text(EVENTS.format(listed="soon"))
    code, _, err = run("batch", str(path), "--offline", "--no-report")
    assert code == 2 and "row 2" in err and "listing date" in err
