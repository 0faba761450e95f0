"""Prices as columns: one ticker's price arrays (``Prices``, ``prices`` of a frame). Both
``engine.series`` and ``engine.store`` import this module; it imports neither."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput


@dataclass(frozen=True)
class Prices:
    """One price frame as numpy arrays: int64 nanosecond dates (sorted, unique), close, volume."""

    ticker: str | None
    dates: np.ndarray
    close: np.ndarray
    volume: np.ndarray


_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def prices(frame: pd.DataFrame) -> Prices:
    """The arrays of a price frame (a market index's can be reused for every stock)."""
    index = frame.index if isinstance(frame.index, pd.DatetimeIndex) else pd.DatetimeIndex(
        frame.index)
    dates = index.asi8 if index.unit == "ns" else index.asi8 * _NS[index.unit]
    ticker = frame.attrs.get("ticker")
    if len(dates) > 1 and not (dates[1:] > dates[:-1]).all():
        raise BadInput(f"{ticker}: dates are not unique and ascending")
    close_at, volume_at = _column(frame, "close"), _column(frame, "volume")
    try:  # one block, no per-column Series
        values = frame.to_numpy(float)
    except (TypeError, ValueError):
        values = np.column_stack([frame[c].to_numpy(float) for c in ("close", "volume")])
        close_at, volume_at = 0, 1
    if close_at is None:
        raise BadInput(f"{ticker}: the prices have no close column")
    volume = values[:, volume_at] if volume_at is not None else np.full(len(dates), np.nan)
    return Prices(ticker, dates, values[:, close_at], volume)


def _column(frame: pd.DataFrame, name: str) -> int | None:
    """Position of column ``name`` (a hash lookup: iterating string columns is slow)."""
    try:
        at = frame.columns.get_loc(name)
    except KeyError:
        return None
    return at if isinstance(at, int) else list(frame.columns).index(name)  # repeated: first
