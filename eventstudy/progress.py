"""The one progress bar of eventstudy: tqdm on stderr, shown only when asked for and when stderr
is a terminal, so that nothing is ever written into a log file, a pipe or a captured stream."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm without its monitor thread, which every bar (even a disabled one) starts and which
    outlives it by up to 10 s."""

    monitor_interval = 0


Bar = tqdm  # the type of a bar


def on_terminal() -> bool:
    """Whether stderr is an interactive terminal (not a file, pipe or captured stream)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


def progress_bar(total: int, desc: str, unit: str = "item", enabled: bool = True,
                 **options: Any) -> tqdm:  # type: ignore[type-arg]
    """A tqdm bar of ``total`` steps on stderr; disabled (writes nothing) unless ``enabled`` and
    stderr is a terminal."""
    return _Bar(total=total, desc=desc, unit=unit, file=sys.stderr,
                disable=not (enabled and on_terminal()), **options)
