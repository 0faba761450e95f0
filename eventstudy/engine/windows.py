"""Event-time windows: the one window type, its label and its parser.

A window is a pair of ints ``(start, end)`` of event days, both included; ``window_label`` is
its one text form (``[0,0]``, ``[-1,+1]``), used by every table, JSON record and plot."""

from __future__ import annotations

from eventstudy.errors import BadInput

DEFAULT_CAR_WINDOWS: tuple[tuple[int, int], ...] = (
    (0, 0), (0, 1), (-1, 1), (-5, 5), (0, 5), (0, 10), (0, 20))


def window_label(window: tuple[int, int]) -> str:
    return f"[{window[0]:+d},{window[1]:+d}]" if window != (0, 0) else "[0,0]"


def parse_window(text: str, what: str = "window") -> Window:
    """``"-10,20"`` or ``"-10:20"`` -> (-10, 20)."""
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
