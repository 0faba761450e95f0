"""The IPO index: an equal-weighted portfolio of recent listings, as the benchmark of each event.

Young firms move with other young firms more than with a broad index, so a lock-up study may
measure abnormal returns against recent listings instead of (or beside) the market index. On each
session d of the exchange's market index (^HSI for Hong Kong), the index return is

    I_d = (1 / n_d) sum_c R_cd,  over the constituents c with  L_c < d <= L_c + N months,

where L_c is c's listing date, R_cd = P_cd / P_c,d-1 - 1 its close-to-close return (only when it
has a close on d and on the session before: a suspended constituent is out of the index until it
trades on two consecutive sessions; its placeholder rows of zero volume and unchanged close are
not sessions), and n_d the number of such returns. The event firm itself is never a constituent
of its own benchmark, or its abnormal return would be biased toward zero (it would be measured
partly against itself). Days with fewer than ``min_constituents`` returns have no index return
(missing, not zero). The index is rebalanced daily (equal weights each day).

A stock's return that spans several sessions (a suspension) is matched by the index compounded
over the same sessions, prod(1 + I_d) - 1, missing if any of them is (Maynes & Rumsey 1993
trade-to-trade returns, as for the market index).

Lock-up studies (Field & Hanka 2001, JF 56(2); Brav & Gompers 2003, RFS 16(1)) measure the
expiry return against a benchmark of returns on the same days; their abstracts, all that could
be checked, do not say which benchmark, so this index is not presented as theirs: the definition
above is this module's (README, Method)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Dates, Floats, Ints
from eventstudy.engine.series import Prices, Series, align
from eventstudy.errors import BadInput, EventStudyError


@dataclass(frozen=True)
class IpoIndex:
    """Constituent returns on the sessions of one exchange: ``returns`` (D, C) holds R_cd on the
    days c is in the index (listed within ``months`` and trading on d and d-1), NaN otherwise."""

    dates: Dates  # (D,) datetime64[ns], the market index's sessions
    returns: Floats  # (D, C)
    tickers: tuple[str, ...]
    months: int
    min_constituents: int

    @cached_property
    def _sums(self) -> tuple[Floats, Ints]:
        """Sum and number of the constituent returns per session, once (O(D C))."""
        valid = np.isfinite(self.returns)
        return np.where(valid, self.returns, 0.0).sum(axis=1), valid.sum(axis=1)

    def daily(self, exclude: str | None = None) -> tuple[Floats, Ints]:
        """(I_d, n_d) per session without ``exclude``: I_d is NaN where n_d < the minimum.
        O(D) per call: the excluded firm's column is taken off the sums."""
        total, n = self._sums
        if exclude in self.tickers:
            column = self.returns[:, self.tickers.index(exclude)]
            own = np.isfinite(column)
            total, n = total - np.where(own, column, 0.0), n - own
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
        return np.where(n >= self.min_constituents, mean, np.nan), n

    def over(self, dates: Dates, exclude: str | None = None) -> Floats:
        """The index return between consecutive ``dates`` (sessions of the index, ascending):
        NaN first, then prod(1 + I_d) - 1 over the sessions after one date up to the next."""
        pos = np.searchsorted(self.dates, dates)
        inside = pos < len(self.dates)
        if not inside.all() or (self.dates[pos[inside]] != dates[inside]).any():
            raise BadInput("IPO index: a stock date is not a session of its market index")
        ret, _ = self.daily(exclude)
        bad = ~np.isfinite(ret)
        # cumulative sums with a leading 0: sessions pa+1..pb sum to c[pb + 1] - c[pa + 1]
        logs = np.concatenate([[0.0], np.cumsum(np.log1p(np.where(bad, 0.0, ret)))])
        gaps = np.concatenate([[0], np.cumsum(bad)])
        lo, hi = pos[:-1] + 1, pos[1:] + 1
        out = np.where(hi - lo == 1, ret[pos[1:]], np.expm1(logs[hi] - logs[lo]))
        out = np.where(gaps[hi] - gaps[lo] > 0, np.nan, out)
        return np.concatenate([[np.nan], out])

    def table(self) -> pd.DataFrame:
        """Per session with any constituent: the index return over all constituents (no firm
        excluded), their number and tickers."""
        ret, n = self.daily()
        valid = np.isfinite(self.returns)
        names = np.array(self.tickers, dtype=object)
        keep = n > 0
        members = [", ".join(names[row]) for row in valid[keep]]
        return pd.DataFrame({"date": pd.DatetimeIndex(self.dates[keep]).strftime("%Y-%m-%d"),
                             "return": ret[keep], "n_constituents": n[keep],
                             "constituents": members})


def constituent_returns(stock: pd.DataFrame | Prices, calendar: Prices,
                        listing_date: pd.Timestamp, months: int) -> Floats:
    """(D,) R_cd of one constituent on the ``calendar`` sessions: its close-to-close return where
    it has a close on d and on the session before, and L < d <= L + ``months`` months."""
    series = align(stock, calendar)  # placeholder rows dropped; returns on common dates
    pos = np.searchsorted(calendar.dates, series.dates.view("int64"))
    out = np.full(len(calendar.dates), np.nan)
    step = np.r_[False, np.diff(pos) == 1]  # consecutive sessions only: no spanning return
    out[pos[step]] = series.ret[step]
    dates = calendar.dates.view("datetime64[ns]")
    start = np.datetime64(pd.Timestamp(listing_date), "ns")
    end = np.datetime64(pd.Timestamp(listing_date) + pd.DateOffset(months=months), "ns")
    out[(dates <= start) | (dates > end)] = np.nan
    return out


def build_ipo_index(calendar: Prices, members: Mapping[str, pd.Timestamp],
                    load: Callable[[str], pd.DataFrame], *, months: int = 24,
                    min_constituents: int = 5) -> tuple[IpoIndex, list[str]]:
    """The IPO index of ``members`` (ticker -> listing date) on the sessions of ``calendar``
    (the exchange's market index), and one note per member left out (no price data)."""
    if months < 1 or min_constituents < 1:
        raise BadInput("the IPO index needs at least 1 month and 1 constituent")
    dates = calendar.dates.view("datetime64[ns]")
    columns: list[Floats] = []
    tickers: list[str] = []
    missing: list[str] = []
    for ticker, listed in sorted(members.items()):
        end = pd.Timestamp(listed) + pd.DateOffset(months=months)
        if len(dates) == 0 or end < dates[0] or pd.Timestamp(listed) >= dates[-1]:
            continue  # never a constituent within the index's sessions: nothing to load
        try:
            columns.append(constituent_returns(load(ticker), calendar, listed, months))
        except EventStudyError:  # e.g. no price data offline
            missing.append(ticker)
            continue
        tickers.append(ticker)
    returns = np.column_stack(columns) if columns else np.empty((len(dates), 0))
    notes = [f"IPO index: {len(missing)} listing(s) without usable price data left out: "
             f"{', '.join(missing)}"] if missing else []
    return IpoIndex(dates.copy(), returns, tuple(tickers), months, min_constituents), notes


def with_ipo_index(series: Series, index: IpoIndex, ticker: str) -> Series:
    """``series`` (a stock aligned with its market index) with the market return replaced by
    the IPO index without ``ticker``, over the same intervals."""
    return Series(series.dates, series.close, series.ret, index.over(series.dates, ticker),
                  series.vol, series.placeholders)
