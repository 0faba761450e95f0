"""Calendar rule, tranche dates, holiday policies, the listings calendar and events files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import read_raw_prices

from eventstudy.calendar.events import lockup_events, make_event, read_events
from eventstudy.calendar.listings import load_listings, read_listings_file
from eventstudy.calendar.sessions import add_months, to_session
from eventstudy.errors import BadInput, ConfigError

BUNDLED = ["0020.HK", "9660.HK", "9880.HK", "6682.HK", "2533.HK", "2432.HK", "1024.HK",
           "9988.HK", "3690.HK"]


def months_later(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """Independent month arithmetic: same day-of-month, clipped to the month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    first = pd.Timestamp(year=day.year + year, month=month + 1, day=1)
    return first + pd.Timedelta(days=min(day.day, first.days_in_month) - 1)


@pytest.mark.parametrize("ticker", BUNDLED)
def test_listing_date_is_first_row_of_price_file(ticker: str) -> None:
    listing = load_listings()[ticker]
    assert listing.listing_date == read_raw_prices(ticker).index[0]


@pytest.mark.parametrize("ticker", BUNDLED)
def test_day0_is_first_trading_day_on_or_after_expiry(ticker: str) -> None:
    """The exchange calendar's session equals the first day the stock actually traded."""
    listing = load_listings()[ticker]
    traded = read_raw_prices(ticker).index
    for event in lockup_events(listing):
        tranche = listing.tranche(event.tranche)
        expiry = months_later(listing.listing_date, tranche.months)
        assert event.date == expiry
        if expiry <= traded[-1]:
            assert event.session == traded[traded >= expiry][0], event.event_id


def test_sensetime_six_month_day0() -> None:
    events = {e.tranche: e for e in lockup_events(load_listings()["0020.HK"])}
    assert events["cornerstone"].session == pd.Timestamp("2022-06-30")
    assert events["controlling_12m"].session == pd.Timestamp("2022-12-30")
    assert events["cornerstone"].event_id == "0020.HK:cornerstone:2022-06-30"


def test_month_end_arithmetic() -> None:
    assert add_months(pd.Timestamp("2023-08-31"), 6) == pd.Timestamp("2024-02-29")
    assert add_months(pd.Timestamp("2021-12-30"), 6) == pd.Timestamp("2022-06-30")


def test_holiday_policies_on_chung_yeung_2025() -> None:
    holiday = pd.Timestamp("2025-10-29")  # absent from every bundled HK price file
    assert holiday not in read_raw_prices("0020.HK").index
    assert to_session("XHKG", holiday, "next") == pd.Timestamp("2025-10-30")
    assert to_session("XHKG", holiday, "previous") == pd.Timestamp("2025-10-28")
    assert to_session("XHKG", holiday, "skip") is None
    with pytest.raises(BadInput, match="holiday policy"):
        to_session("XHKG", holiday, "nearest")  # type: ignore[arg-type]


def test_user_event_on_a_holiday() -> None:
    event = make_event("20.HK", "2025-10-29")
    assert event is not None and event.session == pd.Timestamp("2025-10-30")
    assert make_event("20.HK", "2025-10-29", policy="skip") is None
    with pytest.raises(BadInput, match="not a event date|expected YYYY-MM-DD"):
        make_event("20.HK", "29/13/2025")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "listings.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "words"), [
    ("listings: [", "not valid YAML"),
    ("foo: 1", "top-level 'listings:'"),
    ("listings:\n  - ticker: 1.HK\n    listing_date: 2024-13-01\n", "bad date"),
    ("listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n    colour: red\n",
     "unknown key 'colour'"),
    ("listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n  - ticker: 0001.HK\n"
     "    listing_date: 2024-01-02\n", "duplicate ticker 0001.HK"),
    ("listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n    tranches:\n"
     "      - {name: a, months: 0}\n", "months must be 1..60"),
    ("listings:\n  - listing_date: 2024-01-02\n", "missing ticker"),
    ("listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n    status: rumoured\n",
     "status must be"),
])
def test_malformed_listings_give_one_line_errors(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        read_listings_file(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_user_calendar_is_merged_over_bundled(tmp_path: Path) -> None:
    path = write(tmp_path, "listings:\n  - ticker: 20.HK\n    name: Mine\n"
                           "    listing_date: 2021-12-30\n    tranches:\n"
                           "      - {name: anchor, months: 3}\n")
    merged = load_listings(path)
    assert merged["0020.HK"].name == "Mine"
    assert merged["0020.HK"].expiry("anchor") == pd.Timestamp("2022-03-30")
    assert "9660.HK" in merged


def test_events_csv_and_yaml(tmp_path: Path) -> None:
    csv = tmp_path / "events.csv"
    csv.write_text("ticker,date,tranche,group\n20.HK,2022-06-30,cornerstone,ai\n"
                   "9988.HK,2025-10-29,,tech\n")
    events, skips = read_events(csv)
    assert [e.event_id for e in events] == ["0020.HK:cornerstone:2022-06-30",
                                            "9988.HK:event:2025-10-30"]
    assert events[1].group == "tech" and not skips
    _, skips = read_events(csv, policy="skip")
    assert len(skips) == 1 and "not a session" in skips[0].reason
    yml = tmp_path / "events.yaml"
    yml.write_text("events:\n  - {ticker: 20.HK, date: 2022-06-30}\n")
    assert read_events(yml)[0][0].ticker == "0020.HK"


def test_events_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("symbol,day\nX,2022-01-01\n")
    with pytest.raises(ConfigError, match="missing column 'date'"):
        read_events(bad)
    with pytest.raises(ConfigError, match="no such events file"):
        read_events(tmp_path / "nope.csv")
