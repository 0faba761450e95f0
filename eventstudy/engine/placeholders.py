"""Placeholder rows (zero volume, unchanged close: no trading) around events: day 0 is moved off
them, and the rows dropped within each event's estimation and event windows are counted.

The rows themselves are recognised and dropped before returns are computed
(``eventstudy.data.clean.placeholder_rows``, called by ``engine.series.align``): a day without
trading has no return and no volume, and the next session's return spans it, as in any study
that measures returns between trades (Scholes & Williams 1977 on non-synchronous trading)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event
from eventstudy.engine.arrays import Dates
from eventstudy.errors import DataUnavailable
from eventstudy.quality.screens import MAX_DAY0_SHIFT_DAYS


def move_off_placeholder(event: Event, dates: Dates, placeholders: Dates
                         ) -> tuple[Event, str]:
    """``event`` with day 0 on the next real session if its day 0 is a placeholder row, and the
    note saying so ("" if it was not moved). ``dates`` are the sessions of the data. As for a
    day 0 missing from the data, the move is capped at ``MAX_DAY0_SHIFT_DAYS`` calendar days;
    beyond, DataUnavailable (the event is skipped with that reason)."""
    if not len(placeholders):  # most stocks: nothing to look up
        return event, ""
    day = np.datetime64(event.session, "ns")
    if day not in placeholders:
        return event, ""
    at = int(np.searchsorted(dates, day, side="right"))
    if at >= len(dates):
        raise DataUnavailable(f"event day 0 {event.session.date()} of {event.ticker} is a "
                              "placeholder row (zero volume, unchanged close: no trading) and no "
                              "session follows it in the data")
    moved = replace(event, session=pd.Timestamp(dates[at]))
    if (moved.session - event.session).days > MAX_DAY0_SHIFT_DAYS:  # as for a missing row
        raise DataUnavailable(f"event day 0 {event.session.date()} of {event.ticker} is a "
                              "placeholder row (zero volume, unchanged close: no trading) and "
                              f"the next trade is {moved.session.date()}, more than "
                              f"{MAX_DAY0_SHIFT_DAYS} days later (suspended)")
    note = (f"day 0 {event.session.date()} is a placeholder row in the data (zero volume, "
            f"unchanged close: no trading); moved to the next session {moved.session.date()}")
    return moved, note


def placeholders_within(dates: Dates, placeholders: Dates,
                        spans: list[tuple[int, int]]) -> int:
    """How many ``placeholders`` fall within the returns of the position ``spans`` of ``dates``.

    A placeholder belongs to the return of the first session after it, so it counts for a span
    [a, b] when that session's position is in [a, b]."""
    if not len(placeholders):
        return 0
    after = np.searchsorted(dates, placeholders, side="right")
    inside = np.zeros(len(after), dtype=bool)
    for a, b in spans:
        inside |= (after >= a) & (after <= b)
    return int(inside.sum())
