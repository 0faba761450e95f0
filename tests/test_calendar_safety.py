"""Untrusted calendar text: iCalendar injection (RFC 5545 TEXT escaping, safe UIDs, no control
characters), terminal escape sequences, and control characters rejected at input."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import icalendar
import pandas as pd
import pytest
from conftest import run_cli as run
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


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\x1bc"


def test_the_upcoming_table_strips_terminal_escapes() -> None:
    from eventstudy.calendar.alerts import table_text, to_csv, to_json

    frame = _frame([f"Evil{ESCAPES}Corp"], [f"cornerstone{ESCAPES}\r\nx"])
    text = table_text(frame)
    assert "Evil]0;owned[2J31mcCorp" in text
    assert not [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert len(text.splitlines()) == 4  # head, calendar as of, column names, one row
    rows = json.loads(to_json(frame))["expiries"]  # data kept, valid JSON
    assert rows[0]["name"] == f"Evil{ESCAPES}Corp"
    assert pd.read_csv(io.StringIO(to_csv(frame)))["name"][0] == f"Evil{ESCAPES}Corp"


def _calendar(tmp_path: Path, field: str) -> Path:
    path = tmp_path / "cal.yaml"
    path.write_text("listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n"
                    f"    source: s\n{field}", encoding="utf-8")
    return path


@pytest.mark.parametrize("field", [
    '    name: "Evil\\e[2JCorp"\n',
    '    name: "two\\nlines"\n',
    '    name: "nul\\0"\n',
    '    sector: "AI\\x9b"\n',
    '    tags: [ok, "bell\\a"]\n',
    '    tranches:\n      - {name: "a\\rATTACH:x", months: 6}\n',
    '    notes: "escape \\e]0;x"\n',
])
def test_control_characters_in_a_calendar_are_rejected(tmp_path: Path, field: str) -> None:
    path = _calendar(tmp_path, field)
    code, out, err = run("listings", "list", "--listings", str(path))
    assert code == 2 and "control character" in err and len(err.splitlines()) == 1
    assert "\x1b" not in out + err
    code, out, err = run("upcoming", "--offline", "--no-prices", "--listings", str(path))
    assert code == 2 and "control character" in err


def test_multi_line_notes_and_sources_are_allowed(tmp_path: Path) -> None:
    path = _calendar(tmp_path, "    notes: |\n      line one\n      line two\n")
    assert run("listings", "validate", str(path))[0] == 0


def test_listings_add_rejects_control_characters(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    code, _, err = run("listings", "add", "1.HK", "--date", "2024-01-02", "--source", "s",
                       "--name", "Evil\x1b[2J", "--listings", str(mine))
    assert code == 2 and "control character" in err and not mine.exists()


BOMB = "".join(f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n"
               for p, k in zip("abcdefgh", "bcdefghi", strict=True))
BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + BOMB


@pytest.mark.parametrize("text", [BOMB, "listings:\n" + BOMB.replace("\n", "\n  ").strip(),
                                  "[" * 100_000, "- " * 5000 + "x\n", "{a: " * 50_000])
@pytest.mark.parametrize("command", ["batch", "listings", "upcoming"])
def test_alias_bombs_and_deep_nesting_are_refused(tmp_path: Path, text: str,
                                                  command: str) -> None:
    """Refused by the safe loader's limits (the message says which) before anything expands."""
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    args = {"batch": ["batch", str(path), "--offline", "--no-report"],
            "listings": ["listings", "validate", str(path)],
            "upcoming": ["upcoming", "--offline", "--no-prices", "--listings", str(path)]}
    code, out, err = run(*args[command])
    assert code == 2, err
    assert ("aliases" in err or "nested more than" in err) and "Traceback" not in err + out
    assert len(err.splitlines()) == 1


def test_every_yaml_load_goes_through_the_safe_loader() -> None:
    package = Path(__file__).resolve().parent.parent / "eventstudy"
    loads = [f"{p.name}: {line.strip()}" for p in package.rglob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines()
             if re.search(r"yaml\.(safe_)?load\(|YAML\(\)", line)]
    assert [x.split(":")[0] for x in sorted(loads)] == ["edit.py", "yamlsafe.py", "yamlsafe.py"]
    assert "Loader=SafeLoader" in sorted(loads)[1]  # without libyaml
    assert "Loader=_CSafeLoader" in sorted(loads)[2]  # libyaml, after the event check
