"""Output of the upcoming check: the seen-state file of ``--state`` and the table, JSON and CSV
forms of the expiry rows (``eventstudy upcoming``)."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.calendar.text import clip_width, one_line
from eventstudy.calendar.upcoming import COLUMNS
from eventstudy.errors import ConfigError
from eventstudy.formatting import csv_text

STATE_VERSION = 1


NAME_WIDTH = 28  # terminal columns of the name in the table (a CJK character takes two)


def read_state(path: str | Path) -> dict[str, str]:
    """The expiries already reported (uid -> day 0), from a state file (empty if none yet)."""
    from eventstudy.calendar.lock import read_user_text

    path = Path(path)
    if not path.exists():
        return {}
    try:
        doc = json.loads(read_user_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not an eventstudy state file (delete it to start "
                          "afresh)") from None
    seen = doc.get("seen") if isinstance(doc, dict) else None
    if not isinstance(seen, dict):
        raise ConfigError(f"{path}: not an eventstudy state file (no 'seen' map)")
    return {str(k): str(v) for k, v in seen.items()}


def only_new(frame: pd.DataFrame, seen: dict[str, str]) -> pd.DataFrame:
    """The rows whose uid is not in ``seen``."""
    new = frame[~frame["uid"].isin(list(seen))].reset_index(drop=True)
    new.attrs.update(frame.attrs)
    return new


def write_state(path: str | Path, frame: pd.DataFrame, seen: dict[str, str],
                as_of: pd.Timestamp) -> None:
    """Remember ``frame``'s expiries besides ``seen`` (dropping those whose day 0 is before
    ``as_of``), atomically; the content depends only on the inputs, not on the clock."""
    from eventstudy.calendar.lock import write_user_file

    merged = {**seen, **{u: str(d.date()) for u, d in zip(frame["uid"], frame["day0"],
                                                          strict=True)}}
    kept = {u: d for u, d in sorted(merged.items()) if d >= str(as_of.date())}
    doc = {"version": STATE_VERSION, "as_of": str(as_of.date()), "seen": kept}
    write_user_file(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else str(value.date())
    if isinstance(value, np.generic):
        return _cell(value.item())
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (dates as YYYY-MM-DD, blanks as None)."""
    return [{str(k): _cell(v) for k, v in row.items()} for row in frame.to_dict("records")]


def to_json(frame: pd.DataFrame, total: int | None = None) -> str:
    a = frame.attrs
    doc = {"as_of": _cell(a.get("as_of")), "within_days": a.get("within"),
           "end": _cell(a.get("end")), "calendar_as_of": _cell(a.get("calendar_as_of")),
           "calendar_stale": bool(a.get("calendar_stale")), "count": len(frame),
           "in_window": len(frame) if total is None else total,
           "history_window": a.get("history_window"), "expiries": records(frame)}
    return json.dumps(doc, indent=2, allow_nan=False)


def to_csv(frame: pd.DataFrame) -> str:
    return csv_text(pd.DataFrame(records(frame), columns=COLUMNS), lineterminator="\n")


def _pct(value: Any) -> str:
    value = _cell(value)
    return "" if value is None else f"{100 * value:+.1f}%"


def _num(value: Any, fmt: str = "{:,.0f}") -> str:
    value = _cell(value)
    return "" if value is None else fmt.format(value)


def _calendar_line(attrs: Mapping[Any, Any]) -> str:
    line = f"Calendar as of {_cell(attrs.get('calendar_as_of'))} (its newest listing)"
    return line + (" - STALE: later listings may be missing" if attrs.get("calendar_stale")
                   else "")


def _short_name(name: object) -> str:
    """The name on one line, composed (NFC) and cut to ``NAME_WIDTH`` columns between
    graphemes."""
    return clip_width(unicodedata.normalize("NFC", one_line(name)), NAME_WIDTH)


def table_text(frame: pd.DataFrame, total: int | None = None) -> str:
    """The readable table printed by ``eventstudy upcoming`` (``total``: expiries in the window
    when ``frame`` holds only the new ones)."""
    a = frame.attrs
    count = f"{len(frame)}" if total is None else f"{len(frame)} new of {total}"
    head = (f"Lock-up expiries from {_cell(a.get('as_of'))} to {_cell(a.get('end'))} "
            f"({a.get('within')} days): {count}\n{_calendar_line(a)}")
    if frame.empty:
        return head
    show = pd.DataFrame({
        "ticker": frame["ticker"].map(one_line),
        "name": frame["name"].map(_short_name),
        "status": frame["status"].map(one_line), "tranche": frame["tranche"].map(one_line),
        "expiry": frame["expiry"].dt.date,
        "day 0": frame["day0"].dt.date, "sessions": frame["sessions_until"],
        "locked": frame["locked_shares"].map(_num),
        "locked/float": frame["locked_to_float"].map(lambda v: _num(v, "{:.2f}")),
        "since listing": frame["runup_since_listing"].map(_pct),
        "since offer": frame["runup_since_offer"].map(_pct),
    })
    if frame["hist_n"].notna().any():
        show[f"hist. CAR {a.get('history_window')}"] = frame["hist_car"].map(_pct)
        show["hist. n"] = frame["hist_n"].map(lambda v: _num(v, "{:.0f}"))
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.unicode.east_asian_width", True):  # CJK: two columns
        return head + "\n" + show.to_string(index=False)
