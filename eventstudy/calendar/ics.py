"""iCalendar (RFC 5545) export of upcoming expiries: one all-day event per expiry, stable UIDs,
TEXT escaping and line folding per RFC 5545 sections 3.1 and 3.3.11."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.alerts import _cell, _pct
from eventstudy.calendar.text import multi_line, one_line
from eventstudy.errors import BadInput


def _escape(text: object, *, lines: bool = False) -> str:
    """RFC 5545 TEXT (3.3.11): control characters removed (line breaks kept as ``\\n`` only
    with ``lines``), then backslash, semicolon and comma escaped."""
    clean = multi_line(text) if lines else one_line(text)
    return (clean.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def safe_uid(uid: str) -> str:
    """A UID of letters, digits and ``.-_~%@`` only (``uid_of`` percent-encodes the rest)."""
    return _UNSAFE_UID.sub(lambda m: f"%{ord(m.group()):02X}", uid)


_UNSAFE_UID = re.compile(r"[^A-Za-z0-9._~%@-]")


def fold(line: str, limit: int = 75) -> str:
    """RFC 5545 3.1 line folding: at most ``limit`` octets a line, continuation lines start with
    one space, never splitting a UTF-8 character; lines end with CRLF."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "".join(f"{part}\r\n" for part in out)


def _description(row: dict[str, Any]) -> str:
    parts = [f"{row['name']} ({row['ticker']}), {row['board'] or 'board not given'}",
             f"Lock-up of {row['holder']} ({row['months']} months) ends {_cell(row['expiry'])}; "
             f"day 0 = first session on or after it: {_cell(row['day0'])}",
             f"Status: {row['status']}"]
    if _cell(row.get("locked_shares")) is not None:
        parts.append(f"Locked shares: {row['locked_shares']:,.0f}")
    if _cell(row.get("runup_since_offer")) is not None:
        parts.append(f"Since offer price: {_pct(row['runup_since_offer'])}")
    return "\n".join(parts)


def to_ics(frame: pd.DataFrame, as_of: pd.Timestamp | None = None) -> str:
    """An iCalendar file: one all-day VEVENT per expiry, on its day 0, with a stable UID.

    DTSTAMP is ``as_of`` (midnight UTC) so that the file depends only on its inputs.
    """
    as_of = as_of if as_of is not None else frame.attrs.get("as_of", pd.Timestamp("1970-01-01"))
    stamp = f"{as_of:%Y%m%d}T000000Z"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//eventstudy//lock-up expiries//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Lock-up expiries"]
    for raw in frame.to_dict("records"):
        row = {str(k): v for k, v in raw.items()}
        day0 = row["day0"]
        summary = f"{row['ticker']} {row['name']}: {row['tranche']} lock-up expiry"
        if row["status"] != "listed":
            summary += f" ({row['status']})"
        lines += ["BEGIN:VEVENT", f"UID:{safe_uid(str(row['uid']))}", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{day0:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{day0 + pd.Timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{_escape(summary)}",
                  f"DESCRIPTION:{_escape(_description(row), lines=True)}",
                  f"CATEGORIES:{_escape('lock-up')},{_escape(row['tranche'])}",
                  "STATUS:" + ("CONFIRMED" if row["status"] == "listed" else "TENTATIVE"),
                  "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


PRODID = "PRODID:-//eventstudy//"


def _ours(path: Path) -> bool:
    """True if ``path`` does not exist, is not a regular file (refused when written), or is
    an iCalendar file eventstudy wrote (its first lines carry our PRODID)."""
    import stat

    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return True
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        return True
    except OSError:
        return True  # unreadable: writing it gives the one-line error
    return head.startswith(b"BEGIN:VCALENDAR\r\n") and PRODID.encode() in head


def refuse_foreign_ics(path: Path) -> None:
    """BadInput if writing ``path`` would replace a file that is not an iCalendar file
    eventstudy wrote."""
    if not _ours(path):
        raise BadInput(f"{path} exists and is not an iCalendar file eventstudy wrote: not "
                       "overwriting it (delete it or choose another --ics file)")


def write_ics(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write ``to_ics(frame)`` atomically; returns the path. An existing file that is not an
    iCalendar file eventstudy wrote (``notes.txt``, someone's calendar) is never replaced."""
    from eventstudy.calendar.lock import write_user_file

    path = Path(path)
    refuse_foreign_ics(path)
    write_user_file(path, to_ics(frame).encode("utf-8"))
    return path
