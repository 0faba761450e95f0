"""Many tickers' price columns laid end to end, screened all at once (issue 25): which tickers
have a placeholder row, and which could have any finding at all. Numpy over every row at once,
no Python per ticker; the exact per-ticker screens (``screens.screen_arrays``,
``events.day0_problem``) then run only where this finds something, so a study of thousands of
clean tickers never pays them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from eventstudy.data.clean import placeholder_mask
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.screens import RANGE_TOLERANCE, SPIKE, SPLIT_MIN, SeriesArrays

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Columns = Mapping[str, Floats]  # a ticker's price columns by name: close, volume, high, low...

# A one-day move the screens may judge (``screens._moves``: |log move| >= log min(SPIKE,
# SPLIT_MIN)) is at least this large: a margin for the rounding of the log, nothing else.
LOOSE_MOVE = min(SPIKE, SPLIT_MIN) * 0.99


CHUNK_ROWS = 1 << 15  # rows screened at once: the working arrays stay in the CPU's cache


@dataclass(frozen=True)
class Stacked:
    """The price columns of ``tickers`` (ticker -> its position in ``series``), screened end
    to end in chunks of about ``CHUNK_ROWS`` rows."""

    tickers: dict[str, int]
    series: list[Columns]

    @classmethod
    def of(cls, tickers: Iterable[str], arrays: Callable[[str], SeriesArrays | None]
           ) -> Stacked:
        """The tickers whose arrays ``arrays`` gives (the others are not on the stack: their
        screens run one by one, as before)."""
        return cls.of_columns(tickers, lambda t: _columns_of(arrays(t)))

    @classmethod
    def of_columns(cls, tickers: Iterable[str], columns: Callable[[str], Columns | None]
                   ) -> Stacked:
        """``of`` from the tickers' columns by name (``close``, ``volume``, ``high``,
        ``low``; none for a ticker not on the stack)."""
        got: dict[str, Columns] = {}
        for ticker in tickers:
            try:
                series = columns(ticker)
            except (BadInput, DataUnavailable):
                continue
            if series is not None:
                got[ticker] = series
        return cls({t: k for k, t in enumerate(got)}, list(got.values()))

    def with_holes(self) -> set[str]:
        """The tickers with a placeholder row (``data.clean.placeholder_mask``)."""
        holes, _ = self._flags
        return {t for t, k in self.tickers.items() if holes[k]}

    def quiet(self) -> set[str]:
        """The tickers whose screens (``screens.screen_arrays``) can find nothing: no volume 0
        (no placeholder, suspension, half-day or no-volume move), no one-day move of
        ``LOOSE_MOVE`` or more, no close outside its day's range."""
        _, loud = self._flags
        return {t for t, k in self.tickers.items() if not loud[k]}

    @cached_property
    def _flags(self) -> tuple[Bools, Bools]:
        """Per ticker: has it a placeholder row; may its screens find anything."""
        holes = np.zeros(len(self.series), dtype=bool)
        loud = np.zeros(len(self.series), dtype=bool)
        lengths = np.fromiter((len(s["close"]) for s in self.series), np.int64,
                              len(self.series))
        ends = np.cumsum(lengths)
        cuts = np.searchsorted(ends, np.arange(CHUNK_ROWS, ends[-1] if len(ends) else 0,
                                               CHUNK_ROWS), side="right")
        for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(self.series)],
                          strict=True):
            if hi > lo:
                part = self.series[lo:hi]
                starts = np.r_[0, np.cumsum(lengths[lo:hi])]
                _flag(part, starts, holes[lo:hi], loud[lo:hi])
        return holes, loud


def _flag(part: list[Columns], starts: Ints, holes: Bools, loud: Bools) -> None:
    """``Stacked._flags`` of the tickers ``part`` (rows ``starts[k]:starts[k + 1]`` once
    joined), written into ``holes`` and ``loud``."""
    close = np.concatenate([s["close"] for s in part]).astype(float, copy=False)
    volume = np.concatenate([_get(s, "volume") for s in part]).astype(float, copy=False)
    flagged = [np.flatnonzero(volume == 0)]
    if len(flagged[0]):
        holes[_owners(starts, np.flatnonzero(placeholder_mask(close, volume, starts[:-1])))] = True
    if len(close) > 1:
        flagged.append(_big_moves(close, starts) + 1)
    if any(_ranged(s) for s in part):
        high, low = (np.concatenate([_get(s, side if _ranged(s) else "none") for s in part])
                     for side in ("high", "low"))  # a ticker without both: NaN, not judged
        flagged.append(np.flatnonzero(_outside_range(close, volume, high, low)))
    loud[_owners(starts, np.concatenate(flagged))] = True


def _big_moves(close: Floats, starts: Ints) -> Ints:
    """The rows i (of ``close[1:]``) whose move close[i + 1] / close[i] is ``LOOSE_MOVE`` or
    more either way, or NaN; none from one ticker's last row to the next's first. The
    elementwise test runs only when the smallest or largest move says there may be one."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        move = close[1:] / close[:-1]
    seams = starts[1:-1] - 1  # no move from one ticker's last row to the next
    seams = seams[(seams >= 0) & (seams < len(move))]
    move[seams] = 1.0
    if move.min() > 1.0 / LOOSE_MOVE and move.max() < LOOSE_MOVE:  # NaN: False, look
        return np.zeros(0, dtype=np.int64)
    big = ~((move < LOOSE_MOVE) & (move > 1.0 / LOOSE_MOVE))  # NaN too
    big[seams] = False
    out: Ints = np.flatnonzero(big)
    return out


def _owners(starts: Ints, rows: Ints) -> Ints:
    """The position of the ticker each of ``rows`` belongs to."""
    out: Ints = np.searchsorted(starts, rows, side="right") - 1
    return out


def _outside_range(close: Floats, volume: Floats, high: Floats, low: Floats) -> Bools:
    """``screens._ranges``' rows (NaN high/low: none)."""
    with np.errstate(invalid="ignore"):
        out: Bools = ((volume > 0) & (low > 0) & (high >= low)
                      & ((close > high * (1 + RANGE_TOLERANCE))
                         | (close < low * (1 - RANGE_TOLERANCE))))
    return out


def _ranged(columns: Columns) -> bool:
    return columns.get("high") is not None and columns.get("low") is not None


def _get(columns: Columns, name: str) -> Floats:
    """Column ``name`` as float64, NaN where there is none (a missing volume is never 0)."""
    values = columns.get(name)
    return (np.asarray(values, dtype=float) if values is not None
            else np.full(len(columns["close"]), np.nan))


def _columns_of(series: SeriesArrays | None) -> Columns | None:
    if series is None:
        return None
    out = {"close": series.close, "volume": series.volume}
    if series.high is not None and series.low is not None:
        out.update(high=series.high, low=series.low)
    return out
