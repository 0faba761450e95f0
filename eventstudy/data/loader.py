"""``PriceLoader``: one ticker's prices from Yahoo, the on-disk cache, a user's files or the bundled
data, in that order of preference, with the source and any fallback said once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from eventstudy.data.files import FileSource, PriceSource, bundled_source
from eventstudy.data.tickers import normalise_ticker
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import BadInput, DataUnavailable

log = logging.getLogger(__name__)


@dataclass
class PriceLoader:
    """Load price frames: the user's ``data`` if given, else cache and Yahoo, else bundled data.

    Online (the default), a cache entry younger than ``max_age_hours`` is used as is; otherwise
    Yahoo is asked, its answer cached, and if Yahoo cannot be reached the (stale) cache or the
    bundled data serve instead, with a note saying so. ``offline=True`` never touches the network:
    cache first, then bundled data. Every decision is appended to ``notes``.
    """

    offline: bool = False
    data: Path | None = None
    data_ticker: str | None = None
    cache_dir: Path | None = None
    max_age_hours: float = 12.0
    yahoo: PriceSource = field(default_factory=YahooSource)
    bundled: PriceSource = field(default_factory=bundled_source)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from eventstudy.data.cache import PriceCache

        self.cache = PriceCache(self.cache_dir)
        self._memo: dict[str, pd.DataFrame] = {}
        self._unreachable: DataUnavailable | None = None

    def load(self, ticker: str) -> pd.DataFrame:
        ticker = normalise_ticker(ticker)
        if ticker not in self._memo:
            self._memo[ticker] = self._load(ticker)
        return self._memo[ticker]

    def _load(self, ticker: str) -> pd.DataFrame:
        if self.data is not None:
            user = FileSource(self.data, ticker=self.data_ticker)
            try:
                return user.load(ticker)
            except DataUnavailable:
                if ticker == self.data_ticker or user.holds(ticker):
                    raise  # the user's own file is empty: never swap in other data silently
                # A market index not in the user's files: fall through to the usual sources.
        cached = self.cache.read(ticker)
        if self.offline:
            return cached if cached is not None else self.bundled.load(ticker)
        if cached is not None and self.cache.age_hours(cached) < self.max_age_hours:
            return cached
        try:
            if self._unreachable is not None:
                raise self._unreachable
            frame = self.yahoo.load(ticker)
        except DataUnavailable as exc:
            unreachable = "unreachable" in str(exc)
            if unreachable:
                self._unreachable = exc  # do not wait for the network again in this run
            # Unreachable, empty or unusable answer: the (stale) cache or bundled data serve.
            fallback = cached if cached is not None else self._bundled_or_none(ticker)
            if fallback is None:
                raise
            what = "Yahoo unreachable" if unreachable else "Yahoo failed"
            reason = str(exc).split(": ", 1)[-1] if unreachable else str(exc)
            self._note(f"{what} ({reason}): {ticker} from {fallback.attrs['source']}")
            return fallback
        if cached is not None and _covers_less(frame, cached):
            self._note(f"Yahoo returned a partial history for {ticker} "
                       f"({_span(frame)}; the cache has {_span(cached)}): using the cache")
            return cached
        try:
            self.store(frame)
        except OSError as exc:  # a full disk or read-only cache must not lose the download
            self._note(f"could not write the cache for {ticker} ({exc}): not cached")
        return frame

    def _bundled_or_none(self, ticker: str) -> pd.DataFrame | None:
        try:
            return self.bundled.load(ticker)
        except DataUnavailable:
            return None

    def _note(self, message: str) -> None:
        log.warning(message)
        self.notes.append(message)

    def store(self, frame: pd.DataFrame) -> Path:
        """Write ``frame`` to the cache (atomically); returns the cache file."""
        return self.cache.write(frame)

    def fetch(self, ticker: str) -> tuple[pd.DataFrame, Path]:
        """Fetch ``ticker`` from the user's data or Yahoo (never the cache) and cache it."""
        ticker = normalise_ticker(ticker)
        if self.data is not None:
            frame = FileSource(self.data, ticker=self.data_ticker).load(ticker)
        elif self.offline:
            frame = self.bundled.load(ticker)
        else:
            frame = self.yahoo.load(ticker)
        try:
            return frame, self.store(frame)
        except OSError as exc:
            raise BadInput(f"cannot write the cache in {self.cache.root}: "
                           f"{exc.strerror or exc}") from None


def _span(frame: pd.DataFrame) -> str:
    return f"{frame.index[0].date()}..{frame.index[-1].date()}, {len(frame)} rows"


def _covers_less(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    """A fresh download that starts later or ends earlier than what we had is partial."""
    return bool(new.index[0] > old.index[0] or new.index[-1] < old.index[-1])


def load_prices(ticker: str, *, offline: bool = False, data: str | Path | None = None,
                cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One call for a notebook: the price frame of ``ticker`` from the usual chain of sources."""
    loader = PriceLoader(offline=offline, data=Path(data) if data else None,
                         cache_dir=Path(cache_dir) if cache_dir else None)
    return loader.load(ticker)
