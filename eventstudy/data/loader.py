"""``PriceLoader``: one ticker's prices from Yahoo, the on-disk cache, a user's files or the bundled
data, in that order of preference, with the source and any fallback said once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.data.columns import PriceColumns
from eventstudy.data.files import FileSource, PriceSource, bundled_source
from eventstudy.data.tickers import normalise_ticker
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import BadInput, DataUnavailable

# The notes channel: every note is also in ``loader.notes`` (the CLI prints those from the result
# and silences this logger, so a note is said once).
log = logging.getLogger("eventstudy.sources")


@dataclass
class PriceLoader:
    """Load price frames: the user's ``data`` if given, else cache and Yahoo, else bundled data.

    Online (the default), a cache entry younger than ``max_age_hours`` is used as is; otherwise
    Yahoo is asked, its answer cached, and if Yahoo cannot be reached the (stale) cache or the
    bundled data serve instead, with a note saying so. ``offline=True`` never touches the network:
    cache first, then bundled data. Every decision is appended to ``notes``; that Yahoo is
    unreachable is one note for the run, naming every ticker served from elsewhere.
    """

    offline: bool = False
    data: Path | str | None = None
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
        self._columns: dict[str, PriceColumns] = {}  # the frames read as columns
        self._lazy: dict[str, str] = {}  # ticker -> source of its frame, made when loaded
        self._unreachable: DataUnavailable | None = None
        self._fallbacks: dict[str, str] = {}  # ticker -> source, while Yahoo is unreachable
        self._fallback_note: int | None = None  # where that note is in ``notes``
        self.data = Path(self.data) if self.data is not None else None
        self._user = FileSource(self.data, ticker=self.data_ticker) if self.data else None

    def load(self, ticker: str) -> pd.DataFrame:
        if isinstance(ticker, str) and ticker in self._memo:  # keys are normalised (idempotent)
            return self._memo[ticker]
        ticker = normalise_ticker(ticker)
        if ticker not in self._memo:
            lazy = self._lazy.pop(ticker, None)
            self._memo[ticker] = (self._columns[ticker].frame(ticker, lazy) if lazy is not None
                                  else self._load(ticker))
        return self._memo[ticker]

    def source(self, ticker: str) -> tuple[str, str]:
        """The ``source`` and ``adjustment`` attributes of ``load(ticker)``'s frame (without
        making the frame of a file read as columns)."""
        known = isinstance(ticker, str) and ticker in self._lazy  # a key: its own normal name
        name = ticker if known else normalise_ticker(ticker)
        lazy = self._lazy.get(name)
        if lazy is not None:
            return lazy, self._columns[name].adjustment
        attrs = self.load(name).attrs
        return str(attrs.get("source")), str(attrs.get("adjustment"))

    def prefetch(self, tickers: Iterable[str]) -> None:
        """Read the user's folder files of ``tickers`` at once, before ``load`` asks for them
        one by one: pyarrow's CSV reader on threads and the folder's columnar cache
        (``FolderSource.read_columns``); ``load`` makes the same frames from the columns when
        asked. Nothing else to do for other sources."""
        if self._user is None or not isinstance(self.data, Path) or not self.data.is_dir():
            return
        wanted = []
        for ticker in tickers:
            if isinstance(ticker, str) and (ticker in self._columns or ticker in self._memo):
                continue  # read already (its key is its normalised name)
            try:
                name = normalise_ticker(ticker)
            except BadInput:
                continue  # ``load`` says why
            if name not in self._memo and name not in self._columns:
                wanted.append(name)
        if not wanted:
            return
        read = self._user.read_columns(wanted, self.cache.root)
        for name, (frame, columns, source) in read.items():
            self._columns[name] = columns
            if frame is not None:
                self._memo[name] = frame
            else:  # made on demand: a study reads the columns (``columns``)
                self._lazy[name] = source

    def columns(self, ticker: str) -> PriceColumns | None:
        """The columns of ``load(ticker)`` if it was read as columns (``prefetch``), else None."""
        found = self._columns.get(ticker) if isinstance(ticker, str) else None  # normalised keys
        return found if found is not None else self._columns.get(normalise_ticker(ticker))

    def _load(self, ticker: str) -> pd.DataFrame:
        if (user := self._user) is not None:
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
            return self._fall_back(ticker, cached, exc)
        try:
            frame, _ = self.update_cache(ticker, frame, cached)
        except OSError as exc:  # a full disk or read-only cache must not lose the download
            self._note(f"could not write the cache for {ticker} ({exc}): not cached")
        return frame

    def update_cache(self, ticker: str, frame: pd.DataFrame, cached: pd.DataFrame | None
                     ) -> tuple[pd.DataFrame, Path]:
        """The one cache-update rule of every path (a study's load, ``fetch``): ``frame`` is
        reconciled with the cached history (``reconcile``: a shorter or holed answer never
        replaces it) and the result stored unless it is the cache itself. Returns what is
        served and the cache file; OSError if the cache cannot be written."""
        if cached is not None:
            frame, note = reconcile(frame, cached)
            if note:
                self._note(note)
            if frame is cached:
                return cached, self.cache.path(ticker)
        return frame, self.store(frame)

    def _fall_back(self, ticker: str, cached: pd.DataFrame | None,
                   exc: DataUnavailable) -> pd.DataFrame:
        """Unreachable, empty or unusable answer: the (stale) cache or bundled data serve."""
        unreachable = "unreachable" in str(exc)
        if unreachable and self._unreachable is None:
            self._unreachable = exc  # do not wait for the network again in this run
        reason = str(exc).split(": ", 1)[-1] if unreachable else str(exc)
        fallback = cached if cached is not None else self._bundled_or_none(ticker)
        if fallback is None:
            if unreachable:  # name this ticker, not the one that found Yahoo unreachable
                raise DataUnavailable(f"Yahoo unreachable for {ticker}: {reason}") from None
            raise exc
        if not unreachable:
            self._note(f"Yahoo failed ({reason}): {ticker} from {fallback.attrs['source']}")
            return fallback
        self._fallbacks[ticker] = str(fallback.attrs["source"])
        served = "; ".join(f"{t} from {s}" for t, s in self._fallbacks.items())
        message = f"Yahoo unreachable ({reason}): {served}"
        if self._fallback_note is None:
            log.warning(message)  # said once; the note grows with every ticker served elsewhere
            self._fallback_note = len(self.notes)
            self.notes.append(message)
        else:
            self.notes[self._fallback_note] = message
        return fallback

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
        if self._user is not None:
            frame = self._user.load(ticker)
        elif self.offline:
            frame = self.bundled.load(ticker)
        else:
            frame = self.yahoo.load(ticker)
        try:
            return self.update_cache(ticker, frame, self.cache.read(ticker))
        except OSError as exc:
            raise BadInput(f"cannot write the cache in {self.cache.root}: "
                           f"{exc.strerror or exc}") from None


def _span(frame: pd.DataFrame) -> str:
    return f"{frame.index[0].date()}..{frame.index[-1].date()}, {len(frame)} rows"


AGREE = 1e-6  # relative: closes this close on the shared sessions are the same adjustment


def reconcile(fresh: pd.DataFrame, cached: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """A fresh answer against the cache, compared on the whole set of dates.

    An answer holding every cached session is used as is. One that lacks sessions the cache has
    (a partial or holed answer, even with the same first and last date) never replaces the cache:
    if it brings no session the cache lacks, or its closes differ from the cache's on the shared
    sessions (a re-adjusted history), the cache is kept; otherwise the two are merged (fresh
    values on shared dates, the cached sessions kept). Either way with a note."""
    missing = cached.index.difference(fresh.index)
    if missing.empty:
        return fresh, None
    ticker = fresh.attrs.get("ticker", cached.attrs.get("ticker"))
    lacks = (f"Yahoo returned a partial history for {ticker} ({_span(fresh)}; the cache has "
             f"{_span(cached)}: {len(missing)} cached session(s) missing, first "
             f"{missing[0].date()})")
    shared = fresh.index.intersection(cached.index)
    if fresh.index.difference(cached.index).empty:
        return cached, f"{lacks}: using the cache"
    new, old = fresh["close"].reindex(shared).to_numpy(), cached["close"].reindex(shared).to_numpy()
    if not len(shared) or not np.allclose(new, old, rtol=AGREE, atol=0):
        return cached, f"{lacks} and its prices differ from the cache's: using the cache"
    merged = pd.concat([fresh, cached.loc[missing, list(fresh.columns)]]).sort_index()
    merged.attrs.update(fresh.attrs)
    origin = fresh.attrs.get("source", "Yahoo")
    merged.attrs["source"] = f"{origin} + {len(missing)} cached sessions"
    merged.attrs["cached_from"] = fresh.attrs.get("source", "Yahoo")
    return merged, f"{lacks}: merged, the cached sessions kept"


def load_prices(ticker: str, *, offline: bool = False, data: str | Path | None = None,
                cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One call for a notebook: the price frame of ``ticker`` from the usual chain of sources."""
    loader = PriceLoader(offline=offline, data=Path(data) if data else None,
                         cache_dir=Path(cache_dir) if cache_dir else None)
    return loader.load(ticker)
