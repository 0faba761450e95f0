"""Where prices come from: Yahoo (yfinance), the bundled real data in ``data/``, or a user's files.

Every source returns the same *price frame*: a ``DataFrame`` indexed by exchange-local session
dates (tz-naive, sorted, unique) with columns ``close`` (adjusted close, > 0) and ``volume``, plus
``open``/``high``/``low`` where the input has them. ``frame.attrs`` records ``ticker``, ``source``
and ``adjustment`` so that reports can say what served the data and how it was adjusted.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput, DataUnavailable

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EVENTSTUDY_DATA_DIR", PACKAGE_ROOT / "data"))
BUNDLED_PRICES = DATA_DIR / "prices"

# Exchange by ticker suffix: (exchange-calendars code, timezone, market benchmark).
EXCHANGES: dict[str, tuple[str, str, str]] = {
    "HK": ("XHKG", "Asia/Hong_Kong", "^HSI"),
    "US": ("XNYS", "America/New_York", "^GSPC"),
    "SS": ("XSHG", "Asia/Shanghai", "000001.SS"),
    "SZ": ("XSHG", "Asia/Shanghai", "399001.SZ"),
    "T": ("XTKS", "Asia/Tokyo", "^N225"),
    "L": ("XLON", "Europe/London", "^FTSE"),
}
INDEX_EXCHANGE = {"^HSI": "HK", "^HSCE": "HK", "^GSPC": "US", "^IXIC": "US", "^N225": "T",
                  "^FTSE": "L", "000001.SS": "SS", "399001.SZ": "SZ"}

ADJ_AUTO = "split- and dividend-adjusted close (Yahoo auto_adjust=True)"
ADJ_ADJCLOSE = "Yahoo 'Adj Close' (split- and dividend-adjusted)"
ADJ_UNKNOWN = "as given in the file (adjustment unknown)"

_TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]*$")


def normalise_ticker(ticker: str) -> str:
    """Yahoo's spelling of ``ticker``: ``20.HK``, ``00020.HK``, ``0020.hk`` -> ``0020.HK``."""
    text = str(ticker).strip().upper()
    if not text or not _TICKER_RE.match(text):
        raise BadInput(f"not a ticker: {ticker!r}")
    code, _, suffix = text.rpartition(".")
    if suffix == "HK" and code.isdigit():
        number = int(code)
        if number == 0 or number > 99999:
            raise BadInput(f"not a Hong Kong stock code: {ticker!r}")
        return f"{number:04d}.HK"
    return text


def exchange_of(ticker: str) -> str:
    """The exchange key (``HK``, ``US``, ...) of a normalised ticker."""
    if ticker in INDEX_EXCHANGE:
        return INDEX_EXCHANGE[ticker]
    _, dot, suffix = ticker.rpartition(".")
    if dot and suffix in EXCHANGES:
        return suffix
    return "US"


def calendar_code(ticker: str) -> str:
    """The exchange-calendars code (``XHKG``, ``XNYS``...) whose sessions ``ticker`` trades on."""
    return EXCHANGES[exchange_of(ticker)][0]


def market_for(ticker: str) -> str:
    """Default market index of the exchange: ``.HK`` -> ``^HSI``, US -> ``^GSPC``."""
    return EXCHANGES[exchange_of(ticker)][2]


def timezone_of(ticker: str) -> str:
    return EXCHANGES[exchange_of(ticker)][1]


# --------------------------------------------------------------------------------------------
# Cleaning: every source ends here.


def clean_prices(raw: pd.DataFrame, ticker: str, source: str, adjustment: str) -> pd.DataFrame:
    """Validate and normalise a frame with a date index and close[/volume/ohlc] columns.

    Rows whose close is missing (Yahoo's ``null`` holiday rows, empty rows) are dropped. Duplicate
    or unsorted dates, non-positive or infinite prices and an empty result are errors.
    """
    frame = raw.copy()
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise BadInput(f"{ticker}: the price data has no date index")
    if frame.index.tz is not None:
        frame.index = frame.index.tz_convert(timezone_of(ticker)).tz_localize(None)
    frame.index = frame.index.normalize()
    frame.index.name = "date"
    if "close" not in frame.columns:
        raise BadInput(f"{ticker}: the price data has no close column")
    keep = [c for c in ("open", "high", "low", "close", "volume") if c in frame.columns]
    repeated = [c for c in keep if list(frame.columns).count(c) > 1]
    if repeated:
        raise BadInput(f"{ticker}: column {repeated[0]!r} appears twice in the price data")
    given = frame["close"]
    frame = frame[keep].apply(pd.to_numeric, errors="coerce").astype(float)
    unreadable = frame["close"].isna() & ~_is_missing(given)
    if unreadable.any():  # a typo or a thousands separator must not silently drop a session
        at = unreadable.to_numpy().nonzero()[0][0]
        raise BadInput(f"{ticker}: unreadable price {given.iloc[at]!r} on "
                       f"{frame.index[at].date()} ({source})")
    frame = frame[frame["close"].notna()]
    if frame.empty:
        raise DataUnavailable(f"no price data for {ticker} from {source}: empty or all missing")
    if frame.index.hasnans:
        raise BadInput(f"{ticker}: a row with a price has a missing or unreadable date ({source})")
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        raise BadInput(f"{ticker}: duplicate date {dup[0].date()} in the price data ({source})")
    if not frame.index.is_monotonic_increasing:
        bad = frame.index[1:][np.diff(frame.index.asi8) < 0][0]
        raise BadInput(f"{ticker}: dates are not sorted ascending (at {bad.date()}) ({source})")
    close = frame["close"].to_numpy()
    if not np.isfinite(close).all():
        raise BadInput(f"{ticker}: infinite price in the data ({source})")
    if (close <= 0).any():
        bad = frame.index[close <= 0][0]
        raise BadInput(f"{ticker}: zero or negative price on {bad.date()} ({source})")
    if "volume" not in frame.columns:
        frame["volume"] = np.nan
    frame.attrs.update(ticker=ticker, source=source, adjustment=adjustment)
    return frame


MISSING_MARKERS = {"", "null", "nan", "na", "n/a", "none", "nat", "-"}


def _is_missing(values: pd.Series) -> pd.Series:
    """Cells that mean "no value": NaN/None, or a missing-value marker like Yahoo's ``null``."""
    text = values.astype(str).str.strip().str.lower()
    return values.isna() | text.isin(MISSING_MARKERS)


# --------------------------------------------------------------------------------------------
# File layouts: classic Yahoo CSV, yfinance 3-row header, history() dump, plain date/close table.


def _lower_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip().lower().replace("_", " ") for c in frame.columns]
    return frame


def _parse_dates(values: pd.Series | pd.Index, where: str) -> pd.DatetimeIndex:
    text = pd.Series(values).astype(str).str.strip()
    try:
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        try:
            parsed = pd.to_datetime(text, utc=True, format="mixed")
        except (ValueError, TypeError) as exc:
            raise BadInput(f"{where}: unreadable date column ({exc})") from None
    return pd.DatetimeIndex(parsed)


def frame_from_table(table: pd.DataFrame, ticker: str, where: str) -> pd.DataFrame:
    """Turn a table in any supported layout into a clean price frame."""
    table = _lower_columns(table.copy())
    if len(table.columns) == 0:
        raise DataUnavailable(f"no price data for {ticker} in {where}: no columns")
    repeated = table.columns[table.columns.duplicated()]
    if len(repeated):
        raise BadInput(f"{where}: column {repeated[0]!r} appears twice (names ignore case)")
    first = table.columns[0]
    if first in ("price",) and len(table) >= 2:
        # yfinance 3-row header: "Price,...", "Ticker,...", "Date,,,": data starts on row 3.
        table = table.iloc[2:].rename(columns={"price": "date"})
        adjustment = ADJ_AUTO
    else:
        adjustment = ADJ_UNKNOWN
    if "date" not in table.columns:
        table = table.rename(columns={first: "date"})
    if "adj close" in table.columns:
        table = table.rename(columns={"close": "raw close", "adj close": "close"})
        adjustment = ADJ_ADJCLOSE
    elif "close" not in table.columns:
        for alias in ("price", "adjclose", "last", "px last"):
            if alias in table.columns:
                table = table.rename(columns={alias: "close"})
                break
        else:
            raise BadInput(f"{where}: no close column (columns: {', '.join(table.columns)})")
    if "dividends" in table.columns and adjustment == ADJ_UNKNOWN:
        adjustment = ADJ_AUTO  # a history() dump: yfinance adjusts by default
    table = table.replace({"null": np.nan, "": np.nan})
    index = _parse_dates(table.pop("date"), where)
    table.index = index
    return clean_prices(table, ticker, source=where, adjustment=adjustment)


def read_price_file(path: Path, ticker: str) -> pd.DataFrame:
    """Read a CSV or parquet price file of any supported layout."""
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
            if isinstance(table.index, pd.DatetimeIndex):
                table = table.reset_index()
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataUnavailable(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a UTF-8 text file") from None
    except pd.errors.EmptyDataError:
        raise DataUnavailable(f"no price data for {ticker} in {path}: empty file") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise BadInput(f"{path}: unreadable price file ({str(exc).splitlines()[0]})") from None
    if table.empty:
        raise DataUnavailable(f"no price data for {ticker} in {path}: empty file")
    if len(table.columns) < 2:
        raise BadInput(f"{path}: one column only ({table.columns[0]!r}); expected comma-separated "
                       "date,close[,volume]")
    return frame_from_table(table, ticker, where=str(path))


# --------------------------------------------------------------------------------------------
# Sources


class PriceSource(Protocol):
    """Anything that returns a price frame for a ticker."""

    name: str

    def load(self, ticker: str) -> pd.DataFrame: ...


def _files_for(folder: Path, ticker: str) -> list[Path]:
    patterns = (f"{ticker}.csv", f"{ticker}.parquet", f"{ticker}_*.csv", f"{ticker}_*.parquet")
    return sorted({p for pat in patterns for p in folder.glob(pat)})


def _combine(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames of one ticker; on overlapping dates the later file wins."""
    if len(frames) == 1:
        return frames[0]
    attrs = dict(frames[-1].attrs)
    merged = pd.concat(frames)
    merged = merged[~merged.index.duplicated(keep="last")].sort_index()
    merged.attrs.update(attrs)
    merged.attrs["source"] = " + ".join(str(f.attrs.get("source")) for f in frames)
    return merged


@dataclass
class FolderSource:
    """Price files in a folder, one ticker per ``TICKER.csv`` / ``TICKER_*.csv`` / ``.parquet``."""

    folder: Path
    name: str = "files"

    def tickers(self) -> list[str]:
        stems = {p.stem.split("_")[0] for p in self.folder.glob("*.csv")}
        stems |= {p.stem.split("_")[0] for p in self.folder.glob("*.parquet")}
        return sorted(stems)

    def load(self, ticker: str) -> pd.DataFrame:
        files = _files_for(self.folder, ticker)
        if not files:
            raise DataUnavailable(
                f"no {self.name} data for {ticker} in {self.folder} "
                f"(has: {', '.join(self.tickers()) or 'nothing'})"
            )
        frame = _combine([read_price_file(p, ticker) for p in files])
        frame.attrs["source"] = f"{self.name} ({', '.join(p.name for p in files)})"
        return frame


def bundled_source() -> FolderSource:
    """The real Yahoo data shipped in ``data/prices`` (see ``data/PROVENANCE.md``)."""
    return FolderSource(BUNDLED_PRICES, name="bundled")


@dataclass
class FileSource:
    """A user's file (served as ``ticker``, or as the ticker its name spells) or folder."""

    path: Path
    ticker: str | None = None
    name: str = "file"

    def load(self, ticker: str) -> pd.DataFrame:
        if self.path.is_dir():
            return FolderSource(self.path, name="file").load(ticker)
        own = self.ticker or normalise_ticker(self.path.stem.split("_")[0])
        if ticker != own:
            raise DataUnavailable(f"{self.path} holds {own}, not {ticker}")
        if not self.path.exists():
            raise DataUnavailable(f"no such file: {self.path}")
        return read_price_file(self.path, ticker)

    def holds(self, ticker: str) -> bool:
        """Whether the user's data has a file for ``ticker`` (usable or not)."""
        if self.path.is_dir():
            return bool(_files_for(self.path, ticker))
        try:
            own = self.ticker or normalise_ticker(self.path.stem.split("_")[0])
        except BadInput:
            return False
        return ticker == own and self.path.exists()


def _is_rate_limit(exc: BaseException) -> bool:
    return type(exc).__name__ == "YFRateLimitError" or "rate limit" in str(exc).lower()


def _is_missing_ticker(exc: BaseException) -> bool:
    names = {"YFPricesMissingError", "YFTickerMissingError", "YFTzMissingError"}
    return type(exc).__name__ in names


@dataclass
class YahooSource:
    """Yahoo Finance through yfinance: one ``Ticker.history`` request per ticker.

    ``auto_adjust=True`` is explicit (the close is split- and dividend-adjusted) and the response
    has single-level columns (what ``yf.download(..., multi_level_index=False)`` gives). Dates are
    converted to the exchange's local date. Rate limits, time-outs and dropped connections are
    retried with exponential backoff (at most ``max_wait`` seconds of waiting); an empty response
    is an error that names the ticker.
    """

    retries: int = 3
    backoff: float = 2.0
    timeout: float = 20.0
    max_wait: float = 30.0  # seconds of backoff at most, per ticker
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    name: str = "Yahoo"

    def _request(self, ticker: str) -> pd.DataFrame:
        import yfinance as yf

        return yf.Ticker(ticker).history(
            period="max", interval="1d", auto_adjust=True, actions=False,
            raise_errors=True, timeout=self.timeout,
        )

    def load(self, ticker: str) -> pd.DataFrame:
        waited = 0.0
        for attempt in range(self.retries + 1):
            try:
                raw = self._request(ticker)
                break
            except Exception as exc:  # noqa: BLE001 - yfinance raises many unrelated types
                if _is_missing_ticker(exc):
                    raise DataUnavailable(
                        f"no price data for {ticker} from Yahoo: unknown or delisted?"
                    ) from None
                delay = self.backoff * 2**attempt
                budget_left = waited + delay <= self.max_wait
                if _is_transient(exc) and attempt < self.retries and budget_left:
                    log.warning("Yahoo: %s for %s; retrying in %.1fs", _reason(exc), ticker, delay)
                    self.sleep(delay)
                    waited += delay
                    continue
                raise DataUnavailable(f"Yahoo unreachable for {ticker}: {_reason(exc)}") from None
        if raw is None or raw.empty or "Close" not in raw or raw["Close"].isna().all():
            raise DataUnavailable(f"no price data for {ticker} from Yahoo: unknown or delisted?")
        try:
            frame = frame_from_table(raw.reset_index(), ticker, where="Yahoo")
        except BadInput as exc:  # Yahoo's fault, not the user's: let the loader fall back
            raise DataUnavailable(f"unusable data for {ticker} from Yahoo: {exc}") from None
        return _mark_yahoo(frame)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0].split(". See ")[0] if str(exc) else type(exc).__name__


def _is_transient(exc: BaseException) -> bool:
    """Rate limits, time-outs and dropped connections are worth another try; a missing DNS
    answer (no network at all) is not."""
    text = str(exc).lower()
    if "resolve host" in text or "name or service not known" in text:
        return False
    return _is_rate_limit(exc) or "timeout" in type(exc).__name__.lower() or any(
        word in text for word in ("timed out", "timeout", "connection reset", "connection aborted",
                                  "502", "503", "504"))


def _mark_yahoo(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs.update(source="Yahoo", adjustment=ADJ_AUTO)
    return frame


# --------------------------------------------------------------------------------------------
# The loader: which source serves a ticker, with the cache in front.


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
        from eventstudy.cache import PriceCache

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
