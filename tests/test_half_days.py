"""Half-day sessions are the exchange's own early closes (exchange-calendars), not a guess from
gaps in the data: HKEX's Christmas Eve, New Year's Eve and Lunar New Year's Eve, NYSE's day
after Thanksgiving; a US stock never gets Hong Kong's rules (docs/quality.md, half_day_volume).
Each check is against exchange-calendars' ``early_closes`` built here, not through the cache."""

from __future__ import annotations

import exchange_calendars as xcals
import pandas as pd
import pytest

from eventstudy.calendar import sessions as S
from eventstudy.quality.screens import is_half_day, screen_series
from eventstudy.studies.core import make_loader


def _truth(code: str) -> set[pd.Timestamp]:
    cal = xcals.get_calendar(code, start="2005-01-01", end="2025-12-31")
    return set(cal.early_closes)


@pytest.mark.parametrize("code", ["XHKG", "XNYS"])
def test_half_days_are_the_exchanges_early_closes(code: str) -> None:
    truth = _truth(code)
    S.early_close_index.cache_clear()
    S.early_close_index(code)  # built and written to the cache
    S.early_close_index.cache_clear()  # then read back from the file
    days = xcals.get_calendar(code, start="2005-01-01", end="2025-12-31").sessions
    got = {day for day in days if is_half_day(day, code)}
    assert got == truth
    assert len(truth) > 30  # two or more a year: the comparison is not of empty sets


@pytest.mark.parametrize(("code", "day", "half"), [
    ("XHKG", "2019-12-24", True),  # Christmas Eve
    ("XHKG", "2019-12-31", True),  # New Year's Eve
    ("XHKG", "2020-01-24", True),  # Lunar New Year's Eve (the old rule read it from a gap)
    ("XHKG", "2019-04-18", False),  # before Good Friday and Easter Monday: a full day
    ("XNYS", "2019-11-29", True),  # the day after Thanksgiving
    ("XNYS", "2019-12-24", True),
    ("XNYS", "2019-12-31", False),  # NYSE trades New Year's Eve in full
    ("XNYS", "2020-04-09", False),  # before Good Friday (one weekday) and a weekend
])
def test_real_half_days(code: str, day: str, half: bool) -> None:
    stamp = pd.Timestamp(day)
    assert (stamp in _truth(code)) is half  # the date list above is exchange-calendars' own
    assert is_half_day(stamp, code) is half
    assert is_half_day(stamp, None) is False  # no exchange: no half-days


def _zm_with_zero_volume(*days: str) -> pd.DataFrame:
    """The bundled real ZM prices (data/prices/ZM.csv) with the volume of ``days`` set to 0, as
    Yahoo reports it on some half-day sessions; the closes are unchanged (they moved)."""
    frame = make_loader(offline=True).load("ZM").copy()
    for day in days:
        frame.loc[pd.Timestamp(day), "volume"] = 0.0
    return frame


def test_a_us_stock_gets_the_nyse_half_days_not_hong_kongs() -> None:
    frame = _zm_with_zero_volume("2019-11-29", "2019-12-31")
    closes = frame["close"]
    assert closes.loc["2019-11-29"] != closes.loc[:"2019-11-28"].iloc[-1]  # not a placeholder
    assert closes.loc["2019-12-31"] != closes.loc["2019-12-30"]
    screen = screen_series(frame, "ZM")
    assert screen.unknown_volume == [pd.Timestamp("2019-11-29")]
    half = [f.where for f in screen.findings if f.check == "half_day_volume"]
    assert half == ["2019-11-29"]
    # the same rows read as a Hong Kong stock's (code given): 31 December is HKEX's half-day
    as_hk = screen_series(frame, "ZM", "XHKG")
    assert as_hk.unknown_volume == [pd.Timestamp("2019-12-31")]


def test_a_gap_in_the_data_is_not_a_half_day() -> None:
    """The old rule took the last row before two missing weekdays for Lunar New Year's Eve: a
    zero-volume row before a gap of the data is only a zero volume."""
    frame = _zm_with_zero_volume("2019-12-20")
    frame = frame.drop(pd.bdate_range("2019-12-23", "2019-12-27"), errors="ignore")
    assert frame.loc["2019-12-20", "close"] != frame.loc["2019-12-19", "close"]
    screen = screen_series(frame, "ZM")
    assert screen.unknown_volume == []
    assert not [f for f in screen.findings if f.check == "half_day_volume"]


def test_a_damaged_early_close_file_is_rebuilt() -> None:
    from eventstudy.data.cache import default_cache_dir

    S.early_close_index.cache_clear()
    S.early_close_index("XNYS")
    path = default_cache_dir() / "calendars" / "XNYS-early-closes.json"
    assert path.exists()
    path.write_text("{not json", encoding="utf-8")
    S.early_close_index.cache_clear()
    rebuilt = S.early_close_index("XNYS")
    truth = _truth("XNYS")
    assert {d for d in rebuilt if pd.Timestamp("2005-01-01") <= d <= pd.Timestamp("2025-12-31")} \
        == truth
    assert path.read_text(encoding="utf-8").startswith("{")
    S.early_close_index.cache_clear()
    assert (S.early_close_index("XNYS") == rebuilt).all()  # read back from the rewritten file
