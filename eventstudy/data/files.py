"""Price files on disk: a user's CSV/parquet file or folder (``--data``) and the bundled real data
under ``data/prices`` (provenance in ``data/PROVENANCE.md``), shipped inside the package."""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import pandas as pd

from eventstudy.data.clean import frame_from_table, plain_frame
from eventstudy.data.tickers import normalise_ticker
from eventstudy.errors import BadInput, DataUnavailable, EventStudyError


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


# Missing-value cells read as NaN in a column of numbers (other spellings leave the column text,
# and text goes through the strict cell-by-cell parse of ``clean``).
NA_CELLS = ["", "null", "NULL", "Null", "nan", "NaN", "NAN", "na", "NA", "n/a", "N/A", "none",
            "None", "NONE", "nat", "NaT", "NAT", "-"]


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

    def holds(self, ticker: str) -> bool:
        """Whether the user's data has a file for ``ticker`` (usable or not)."""
        if self._folder is not None:
            return bool(self._folder.files_for(ticker))
        try:
            own = self.ticker or normalise_ticker(self.path.stem.split("_")[0])
        except BadInput:
            return False
        return ticker == own and self.path.exists()
