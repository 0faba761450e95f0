"""Events: what happened to which ticker on which exchange session, keyed by an event id.

An event id is ``TICKER:TRANCHE:YYYY-MM-DD`` (tranche ``event`` for user-given events), so one
listing's several tranches, or one firm's several events, never collide."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eventstudy.calendar.listings import Listing
from eventstudy.calendar.sessions import (
    HolidayPolicy,
    next_session,
    to_session,
    to_timestamp,
)
from eventstudy.calendar.yamlsafe import load_yaml
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

    @property
    def event_id(self) -> str:
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


RESERVED = {"ticker", "date", "event_date", "tranche", "group", "session", "event_id",
            "listing_date", "listing_inferred"}


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            doc = load_yaml(path.read_text(encoding="utf-8"), path)
            rows = doc.get("events") if isinstance(doc, dict) else doc
            if not isinstance(rows, list):
                raise ConfigError(f"{path}: expected a list of events (or 'events:' list)")
            return pd.DataFrame(rows)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ConfigError(f"no such events file: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{path}: no events (empty file)") from None
    except (yaml.YAMLError, pd.errors.ParserError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{path}: unreadable events file ({type(exc).__name__})") from None


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def read_events(path: str | Path, policy: HolidayPolicy = "next"
                ) -> tuple[list[Event], list[Skip]]:
    """Events from a CSV/YAML table: ticker, date (or event_date)[, tranche, group, listing_date].

    A ``listing_date`` starts the event's estimation window at listing day + 5 (as ``lockup``).

    Extra columns are kept as the group when named by ``group``. Rows whose date is not a session
    follow ``policy``; with ``skip`` they are returned as skips with the reason.
    """
    path = Path(path)
    table = _read_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    if "event_date" in table.columns and "date" not in table.columns:
        table = table.rename(columns={"event_date": "date"})
    missing = {"ticker", "date"} - set(table.columns)
    if missing:
        raise ConfigError(f"{path}: missing column {sorted(missing)[0]!r} "
                          f"(need ticker and date; have {', '.join(table.columns)})")
    events: list[Event] = []
    skips: list[Skip] = []
    for number, row in enumerate(table.to_dict("records"), start=2):
        where = f"{path}: row {number}"
        try:
            event = make_event(str(row["ticker"]), row["date"],
                               tranche=str(row.get("tranche") or "event"),
                               group=str(row.get("group") or ""), policy=policy,
                               attrs={str(k): v for k, v in row.items()},
                               listing_date=_blank_to_none(row.get("listing_date")))
        except BadInput as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if event is None:
            skips.append(Skip(f"{row['ticker']}:{row.get('tranche') or 'event'}:{row['date']}",
                              str(row["ticker"]), "event date is not a session (policy: skip)"))
        else:
            events.append(event)
    if not events and not skips:
        raise ConfigError(f"{path}: no events")
    return events, skips
