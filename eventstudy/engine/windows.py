"""Event-time windows: the one window type, its label and its parser.

A window is a pair of ints ``(start, end)`` of event days, both included. Every table that has
windows (CAR, BHAR, volume, CAAR, tests) carries them as two int columns ``start`` and ``end``
plus ``window``: the label (``[0,0]``, ``[+0,+1]``, ``[-1,+1]``, ``[-20,-1]``; ``window_label``
is its one text form, used by every table, JSON record and plot) as an ordered categorical whose
categories sort in event time (by start, then end), not as strings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from eventstudy.errors import BadInput

if TYPE_CHECKING:  # pandas is imported lazily: the CLI parses windows before it loads pandas
    import pandas as pd

MIN_ESTIMATION = 60  # sessions: the fewest estimation returns a study fits a model on

PRE_EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((-20, -1), (-10, -1))  # anticipation
DEFAULT_CAR_WINDOWS: tuple[tuple[int, int], ...] = (
    *PRE_EVENT_WINDOWS, (0, 0), (0, 1), (-1, 1), (-5, 5), (0, 5), (0, 10), (0, 20))


def default_car_windows(estimation_end: int) -> tuple[tuple[int, int], ...]:
    """The default CAR windows that start after an estimation window ending at
    ``estimation_end``: the pre-event windows need the estimation to end by day -21 (the
    default); an estimation window running into one of them drops that window."""
    return tuple(w for w in DEFAULT_CAR_WINDOWS if w[0] > estimation_end)


def window_label(window: tuple[int, int]) -> str:
    return f"[{window[0]:+d},{window[1]:+d}]" if tuple(window) != (0, 0) else "[0,0]"


def window_dtype(windows: Iterable[tuple[int, int]]) -> pd.CategoricalDtype:
    """The ordered categorical of the labels of ``windows``, in event time."""
    import pandas as pd

    spans = sorted({(int(s), int(e)) for s, e in windows})
    return pd.CategoricalDtype([window_label(w) for w in spans], ordered=True)


def with_windows(frame: pd.DataFrame, after: str | None = None) -> pd.DataFrame:
    """``frame`` with ``window`` rebuilt from its int ``start``/``end`` columns as the ordered
    categorical label, placed before ``start`` (or after the column ``after``)."""
    import numpy as np
    import pandas as pd

    out = frame.drop(columns=["window"], errors="ignore")
    if "start" not in out or "end" not in out:
        raise ValueError("a window table needs int columns start and end")
    out["start"] = out["start"].astype("int64")
    out["end"] = out["end"].astype("int64")
    start, end = out["start"].to_numpy(), out["end"].to_numpy()
    low = int(end.min()) if len(end) else 0
    key = start * (int(end.max()) - low + 1 if len(end) else 1) + (end - low)  # by start, end
    _, first, codes = np.unique(key, return_index=True, return_inverse=True)
    dtype = pd.CategoricalDtype([window_label((int(start[i]), int(end[i]))) for i in first],
                                ordered=True)
    labels = pd.Series(pd.Categorical.from_codes(codes.reshape(-1), dtype=dtype),
                       index=out.index)
    at = list(out.columns).index(after) + 1 if after else list(out.columns).index("start")
    out.insert(at, "window", labels)
    return out


def parse_window(text: str, what: str = "window") -> Window:
    """``"-10,20"``, ``"-10:20"`` or a label ``"[-10,+20]"`` -> (-10, 20)."""
    parts = text.replace(":", ",").replace("[", "").replace("]", "").split(",")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise BadInput(f"bad {what} {text!r}: expected two integers like -10,20") from None
    if lo > hi:
        raise BadInput(f"bad {what} {text!r}: it ends before it starts")
    return lo, hi


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"0,0;-1,1;0,5"`` -> ((0, 0), (-1, 1), (0, 5)); at least one window."""
    windows = tuple(parse_window(p, "CAR window") for p in text.split(";") if p.strip())
    if not windows:
        raise BadInput(f"no CAR window in {text[:40]!r}: expected windows like 0,0;-1,1")
    return windows


Window = tuple[int, int]
