"""One ticker's aligned series: its returns on the dates it shares with its market index
(``align``; its price arrays are ``engine.columnar.Prices``). ``engine.store.align_many`` does
the same for many tickers at once; ``engine.panel`` gathers events from either."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eventstudy.data.clean import placeholder_mask
from eventstudy.engine.columnar import Prices, prices
from eventstudy.errors import BadInput, DataUnavailable

__all__ = ["Prices", "Series", "align", "iso_day", "prices"]


@dataclass(frozen=True, slots=True)
class Series:
    """One ticker's returns on the dates it shares with its market, as numpy arrays."""

    dates: np.ndarray
    close: np.ndarray
    ret: np.ndarray
    mkt: np.ndarray
    vol: np.ndarray
    placeholders: np.ndarray = field(  # dates of the stock's dropped placeholder rows
        default_factory=lambda: np.array([], dtype="datetime64[ns]"))


def align(stock: pd.DataFrame | Prices, market: pd.DataFrame | Prices,
          trade_to_trade: bool = True) -> Series:
    """Stock and market on their common dates; returns over the same intervals.

    The stock's placeholder rows (zero volume, unchanged close: no trading) are dropped first, so
    the next session's return spans them: trade-to-trade returns (Maynes & Rumsey 1993;
    ``eventstudy.data.clean.placeholder_rows``; a stock given as ``Prices`` is taken as it is).
    ``trade_to_trade=False`` keeps them: lumped returns, 0 on a day without trading and the
    whole move on the next trade. The common dates are found by binary search of the
    stock's dates in the market's (both sorted and unique): O(n log m) numpy work, no join."""
    placeholders = np.array([], dtype="datetime64[ns]")
    if not isinstance(stock, Prices):
        stock = prices(stock)
        drop = placeholder_mask(stock.close, stock.volume)
        if trade_to_trade and drop.any():
            placeholders = stock.dates[drop].view("datetime64[ns]")
            keep = ~drop
            stock = Prices(stock.ticker, stock.dates[keep], stock.close[keep],
                           stock.volume[keep])
    market = market if isinstance(market, Prices) else prices(market)
    at = np.searchsorted(market.dates, stock.dates)
    if len(market.dates):
        hit = market.dates[np.minimum(at, len(market.dates) - 1)] == stock.dates
    else:
        hit = np.zeros(len(at), dtype=bool)
    rows = np.flatnonzero(hit)  # copies: the Series never shares memory with the frames
    mrows = at[rows]
    close, mclose = stock.close[rows], market.close[mrows]
    if len(close) < 2:
        raise DataUnavailable(
            f"{stock.ticker} and its market {market.ticker} share "
            f"{len(close)} dates: the series do not overlap")
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked below
        ret, mkt = _returns(close), _returns(mclose)
    dates = stock.dates[rows].view("datetime64[ns]")
    for ticker, values, price in ((stock.ticker, ret, close), (market.ticker, mkt, mclose)):
        if not np.isfinite(values[1:]).all():  # e.g. a price ratio that overflows
            at_bad = int(np.flatnonzero(~np.isfinite(values[1:]))[0]) + 1
            raise BadInput(f"{ticker}: non-finite return on {iso_day(dates[at_bad])} (close "
                           f"{price[at_bad - 1]:g} -> {price[at_bad]:g}): check the price data")
    return Series(dates, close, ret, mkt, stock.volume[rows], placeholders)


def _returns(close: np.ndarray) -> np.ndarray:
    """Simple returns close_t / close_{t-1} - 1, NaN on the first day (the caller sets
    ``np.errstate``: a zero or overflowing price gives a non-finite value it reports)."""
    out = np.empty(len(close))
    out[0] = np.nan
    np.divide(close[1:], close[:-1], out=out[1:])
    out[1:] -= 1.0
    return out


def iso_day(value: np.datetime64) -> str:
    return str(value.astype("datetime64[D]"))
