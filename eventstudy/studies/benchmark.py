"""The IPO-index benchmark of a study (``market="ipo-index"``): which listings are its
constituents, one index per exchange built lazily from the loader, each stock's Series against
the index without the stock, and what the result says about it (``extras['benchmark']``, the
``ipo_index`` table, a report section, day-0 skips). The index itself:
``eventstudy.engine.ipo_index``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event
from eventstudy.calendar.listings import Listing
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import exchange_of, market_for
from eventstudy.engine.ipo_index import IpoIndex, build_ipo_index, with_ipo_index
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.series import Series, prices

if TYPE_CHECKING:
    pass


def ipo_members(universe: dict[str, Listing], events: Sequence[Event]) -> dict[str, pd.Timestamp]:
    """Ticker -> listing date of every possible constituent: the calendar's listed entries
    (not secondary listings, whose firms are not young; not dates inferred from the first
    trading day) and the events' own listing dates (an events file's ``listing_date``)."""
    out = {t: x.listing_date for t, x in universe.items()
           if x.status == "listed" and x.issuer_type != "secondary" and not x.inferred}
    for event in events:
        if (event.ticker not in out and event.listing_date is not None
                and not event.listing_inferred and event.ticker not in universe):
            out[event.ticker] = event.listing_date
    return out


class IpoBenchmark:
    """The IPO indices of a study, one per exchange, made on first use."""

    def __init__(self, loader: PriceLoader, members: dict[str, pd.Timestamp], months: int,
                 min_constituents: int):
        self.loader, self.members = loader, members
        self.months, self.min_constituents = months, min_constituents
        self.indices: dict[str, IpoIndex] = {}
        self.notes: list[str] = []

    def index_for(self, ticker: str) -> IpoIndex:
        exchange = exchange_of(ticker)
        if exchange not in self.indices:
            same = {t: d for t, d in self.members.items() if exchange_of(t) == exchange}
            calendar = prices(self.loader.load(market_for(ticker)))
            index, notes = build_ipo_index(calendar, same, self.loader.load, months=self.months,
                                           min_constituents=self.min_constituents)
            self.indices[exchange] = index
            self.notes += notes
        return self.indices[exchange]

    def series(self, ticker: str, aligned: Series) -> Series:
        """``aligned`` (the stock against its exchange index) against the IPO index instead."""
        return with_ipo_index(aligned, self.index_for(ticker), ticker)

    def day0_problems(self, ar: AbnormalReturns) -> dict[int, str]:
        """Events whose day 0 has no index return (they cannot have an AR(0)), and the reason
        of an estimation window too short because the index is missing on its sessions."""
        c0 = ar.panel.column(0)
        out = {}
        for i, reason in ar.problems.items():
            lost = int((np.isfinite(ar.panel.est_ret[i])
                        & ~np.isfinite(ar.panel.est_mkt[i])).sum())
            if lost and "estimation window has" in reason:
                out[i] = (f"{reason}: the IPO index has fewer than {self.min_constituents} "
                          f"constituents on {lost} of its sessions (--ipo-index-min, "
                          "--ipo-index-months)")
        for i in np.flatnonzero(~np.isfinite(ar.panel.mkt[:, c0])).tolist():
            if i in ar.problems:
                continue
            ticker = str(ar.panel.events["ticker"].iloc[i])
            index = self.index_for(ticker)
            day = ar.panel.dates_of(i)[c0]
            pos = int(np.searchsorted(index.dates, day))
            n = int(index.daily(ticker)[1][pos]) if pos < len(index.dates) else 0
            out[i] = (f"no IPO-index return on day 0: {n} recent listing(s) other than {ticker} "
                      f"traded, fewer than the minimum of {self.min_constituents} "
                      "(--ipo-index-min)")
        return out

    def describe(self, ar: AbnormalReturns, events: pd.DataFrame
                 ) -> tuple[dict[str, Any], list[str]]:
        """Say which benchmark was used: per-event constituent counts added to ``events``
        (the study's own new frame), and (extras, notes): ``benchmark`` (JSON), the
        ``ipo_index`` table (CSV), a report section and the notes."""
        counts, missing = [], []
        c0 = ar.panel.column(0)
        for i, ticker in enumerate(events["ticker"]):
            index = self.index_for(str(ticker))
            _, n = index.daily(str(ticker))
            pos = np.searchsorted(index.dates, ar.panel.dates_of(i)[c0])
            counts.append(int(n[min(pos, len(n) - 1)]) if len(n) else 0)
            est = np.isfinite(ar.panel.est_ret[i])
            missing.append(int((est & ~np.isfinite(ar.panel.est_mkt[i])).sum()))
        events["benchmark_firms_0"] = counts
        events["benchmark_missing_estimation"] = missing
        extras: dict[str, Any] = {}
        tables = [idx.table().assign(exchange=ex) for ex, idx in self.indices.items()]
        if tables:
            extras["ipo_index_table"] = pd.concat(tables, ignore_index=True)
        extras["benchmark"] = self.to_dict()
        extras["sections"] = [("Benchmark: IPO index", [self.text()])]
        notes = list(self.notes)
        if any(missing):
            notes.append(
                f"IPO index: {sum(missing)} estimation session(s) over "
                f"{sum(m > 0 for m in missing)} event(s) have fewer than "
                f"{self.min_constituents} constituents: left out of the fit "
                "(events column benchmark_missing_estimation)")
        return extras, notes

    def text(self) -> str:
        return (f"Equal-weighted index of the listings of the calendar (and of the events' "
                f"listing dates) listed within the last {self.months} months, rebalanced daily; "
                f"each event's own firm excluded; days with fewer than {self.min_constituents} "
                "constituents have no index return (missing). Abnormal volume and the GARCH mean "
                "equation keep the exchange's index. Constituents per day: table "
                "ipo_index (ipo_index.csv); per event on day 0: benchmark_firms_0. "
                "Constituents used: " + (", ".join(self.constituents()) or "none") + ".")

    def constituents(self) -> list[str]:
        return [t for idx in self.indices.values() for t in idx.tickers]

    def to_dict(self) -> dict[str, Any]:
        return {"name": "ipo-index", "months": self.months,
                "min_constituents": self.min_constituents, "weighting": "equal",
                "excludes_event_firm": True, "constituents": self.constituents(),
                "sources": {t: str(self.loader.load(t).attrs.get("source"))
                            for t in self.constituents()},
                "description": self.text()}
