"""Untrusted calendar text: iCalendar injection (RFC 5545 TEXT escaping, safe UIDs, no control
characters), terminal escape sequences, and control characters rejected at input."""

from __future__ import annotations

import icalendar
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy.calendar.ics import to_ics
from eventstudy.calendar.listings import Listing
from eventstudy.calendar.tranches import Tranche
from eventstudy.calendar.upcoming import upcoming_expiries

EVENT_PROPERTIES = {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "CATEGORIES",
                    "STATUS", "TRANSP"}
NASTY = ["Evil\r\nATTACH:http://x", "a\rATTACH:http://x", "b\nATTACH:http://x",
         "\r\nATTACH:http://x", "c\x00\x1b[31m\x07\x9b2J;,\\d", "e\u2028ATTACH:http://x\x85f"]


def _frame(names: list[str], tranches: list[str]) -> pd.DataFrame:
    calendar = {f"{i + 1:04d}.HK": Listing(
        ticker=f"{i + 1:04d}.HK", name=name, listing_date=pd.Timestamp("2024-10-02"),
        tranches=(Tranche(name=tranche, holder=tranche, months=6),))
        for i, (name, tranche) in enumerate(zip(names, tranches, strict=True))}
    return upcoming_expiries("2025-04-01", 30, calendar=calendar, prices=False)


def _events(ics: str) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def _check_no_injection(ics: str, count: int) -> None:
    lines = ics.split("\r\n")
    assert lines[-1] == ""
    assert all(line and (line[0] == " " or line.split(":")[0].split(";")[0].isupper())
               for line in lines[:-1])
    assert not [c for c in ics if ord(c) < 32 and c not in "\r\n"]
    assert "\r" not in ics.replace("\r\n", "") and "\n" not in ics.replace("\r\n", "")
    events = _events(ics)
    assert len(events) == count
    for event in events:
        assert set(event.keys()) == EVENT_PROPERTIES
        uid = str(event["UID"])
        assert uid.endswith("@eventstudy")
        assert all(c.isascii() and (c.isalnum() or c in "._~%@-") for c in uid)
    assert len({str(e["UID"]) for e in events}) == count


def test_names_and_tranches_cannot_add_properties() -> None:
    frame = _frame(NASTY, NASTY)
    ics = to_ics(frame)
    _check_no_injection(ics, len(NASTY))
    summaries = sorted(str(e["SUMMARY"]) for e in _events(ics))
    assert "0001.HK Evil ATTACH:http://x: Evil ATTACH:http://x lock-up expiry" in summaries
    assert any("c[31m2J;,\\d" in s for s in summaries)  # controls gone, ; , \ kept as text
    assert "ATTACH" not in {k for e in _events(ics) for k in e}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30)),
                min_size=1, max_size=3, unique_by=lambda t: t[1]))
def test_any_text_gives_a_valid_calendar_with_the_same_events(pairs: list[tuple[str, str]]
                                                              ) -> None:
    frame = _frame([p[0] for p in pairs], [p[1] for p in pairs])
    _check_no_injection(to_ics(frame), len(pairs))
