"""Yahoo Finance through yfinance: ``YahooSource`` with a bounded retry budget, transient versus
permanent errors, and the frame cleaned like every other source."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from eventstudy.data.clean import ADJ_AUTO, frame_from_table
from eventstudy.errors import BadInput, DataUnavailable

log = logging.getLogger(__name__)


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
    retried with exponential backoff. ``max_wait`` bounds the whole wall time spent on one ticker,
    requests and their time-outs included: each request is given the budget left as its time-out
    and no retry starts once the budget is spent. An empty response, or one that is not a frame
    with single-level columns (a dict, a MultiIndex-column frame), is an error that names the
    ticker.
    """

    retries: int = 3
    backoff: float = 2.0
    timeout: float = 20.0
    max_wait: float = 30.0  # seconds of wall time at most, per ticker, time-outs included
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    name: str = "Yahoo"

    def _request(self, ticker: str, timeout: float) -> object:
        import yfinance as yf

        return yf.Ticker(ticker).history(
            period="max", interval="1d", auto_adjust=True, actions=False,
            raise_errors=True, timeout=timeout,
        )

    def load(self, ticker: str) -> pd.DataFrame:
        start, slept = self.clock(), 0.0

        def spent() -> float:  # wall time so far (a test's fake sleep does not move the clock)
            return max(self.clock() - start, slept)

        for attempt in range(self.retries + 1):
            timeout = max(min(self.timeout, self.max_wait - spent()), MIN_TIMEOUT)
            try:
                raw = self._request(ticker, timeout)
                break
            except Exception as exc:  # noqa: BLE001 - yfinance raises many unrelated types
                if _is_missing_ticker(exc):
                    raise DataUnavailable(
                        f"no price data for {ticker} from Yahoo: unknown or delisted?"
                    ) from None
                delay = self.backoff * 2**attempt
                # The retry needs its wait and a useful time-out (MIN_TIMEOUT) within the budget.
                budget_left = spent() + delay + MIN_TIMEOUT <= self.max_wait
                if _is_transient(exc) and attempt < self.retries and budget_left:
                    log.warning("Yahoo: %s for %s; retrying in %.1fs", _reason(exc), ticker, delay)
                    self.sleep(delay)
                    slept += delay
                    continue
                raise DataUnavailable(f"Yahoo unreachable for {ticker}: {_reason(exc)}") from None
        return _frame_of(raw, ticker)


MIN_TIMEOUT = 1.0  # seconds: a retry with less time than this left is not started


def _frame_of(raw: object, ticker: str) -> pd.DataFrame:
    """The clean frame of a ``Ticker.history`` answer; anything unusable is DataUnavailable."""
    if not isinstance(raw, pd.DataFrame):
        raise DataUnavailable(f"unusable data for {ticker} from Yahoo: a "
                              f"{type(raw).__name__}, not a table")
    if isinstance(raw.columns, pd.MultiIndex) or isinstance(raw.index, pd.MultiIndex):
        raise DataUnavailable(f"unusable data for {ticker} from Yahoo: multi-level columns")
    close = [c for c in raw.columns if str(c).strip().lower() == "close"]
    if not raw.empty and len(close) != 1:  # columns renamed (a yfinance version): say so
        shown = ", ".join(str(c) for c in raw.columns[:12])
        raise DataUnavailable(f"unusable data for {ticker} from Yahoo: "
                              f"{'no' if not close else 'more than one'} Close column "
                              f"(columns: {shown})")
    if raw.empty or raw[close[0]].isna().all():
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
