"""Each ticker's series aligned on its market index (or the IPO index), loaded once per study.

``AlignedSeries(loader, market)(ticker)`` is the ``load`` that ``engine.panel.build_panel``
calls per event. ``prefetch(tickers)`` first loads every ticker's prices (with progress) and
aligns them all at once (``engine.store.align_many``: the loaded arrays themselves where no
row is dropped, the returns computed in blocks), so that a large study does O(total rows)
numpy work instead of a dozen small arrays per ticker, and no per-ticker frame. An error met
while loading or aligning a ticker is kept and raised again for each event of that ticker
(each becomes a skip with the reason); the prices are fetched once whatever happens."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import overload

import pandas as pd

from eventstudy.data.columns import PriceColumns
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import index_ticker
from eventstudy.engine.series import Prices, Series, align, prices
from eventstudy.engine.store import align_many
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.benchmark import IpoBenchmark

Failure = BadInput | DataUnavailable


class AlignedSeries:
    """ticker -> its aligned ``Series`` (memoised; see the module docstring)."""

    def __init__(self, loader: PriceLoader, market: str | None,
                 ipo: IpoBenchmark | None = None, trade_to_trade: bool = True):
        self.loader, self.market, self.ipo = loader, market, ipo
        self.trade_to_trade = trade_to_trade
        self._memo: dict[str, Series | Failure] = {}
        self._markets: dict[str, Prices | Failure] = {}  # each index's arrays, made once

    def __call__(self, ticker: str) -> Series:
        if ticker not in self._memo:
            self._memo[ticker] = self._one(ticker)
        found = self._memo[ticker]
        if isinstance(found, Series):
            return found
        raise found

    def prefetch(self, tickers: Iterable[str],
                 progress: Callable[[int], None] | None = None) -> None:
        """Load and align every ticker not yet loaded, grouped by market index. A ticker the
        loader read as columns is aligned from them: its frame is made only if it fails (for
        ``align``'s words)."""
        groups: dict[str, dict[str, PriceColumns | Prices]] = {}
        wanted = [t for t in dict.fromkeys(tickers) if t not in self._memo]
        prefetch = getattr(self.loader, "prefetch", None)  # a folder: read at once, as columns
        if prefetch is not None:
            prefetch(list(dict.fromkeys([*wanted, *(index_ticker(self.market, t)
                                                    for t in wanted)])))
        of = getattr(self.loader, "columns", None)  # a wrapper's frames are its own
        for i, ticker in enumerate(wanted):
            try:
                group = groups.setdefault(index_ticker(self.market, ticker), {})
                found = of(ticker) if of is not None else None  # its columns: no frame
                group[ticker] = found if found is not None else prices(self.loader.load(ticker))
            except (BadInput, DataUnavailable) as exc:
                self._memo[ticker] = exc
            if progress is not None:
                progress(i + 1)
        for name, stocks in groups.items():
            market = self._market(name)
            if not isinstance(market, Prices):
                self._memo.update(dict.fromkeys(stocks, market))
                continue
            aligned = align_many(list(stocks.values()), market, self.trade_to_trade,
                                 frames=_Frames(self.loader, list(stocks)))
            for ticker, series in zip(stocks, aligned, strict=True):
                self._memo[ticker] = self._benchmarked(ticker, series)

    def _prices(self, ticker: str, frame: pd.DataFrame) -> Prices:
        """``prices(frame)``, straight from the columns the loader read it as when it has them
        (the same arrays: no pass over a per-ticker frame)."""
        of = getattr(self.loader, "columns", None)  # a wrapper's frames are its own
        columns = of(ticker) if of is not None else None
        if columns is None:
            return prices(frame)
        return Prices(frame.attrs.get("ticker"), columns.nanoseconds(), columns.columns["close"],
                      columns.columns["volume"])

    def _one(self, ticker: str) -> Series | Failure:
        try:
            stock = self.loader.load(ticker)
            market = self._market(index_ticker(self.market, ticker))
            if not isinstance(market, Prices):
                return market
            return self._benchmarked(ticker, align(stock, market, self.trade_to_trade))
        except (BadInput, DataUnavailable) as exc:
            return exc

    def _market(self, name: str) -> Prices | Failure:
        if name not in self._markets:
            try:
                self._markets[name] = self._prices(name, self.loader.load(name))
            except (BadInput, DataUnavailable) as exc:
                self._markets[name] = exc
        return self._markets[name]

    def _benchmarked(self, ticker: str, found: Series | Failure) -> Series | Failure:
        if self.ipo is None or not isinstance(found, Series):
            return found
        try:
            return self.ipo.series(ticker, found)
        except (BadInput, DataUnavailable) as exc:
            return exc


class _Frames(Sequence[pd.DataFrame]):
    """The frames of ``tickers``, loaded only when asked for (``align_many`` asks for the
    frame of a ticker it found unusable)."""

    def __init__(self, loader: PriceLoader, tickers: list[str]):
        self.loader, self.tickers = loader, tickers

    def __len__(self) -> int:
        return len(self.tickers)

    @overload
    def __getitem__(self, k: int) -> pd.DataFrame: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[pd.DataFrame]: ...

    def __getitem__(self, k: int | slice) -> pd.DataFrame | Sequence[pd.DataFrame]:
        if isinstance(k, slice):
            return [self.loader.load(t) for t in self.tickers[k]]
        return self.loader.load(self.tickers[k])
