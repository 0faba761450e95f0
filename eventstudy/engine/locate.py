"""Where each event's windows fall in its ticker's aligned series: day 0 (moved when the data
traded on a day the session lookup skipped, ``traded_day0``), the estimation window, and the
one-line reasons an event cannot be placed (``locate``, one event; ``locate_many``, all events
of a panel at once with the same answers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event
from eventstudy.calendar.sessions import is_session, to_session, verify_session_cache
from eventstudy.data.tickers import calendar_code
from eventstudy.engine.series import Series, iso_day
from eventstudy.errors import BadInput, DataUnavailable, EstimationError
from eventstudy.quality.screens import MAX_DAY0_SHIFT_DAYS

# Lock-ups: estimation (variance, beta, volume baseline) starts this many sessions after the
# listing day, after the price-stabilisation period (the over-allotment option and stabilising
# purchases run up to 30 days after the offer: HK Securities and Futures (Price Stabilizing)
# Rules, s. 8; US Regulation M Rule 104 and the 30-day green shoe; Aggarwal 2000).
STABILISATION = 30


@dataclass(frozen=True)
class Windows:
    """Where an event's estimation and event windows fall, in positions of its Series."""

    day0: int
    est_start: int
    est_end: int
    note: str = ""  # why day 0 is not the event's session (moved to the next date in the data)


def traded_day0(event: Event, dates: np.ndarray) -> tuple[Event, str]:
    """``event`` with day 0 recomputed when the data traded on a day the session lookup
    skipped (between the event's date and its session): the session cache is checked against
    exchange-calendars and rebuilt if it differs (an edited cache never moves day 0); the note
    says so ("" when nothing changed). A day exchange-calendars also rules out stays out."""
    if event.date is None or event.session == event.date.normalize():
        return event, ""
    day, session = np.datetime64(event.date.normalize(), "ns"), np.datetime64(event.session, "ns")
    later = session > day
    traded = dates[(dates >= day) & (dates < session)] if later \
        else dates[(dates > session) & (dates <= day)]
    if not len(traded):
        return event, ""
    code = calendar_code(event.ticker)
    rebuilt = verify_session_cache(code)
    new = to_session(code, event.date.normalize(), "next" if later else "previous")
    if new is None or new == event.session:
        return event, ""
    how = "differed from exchange-calendars and was rebuilt" if rebuilt else \
        "had been rebuilt from exchange-calendars"
    return replace(event, session=new), (
        f"day 0 {new.date()}, not {event.session.date()}: {event.ticker} and its index traded "
        f"on {iso_day(traded[0])} and the {code} session cache {how}")


def correct_day0(events: Sequence[Event], load: Callable[[str], Series]
                 ) -> tuple[list[Event], dict[str, str]]:
    """Every event through :func:`traded_day0` before a study (so that the other events'
    windows left out of an estimation window are the corrected ones), with the notes by
    event id. Only the events whose date is not their session are looked at."""
    out, notes = list(events), {}
    for i in np.flatnonzero(~same_day(events)).tolist():
        event = events[i]
        try:
            moved, note = traded_day0(event, load(event.ticker).dates)
        except (DataUnavailable, BadInput):  # build_panel reports it as a skip
            moved, note = event, ""
        out[i] = moved
        if note:
            notes[moved.event_id] = note
    return out, notes


_DAY_NS = 86_400 * 10**9


def same_day(events: Sequence[Event]) -> np.ndarray:
    """Per event: is its date None or its session (``traded_day0`` has nothing to do)? The
    test ``event.session == event.date.normalize()`` on int64 nanoseconds for tz-naive
    stamps (normalize floors to midnight), by pandas for any other."""
    same = np.ones(len(events), dtype=bool)
    naive = []
    for i, e in enumerate(events):
        if e.date is None:
            continue
        if e.date.tz is None and e.session.tz is None:
            naive.append((i, e.date.value, e.session.value))
        else:
            same[i] = e.session == e.date.normalize()
    if naive:
        at, date, session = np.array(naive, dtype=np.int64).T
        same[at] = session == date - date % _DAY_NS
    return same


def locate(series: Series, event: Event, window: tuple[int, int],
           estimation: tuple[int, int], max_estimation: int | None,
           min_start: int = 1, stabilisation: int = STABILISATION) -> Windows:
    """Positions of day 0 and the estimation window; one-line errors when they do not fit.

    The estimation window lies before the event window, or (listing-day studies) after it; for
    an event with a listing date it starts ``stabilisation`` sessions after the listing day.
    ``min_start`` is the first position the event window may start at (1: it needs a return).
    O(log n) per event; the error texts are built only on error.
    """
    dates = series.dates
    day = np.datetime64(event.session, "ns")
    if day > dates[-1]:
        raise DataUnavailable(f"event day 0 {event.session.date()} is after the data "
                              f"({event.ticker} ends {iso_day(dates[-1])})")
    if day < dates[0]:
        raise DataUnavailable(f"event day 0 {event.session.date()} is before the data "
                              f"({event.ticker} starts {iso_day(dates[0])})")
    pos = int(np.searchsorted(dates, day))
    note = ""
    if dates[pos] != day:
        moved, code = pd.Timestamp(dates[pos]), calendar_code(event.ticker)
        if not is_session(code, event.session):
            raise BadInput(f"{event.ticker} has no price on event day 0 {event.session.date()}"
                           f": not a {code} session (see configs/closures.yaml)")
        if (moved - event.session).days > MAX_DAY0_SHIFT_DAYS:
            raise DataUnavailable(f"{event.ticker} has no price on event day 0 "
                                  f"{event.session.date()} nor in the "
                                  f"{MAX_DAY0_SHIFT_DAYS} days after (suspended or missing; "
                                  f"data {iso_day(dates[0])}..{iso_day(dates[-1])})")
        note = (f"day 0 moved from {event.session.date()} to {moved.date()}, the next session "
                f"in the data: no price on {event.session.date()} (exchange closure or "
                "suspension)")
    if pos + window[0] < min_start:
        raise DataUnavailable(f"the event window of {event.event_id} (from day {window[0]}) "
                              f"starts before the data "
                              f"({event.ticker} from {iso_day(dates[0])})")
    floor = 1
    if event.listing_date is not None:
        listing_pos = int(np.searchsorted(dates, np.datetime64(event.listing_date, "ns")))
        floor = max(floor, listing_pos + stabilisation)
    after = estimation[0] > window[1]
    if after:  # after the event: clip to the end of the data
        start, end = pos + estimation[0], min(pos + estimation[1], len(dates) - 1)
    else:
        start, end = max(pos + estimation[0], floor), pos + estimation[1]
    if max_estimation is not None:
        start = max(start, end - max_estimation + 1)
    if end < start:
        where = (f"after day {estimation[0]} ({event.ticker} data to {iso_day(dates[-1])})"
                 if after else
                 f"before day {estimation[1]} ({event.ticker} data from {iso_day(dates[0])})")
        raise EstimationError(f"{event.event_id}: no estimation window {where}")
    return Windows(pos, start, end, note)


def locate_many(placed: Sequence[tuple[Event, Series]], window: tuple[int, int],
                estimation: tuple[int, int], max_estimation: int | None, min_start: int = 1,
                stabilisation: int = STABILISATION
                ) -> tuple[np.ndarray, dict[int, Windows | DataUnavailable | BadInput]]:
    """:func:`locate` of every placed event at once: an (N, 3) array of day 0, estimation
    start and end positions, and for the events ``locate`` has something to say of (an
    error, or a day 0 moved to the next date in the data) its answer, by place. The usual
    event costs one binary search and O(1) numpy work; the others go through ``locate``
    itself, so its words are the same."""
    n = len(placed)
    day = np.array([e.session.value for e, _ in placed], dtype=np.int64)
    sizes = np.array([len(s.dates) for _, s in placed], dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    hit = np.zeros(n, dtype=bool)
    listing = np.full(n, -1, dtype=np.int64)
    for j, (event, series) in enumerate(placed):
        dates = series.dates.view(np.int64)
        if not len(dates):
            continue
        p = int(dates.searchsorted(day[j]))
        pos[j] = p
        hit[j] = p < len(dates) and dates[p] == day[j]
        if event.listing_date is not None:
            listing[j] = int(dates.searchsorted(event.listing_date.value))
    floor = np.where(listing >= 0, np.maximum(1, listing + stabilisation), 1)
    if estimation[0] > window[1]:  # after the event: clip to the end of the data
        start, end = pos + estimation[0], np.minimum(pos + estimation[1], sizes - 1)
    else:
        start, end = np.maximum(pos + estimation[0], floor), pos + estimation[1]
    if max_estimation is not None:
        start = np.maximum(start, end - max_estimation + 1)
    odd = ~hit | (pos + window[0] < min_start) | (end < start)
    failed: dict[int, Windows | DataUnavailable | BadInput] = {}
    spots = np.stack([pos, start, end], axis=1) if n else np.zeros((0, 3), dtype=np.int64)
    for j in np.flatnonzero(odd).tolist():
        event, series = placed[j]
        try:
            where = locate(series, event, window, estimation, max_estimation, min_start,
                           stabilisation)
        except (DataUnavailable, BadInput) as exc:  # EstimationError is a BadInput
            failed[j] = exc
            continue
        spots[j] = where.day0, where.est_start, where.est_end
        if where.note:
            failed[j] = where
    return spots, failed
