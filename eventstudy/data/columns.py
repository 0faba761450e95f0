"""A price file's clean frame as columns (``PriceColumns``), and the plain CSV layout read by
pyarrow's CSV reader instead of pandas.

``read_plain_csv`` reads the layout ``eventstudy.data.clean.plain_frame`` takes (a ``date``
column of ISO dates, number columns among open/high/low/close/volume, dates ascending, closes
positive and finite) and gives None for anything else: that file then goes through the usual
pandas path (``files.read_price_file``), its dirt reaching the cleaning exactly as before. On a
plain file both give the same frame, bit for bit (tests/test_columns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from eventstudy.data.clean import ADJ_UNKNOWN, FIRST_DATE, LAST_DATE, PLAIN

ORDER = ("open", "high", "low", "close", "volume")  # the clean frame's column order


@dataclass(frozen=True)
class PriceColumns:
    """A clean price frame as arrays: int64 dates in ``unit``, float64 columns in frame order."""

    dates: np.ndarray
    unit: str
    columns: dict[str, np.ndarray]
    adjustment: str
    freq: str | None = None  # the index's ``freq`` (pandas may infer one on regular dates)

    def __len__(self) -> int:
        return len(self.dates)

    def frame(self, ticker: str, source: str) -> pd.DataFrame:
        """The clean frame (its columns are these arrays, not copies)."""
        index = pd.DatetimeIndex(self.dates.view(f"datetime64[{self.unit}]"), name="date")
        if self.freq is not None:
            index = pd.DatetimeIndex(index, freq=self.freq)  # checked against the dates
        frame = pd.DataFrame(self.columns, index=index, copy=False)
        frame.attrs.update(ticker=ticker, source=source, adjustment=self.adjustment)
        return frame

    def nanoseconds(self) -> np.ndarray:
        """The dates as int64 nanoseconds (``engine.columnar.prices`` of the frame)."""
        return self.dates if self.unit == "ns" else self.dates * _NS[self.unit]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> PriceColumns:
        """The columns of a clean frame (``clean.clean_prices`` or ``plain_frame``)."""
        index = pd.DatetimeIndex(frame.index)
        columns = {str(c): frame[c].to_numpy(np.float64) for c in frame.columns}
        return cls(index.asi8, str(index.unit), columns,
                   str(frame.attrs.get("adjustment", ADJ_UNKNOWN)), index.freqstr)


_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


_DAY_NS = 86_400 * 10**9


# Missing-value cells read as NaN in a column of numbers (other spellings leave the column text,
# and text goes through the strict cell-by-cell parse of ``clean``).
NA_CELLS = ["", "null", "NULL", "Null", "nan", "NaN", "NAN", "na", "NA", "n/a", "N/A", "none",
            "None", "NONE", "nat", "NaT", "NAT", "-"]


_READ = pacsv.ReadOptions(use_threads=False)  # one small file per call: threads across files
_CONVERT = pacsv.ConvertOptions(null_values=NA_CELLS, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)


@cache
def _parsed_unit() -> str:
    """The unit pandas gives ISO dates (``plain_frame`` parses them with ``pd.to_datetime``)."""
    return str(pd.DatetimeIndex(pd.to_datetime(pd.Series(["2000-01-03"]),
                                               format="ISO8601")).unit)


def read_plain_csv(data: bytes) -> PriceColumns | None:
    """The columns of a plain CSV price file (see the module docstring), or None."""
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=_READ,
                               convert_options=_CONVERT)
    except (pa.ArrowException, ValueError, OSError):
        return None
    return _plain(table)


def _plain(table: pa.Table) -> PriceColumns | None:
    names = [str(c).strip().lower() for c in table.column_names]
    if (not names or names[0] != "date" or "close" not in names or len(set(names)) != len(names)
            or not set(names) <= set(PLAIN) or table.num_rows == 0):
        return None
    dates = table.column(0)
    if dates.type != pa.date32() or dates.null_count:
        return None
    if not all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types[1:]):
        return None
    stamps = dates.cast(pa.int32()).to_numpy().astype(np.int64) * _DAY_NS
    if (not (stamps[1:] > stamps[:-1]).all() or stamps[0] < FIRST_DATE.value
            or stamps[-1] > LAST_DATE.value):
        return None
    values = {n: np.asarray(table.column(i).to_numpy(), dtype=np.float64)
              for i, n in enumerate(names) if i}
    close = values["close"]
    if not (np.isfinite(close).all() and (close > 0).all()):
        return None
    if "volume" in values and (values["volume"] < 0).any():
        return None
    if "volume" not in values:
        values["volume"] = np.full(len(stamps), np.nan)
    unit = _parsed_unit()
    return PriceColumns(stamps // _NS[unit], unit, {c: values[c] for c in ORDER if c in values},
                        ADJ_UNKNOWN)
