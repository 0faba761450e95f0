"""Is the first row of a price file a listing day? (class 2 of docs/quality.md)

A listing date inferred from data must be plausible: not the first session of a year (where
downloads start: 2009-01-02 is where many Yahoo panels begin), not the first date of the market
index's data (the same download), not followed by a long gap (placeholder rows skipped) or an
impossible move to the next trade (a stray row before trading starts). Otherwise the study
refuses and says how to give the date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.data.clean import placeholder_mask
from eventstudy.errors import BadInput

STRAY_GAP_DAYS = 14  # a first row followed by more than this many days without rows is a stray
STRAY_MOVE = 3.0  # ... or whose next close is x3 or /3


def how_to_give(ticker: str) -> str:
    return (f"give the listing date of {ticker}: add it to the listings calendar (eventstudy "
            "listings add), --listing-date YYYY-MM-DD, or a listing_date column in the events "
            "file")


def implausible_first_row(frame: pd.DataFrame, code: str | None = None,
                          market_start: pd.Timestamp | None = None) -> str | None:
    """Why the first row of ``frame`` is not a plausible listing day (None if it is)."""
    dates = pd.DatetimeIndex(frame.index)
    if not len(dates):
        return None
    first = dates[0]
    close = frame["close"].to_numpy(float)
    volume = (frame["volume"].to_numpy(float) if "volume" in frame
              else np.full(len(close), np.nan))
    trades = np.flatnonzero(~placeholder_mask(close, volume))
    if len(trades) > 1:  # the first trade after the first row (placeholder rows skipped)
        nxt = int(trades[1])
        gap, move = (dates[nxt] - first).days, close[nxt] / close[0]
        if gap > STRAY_GAP_DAYS:
            return (f"the first row {first.date()} is followed by {gap} days without trades "
                    f"(trading starts {dates[nxt].date()}): a stray row")
        if not 1 / STRAY_MOVE < move < STRAY_MOVE:
            return (f"the close moves x{move:.4g} from the first row {first.date()} to the "
                    f"next trade {dates[nxt].date()}: a stray row")
    if market_start is not None and first <= market_start:
        return (f"the first row {first.date()} is where the market index's data start too: "
                "the start of the download, not a listing")
    if _first_session_of_year(first, code):
        return (f"the first row {first.date()} is the first session of {first.year}: likely "
                "where the download starts, not a listing")
    return None


def _first_session_of_year(day: pd.Timestamp, code: str | None) -> bool:
    if day.month != 1 or day.day > 7:
        return False
    if code is None:
        return day.weekday() < 5 and all(
            d.weekday() >= 5 or (d.month, d.day) == (1, 1)
            for d in pd.date_range(day.replace(day=1), day - pd.Timedelta(days=1)))
    from eventstudy.calendar.sessions import exchange_calendar

    try:
        sessions = exchange_calendar(code).sessions_in_range(day.replace(day=1), day)
    except Exception:  # noqa: BLE001 - outside the calendar: decide by the date alone
        return _first_session_of_year(day, None)
    return len(sessions) > 0 and pd.Timestamp(sessions[0]) == day


class ImplausibleListing(BadInput):
    """The first row of a ticker's prices is no plausible listing day (exit code 2)."""

    def __init__(self, ticker: str, where: str, why: str):
        super().__init__(f"{ticker} is not in the listings calendar and its listing date cannot "
                         f"be inferred from its prices: {why}; {how_to_give(ticker)}")
        self.ticker, self.where, self.why = ticker, where, why


def check_inferred_listing(ticker: str, frame: pd.DataFrame, code: str | None = None,
                           market_start: pd.Timestamp | None = None) -> None:
    """BadInput (exit 2) saying how to give the listing date, if the first row is implausible."""
    why = implausible_first_row(frame, code, market_start)
    if why is not None:
        raise ImplausibleListing(ticker, str(pd.Timestamp(frame.index[0]).date()), why)


