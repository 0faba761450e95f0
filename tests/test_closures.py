"""Exchange closures the calendar misses (issue 11 item 5): configs/closures.yaml on top of
exchange-calendars, and day 0 moved to the next session present in the data, with a note."""

from __future__ import annotations

from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
import pytest
from conftest import DATA, read_raw_prices

from eventstudy.calendar.events import Event, make_event
from eventstudy.calendar.sessions import closures, exchange_calendar
from eventstudy.errors import ConfigError

CLOSED = ("2023-09-01", "2023-09-08")  # Typhoon Saola; black rainstorm


def test_closures_are_applied_on_top_of_exchange_calendars() -> None:
    """Ours = exchange-calendars' sessions less the closures, whether or not the installed
    version already knows them (4.13.3 does, 4.13.0 does not: both are accepted)."""
    raw = xcals.get_calendar("XHKG", start="2022-01-01", end="2024-12-31")
    ours = exchange_calendar("XHKG")
    for day in CLOSED:
        assert not ours.is_session(day)
    assert ours.is_session("2023-09-04") and ours.is_session("2023-09-07")
    expected = raw.sessions_in_range("2023-01-03", "2023-12-29").difference(
        pd.DatetimeIndex(CLOSED))
    assert list(ours.sessions_in_range("2023-01-03", "2023-12-29")) == list(expected)


def test_the_2023_sessions_are_the_days_tencent_traded() -> None:
    """Independent of the exchange-calendars version: in 2023 the XHKG sessions are exactly the
    days of the real bundled 0700.HK file (Tencent traded on every session of the year)."""
    traded = read_raw_prices("0700.HK").loc["2023"].index
    ours = exchange_calendar("XHKG").sessions_in_range("2023-01-01", "2023-12-31")
    assert [d.date() for d in ours] == [d.date() for d in traded]


def test_every_closure_has_a_source_and_the_data_agree() -> None:
    import yaml

    doc = yaml.safe_load((DATA.parent / "configs" / "closures.yaml").read_text())
    assert {str(c["date"]) for c in doc["closures"]} == set(CLOSED)
    for entry in doc["closures"]:
        assert entry["exchange"] == "XHKG" and "https://" in entry["source"] and entry["reason"]
    for ticker in ("0700.HK", "0020.HK", "9988.HK", "3690.HK", "1024.HK", "6682.HK"):
        index = read_raw_prices(ticker).index
        assert not index.isin(pd.to_datetime(CLOSED)).any(), ticker


def test_user_events_on_a_closure_follow_the_holiday_policy() -> None:
    event = make_event("0700.HK", "2023-09-01")
    assert event is not None and event.session == pd.Timestamp("2023-09-04")
    event = make_event("0700.HK", "2023-09-08", policy="previous")
    assert event is not None and event.session == pd.Timestamp("2023-09-07")
    assert make_event("0700.HK", "2023-09-08", policy="skip") is None


def test_an_events_file_on_a_closure_is_studied_on_the_next_session(tmp_path: Path) -> None:
    """Before configs/closures.yaml the event fell on a 'session' the data do not have."""
    from eventstudy import batch_study

    path = tmp_path / "events.csv"
    path.write_text("ticker,date\n0700.HK,2023-09-08\n0020.HK,2022-06-30\n")
    result = batch_study(path, offline=True)
    assert result.skipped.empty
    row = result.events.set_index("event_id").loc["0700.HK:event:2023-09-11"]
    assert row["date"] == "2023-09-08" and row["day0"] == pd.Timestamp("2023-09-11")
    close = read_raw_prices("0700.HK")["Close"]
    expected = close[pd.Timestamp("2023-09-11")] / close[pd.Timestamp("2023-09-07")] - 1
    assert row["return_0"] == pytest.approx(expected, abs=1e-12)
    # Built past the calendar on a closure day: skipped as not a session.
    from eventstudy import event_study

    both = event_study([Event("0700.HK", pd.Timestamp("2023-09-08")),
                        Event("0700.HK", pd.Timestamp("2023-09-11"))], offline=True)
    assert "not a XHKG session" in both.skipped["reason"].iloc[0]


def test_lockup_day0_removed_from_the_data_moves_with_a_note(tmp_path: Path) -> None:
    """SenseTime's real prices without 2022-06-30: the cornerstone event is studied on the next
    row of the file (2022-07-04; 1 July is a holiday), not skipped."""
    from eventstudy import lockup_study

    lines = (DATA / "prices" / "0020.HK.csv").read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("2022-06-30")]
    assert len(kept) == len(lines) - 1
    path = tmp_path / "0020.HK.csv"
    path.write_text("".join(kept))
    result = lockup_study("0020.HK", offline=True, data=path, tranches=["cornerstone"],
                          volatility=False)
    row = result.events.iloc[0]
    assert row["day0"] == pd.Timestamp("2022-07-04")
    assert "moved from 2022-06-30 to 2022-07-04" in row["note"]
    close = read_raw_prices("0020.HK")["Close"]
    expected = close[pd.Timestamp("2022-07-04")] / close[pd.Timestamp("2022-06-29")] - 1
    assert row["return_0"] == pytest.approx(expected, abs=1e-12)


def test_a_long_gap_is_still_skipped(tmp_path: Path) -> None:
    from eventstudy import event_study

    lines = (DATA / "prices" / "0020.HK.csv").read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("2022-06", "2022-07"))]
    path = tmp_path / "0020.HK.csv"
    path.write_text("".join(kept))
    events = [Event("0020.HK", pd.Timestamp("2022-06-30")),
              Event("0020.HK", pd.Timestamp("2023-06-30"))]
    result = event_study(events, offline=True, data=path)
    assert list(result.events["event_id"]) == ["0020.HK:event:2023-06-30"]
    assert "no price on event day 0 2022-06-30" in result.skipped["reason"].iloc[0]


def test_a_bad_closures_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "closures.yaml"
    path.write_text("closures:\n  - {date: 2023-09-01, exchange: XHKG}\n")
    with pytest.raises(ConfigError, match="closure 1 needs date, exchange, reason and source"):
        closures(path)
