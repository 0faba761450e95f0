"""Upcoming lock-up expiries, for a scheduled check (cron, systemd timer, CI schedule).

``upcoming_expiries(as_of, within)`` lists every tranche of the listings calendar whose lock-up
expires in the ``within`` days from ``as_of``: expiry date, event day 0 (the first exchange
session on or after it), sessions until then, locked shares and their ratio to the free float
where known, the price run-up since listing and since the offer, and, given a saved study, the
mean historical reaction of the same tranche. The answer depends only on ``as_of``, the calendar
and the data."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.calendar.listings import Listing, load_listings
from eventstudy.calendar.lock import read_user_text
from eventstudy.calendar.sessions import next_session, sessions_between, user_date
from eventstudy.calendar.tranches import Tranche
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import calendar_code
from eventstudy.errors import BadInput, ConfigError, DataUnavailable

EXIT_NOTHING = 0  # nothing (new) expires in the window


EXIT_UPCOMING = 10  # something (new) expires in the window


MAX_WITHIN = 3660  # days (10 years; the longest lock-up is 60 months)


STALE_DAYS = 60  # a calendar whose newest listing is older than this is warned about


HOLIDAY_SLACK = 10  # days: an expiry this long before as_of may still have day 0 ahead


DEFAULT_HISTORY_WINDOW = "[-1,+1]"


COLUMNS = ["ticker", "name", "status", "board", "tranche", "holder", "basis", "months", "expiry",
           "day0", "sessions_until", "locked_shares", "locked_to_float", "offer_price",
           "last_close", "last_close_date", "runup_since_listing", "runup_since_offer", "hist_n",
           "hist_ar0", "hist_car", "uid"]


def _norm(text: str) -> str:
    return text.lower().replace(" ", "").replace("-", "").replace("_", "")


def _wanted(listing: Listing, tags: Sequence[str], boards: Sequence[str]) -> bool:
    labels = {_norm(t) for t in (*listing.tags, listing.sector) if t}
    if tags and not any(_norm(t) in labels for t in tags):
        return False
    return not boards or any(_norm(b) in _norm(listing.board) for b in boards)


def _tranche_wanted(tranche: Tranche, names: Sequence[str]) -> bool:
    return not names or any(tranche.name == n or tranche.name.startswith(n) for n in names)


def uid_of(ticker: str, tranche: str, expiry: pd.Timestamp) -> str:
    """Stable identifier of one expiry (the iCalendar UID and the ``--state`` key): ticker and
    tranche percent-encoded to letters, digits and ``.-_%``, so that it is one safe token."""
    from urllib.parse import quote

    return f"{quote(ticker, safe='')}-{quote(tranche, safe='')}-{expiry:%Y%m%d}@eventstudy"


def expiry_rows(calendar: dict[str, Listing], as_of: pd.Timestamp, within: int, *,
                tags: Sequence[str] = (), boards: Sequence[str] = (),
                tranches: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Tranches whose expiry is at most ``within`` days after ``as_of`` and whose day 0 (first
    session on or after the expiry) is not before ``as_of``."""
    end = as_of + pd.Timedelta(days=within)
    rows = []
    for listing in calendar.values():
        if not _wanted(listing, tags, boards):
            continue
        for tranche in listing.tranches:
            expiry = listing.expiry(tranche)
            if not _tranche_wanted(tranche, tranches) or not (
                    as_of - pd.Timedelta(days=HOLIDAY_SLACK) <= expiry <= end):
                continue
            day0 = next_session(calendar_code(listing.ticker), expiry)
            if day0 < as_of:
                continue
            rows.append(_row(listing, tranche, expiry, day0, as_of))
    return sorted(rows, key=lambda r: (r["day0"], r["ticker"], r["tranche"]))


def _row(listing: Listing, tranche: Tranche, expiry: pd.Timestamp, day0: pd.Timestamp,
         as_of: pd.Timestamp) -> dict[str, Any]:
    ratio = (tranche.locked_shares / listing.float_shares
             if tranche.locked_shares is not None and listing.float_shares else None)
    return {
        "ticker": listing.ticker, "name": listing.name, "status": listing.status,
        "board": listing.board, "tranche": tranche.name, "holder": tranche.holder,
        "basis": tranche.basis,
        "months": tranche.months, "expiry": expiry, "day0": day0,
        "sessions_until": sessions_between(calendar_code(listing.ticker), as_of, day0),
        "locked_shares": tranche.locked_shares, "locked_to_float": ratio,
        "offer_price": listing.offer_price, "uid": uid_of(listing.ticker, tranche.name, expiry),
    }


def calendar_as_of(calendar: dict[str, Listing], as_of: pd.Timestamp) -> pd.Timestamp | None:
    """How current the calendar is: its newest listing date on or before ``as_of`` (a calendar
    that knows no listing after a date cannot know the expiries of later listings)."""
    dates = [x.listing_date for x in calendar.values() if x.listing_date <= as_of]
    return max(dates) if dates else None


def staleness_note(calendar_date: pd.Timestamp | None, as_of: pd.Timestamp) -> str | None:
    """A warning when the calendar's newest listing is over ``STALE_DAYS`` before ``as_of``."""
    if calendar_date is None:
        return (f"the listings calendar has no listing on or before {as_of.date()}: "
                "expiries it does not know are missing")
    age = (as_of - calendar_date).days
    if age <= STALE_DAYS:
        return None
    return (f"the listings calendar is {age} days old (newest listing {calendar_date.date()}, "
            f"as of {as_of.date()}): later listings and their expiries are missing; add them "
            "with `eventstudy listings sync` (HKEXnews), `listings add` or `listings import`")


def price_context(listing: Listing, as_of: pd.Timestamp, loader: PriceLoader) -> dict[str, Any]:
    """Last close up to ``as_of`` and the run-up since the listing-day close and the offer price;
    blank (None) where the data are missing: this is context, never an error."""
    blank: dict[str, Any] = {"last_close": None, "last_close_date": None,
                             "runup_since_listing": None, "runup_since_offer": None}
    if listing.listing_date > as_of:
        return blank
    try:
        frame = loader.load(listing.ticker)
    except (DataUnavailable, BadInput):
        return blank
    close = frame["close"][(frame.index >= listing.listing_date) & (frame.index <= as_of)]
    if close.empty:
        return blank
    last = float(close.iloc[-1])
    offer = listing.offer_price
    return {"last_close": last, "last_close_date": close.index[-1],
            "runup_since_listing": last / float(close.iloc[0]) - 1.0,
            "runup_since_offer": last / offer - 1.0 if offer else None}


def _events_of(doc: Any) -> list[dict[str, Any]]:
    events = doc.get("events") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise ConfigError("history file: expected the JSON of a study (an 'events' list)")
    return [e for e in events if isinstance(e, dict)]


def _mean(values: Iterable[Any]) -> float | None:
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def load_history(path: str | Path, window: str = DEFAULT_HISTORY_WINDOW
                 ) -> dict[str, dict[str, Any]]:
    """Per tranche of a saved study's JSON: number of events, mean AR(0), mean CAR over
    ``window`` (a label such as ``[-1,+1]``)."""
    try:
        doc = json.loads(read_user_text(path))
    except FileNotFoundError:
        raise ConfigError(f"no such history file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not a JSON file (save one with `eventstudy batch ... "
                          "--json > FILE`)") from None
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in _events_of(doc):
        key = str(event.get("tranche") or event.get("group") or "")
        if key:
            groups.setdefault(key, []).append(event)
    out = {}
    for key, events in groups.items():
        cars = [c.get("car") for e in events for c in e.get("car") or []
                if isinstance(c, dict) and c.get("window") == window]
        out[key] = {"hist_n": len(events), "hist_ar0": _mean(e.get("ar_0") for e in events),
                    "hist_car": _mean(cars)}
    return out


def upcoming_expiries(as_of: Any = None, within: int = 30, *, tags: Sequence[str] = (),
                      boards: Sequence[str] = (), tranches: Sequence[str] = (),
                      listings: str | Path | None = None,
                      calendar: dict[str, Listing] | None = None,
                      loader: PriceLoader | None = None, offline: bool = False,
                      data: str | Path | None = None, cache_dir: str | Path | None = None,
                      history: str | Path | None = None,
                      history_window: str = DEFAULT_HISTORY_WINDOW,
                      prices: bool = True) -> pd.DataFrame:
    """Lock-up expiries from ``as_of`` (default today) to ``within`` days later, one row per
    tranche, sorted by day 0; columns ``COLUMNS``. ``as_of`` and the window are stored in
    ``frame.attrs``."""
    as_of = user_date(as_of if as_of is not None else pd.Timestamp.today(), "--as-of date")
    if not 0 <= within <= MAX_WITHIN:
        raise BadInput(f"--within must be 0..{MAX_WITHIN} days, not {within}")
    calendar = calendar if calendar is not None else load_listings(listings)
    rows = expiry_rows(calendar, as_of, within, tags=tags, boards=boards, tranches=tranches)
    if prices and rows:
        loader = loader or PriceLoader(offline=offline, data=Path(data) if data else None,
                                       cache_dir=Path(cache_dir) if cache_dir else None)
        tickers = sorted({r["ticker"] for r in rows})
        context = {t: price_context(calendar[t], as_of, loader) for t in tickers}
        for row in rows:
            row.update(context[row["ticker"]])
    past = load_history(history, history_window) if history else {}
    for row in rows:
        row.update(past.get(row["tranche"], {}))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    current = calendar_as_of(calendar, as_of)
    stale = staleness_note(current, as_of)
    notes = list(dict.fromkeys(loader.notes)) if loader else []
    frame.attrs.update(as_of=as_of, within=within, end=as_of + pd.Timedelta(days=within),
                       history_window=history_window if history else None,
                       calendar_as_of=current, calendar_stale=stale is not None,
                       notes=[stale, *notes] if stale else notes)
    return frame
