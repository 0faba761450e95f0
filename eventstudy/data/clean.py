"""Cleaning a raw price table into the one frame every source returns: a session-dated index,
``close`` (adjusted where the source says so) and ``volume``, with the adjustment recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.data.tickers import timezone_of
from eventstudy.errors import BadInput, DataUnavailable

ADJ_AUTO = "split- and dividend-adjusted close (Yahoo auto_adjust=True)"


ADJ_ADJCLOSE = "Yahoo 'Adj Close' (split- and dividend-adjusted)"


ADJ_UNKNOWN = "as given in the file (adjustment unknown)"


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
    frame = pd.DataFrame({c: _numbers(frame[c]) for c in keep}, index=frame.index)
    unreadable = (frame["close"].isna() & ~_is_missing(given) if not _is_number(given)
                  else np.zeros(len(frame), dtype=bool))
    if unreadable.any():  # a typo or a thousands separator must not silently drop a session
        at = np.asarray(unreadable).nonzero()[0][0]
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
        bad = frame.index[1:][np.diff(pd.DatetimeIndex(frame.index).asi8) < 0][0]
        raise BadInput(f"{ticker}: dates are not sorted ascending (at {bad.date()}) ({source})")
    close = frame["close"].to_numpy()
    if not np.isfinite(close).all():
        raise BadInput(f"{ticker}: infinite price in the data ({source})")
    if (close <= 0).any():
        bad = frame.index[close <= 0][0]
        raise BadInput(f"{ticker}: zero or negative price on {bad.date()} ({source})")
    if "volume" not in frame.columns:
        frame["volume"] = np.nan
    negative = frame["volume"].to_numpy() < 0
    if negative.any():
        raise BadInput(f"{ticker}: negative volume on {frame.index[negative][0].date()} ({source})")
    frame.attrs.update(ticker=ticker, source=source, adjustment=adjustment)
    return frame


MISSING_MARKERS = {"", "null", "nan", "na", "n/a", "none", "nat", "-"}


def _is_number(values: pd.Series) -> bool:
    """A column that is already numbers (int or float, not bool): nothing to parse."""
    return (pd.api.types.is_float_dtype(values.dtype)
            or pd.api.types.is_integer_dtype(values.dtype)) and not pd.api.types.is_bool_dtype(
        values.dtype)


def _numbers(values: pd.Series) -> pd.Series:
    """A column as float64: numbers as they are, text through ``pd.to_numeric`` (unreadable
    cells become NaN, reported by the caller for ``close``)."""
    if _is_number(values):
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce").astype(float)


def _is_missing(values: pd.Series) -> pd.Series:
    """Cells that mean "no value": NaN/None, or a missing-value marker like Yahoo's ``null``."""
    text = values.astype(str).str.strip().str.lower()
    return values.isna() | text.isin(MISSING_MARKERS)


def _lower_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip().lower().replace("_", " ") for c in frame.columns]
    return frame


DAY_FIRST, MONTH_FIRST = "%d/%m/%Y", "%m/%d/%Y"


def _parse_dates(values: pd.Series | pd.Index, where: str) -> pd.DatetimeIndex:
    """One date format for the whole column: ISO 8601, else DD/MM/YYYY or MM/DD/YYYY.

    A column both slash formats read entirely (every day <= 12) is ambiguous, and one that no
    single format reads (formats mixed within the file, or unreadable cells) is rejected: a
    date is never guessed cell by cell.
    """
    text = pd.Series(values).astype(str).str.strip()
    iso = _parse_as(text, "ISO8601")
    if iso is not None:
        return _in_range(iso, text, where)
    readings = {f: _parse_as(text, f) for f in (DAY_FIRST, MONTH_FIRST)}
    read = [f for f, parsed in readings.items() if parsed is not None]
    if len(read) == 2:
        raise BadInput(f"{where}: ambiguous dates (e.g. {text.iloc[0]!r}): both DD/MM/YYYY and "
                       "MM/DD/YYYY read every row; write them as YYYY-MM-DD")
    if len(read) == 1:
        return _in_range(readings[read[0]], text, where)  # type: ignore[arg-type]
    sample = next((t for t in text if _parse_as(pd.Series([t]), "ISO8601") is None), text.iloc[0])
    raise BadInput(f"{where}: unreadable date {sample!r} or mixed date formats; one format per "
                   "file: YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY")


FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")


def _in_range(dates: pd.DatetimeIndex, text: pd.Series, where: str) -> pd.DatetimeIndex:
    """``dates`` if every one is within 1900..2100 (a year 0000, a leading ``-`` are typos)."""
    plain = dates.tz_localize(None) if dates.tz is not None else dates
    bad = (plain < FIRST_DATE) | (plain > LAST_DATE)
    if bad.any():
        raise BadInput(f"{where}: date {text.iloc[bad.nonzero()[0][0]]!r} is outside "
                       f"{FIRST_DATE.year}..{LAST_DATE.year}")
    return dates


def _parse_as(text: pd.Series, fmt: str) -> pd.DatetimeIndex | None:
    """``text`` parsed with ``fmt`` in every row, or None if a row does not fit."""
    for utc in (False, True):  # mixed UTC offsets (a DST change) only parse to UTC
        try:
            parsed = pd.DatetimeIndex(pd.to_datetime(text, format=fmt, utc=utc))
        except (ValueError, TypeError, OverflowError):
            continue
        return parsed
    return None


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
    text = [c for c in table.columns if not _is_number(table[c])]
    if text:  # cells of numbers need no missing-value markers replaced
        table[text] = table[text].replace({"null": np.nan, "": np.nan})
    index = _parse_dates(table.pop("date"), where)
    table.index = index
    return clean_prices(table, ticker, source=where, adjustment=adjustment)


def placeholder_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that record no trading: volume exactly 0 and the close unchanged from the row before.

    Yahoo writes such flat, zero-volume rows during suspensions (and on days it has no trade
    record). They are not sessions of the stock: a return of 0 and a volume of 0 there would be
    invented observations. A zero-volume row whose close moved (Hong Kong half-days: 24 and 31
    December, Lunar New Year's Eve) traded and is kept; its volume is treated as missing by the
    engine. The first row has no row before it and is never a placeholder.
    """
    if "volume" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return placeholder_mask(frame["close"].to_numpy(float), frame["volume"].to_numpy(float))


def placeholder_mask(close: np.ndarray, volume: np.ndarray,
                     starts: np.ndarray | None = None) -> np.ndarray:
    """``placeholder_rows`` on the close and volume arrays (a missing volume is never 0);
    ``starts``: the first rows of the series laid end to end in them (none is a placeholder,
    as the first row of one series)."""
    out = np.zeros(len(close), dtype=bool)
    at = np.flatnonzero(volume[1:] == 0) + 1  # rare: compare the closes there only
    if starts is not None and len(at):
        at = at[~np.isin(at, starts)]
    if len(at):
        out[at] = np.isclose(close[at], close[at - 1], rtol=1e-9, atol=0.0)
    return out


def drop_placeholder_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` without its placeholder rows (``placeholder_rows``), and their dates.

    Dropping them before returns are computed makes the next real session's return span the
    gap, as for any other day without trading (a suspension).
    """
    drop = placeholder_rows(frame)
    dates = frame.index[drop].to_numpy("datetime64[ns]")
    if not drop.any():
        return frame, dates
    kept = frame[~drop]
    kept.attrs.update(frame.attrs)
    return kept, dates


PLAIN = ("date", "open", "high", "low", "close", "volume")


def plain_frame(table: pd.DataFrame, ticker: str, where: str) -> pd.DataFrame | None:
    """The clean frame of the common table, built in a few numpy steps: a ``date`` column of
    ISO dates, then number columns among open/high/low/close/volume, every row complete, dates
    ascending, prices positive and finite. Anything else gives None: ``frame_from_table`` then
    does the full cell-by-cell work (and names the problem). Both give the same frame."""
    columns = list(table.columns)
    names = [str(c).strip().lower() for c in columns]
    numbers = all((dtype.kind in "fiu") for dtype in table.dtypes.iloc[1:])
    if (not numbers or names[0] != "date" or "close" not in names
            or len(set(names)) != len(names) or not set(names) <= set(PLAIN)):
        return None
    try:
        index = pd.DatetimeIndex(pd.to_datetime(table[columns[0]], format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        return None
    if index.tz is not None or index.hasnans or not len(index):
        return None
    stamps = index.asi8 * _NS_PER[index.unit]
    if (not (stamps[1:] > stamps[:-1]).all() or (stamps % _DAY_NS).any()
            or stamps[0] < FIRST_DATE.value or stamps[-1] > LAST_DATE.value):
        return None
    block = table[columns[1:]].to_numpy(float)
    values = {n: block[:, i] for i, n in enumerate(names[1:])}
    close = values["close"]
    if not (np.isfinite(close).all() and (close > 0).all()):
        return None
    if "volume" in values and (values["volume"] < 0).any():
        return None
    keep = [c for c in ("open", "high", "low", "close", "volume") if c in values]
    if "volume" not in values:
        values["volume"] = np.full(len(index), np.nan)
        keep.append("volume")
    frame = pd.DataFrame({c: values[c] for c in keep}, index=index.rename("date"))
    frame.attrs.update(ticker=ticker, source=where, adjustment=ADJ_UNKNOWN)
    return frame


_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


_DAY_NS = 86_400 * 10**9
