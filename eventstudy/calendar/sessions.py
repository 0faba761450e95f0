"""Exchange sessions (exchange-calendars) and the rules that turn a date into an event session.

exchange-calendars knows each exchange's holidays (HKEX lunar holidays, typhoon closures are not
known in advance), so "the first session on or after the expiry" is a lookup, not a guess."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Literal

import exchange_calendars as xcals
import pandas as pd
from dateutil.relativedelta import relativedelta

from eventstudy.data.clean import FIRST_DATE, LAST_DATE
from eventstudy.errors import BadInput

HolidayPolicy = Literal["next", "previous", "skip"]


HOLIDAY_POLICIES: tuple[str, ...] = ("next", "previous", "skip")


CALENDAR_START = "1990-01-01"


@lru_cache(maxsize=8)
def exchange_calendar(code: str) -> xcals.ExchangeCalendar:
    """The exchange-calendars calendar ``code`` (``XHKG``, ``XNYS``...), 1990 to 2 years ahead."""
    end = (pd.Timestamp.today() + pd.DateOffset(years=2)).normalize()
    return xcals.get_calendar(code, start=CALENDAR_START, end=end)


def to_timestamp(value: str | date | pd.Timestamp, what: str = "date") -> pd.Timestamp:
    """Parse a date given by a user; one-line error if it is not a date."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise BadInput(f"not a {what}: {value!r} (expected YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise BadInput(f"not a {what}: {value!r} (expected YYYY-MM-DD)")
    return stamp.tz_localize(None).normalize() if stamp.tz else stamp.normalize()


def user_date(value: str | date | pd.Timestamp, what: str = "date") -> pd.Timestamp:
    """A date a user typed (``--as-of``, ``--date``, a calendar's ``listing_date``): a plain date
    within 1900..2100 (a year 0000, 9999-12-31 or a leading ``-`` are typos) without a time
    zone; one-line BadInput otherwise."""
    if getattr(value, "tzinfo", None) is not None or (
            isinstance(value, str) and _ZONED.search(value.strip())):
        raise BadInput(f"{what} {value!s} has a time zone: give the local date, YYYY-MM-DD")
    stamp = to_timestamp(value, what)
    if not FIRST_DATE <= stamp <= LAST_DATE:
        raise BadInput(f"{what} {value!s} is outside {FIRST_DATE.year}..{LAST_DATE.year} "
                       "(expected YYYY-MM-DD)")
    return stamp


_ZONED = re.compile(r"(T|\d:\d\d).*(Z|[+-]\d\d(:?\d\d)?)$")


def add_months(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """Calendar-month arithmetic: 2021-12-30 + 6 months = 2022-06-30; Aug 31 + 6 -> Feb 28/29."""
    return pd.Timestamp(day.date() + relativedelta(months=months))


def is_session(code: str, day: pd.Timestamp) -> bool:
    cal = exchange_calendar(code)
    if not cal.first_session <= day <= cal.last_session:
        raise BadInput(f"{day.date()} is outside the {code} calendar "
                       f"({cal.first_session.date()}..{cal.last_session.date()})")
    return bool(cal.is_session(day))


def to_session(code: str, day: pd.Timestamp, policy: HolidayPolicy = "next") -> pd.Timestamp | None:
    """The session ``day`` maps to: itself if a session, else by ``policy`` (None for ``skip``)."""
    if policy not in HOLIDAY_POLICIES:
        raise BadInput(f"unknown holiday policy {policy!r} (use next, previous or skip)")
    if is_session(code, day):
        return day
    if policy == "skip":
        return None
    return pd.Timestamp(exchange_calendar(code).date_to_session(day, direction=policy))


def next_session(code: str, day: pd.Timestamp) -> pd.Timestamp:
    """The first session on or after ``day``."""
    session = to_session(code, day, "next")
    assert session is not None
    return session


def sessions_between(code: str, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Number of sessions in (start, end]: how many sessions from ``start`` until ``end``."""
    if end <= start:
        return 0
    cal = exchange_calendar(code)
    return len(cal.sessions_in_range(start + pd.Timedelta(days=1), end))
