"""Many tickers aligned on one market index at once, into one shared store.

``align_many`` gives each stock the ``Series`` that ``engine.series.align`` would give it (bit
for bit: the same rows, the same divisions), but as views into one ``Store``: O(total rows)
numpy work over the concatenated prices and a few microseconds of Python per ticker, instead of
a dozen small arrays per ticker. ``engine.panel`` gathers events straight from the store. A
ticker that ``align`` would reject (dates out of order, no dates shared with the market, a
non-finite return) is handed to ``align`` itself, so its error is the same word for word."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.columnar import Prices, Store, prices
from eventstudy.engine.series import Series, align
from eventstudy.errors import BadInput, DataUnavailable

NO_PLACEHOLDERS = np.array([], dtype="datetime64[ns]")
NO_PLACEHOLDERS.flags.writeable = False


CHUNK_ROWS = 1 << 17  # rows aligned at a time: temporaries of about 1 MiB, reused


def align_many(stocks: Sequence[pd.DataFrame | Prices], market: Prices,
               trade_to_trade: bool = True, frames: Sequence[pd.DataFrame] | None = None
               ) -> list[Series | BadInput | DataUnavailable]:
    """``[align(s, market, trade_to_trade) for s in stocks]``, with each error returned in its
    stock's place instead of raised. O(R log M) for R rows in all and M market dates, in
    blocks of about ``CHUNK_ROWS`` rows. A stock given as ``Prices`` (its frame's arrays,
    ``prices``) is aligned as its frame in ``frames`` would be, placeholder rows included."""
    out: list[Series | BadInput | DataUnavailable | None] = [None] * len(stocks)
    raw: list[tuple[int, Prices]] = []
    for k, stock in enumerate(stocks):
        try:
            raw.append((k, stock if isinstance(stock, Prices) else prices(stock)))
        except (BadInput, DataUnavailable) as exc:
            out[k] = exc
    store = Store.empty(sum(len(p.dates) for _, p in raw))
    filled, lo = 0, 0
    while lo < len(raw):
        hi, rows = lo, 0
        while hi < len(raw) and (hi == lo or rows + len(raw[hi][1].dates) <= CHUNK_ROWS):
            rows += len(raw[hi][1].dates)
            hi += 1
        block = raw[lo:hi]
        lengths, marks, bad = _fill(store, filled, [p for _, p in block], market,
                                    trade_to_trade)
        for j, ((k, _), n) in enumerate(zip(block, lengths.tolist(), strict=True)):
            out[k] = (_error_of(frames[k] if frames is not None else stocks[k], market,
                                trade_to_trade) if bad[j]
                      else _view(store, filled, n, marks.get(j, NO_PLACEHOLDERS)))
            filled += n
        lo = hi
    return [s for s in out if s is not None]


def _view(store: Store, at: int, n: int, placeholders: np.ndarray) -> Series:
    a = store.arrays
    end = at + n
    return Series(a["dates"][at:end], a["close"][at:end], a["ret"][at:end], a["mkt"][at:end],
                  a["vol"][at:end], placeholders, store=store, offset=at)


def _error_of(frame: pd.DataFrame | Prices, market: Prices, trade_to_trade: bool
              ) -> Series | BadInput | DataUnavailable:
    """What ``align`` says of a stock the bulk path found unusable."""
    try:
        return align(frame, market, trade_to_trade)
    except (BadInput, DataUnavailable) as exc:
        return exc


def _fill(store: Store, at: int, raw: list[Prices], market: Prices, trade_to_trade: bool
          ) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """Align the stocks of ``raw`` into ``store`` from row ``at``: (kept length per stock,
    dropped placeholder dates per stock that has any, stocks ``align`` would reject)."""
    n = len(raw)
    sizes = np.array([len(p.dates) for p in raw], dtype=np.int64)
    seg = np.repeat(np.arange(n, dtype=np.int32), sizes)
    dates = np.concatenate([p.dates for p in raw])
    close = np.concatenate([p.close for p in raw])
    volume = np.concatenate([p.volume for p in raw])
    first = np.zeros(len(dates), dtype=bool)
    first[(np.cumsum(sizes) - sizes)[sizes > 0]] = True
    keep, marks = _placeholders(dates, close, volume, first, seg, trade_to_trade)
    found = np.searchsorted(market.dates, dates)
    if len(market.dates):
        keep &= market.dates[np.minimum(found, len(market.dates) - 1)] == dates
    else:
        keep[:] = False
    rows = np.flatnonzero(keep)
    owner = seg[rows]
    lengths = np.bincount(owner, minlength=n).astype(np.int64)
    starts = (np.cumsum(lengths) - lengths)[lengths > 0]
    end = at + len(rows)
    a = store.arrays
    np.take(dates, rows, out=a["dates"][at:end].view(np.int64))
    np.take(close, rows, out=a["close"][at:end])
    np.take(volume, rows, out=a["vol"][at:end])
    _returns(a["close"][at:end], starts, a["ret"][at:end])
    _returns(market.close[found[rows]], starts, a["mkt"][at:end])
    inner = np.ones(len(rows), dtype=bool)
    inner[starts] = False
    broken = inner & ~(np.isfinite(a["ret"][at:end]) & np.isfinite(a["mkt"][at:end]))
    bad = lengths < 2
    bad[owner[broken]] = True
    return lengths, marks, bad


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


def _returns(close: np.ndarray, starts: np.ndarray, out: np.ndarray) -> None:
    """``out`` = simple returns close_t / close_{t-1} - 1 within each stock
    (``engine.series._returns``), NaN on each stock's first row (``starts``)."""
    if not len(close):
        return
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked by the caller
        np.divide(close[1:], close[:-1], out=out[1:])
        out[1:] -= 1.0
    out[0] = np.nan
    out[starts] = np.nan
