"""Many tickers aligned on one market index at once.

``align_many`` gives each stock the ``Series`` that ``engine.series.align`` would give it (bit
for bit: the same rows, the same divisions): O(total rows) numpy work over the concatenated
prices and a few microseconds of Python per ticker, instead of a dozen small arrays per ticker.
Its returns are views of one array per block of stocks; its dates, closes and volumes are the
stock's own arrays when no row is dropped (the loaded prices, not a copy of them), so the
aligned series of a study cost two floats per row on top of the prices. A
ticker that ``align`` would reject (dates out of order, no dates shared with the market, a
non-finite return) is handed to ``align`` itself, so its error is the same word for word."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.columnar import Prices, prices
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
    lo = 0
    while lo < len(raw):
        hi, rows = lo, 0
        while hi < len(raw) and (hi == lo or rows + len(raw[hi][1].dates) <= CHUNK_ROWS):
            rows += len(raw[hi][1].dates)
            hi += 1
        block = raw[lo:hi]
        found = _fill([p for _, p in block], market, trade_to_trade)
        for (k, _), one in zip(block, found, strict=True):
            out[k] = (_error_of(frames[k] if frames is not None else stocks[k], market,
                                trade_to_trade) if one is None else one)
        lo = hi
    return [s for s in out if s is not None]


def _error_of(frame: pd.DataFrame | Prices, market: Prices, trade_to_trade: bool
              ) -> Series | BadInput | DataUnavailable:
    """What ``align`` says of a stock the bulk path found unusable."""
    try:
        return align(frame, market, trade_to_trade)
    except (BadInput, DataUnavailable) as exc:
        return exc


def _fill(raw: list[Prices], market: Prices, trade_to_trade: bool) -> list[Series | None]:
    """The aligned Series of each stock of ``raw`` (None for one ``align`` would reject). Its
    returns are views of one array per block; its dates, closes and volumes are the stock's
    own arrays when every row is kept (no copy), else copies of the kept rows."""
    n = len(raw)
    sizes = np.array([len(p.dates) for p in raw], dtype=np.int64)
    seg = np.repeat(np.arange(n, dtype=np.int32), sizes)
    dates = np.concatenate([p.dates for p in raw])
    close = np.concatenate([p.close for p in raw])
    first = np.zeros(len(dates), dtype=bool)
    first[(np.cumsum(sizes) - sizes)[sizes > 0]] = True
    volume = np.concatenate([p.volume for p in raw])
    keep, marks = _placeholders(dates, close, volume, first, seg, trade_to_trade)
    found = np.searchsorted(market.dates, dates)
    if len(market.dates):
        keep &= market.dates[np.minimum(found, len(market.dates) - 1)] == dates
    else:
        keep[:] = False
    rows = np.flatnonzero(keep)
    owner = seg[rows]
    lengths = np.bincount(owner, minlength=n).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    firsts = starts[lengths > 0]
    ret, mkt, kept = np.empty(len(rows)), np.empty(len(rows)), close[rows]
    _returns(kept, firsts, ret)
    _returns(market.close[found[rows]], firsts, mkt)
    inner = np.ones(len(rows), dtype=bool)
    inner[firsts] = False
    broken = inner & ~(np.isfinite(ret) & np.isfinite(mkt))
    bad = lengths < 2
    bad[owner[broken]] = True
    ret.flags.writeable = mkt.flags.writeable = False
    out: list[Series | None] = []
    for j, (p, n_kept, at) in enumerate(zip(raw, lengths.tolist(), starts.tolist(),
                                            strict=True)):
        if bad[j]:
            out.append(None)
            continue
        if n_kept == len(p.dates):  # every row kept: the stock's own arrays
            own = (p.dates.view("datetime64[ns]"), np.ascontiguousarray(p.close),
                   np.ascontiguousarray(p.volume))
        else:  # copies of the kept rows (no view keeps the block alive)
            picked = rows[at:at + n_kept]
            own = dates[picked].view("datetime64[ns]"), close[picked], volume[picked]
        day, price, vol = (_frozen(v) for v in own)
        out.append(Series(day, price, ret[at:at + n_kept], mkt[at:at + n_kept], vol,
                          marks.get(j, NO_PLACEHOLDERS)))
    return out


def _frozen(values: np.ndarray) -> np.ndarray:
    """A read-only view of ``values`` (a Series never writes to the prices it was given)."""
    view = values.view()
    view.flags.writeable = False
    return view


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
