"""``is_session`` / ``to_session`` answer plain days by a binary search of int64 nanoseconds:
the same answers as exchange-calendars itself, on random days of two exchanges, and at the edges
of the calendar."""

from __future__ import annotations

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.sessions import calendar_span, is_session, to_session
from eventstudy.errors import BadInput


@pytest.mark.parametrize("code", ["XHKG", "XNYS"])
def test_plain_days_as_exchange_calendars_says(code: str) -> None:
    first, last = calendar_span(code)
    truth = xcals.get_calendar(code, start=first, end=last)
    rng = np.random.default_rng(7)
    days = pd.to_datetime(rng.integers(first.value // 86_400_000_000_000,
                                       last.value // 86_400_000_000_000, 400), unit="D")
    for day in [first, last, *days]:
        assert is_session(code, day) == truth.is_session(day), day
        for policy in ("next", "previous"):
            want = truth.date_to_session(day, direction=policy)
            if day in (first, last) or truth.is_session(day):
                want = day
            elif (policy == "previous" and day < first) or (policy == "next" and day > last):
                continue
            assert to_session(code, day, policy) == want, (day, policy)
        assert (to_session(code, day, "skip") is None) == (not truth.is_session(day))


def test_outside_the_calendar_and_holidays() -> None:
    first, last = calendar_span("XHKG")
    with pytest.raises(BadInput, match="outside the XHKG calendar"):
        is_session("XHKG", last + pd.Timedelta(days=400))
    with pytest.raises(BadInput, match="outside the XHKG calendar"):
        is_session("XHKG", first - pd.Timedelta(days=1))
    assert is_session("XHKG", pd.Timestamp("2022-06-30"))
    assert to_session("XHKG", pd.Timestamp("2022-07-01"), "next") == pd.Timestamp("2022-07-04")
    assert to_session("XHKG", pd.Timestamp("2022-07-01"), "previous") == pd.Timestamp("2022-06-30")
