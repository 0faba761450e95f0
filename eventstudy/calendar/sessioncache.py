"""On-disk cache of an exchange's session dates, ``<cache dir>/calendars/<CODE>.json``, and of
its early closes (half-day sessions), ``<CODE>-early-closes.json``.

Building an exchange-calendars calendar from 1990 (holiday rules evaluated year by year) and
importing the package take about 0.15 s of every command; the session dates they give depend only
on what the key holds: the exchange code, the calendar's first and last day, the closures of
``configs/closures.yaml`` applied on top, and the exchange-calendars and pandas versions. A file
whose key differs (a new day moves the last day, an upgrade, an edited closures file) is rebuilt.
The dates are stored as days since 1970-01-01 with their SHA-256, verified on read with their
order; a file that fails is ignored and rewritten. Writes are atomic (temporary file, rename), and
a cache folder that cannot be written only costs the rebuild."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from eventstudy.data.cache import default_cache_dir
from eventstudy.fileio import atomic_write_text

log = logging.getLogger(__name__)

FORMAT = 1


_UNITS: dict[str, Literal["s", "ms", "us", "ns"]] = {u: u for u in ("s", "ms", "us", "ns")}


Kind = Literal["sessions", "early_closes"]


_SUFFIX: dict[str, str] = {"sessions": "", "early_closes": "-early-closes"}


def _path(code: str, kind: Kind = "sessions") -> Path:
    safe = "".join(c for c in code if c.isalnum())
    return default_cache_dir() / "calendars" / f"{safe}{_SUFFIX[kind]}.json"


def _digest(days: npt.NDArray[np.int64]) -> str:
    return hashlib.sha256(days.astype("<i8").tobytes()).hexdigest()


def read_sessions(code: str, key: dict[str, Any], kind: Kind = "sessions"
                  ) -> pd.DatetimeIndex | None:
    """The cached sessions (or early closes, ``kind``) of ``code`` if the file exists, carries
    ``key`` and is intact. Only the early closes may be empty (an exchange without half-days)."""
    path = _path(code, kind)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != key:
        return None
    try:
        days = np.array(doc["days"], dtype=np.int64)
        ok = (days.ndim == 1 and (days.size > 0 or kind == "early_closes")
              and bool(np.all(np.diff(days) > 0))
              and _digest(days) == doc["sha256"])
        unit: Literal["s", "ms", "us", "ns"] = _UNITS[doc["unit"]]
        index = pd.DatetimeIndex(days.astype("datetime64[D]")).as_unit(unit) if ok else None
    except (KeyError, TypeError, ValueError, OverflowError):
        index = None
    if index is None:
        log.warning("calendar cache %s is corrupt; rebuilding it", path)
    return index


def write_sessions(code: str, key: dict[str, Any], sessions: pd.DatetimeIndex,
                   kind: Kind = "sessions") -> None:
    """Store ``sessions`` (plain dates) under ``key``; an unwritable cache is left alone."""
    if sessions.tz is not None or not bool((sessions == sessions.normalize()).all()):
        return
    days = sessions.to_numpy().astype("datetime64[D]").astype(np.int64)
    doc = {"format": FORMAT, "key": key, "unit": sessions.unit, "sha256": _digest(days),
           "days": days.tolist()}
    with contextlib.suppress(OSError):
        atomic_write_text(_path(code, kind), json.dumps(doc, separators=(",", ":")))
