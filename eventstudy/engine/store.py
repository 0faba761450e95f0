"""Many tickers aligned on one market index at once, into one shared store.

``align_many`` gives each stock the ``Series`` that ``engine.series.align`` would give it (bit
for bit: the same rows, the same divisions), but as views into one ``Store``: O(total rows)
numpy work over the concatenated prices and a few microseconds of Python per ticker, instead of
a dozen small arrays per ticker. ``engine.panel`` gathers events straight from the store. A
ticker that ``align`` would reject (dates out of order, no dates shared with the market, a
non-finite return) is handed to ``align`` itself, so its error is the same word for word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.engine.series import Prices, Series, align, prices
from eventstudy.errors import BadInput, DataUnavailable

NO_PLACEHOLDERS = np.array([], dtype="datetime64[ns]")
NO_PLACEHOLDERS.flags.writeable = False
NAT = int(np.datetime64("NaT", "ns").view(np.int64))  # the int64 of NaT


@dataclass(frozen=True)
class Store:
    """The aligned series of many tickers end to end. Each array has one more element than the
    series hold: a NaN (NaT for dates) that a gather reads for a missing day."""

    arrays: dict[str, np.ndarray]  # dates, close, ret, mkt, vol

    @property
    def total(self) -> int:
        return len(self.arrays["ret"]) - 1


def align_many(stocks: Sequence[pd.DataFrame], market: Prices, trade_to_trade: bool = True
               ) -> list[Series | BadInput | DataUnavailable]:
    """``[align(s, market, trade_to_trade) for s in stocks]``, with each error returned in its
    stock's place instead of raised. O(R log M) for R rows in all and M market dates."""
    out: list[Series | BadInput | DataUnavailable | None] = [None] * len(stocks)
    raw: list[Prices] = []
    where: list[int] = []
    for k, frame in enumerate(stocks):
        try:
            raw.append(prices(frame))
            where.append(k)
        except (BadInput, DataUnavailable) as exc:
            out[k] = exc
    if raw:
        store, lengths, marks, bad = _fill(raw, market, trade_to_trade)
        starts = np.cumsum(lengths) - lengths
        arrays = store.arrays
        for j, (k, o, n) in enumerate(zip(where, starts.tolist(), lengths.tolist(),
                                          strict=True)):
            if bad[j]:
                out[k] = _error_of(stocks[k], market, trade_to_trade)
                continue
            end = o + n
            out[k] = Series(arrays["dates"][o:end], arrays["close"][o:end],
                            arrays["ret"][o:end], arrays["mkt"][o:end], arrays["vol"][o:end],
                            marks.get(j, NO_PLACEHOLDERS), store=store, offset=o)
    return [s for s in out if s is not None]


def _error_of(frame: pd.DataFrame, market: Prices, trade_to_trade: bool
              ) -> Series | BadInput | DataUnavailable:
    """What ``align`` says of a stock the bulk path found unusable."""
    try:
        return align(frame, market, trade_to_trade)
    except (BadInput, DataUnavailable) as exc:
        return exc


def _fill(raw: list[Prices], market: Prices, trade_to_trade: bool
          ) -> tuple[Store, np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """The store of every stock in ``raw``: (store, kept length per stock, dropped
    placeholder dates per stock that has any, stocks ``align`` would reject)."""
    n = len(raw)
    sizes = np.array([len(p.dates) for p in raw], dtype=np.int64)
    seg = np.repeat(np.arange(n, dtype=np.int32), sizes)
    dates = np.concatenate([p.dates for p in raw])
    close = np.concatenate([p.close for p in raw])
    volume = np.concatenate([p.volume for p in raw])
    first = np.zeros(len(dates), dtype=bool)
    first[(np.cumsum(sizes) - sizes)[sizes > 0]] = True
    keep, marks = _placeholders(dates, close, volume, first, seg, trade_to_trade)
    at = np.searchsorted(market.dates, dates)
    if len(market.dates):
        keep &= market.dates[np.minimum(at, len(market.dates) - 1)] == dates
    else:
        keep[:] = False
    rows = np.flatnonzero(keep)
    del keep, first
    lengths = np.bincount(seg[rows], minlength=n).astype(np.int64)
    starts = (np.cumsum(lengths) - lengths)[lengths > 0]
    total = len(rows)
    arrays = {"dates": _take(dates, rows, NAT).view("datetime64[ns]"),
              "close": _take(close, rows, np.nan), "vol": _take(volume, rows, np.nan)}
    mrows = at[rows]
    del at, dates, volume
    mclose = _take(market.close, mrows, np.nan)
    arrays["ret"], arrays["mkt"] = _returns(arrays["close"], starts), _returns(mclose, starts)
    del mclose
    inner = np.ones(total, dtype=bool)
    inner[starts] = False
    broken = inner & ~(np.isfinite(arrays["ret"][:total]) & np.isfinite(arrays["mkt"][:total]))
    bad = lengths < 2
    bad[seg[rows][broken]] = True
    return Store(arrays), lengths, marks, bad


def _take(values: np.ndarray, rows: np.ndarray, fill: float | int) -> np.ndarray:
    """``values[rows]`` with one more element, ``fill``, at the end."""
    out = np.empty(len(rows) + 1, dtype=values.dtype)
    np.take(values, rows, out=out[:-1])
    out[-1] = fill
    return out


def _placeholders(dates: np.ndarray, close: np.ndarray, volume: np.ndarray, first: np.ndarray,
                  seg: np.ndarray, trade_to_trade: bool
                  ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Rows to keep and, per stock, the dates of its dropped placeholder rows
    (``eventstudy.data.clean.placeholder_mask`` on each stock: the first row never is one)."""
    keep = np.ones(len(dates), dtype=bool)
    at = np.flatnonzero((volume == 0) & ~first)
    if not trade_to_trade or not len(at):
        return keep, {}
    drop = at[np.isclose(close[at], close[at - 1], rtol=1e-9, atol=0.0)]
    if not len(drop):
        return keep, {}
    keep[drop] = False
    owners, first_of = np.unique(seg[drop], return_index=True)  # drop is sorted: runs per stock
    runs = np.split(dates[drop].view("datetime64[ns]"), first_of[1:])
    return keep, dict(zip(owners.tolist(), runs, strict=True))


def _returns(close: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Simple returns close_t / close_{t-1} - 1 within each stock (``engine.series._returns``),
    NaN on each stock's first row and on the closing sentinel."""
    out = np.empty(len(close))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked by the caller
        np.divide(close[1:], close[:-1], out=out[1:])
        out[1:] -= 1.0
    out[0] = np.nan
    out[starts] = np.nan
    out[-1] = np.nan
    return out
