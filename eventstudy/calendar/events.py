"""Events: what happened to which ticker on which exchange session, keyed by an event id.

An event id is ``TICKER:TRANCHE:YYYY-MM-DD`` (tranche ``event`` for user-given events), so one
listing's several tranches, or one firm's several events, never collide."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.listings import Listing
from eventstudy.calendar.sessions import (
    HolidayPolicy,
    calendar_span,
    next_session,
    to_session,
    to_timestamp,
)
from eventstudy.calendar.yamlsafe import load_yaml
from eventstudy.data.files import read_errors
from eventstudy.data.tickers import calendar_code, normalise_ticker
from eventstudy.errors import BadInput, ConfigError, EventStudyError


@dataclass(frozen=True)
class Event:
    """One event: ``session`` is event day 0, ``date`` the calendar date it came from."""

    ticker: str
    session: pd.Timestamp
    tranche: str = "event"
    group: str = ""
    date: pd.Timestamp | None = None
    listing_date: pd.Timestamp | None = None
    listing_inferred: bool = False
    attrs: tuple[tuple[str, str], ...] = ()  # extra columns of an events file, for grouping

    @cached_property
    def event_id(self) -> str:  # made once: a study asks for it several times per event
        return f"{self.ticker}:{self.tranche}:{self.session.date()}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(dict(out.pop("attrs")))
        out["event_id"] = self.event_id
        for key in ("session", "date", "listing_date"):
            out[key] = None if out[key] is None else str(out[key].date())
        return out


@dataclass(frozen=True)
class Skip:
    """An event that could not be studied, and why."""

    event_id: str
    ticker: str
    reason: str
    exit_code: int = 2  # what the CLI exits with if nothing else could be studied

    @classmethod
    def from_error(cls, event_id: str, ticker: str, exc: EventStudyError) -> Skip:
        return cls(event_id, ticker, str(exc), exc.exit_code)


def lockup_events(listing: Listing) -> list[Event]:
    """One event per tranche of ``listing``: day 0 = first session on or after the expiry."""
    code = calendar_code(listing.ticker)
    events = []
    for tranche in listing.tranches:
        expiry = listing.expiry(tranche)
        events.append(Event(ticker=listing.ticker, session=next_session(code, expiry),
                            tranche=tranche.name, group=tranche.name, date=expiry,
                            listing_date=listing.listing_date,
                            listing_inferred=listing.inferred))
    return events


def make_event(ticker: str, when: Any, *, tranche: str = "event", group: str = "",
               policy: HolidayPolicy = "next", attrs: dict[str, Any] | None = None,
               listing_date: Any = None) -> Event | None:
    """An event on a user-given date; a non-session date follows ``policy`` (None if skipped).

    ``listing_date`` (optional) starts the estimation window at listing day + 5, as for the
    lock-ups of the calendar."""
    ticker = normalise_ticker(ticker)
    day = to_timestamp(when, "event date")
    listed = None
    if listing_date not in (None, ""):
        listed = to_timestamp(listing_date, "listing date")
        if listed > day:
            raise BadInput(f"listing date {listed.date()} is after the event date {day.date()}")
    session = to_session(calendar_code(ticker), day, policy)
    if session is None:
        return None
    extra = tuple((str(k), str(v)) for k, v in (attrs or {}).items() if k not in RESERVED)
    return Event(ticker=ticker, session=session, tranche=tranche or "event",
                 group=group or tranche or "", date=day, listing_date=listed, attrs=extra)


# C0/C1 controls, DEL, line/paragraph separators and bidirectional overrides: a cell holding one
# could forge lines or terminal output in a report, a calendar or the console.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _check_text(where: str, row: Mapping[Any, Any]) -> None:
    """Reject a cell (or column name) holding a control character, naming the column."""
    for key, value in row.items():
        for text in (str(key), value if isinstance(value, str) else ""):
            found = _CONTROL.search(text)
            if found:
                raise ConfigError(f"{where}: column {str(key)[:40]!r} holds a control character "
                                  f"(U+{ord(found.group()):04X}); remove it")


def outside_calendar(ticker: str, when: Any) -> str | None:
    """Why an event date cannot be a session of its exchange (before 1990, past the calendar's
    end, year 0 or negative), or None: such an event is skipped, not an error of the file."""
    code = calendar_code(normalise_ticker(ticker))
    day = to_timestamp(when, "event date")
    first, last = calendar_span(code)
    if first <= day <= last:
        return None
    return (f"event date {str(when)[:40]} is outside the {code} calendar "
            f"({first.date()}..{last.date()})")


RESERVED = {"ticker", "date", "event_date", "tranche", "group", "session", "event_id",
            "listing_date", "listing_inferred"}


def _read_table(path: Path) -> pd.DataFrame:
    with read_errors(path, "events file", missing=ConfigError(f"no such events file: {path}"),
                     empty=ConfigError(f"{path}: no events (empty file)"), bad=ConfigError):
        if path.suffix.lower() in (".yaml", ".yml"):
            doc = load_yaml(path.read_text(encoding="utf-8"), path)
            rows = doc.get("events") if isinstance(doc, dict) else doc
            if not isinstance(rows, list):
                raise ConfigError(f"{path}: expected a list of events (or 'events:' list)")
            return pd.DataFrame(rows)
        return pd.read_csv(path, dtype=str, keep_default_na=False)


def _blank(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def read_events(path: str | Path, policy: HolidayPolicy = "next"
                ) -> tuple[list[Event], list[Skip]]:
    """Events from a CSV/YAML table: ticker, date (or event_date)[, tranche, group, listing_date].

    A ``listing_date`` starts the event's estimation window at listing day + 5 (as ``lockup``).

    Extra columns are kept as the group when named by ``group``. Rows whose date is not a session
    follow ``policy``; with ``skip`` they are returned as skips with the reason.
    """
    path = Path(path)
    return events_from_frame(_read_table(path), policy, source=str(path), first_row=2)


def events_from_frame(table: pd.DataFrame, policy: HolidayPolicy = "next", *,
                      source: str = "events", first_row: int = 0
                      ) -> tuple[list[Event], list[Skip]]:
    """Events from a table (a DataFrame or a read events file): ticker, date (or event_date),
    optional tranche, group, listing_date and any other columns (kept for grouping). Blank cells
    (NaN, None, NaT) are missing values; rows are named ``source: row N`` in errors."""
    table = table.copy()
    table.columns = [str(c).strip().lower() for c in table.columns]
    if "event_date" in table.columns and "date" not in table.columns:
        table = table.rename(columns={"event_date": "date"})
    missing = {"ticker", "date"} - set(table.columns)
    if missing:
        raise ConfigError(f"{source}: missing column {sorted(missing)[0]!r} "
                          f"(need ticker and date; have {', '.join(table.columns)})")
    _check_text(f"{source}: header", {str(c): c for c in table.columns})
    events: list[Event] = []
    skips: list[Skip] = []
    for number, raw in enumerate(table.to_dict("records"), start=first_row):
        row = {str(k): ("" if _blank(v) else v) for k, v in raw.items()}
        where = f"{source}: row {number}"
        _check_text(where, row)
        try:
            outside = outside_calendar(str(row["ticker"]), row["date"])
            event = None if outside else make_event(
                str(row["ticker"]), row["date"], tranche=str(row.get("tranche") or "event"),
                group=str(row.get("group") or ""), policy=policy, attrs=row,
                listing_date=row.get("listing_date") or None)
        except BadInput as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if outside:
            skips.append(Skip(f"{row['ticker']}:{row.get('tranche') or 'event'}:{row['date']}",
                              str(row["ticker"]), outside))
        elif event is None:
            skips.append(Skip(f"{row['ticker']}:{row.get('tranche') or 'event'}:{row['date']}",
                              str(row["ticker"]), "event date is not a session (policy: skip)"))
        else:
            events.append(event)
    if not events and not skips:
        raise ConfigError(f"{source}: no events")
    return events, skips
