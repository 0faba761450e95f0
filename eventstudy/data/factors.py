"""Factor returns for factor models: a user's CSV/parquet file, or Kenneth French's data library.

``read_factors(path)`` returns a frame indexed by date with one column per factor, in decimals.
It reads the data library's CSV layout as served (text lines above the table, YYYYMMDD dates,
percent units, a copyright line below; converted to decimals) and plain tables (a date column
plus numeric factor columns, in decimals unless ``percent=True``). ``fetch_french(name)``
downloads a data-library file through pandas-datareader (online only)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput, DataUnavailable

_FRENCH_ROW = re.compile(r"^\s*\d{8}\s*,")


def _french_table(text: str) -> pd.DataFrame | None:
    """The daily table of a Ken French CSV, or None when ``text`` is not in that layout."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _FRENCH_ROW.match(line)]
    if not starts or not lines[starts[0] - 1].lstrip().startswith(","):
        return None
    first = starts[0]
    last = first
    while last + 1 < len(lines) and _FRENCH_ROW.match(lines[last + 1]):
        last += 1
    table = pd.read_csv(io.StringIO("\n".join([lines[first - 1], *lines[first:last + 1]])),
                        skipinitialspace=True)
    table = table.rename(columns={table.columns[0]: "date"})
    table["date"] = pd.to_datetime(table["date"].astype(str), format="%Y%m%d")
    return table.set_index("date") / 100.0


def read_factors(path: str | Path, percent: bool = False) -> pd.DataFrame:
    """Factor returns in decimals, indexed by date; one clear line for anything malformed."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"factor file {path} does not exist or is not a regular file")
    if path.suffix.lower() in (".parquet", ".pq"):
        table = _plain(pd.read_parquet(path), path)
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        french = _french_table(text)
        table = french if french is not None else _plain(pd.read_csv(io.StringIO(text)), path)
        percent = percent and french is None
    if percent:
        table = table / 100.0
    return _checked(table, path)


def _plain(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    names = {str(c).strip().lower(): c for c in frame.columns}
    date = names.get("date") or frame.columns[0]
    try:
        index = pd.to_datetime(frame[date].astype(str), format="mixed")
    except (ValueError, TypeError):
        raise BadInput(f"{path}: column {date!r} does not hold dates") from None
    out = frame.drop(columns=[date]).apply(pd.to_numeric, errors="coerce")
    out.index = pd.DatetimeIndex(index, name="date")
    return out


def _checked(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    if table.empty or table.shape[1] == 0:
        raise DataUnavailable(f"{path}: no factor rows")
    if table.index.has_duplicates:
        raise BadInput(f"{path}: duplicate date {table.index[table.index.duplicated()][0].date()}")
    table = table.astype(float)
    bad = ~np.isfinite(table.to_numpy()).all(axis=1)
    if bad.any():
        raise BadInput(f"{path}: a missing or non-numeric factor value on "
                       f"{table.index[bad][0].date()}")
    if (table.abs() > 1.0).to_numpy().any():
        raise BadInput(f"{path}: factor returns above 100% a day: are they in percent? "
                       "(use --factor-units percent)")
    return table.sort_index()


def fetch_french(name: str = "F-F_Research_Data_Factors_daily") -> pd.DataFrame:
    """A Ken French data-library table through pandas-datareader, in decimals (online)."""
    try:
        from pandas_datareader.famafrench import FamaFrenchReader
    except ImportError:
        raise DataUnavailable("pandas-datareader is not installed: pip install "
                              "pandas-datareader, or pass --factors FILE") from None
    try:
        tables = FamaFrenchReader(name, start="1900-01-01").read()
    except Exception as exc:  # network errors of any kind: data unavailable
        raise DataUnavailable(f"Ken French data library unreachable for {name}: {exc}") from None
    table = tables[0] / 100.0
    table.index = pd.DatetimeIndex(pd.to_datetime(table.index.astype(str)), name="date")
    return _checked(table, Path(name))
