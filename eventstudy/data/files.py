"""Price files on disk: a user's CSV/parquet file or folder (``--data``) and the bundled real data
under ``data/prices`` (provenance in ``data/PROVENANCE.md``), shipped inside the package."""

from __future__ import annotations

import csv
import io
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import pandas as pd

from eventstudy.data.clean import frame_from_table, plain_frame
from eventstudy.data.columns import NA_CELLS, PriceColumns, read_plain_csv
from eventstudy.data.foldercache import Entries, FolderCache, Stamp, now_ns
from eventstudy.data.tickers import normalise_ticker
from eventstudy.errors import BadInput, DataUnavailable, EventStudyError

log = logging.getLogger(__name__)


def _bundled_root() -> Path:
    """``eventstudy/_bundled``: the package's copies of the repository's ``configs/`` and
    ``data/`` (``make bundle``), found with importlib.resources wherever it is installed."""
    root = resources.files("eventstudy").joinpath("_bundled")
    return root if isinstance(root, Path) else Path(str(root))  # a wheel installs plain files


BUNDLED_ROOT = _bundled_root()


BUNDLED_CONFIGS = BUNDLED_ROOT / "configs"


DATA_DIR = Path(os.environ.get("EVENTSTUDY_DATA_DIR", BUNDLED_ROOT / "data"))


BUNDLED_PRICES = DATA_DIR / "prices"


def check_data_path(path: Path) -> bool:
    """Refuse at once a ``--data`` that is neither a regular file nor a folder (a FIFO,
    ``/dev/zero``, a socket): reading one would block or never end. A missing path passes (the
    load says so). Returns whether ``path`` is a folder."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise BadInput(f"{path}: not a regular file or folder; give a CSV/parquet file or a folder")
    return stat.S_ISDIR(mode)


@contextmanager
def read_errors(path: Path, what: str, *, missing: EventStudyError, empty: EventStudyError,
                bad: type[BadInput] = BadInput,
                also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn what reading the table file ``path`` raises into one-line errors: ``missing`` (no
    such file), ``empty`` (no data), else ``bad`` (not UTF-8; unreadable ``what``, e.g. a parser
    error, an OSError or one of ``also``); eventstudy errors pass unchanged."""
    try:
        yield
    except EventStudyError:
        raise
    except FileNotFoundError:
        raise missing from None
    except UnicodeDecodeError:
        raise bad(f"{path}: not a UTF-8 text file") from None
    except pd.errors.EmptyDataError:
        raise empty from None
    except (ValueError, OSError) + also as exc:
        detail = (str(exc).splitlines() or [""])[0] or type(exc).__name__
        raise bad(f"{path}: unreadable {what} ({detail})") from None


def read_price_file(path: Path, ticker: str) -> pd.DataFrame:
    """Read a CSV or parquet price file of any supported layout (regular files only)."""
    if check_data_path(path):
        raise BadInput(f"{path}: a folder, not a price file")
    with read_errors(path, "price file", missing=DataUnavailable(f"no such file: {path}"),
                     empty=DataUnavailable(f"no price data for {ticker} in {path}: empty file")):
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
            if isinstance(table.index, pd.DatetimeIndex):
                table = table.reset_index()
        else:
            table = _read_csv(path)
    if table.empty:
        raise DataUnavailable(f"no price data for {ticker} in {path}: empty file")
    if len(table.columns) < 2:
        raise BadInput(f"{path}: one column only ({table.columns[0]!r}); expected comma-separated "
                       "date,close[,volume]")
    fast = plain_frame(table, ticker, where=str(path))
    return fast if fast is not None else frame_from_table(table, ticker, where=str(path))


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV table: the first (date) column as text, every other column as numbers when all its
    cells are numbers or ``NA_CELLS`` (one C-parser pass, about plain ``read_csv``), else text.
    Text is parsed cell by cell, strictly, in ``clean``. The file is read once."""
    data = path.read_bytes()
    first = data.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    header = next(csv.reader([first]), [])
    if not header or len(set(header)) != len(header):
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    return pd.read_csv(io.BytesIO(data), dtype={header[0]: str}, keep_default_na=False,
                       na_values={name: NA_CELLS for name in header[1:]}, encoding="utf-8-sig")


class PriceSource(Protocol):
    """Anything that returns a price frame for a ticker."""

    name: str

    def load(self, ticker: str) -> pd.DataFrame: ...


SUFFIXES = (".csv", ".parquet")


def list_price_files(folder: Path) -> dict[str, list[Path]]:
    """The price files of ``folder`` by normalised ticker, from ONE listing of the folder:
    ``TICKER.csv``, ``TICKER_anything.csv`` and the same in ``.parquet``, sorted by name."""
    found: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return found
    except OSError as exc:
        raise BadInput(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    for entry in sorted(entries, key=lambda e: e.name):
        stem, dot, suffix = entry.name.rpartition(".")
        if not dot or f".{suffix}" not in SUFFIXES:
            continue
        try:
            ticker = normalise_ticker(stem.split("_")[0])
        except BadInput:
            continue  # not a price file of ours (notes.csv, a name with spaces...)
        found.setdefault(ticker, []).append(Path(entry.path))
    return found


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
    _listing: dict[str, list[Path]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def files_for(self, ticker: str) -> list[Path]:
        """The files of ``ticker`` (the folder is listed once per source, O(files))."""
        if self._listing is None:
            self._listing = list_price_files(self.folder)
        return self._listing.get(normalise_ticker(ticker), [])

    def tickers(self) -> list[str]:
        self.files_for("X")  # list the folder
        return sorted(self._listing or {})

    def load(self, ticker: str) -> pd.DataFrame:
        files = self.files_for(ticker)
        if not files:
            raise DataUnavailable(
                f"no {self.name} data for {ticker} in {self.folder} "
                f"(has: {', '.join(self.tickers()) or 'nothing'})"
            )
        frame = _combine([read_price_file(p, ticker) for p in files])
        frame.attrs["source"] = f"{self.name} ({', '.join(p.name for p in files)})"
        return frame

    def read_many(self, tickers: Iterable[str], cache: FolderCache | None = None
                  ) -> dict[str, tuple[pd.DataFrame, PriceColumns]]:
        """``load`` of each of ``tickers`` that has one file, at once, with its columns: the
        cache's entry while the file is unchanged, else pyarrow's CSV reader in threads (plain
        CSVs: ``columns.read_plain_csv``) or ``read_price_file`` (any other file, the same
        frame as ``load``). A ticker whose file fails is left out: ``load`` says why."""
        return {ticker: (frame if frame is not None else columns.frame(ticker, source),
                         columns)
                for ticker, (frame, columns, source) in self.read_columns(tickers, cache).items()}

    def read_columns(self, tickers: Iterable[str], cache: FolderCache | None = None
                     ) -> dict[str, tuple[pd.DataFrame | None, PriceColumns, str]]:
        """``read_many`` without making the frames of the files read as columns: (the frame
        or None, the columns, the frame's source); ``columns.frame(ticker, source)`` is
        ``load``'s frame."""
        paths = {t: files[0] for t in tickers if len(files := self.files_for(t)) == 1}
        if not paths:
            return {}
        cached = cache.read() if cache is not None else {}
        start = now_ns()
        got: dict[str, tuple[pd.DataFrame | None, PriceColumns]] = {}
        todo: dict[str, Stamp] = {}
        for ticker, path in paths.items():
            try:
                stamp = Stamp.of(os.stat(path))
            except OSError:
                continue
            hit = cached.get(path.name)
            if hit is not None and hit[0] == stamp:
                got[ticker] = (None, hit[1])
            else:
                todo[ticker] = stamp
        fresh: Entries = {}
        plain = _in_threads(_read_plain, [paths[t] for t in todo])
        for (ticker, stamp), columns in zip(todo.items(), plain, strict=True):
            frame = None
            if columns is None:
                try:
                    frame = read_price_file(paths[ticker], ticker)
                except (BadInput, DataUnavailable):
                    continue
                columns = PriceColumns.of(frame)
            got[ticker] = (frame, columns)
            if stamp.settled(start):
                fresh[paths[ticker].name] = (stamp, columns)
        if cache is not None:
            self._update(cache, cached, fresh)
        out = {}
        for ticker, (frame, columns) in got.items():
            source = f"{self.name} ({paths[ticker].name})"
            if frame is not None:
                frame.attrs["source"] = source
            out[ticker] = (frame, columns, source)
        return out

    def _update(self, cache: FolderCache, cached: Entries, fresh: Entries) -> None:
        """Rewrite the cache if files were read or removed (a failed write costs a re-read)."""
        listed = {p.name for files in (self._listing or {}).values() for p in files}
        kept = {name: entry for name, entry in cached.items() if name in listed}
        if not fresh and len(kept) == len(cached):
            return
        try:
            cache.write({**kept, **fresh})
        except OSError as exc:
            log.warning("could not write the folder cache %s (%s)", cache.path, exc)


def _read_plain(path: Path) -> PriceColumns | None:
    """A plain CSV file's columns (``columns.read_plain_csv``), None for any other file."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        return read_plain_csv(path.read_bytes())
    except OSError:
        return None


def _in_threads(read: Callable[[Path], PriceColumns | None], paths: list[Path]
                ) -> list[PriceColumns | None]:
    """``[read(p) for p in paths]`` on a few threads (pyarrow releases the GIL while parsing)."""
    workers = min(CSV_THREADS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else os.cpu_count() or 1)
    if workers < 2 or len(paths) < 64:
        return [read(p) for p in paths]
    with ThreadPoolExecutor(workers, thread_name_prefix="eventstudy-csv") as pool:
        return list(pool.map(read, paths))


CSV_THREADS = 8


def bundled_source() -> FolderSource:
    """The real Yahoo data shipped in ``data/prices`` (see ``data/PROVENANCE.md``)."""
    return FolderSource(BUNDLED_PRICES, name="bundled")


@dataclass
class FileSource:
    """A user's file (served as ``ticker``, or as the ticker its name spells) or folder."""

    path: Path
    ticker: str | None = None
    name: str = "file"
    _folder: FolderSource | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        check_data_path(self.path)
        if self.path.is_dir():
            self._folder = FolderSource(self.path, name="file")

    def load(self, ticker: str) -> pd.DataFrame:
        if self._folder is not None:
            return self._folder.load(ticker)
        own = self.ticker or normalise_ticker(self.path.stem.split("_")[0])
        if ticker != own:
            raise DataUnavailable(f"{self.path} holds {own}, not {ticker}")
        if not self.path.exists():
            raise DataUnavailable(f"no such file: {self.path}")
        return read_price_file(self.path, ticker)

    def read_many(self, tickers: Iterable[str], cache_root: Path | None = None
                  ) -> dict[str, tuple[pd.DataFrame, PriceColumns]]:
        """``FolderSource.read_many`` for a folder, with its cache under ``cache_root``
        (nothing for a single file: ``load`` reads it)."""
        if self._folder is None:
            return {}
        cache = FolderCache(cache_root, self.path) if cache_root is not None else None
        return self._folder.read_many(tickers, cache)

    def read_columns(self, tickers: Iterable[str], cache_root: Path | None = None
                     ) -> dict[str, tuple[pd.DataFrame | None, PriceColumns, str]]:
        """``FolderSource.read_columns`` for a folder (nothing for a single file)."""
        if self._folder is None:
            return {}
        cache = FolderCache(cache_root, self.path) if cache_root is not None else None
        return self._folder.read_columns(tickers, cache)

    def holds(self, ticker: str) -> bool:
        """Whether the user's data has a file for ``ticker`` (usable or not)."""
        if self._folder is not None:
            return bool(self._folder.files_for(ticker))
        try:
            own = self.ticker or normalise_ticker(self.path.stem.split("_")[0])
        except BadInput:
            return False
        return ticker == own and self.path.exists()
