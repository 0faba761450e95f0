"""Many tickers aligned on one market index at once.

``align_many`` gives each stock the ``Series`` that ``engine.series.align`` would give it (bit
for bit: the same rows, the same divisions): O(total rows) numpy work over the concatenated
prices and a few microseconds of Python per ticker, instead of a dozen small arrays per ticker.
A stock's rows are found in the market's dates by an offset first (a stock that trades every
session of a run of the market's calendar: its k-th row is the market's row of its first date
plus k), and by binary search only for the rows where that guess misses (holes, market days
the stock lacks, stock days the market lacks). Its returns are views of one array per block of
stocks; its closes and volumes are the stock's own arrays when no row is dropped (the loaded
prices, not a copy of them), and so are its dates: the market's own dates when the stock
traded on a run of consecutive market sessions. So the aligned series of a study cost two
floats per row on top of the prices. A ticker that ``align`` would reject (dates out of order,
no dates shared with the market, a non-finite return) is handed to ``align`` itself, so its
error is the same word for word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from eventstudy.data.columns import PriceColumns
from eventstudy.engine.columnar import Prices, prices
from eventstudy.engine.series import Series, align
from eventstudy.errors import BadInput, DataUnavailable

NO_PLACEHOLDERS = np.array([], dtype="datetime64[ns]")
NO_PLACEHOLDERS.flags.writeable = False


CHUNK_ROWS = 1 << 17  # rows aligned at a time: temporaries of about 1 MiB, reused

_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}

Stock = pd.DataFrame | Prices | PriceColumns


class _Stocks(NamedTuple):
    """Stocks' arrays as parallel lists (no object per stock): int64 dates in units of
    ``scale`` nanoseconds, close, volume."""

    dates: list[np.ndarray]
    scale: list[int]
    close: list[np.ndarray]
    volume: list[np.ndarray]

    def add(self, stock: Stock) -> None:
        if isinstance(stock, PriceColumns):
            columns = stock.columns
            volume = columns.get("volume")
            self.dates.append(stock.dates)
            self.scale.append(_NS[stock.unit])
            self.close.append(columns["close"])
            self.volume.append(volume if volume is not None else np.full(len(stock), np.nan))
            return
        found = stock if isinstance(stock, Prices) else prices(stock)
        self.dates.append(found.dates)
        self.scale.append(1)
        self.close.append(found.close)
        self.volume.append(found.volume)

    def part(self, lo: int, hi: int) -> _Stocks:
        return _Stocks(self.dates[lo:hi], self.scale[lo:hi], self.close[lo:hi],
                       self.volume[lo:hi])


def align_many(stocks: Sequence[Stock], market: Prices, trade_to_trade: bool = True,
               frames: Sequence[pd.DataFrame] | None = None
               ) -> list[Series | BadInput | DataUnavailable]:
    """``[align(s, market, trade_to_trade) for s in stocks]``, with each error returned in its
    stock's place instead of raised. O(R) for R rows in all (O(log M) more per row not on a
    run of the M market dates), in blocks of about ``CHUNK_ROWS`` rows. A stock given as
    ``Prices`` (its frame's arrays, ``prices``) or as the columns its frame was made from
    (``PriceColumns``) is aligned as its frame in ``frames`` would be, placeholder rows
    included."""
    out: list[Series | BadInput | DataUnavailable | None] = [None] * len(stocks)
    where: list[int] = []  # the position in ``stocks`` of each stock of ``raw``
    raw = _Stocks([], [], [], [])
    for k, stock in enumerate(stocks):
        try:
            raw.add(stock)
        except (BadInput, DataUnavailable) as exc:
            out[k] = exc
        else:
            where.append(k)
    on = _Market.of(market)
    sizes = [len(d) for d in raw.dates]
    lo = 0
    while lo < len(where):
        hi, rows = lo, 0
        while hi < len(where) and (hi == lo or rows + sizes[hi] <= CHUNK_ROWS):
            rows += sizes[hi]
            hi += 1
        for k, one in zip(where[lo:hi], _fill(raw.part(lo, hi), on, trade_to_trade),
                          strict=True):
            out[k] = (_error_of(frames[k] if frames is not None else stocks[k], market,
                                trade_to_trade) if one is None else one)
        lo = hi
    return [s for s in out if s is not None]


def _error_of(stock: Stock, market: Prices, trade_to_trade: bool
              ) -> Series | BadInput | DataUnavailable:
    """What ``align`` says of a stock the bulk path found unusable."""
    try:
        if isinstance(stock, PriceColumns):
            one = _Stocks([], [], [], [])
            one.add(stock)
            stock = Prices(None, one.dates[0] * one.scale[0], one.close[0], one.volume[0])
        return align(stock, market, trade_to_trade)
    except (BadInput, DataUnavailable) as exc:
        return exc


class _Market(NamedTuple):
    """The market's arrays: its dates as int64 and as a read-only datetime64[ns] view (which
    the series of stocks on a run of its sessions share), its closes and its returns from
    each session to the next (``returns[j]``: session j - 1 to j), whether its dates strictly
    ascend."""

    dates: np.ndarray
    days: np.ndarray
    close: np.ndarray
    returns: np.ndarray
    ascending: bool

    @classmethod
    def of(cls, market: Prices) -> _Market:
        days = market.dates.view("datetime64[ns]")[:]
        days.flags.writeable = False
        returns = np.empty(len(market.close))
        _returns(market.close, np.zeros(1, dtype=np.int64), returns)
        return cls(market.dates, days, market.close, returns,
                   bool((market.dates[1:] > market.dates[:-1]).all()))


def _fill(raw: _Stocks, market: _Market, trade_to_trade: bool) -> list[Series | None]:
    """The aligned Series of each stock of ``raw`` (None for one ``align`` would reject). Its
    returns are views of one array per block; its dates, closes and volumes are the stock's
    own arrays (its dates: the market's) when every row is kept (no copy), else copies of the
    kept rows."""
    sizes = np.fromiter(map(len, raw.dates), np.int64, len(raw.dates))
    ends = np.cumsum(sizes)
    starts = ends - sizes
    dates = _nanoseconds(raw)
    close = np.concatenate(raw.close)
    volume = np.concatenate(raw.volume)
    drop, marks = _placeholders(dates, close, volume, starts, ends, trade_to_trade)
    at, lost, guessed = _market_rows(dates, starts, sizes, market)
    if len(drop):
        lost = np.union1d(lost, drop)
    rows = None
    if not len(lost):  # every row of every stock kept: no gather
        lengths, kept, at_kept = sizes, close, at
    else:
        keep = np.ones(len(dates), dtype=bool)
        keep[lost] = False
        rows = np.flatnonzero(keep)
        counted = np.zeros(len(dates) + 1, dtype=np.int64)
        np.cumsum(keep, out=counted[1:])
        lengths = counted[ends] - counted[starts]
        kept, at_kept = close[rows], at[rows]
        guessed[_owners(starts, lost)] = False
    kept_starts = np.cumsum(lengths) - lengths
    firsts = kept_starts[lengths > 0]
    ret, mkt = np.empty(len(kept)), np.empty(len(kept))
    _returns(kept, firsts, ret)
    _market_returns(market, at_kept, firsts, not guessed[sizes > 0].all(), mkt)
    bad = (lengths < 2).tolist()
    for j in _owners(kept_starts, _broken(ret, mkt, firsts)).tolist():
        bad[j] = True
    ret.flags.writeable = mkt.flags.writeable = False
    heads = (at_kept[np.minimum(kept_starts, len(at_kept) - 1)] if len(at_kept)
             else kept_starts).tolist()  # each stock's first market row
    out: list[Series | None] = []
    for j, (n_kept, size, a, start, head, on_run) in enumerate(zip(
            lengths.tolist(), sizes.tolist(), kept_starts.tolist(), starts.tolist(), heads,
            guessed.tolist(), strict=True)):
        if bad[j]:
            out.append(None)
            continue
        if n_kept == size:  # every row kept: the stock's own arrays
            if on_run:  # its dates are a run of the market's
                day = market.days[head:head + size]
            else:
                day = _frozen(raw.dates[j].view("datetime64[ns]") if raw.scale[j] == 1
                              else dates[start:start + size].view("datetime64[ns]").copy())
            price, vol = _frozen(raw.close[j]), _frozen(raw.volume[j])
        else:  # copies of the kept rows (no view keeps the block alive)
            assert rows is not None
            picked = rows[a:a + n_kept]
            day, price, vol = (_frozen(v) for v in (dates[picked].view("datetime64[ns]"),
                                                    close[picked], volume[picked]))
        out.append(Series(day, price, ret[a:a + n_kept], mkt[a:a + n_kept], vol,
                          marks.get(j, NO_PLACEHOLDERS)))
    return out


def _nanoseconds(raw: _Stocks) -> np.ndarray:
    """The stocks' dates end to end, as int64 nanoseconds (one multiplication for the block)."""
    scales = set(raw.scale)
    if len(scales) == 1:
        dates = np.concatenate(raw.dates).astype(np.int64, copy=False)
        scale = scales.pop()
        return dates * scale if scale != 1 else dates
    return np.concatenate([d * k for d, k in zip(raw.dates, raw.scale, strict=True)]
                          ).astype(np.int64, copy=False)


def _market_rows(dates: np.ndarray, starts: np.ndarray, sizes: np.ndarray, market: _Market
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the market row holding its date (the binary search of ``align``,
    ``np.searchsorted``); the rows whose date the market lacks; per stock, whether every row
    was on the run of market rows from its first date (``guessed``). The guess (the first
    row's market row plus the row's position) is taken only where the market has that very
    date: its dates strictly ascend, so the binary search would find that row too."""
    mdates, m = market.dates, len(market.dates)
    guessed = np.zeros(len(sizes), dtype=bool)
    if not m:
        return np.zeros(len(dates), dtype=np.int64), np.arange(len(dates)), guessed
    if not market.ascending:
        at = np.minimum(np.searchsorted(mdates, dates), m - 1)
        return at, np.flatnonzero(mdates[at] != dates), guessed
    has = sizes > 0
    head = np.zeros(len(sizes), dtype=np.int64)
    head[has] = np.searchsorted(mdates, dates[starts[has]])
    guessed[has] = head[has] + sizes[has] <= m  # a run past the market's end is no run
    at = np.repeat(head - starts, sizes)
    at += np.arange(len(dates))
    np.minimum(at, m - 1, out=at)
    hit = mdates[at] == dates
    if hit.all():
        return at, np.zeros(0, dtype=np.int64), guessed
    miss = np.flatnonzero(~hit)
    guessed[_owners(starts, miss)] = False
    again = np.minimum(np.searchsorted(mdates, dates[miss]), m - 1)
    at[miss] = again
    return at, miss[mdates[again] != dates[miss]], guessed


def _market_returns(market: _Market, at: np.ndarray, firsts: np.ndarray, gaps: bool,
                    out: np.ndarray) -> None:
    """``out`` = the market's returns from each kept row's market row to the next kept row's
    (``_returns`` of ``market.close[at]``, bit for bit): the market's own return where the
    next row is the next session, the division across the sessions skipped elsewhere (looked
    for only if ``gaps``: some stock is not on a run of sessions)."""
    if not len(at):
        return
    np.take(market.returns, at, out=out, mode="clip")  # ``at`` is in range: no check
    if gaps:
        gap = np.flatnonzero(at[1:] != at[:-1] + 1) + 1
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            out[gap] = market.close[at[gap]] / market.close[at[gap - 1]] - 1.0
    out[0] = np.nan
    out[firsts] = np.nan


def _broken(ret: np.ndarray, mkt: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """The rows past a stock's first whose return or market return is not finite (one sum
    each when there is none: a sum is finite only if every term is)."""
    if all(np.isfinite(_sum_past(v, firsts)) for v in (ret, mkt)):
        return np.zeros(0, dtype=np.int64)
    finite = np.isfinite(ret)
    finite &= np.isfinite(mkt)
    finite[firsts] = True
    return np.flatnonzero(~finite)


def _sum_past(values: np.ndarray, firsts: np.ndarray) -> float:
    """The sum of ``values`` past each stock's first row (NaN there, and again after)."""
    values[firsts] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(values.sum())
    values[firsts] = np.nan
    return total


def _owners(starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The stock each of ``rows`` belongs to (``starts``: each stock's first row; a stock
    without rows is never an owner)."""
    out: np.ndarray = np.searchsorted(starts, rows, side="right") - 1
    return out


def _frozen(values: np.ndarray) -> np.ndarray:
    """A read-only view of ``values`` (a Series never writes to the prices it was given):
    ``values`` itself if it is one."""
    if not values.flags.writeable:
        return values
    view = values[:]
    view.flags.writeable = False
    return view


def _placeholders(dates: np.ndarray, close: np.ndarray, volume: np.ndarray,
                  starts: np.ndarray, ends: np.ndarray, trade_to_trade: bool
                  ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The placeholder rows to drop (ascending) and, per stock, their dates
    (``eventstudy.data.clean.placeholder_mask`` on each stock: the first row never is one)."""
    none = np.zeros(0, dtype=np.int64)
    if not trade_to_trade:
        return none, {}
    at = np.flatnonzero(volume == 0)
    if len(at):
        at = at[~np.isin(at, starts)]
    if not len(at):
        return none, {}
    drop = at[np.isclose(close[at], close[at - 1], rtol=1e-9, atol=0.0)]
    if not len(drop):
        return none, {}
    owner = np.searchsorted(ends, drop, side="right")
    owners, first_of = np.unique(owner, return_index=True)  # drop is sorted: runs per stock
    runs = np.split(dates[drop].view("datetime64[ns]"), first_of[1:])
    return drop, dict(zip(owners.tolist(), runs, strict=True))


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
