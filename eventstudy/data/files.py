"""Price files on disk: a user's CSV/parquet file or folder (``--data``) and the bundled real data
under ``data/prices`` (provenance in ``data/PROVENANCE.md``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from eventstudy.data.clean import frame_from_table
from eventstudy.data.tickers import normalise_ticker
from eventstudy.errors import BadInput, DataUnavailable

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


DATA_DIR = Path(os.environ.get("EVENTSTUDY_DATA_DIR", PACKAGE_ROOT / "data"))


BUNDLED_PRICES = DATA_DIR / "prices"


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
