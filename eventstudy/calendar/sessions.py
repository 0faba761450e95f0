"""Exchange sessions (exchange-calendars) and the rules that turn a date into an event session.

exchange-calendars knows each exchange's holidays (HKEX lunar holidays), so "the first session on
or after the expiry" is a lookup, not a guess. Closures it misses (typhoons, black rainstorms:
HKEX did not trade on 2023-09-01 and 2023-09-08) are listed with their source in
``configs/closures.yaml`` and applied on top of it as ad hoc holidays."""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from dateutil.relativedelta import relativedelta

from eventstudy.calendar.sessioncache import read_sessions, write_sessions
from eventstudy.calendar.yamlsafe import load_yaml
from eventstudy.data.clean import FIRST_DATE, LAST_DATE
from eventstudy.data.files import BUNDLED_CONFIGS
from eventstudy.errors import BadInput, ConfigError

if TYPE_CHECKING:
    import exchange_calendars as xcals

HolidayPolicy = Literal["next", "previous", "skip"]


HOLIDAY_POLICIES: tuple[str, ...] = ("next", "previous", "skip")


CALENDAR_START = "1990-01-01"


CLOSURES = Path(os.environ.get("EVENTSTUDY_CLOSURES", BUNDLED_CONFIGS / "closures.yaml"))


@lru_cache(maxsize=4)
def closures(path: Path = CLOSURES) -> dict[str, tuple[pd.Timestamp, ...]]:
    """Whole-day closures by exchange code from ``configs/closures.yaml`` (date, exchange,
    reason and source required; ConfigError naming the entry otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"{path}: not a valid closures file") from None
    doc = load_yaml(text, path)
    entries = doc.get("closures") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a top-level 'closures:' list")
    out: dict[str, list[pd.Timestamp]] = {}
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or any(
                not entry.get(k) for k in ("date", "exchange", "reason", "source")):
            raise ConfigError(f"{path}: closure {i} needs date, exchange, reason and source")
        try:
            day = pd.Timestamp(str(entry["date"])).normalize()
        except ValueError:
            raise ConfigError(f"{path}: closure {i}: bad date {entry['date']!r}") from None
        out.setdefault(str(entry["exchange"]), []).append(day)
    return {code: tuple(days) for code, days in out.items()}


def _calendar_end() -> pd.Timestamp:
    return (pd.Timestamp.today() + pd.DateOffset(years=2)).normalize()


@lru_cache(maxsize=8)
def exchange_calendar(code: str) -> xcals.ExchangeCalendar:
    """The exchange-calendars calendar ``code`` (``XHKG``, ``XNYS``...), 1990 to 2 years ahead,
    with the closures of ``configs/closures.yaml`` as extra ad hoc holidays."""
    import exchange_calendars as xcals
    from exchange_calendars import calendar_utils

    end = _calendar_end()
    extra = closures().get(code, ())
    factories = getattr(calendar_utils, "_default_calendar_factories", {})  # code -> class
    if not extra or code not in factories:
        return xcals.get_calendar(code, start=CALENDAR_START, end=end)
    base = factories[code]
    days = list(extra)

    def adhoc_holidays(self: xcals.ExchangeCalendar) -> list[pd.Timestamp]:
        return [*base.adhoc_holidays.fget(self), *days]

    cls = type(f"{base.__name__}WithClosures", (base,),
               {"adhoc_holidays": property(adhoc_holidays)})
    return cls(start=CALENDAR_START, end=end)


def _cache_key(code: str) -> dict[str, Any]:
    return {"code": code, "start": CALENDAR_START, "end": str(_calendar_end().date()),
            "closures": [str(d.date()) for d in closures().get(code, ())],
            "exchange_calendars": version("exchange_calendars"), "pandas": pd.__version__}


@lru_cache(maxsize=8)
def session_index(code: str) -> pd.DatetimeIndex:
    """The sessions of :func:`exchange_calendar` ``(code)``, kept in the on-disk cache
    (``eventstudy.calendar.sessioncache``) so that a command needs neither to build the calendar
    nor to import exchange-calendars."""
    key = _cache_key(code)
    cached = read_sessions(code, key)
    if cached is not None:
        return cached
    sessions = pd.DatetimeIndex(exchange_calendar(code).sessions)
    write_sessions(code, key, sessions)
    return sessions


@lru_cache(maxsize=8)
def early_close_index(code: str) -> pd.DatetimeIndex:
    """The sessions of ``code`` that close early (half-day sessions: on HKEX Christmas Eve, New
    Year's Eve and, since 2013, Lunar New Year's Eve; on NYSE the day after Thanksgiving,
    Christmas Eve, the eve of Independence Day), exchange-calendars' ``early_closes``, kept in
    the on-disk cache beside the sessions."""
    key = _cache_key(code)
    cached = read_sessions(code, key, "early_closes")
    if cached is not None:
        return cached
    early = pd.DatetimeIndex(exchange_calendar(code).early_closes)
    write_sessions(code, key, early, "early_closes")
    return early


def is_early_close(code: str, day: pd.Timestamp) -> bool:
    """Whether ``day`` is a session of ``code`` that closes early (``early_close_index``)."""
    index, plain = early_close_index(code), pd.Timestamp(day).normalize()
    at = int(index.searchsorted(plain))
    return at < len(index) and bool(index[at] == plain)


_VERIFIED: set[str] = set()


def verify_session_cache(code: str) -> bool:
    """Compare the sessions in use for ``code`` with exchange-calendars (building the calendar,
    once per process); when they differ (a cache file edited and re-hashed), rewrite the cache,
    forget it and return True. Called when the data disagree with the cache."""
    if code in _VERIFIED:
        return False
    truth = pd.DatetimeIndex(exchange_calendar(code).sessions)
    used = session_index(code)
    _VERIFIED.add(code)
    day = "datetime64[D]"
    if len(used) == len(truth) and bool((used.to_numpy().astype(day)
                                         == truth.to_numpy().astype(day)).all()):
        return False
    write_sessions(code, _cache_key(code), truth)
    session_index.cache_clear()
    return True


def _plain(day: Any) -> bool:
    """A time-zone-naive Timestamp at midnight: what the session index answers for."""
    return isinstance(day, pd.Timestamp) and day.tz is None and day.value % _DAY_NS == 0


_DAY_NS = 86_400 * 10**9
_NS: dict[str, tuple[pd.DatetimeIndex, npt.NDArray[np.int64]]] = {}


def _session_ns(code: str) -> npt.NDArray[np.int64]:
    """``session_index(code)`` as int64 nanoseconds (remade when the index is)."""
    index = session_index(code)
    got = _NS.get(code)
    if got is None or got[0] is not index:
        got = index, index.to_numpy().astype("datetime64[ns]").view(np.int64)
        _NS[code] = got
    return got[1]


def calendar_span(code: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last session of the ``code`` calendar."""
    index = session_index(code)
    return pd.Timestamp(index[0]), pd.Timestamp(index[-1])


def to_timestamp(value: str | date | pd.Timestamp, what: str = "date") -> pd.Timestamp:
    """Parse a date given by a user; one-line error if it is not a date (a number such as
    ``20220630`` from a YAML or spreadsheet cell is not: pandas would read nanoseconds)."""
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        raise BadInput(f"not a {what}: {value!r} is a number (expected YYYY-MM-DD, e.g. "
                       "2022-06-30)")
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
    if _plain(day):  # the session index as int64 nanoseconds: one binary search
        days = _session_ns(code)
        if days[0] <= day.value <= days[-1]:
            return bool(days[int(days.searchsorted(day.value))] == day.value)
    first, last = calendar_span(code)
    if not first <= day <= last:
        raise BadInput(f"{day.date()} is outside the {code} calendar "
                       f"({first.date()}..{last.date()})")
    if not _plain(day):
        return bool(exchange_calendar(code).is_session(day))
    index = session_index(code)
    return bool(index[int(index.searchsorted(day))] == day)


def to_session(code: str, day: pd.Timestamp, policy: HolidayPolicy = "next") -> pd.Timestamp | None:
    """The session ``day`` maps to: itself if a session, else by ``policy`` (None for ``skip``)."""
    if policy not in HOLIDAY_POLICIES:
        raise BadInput(f"unknown holiday policy {policy!r} (use next, previous or skip)")
    if is_session(code, day):
        return day
    if policy == "skip":
        return None
    if not _plain(day):
        return pd.Timestamp(exchange_calendar(code).date_to_session(day, direction=policy))
    days = _session_ns(code)
    position = int(days.searchsorted(day.value)) - (policy == "previous")
    return pd.Timestamp(days[position])


def next_session(code: str, day: pd.Timestamp) -> pd.Timestamp:
    """The first session on or after ``day``."""
    session = to_session(code, day, "next")
    assert session is not None
    return session


def sessions_between(code: str, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Number of sessions in (start, end]: how many sessions from ``start`` until ``end``."""
    if end <= start:
        return 0
    first, last = calendar_span(code)
    after = start + pd.Timedelta(days=1)
    if not (_plain(after) and _plain(end) and first <= after and end <= last):
        return len(exchange_calendar(code).sessions_in_range(after, end))  # its errors
    index = session_index(code)
    return int(index.searchsorted(end, side="right")) - int(index.searchsorted(after))
