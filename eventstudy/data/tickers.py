"""Ticker symbols: normalisation (``700.hk`` -> ``0700.HK``), the exchange, its calendar code, the
default market index and the time zone of a ticker."""

from __future__ import annotations

import re

from eventstudy.errors import BadInput

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


_TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]*$")


MAX_TICKER_LENGTH = 32  # Yahoo's longest symbols (``EURUSD=X``, ``0700.HK``) are far shorter


def normalise_ticker(ticker: str) -> str:
    """Yahoo's spelling of ``ticker``: ``20.HK``, ``00020.HK``, ``0020.hk`` -> ``0020.HK``."""
    text = str(ticker).strip().upper()
    if len(text) > MAX_TICKER_LENGTH:
        raise BadInput(f"not a ticker: {str(ticker)[:20]!r}... is {len(text)} characters long "
                       f"(at most {MAX_TICKER_LENGTH})")
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


IPO_INDEX = "ipo-index"  # the ``market`` that asks for an index of recent listings


def index_ticker(market: str | None, ticker: str) -> str:
    """The price series of the market of ``ticker``: ``market``, or the exchange's index when
    none is given or when the benchmark is the IPO index (which is built on its sessions)."""
    return market_for(ticker) if market in (None, "", IPO_INDEX) else market


def timezone_of(ticker: str) -> str:
    return EXCHANGES[exchange_of(ticker)][1]
