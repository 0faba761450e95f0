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
