"""eventstudy: what happens to a stock around an IPO lock-up expiry or a listing date.

The notebook API is one call per CLI command::

    from eventstudy import lockup_study
    result = lockup_study("0020.HK", offline=True)
    result.summary(); result.car; result.to_dict()

The public names are loaded on first use (PEP 562), so ``import eventstudy`` and
``eventstudy --help`` do not import pandas, scipy or arch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eventstudy.errors import BadInput, ConfigError, DataUnavailable, EventStudyError

_LAZY = {
    "Event": "eventstudy.calendar.events",
    "lockup_events": "eventstudy.calendar.events",
    "make_event": "eventstudy.calendar.events",
    "read_events": "eventstudy.calendar.events",
    "Listing": "eventstudy.calendar.listings",
    "load_listings": "eventstudy.calendar.listings",
    "upcoming_expiries": "eventstudy.calendar.upcoming",
    "PriceLoader": "eventstudy.data.loader",
    "load_prices": "eventstudy.data.loader",
    "normalise_ticker": "eventstudy.data.tickers",
    "write_report": "eventstudy.report.writer",
    "batch_study": "eventstudy.studies.batch",
    "listing_study": "eventstudy.studies.listing",
    "ListingStudyResult": "eventstudy.results.listing_result",
    "event_study": "eventstudy.studies.lockup",
    "chunked_study": "eventstudy.studies.chunked",
    "lockup_study": "eventstudy.studies.lockup",
    "EventStudyResult": "eventstudy.results.result",
    "garch_study": "eventstudy.studies.garch",
    "brown_warner": "eventstudy.engine.simulate",
}

if TYPE_CHECKING:
    from eventstudy.calendar.events import Event, lockup_events, make_event, read_events
    from eventstudy.calendar.listings import Listing, load_listings
    from eventstudy.calendar.upcoming import upcoming_expiries
    from eventstudy.data.loader import PriceLoader, load_prices
    from eventstudy.data.tickers import normalise_ticker
    from eventstudy.engine.simulate import brown_warner
    from eventstudy.report.writer import write_report
    from eventstudy.results.listing_result import ListingStudyResult
    from eventstudy.results.result import EventStudyResult
    from eventstudy.studies.batch import batch_study
    from eventstudy.studies.chunked import chunked_study
    from eventstudy.studies.garch import garch_study
    from eventstudy.studies.listing import listing_study
    from eventstudy.studies.lockup import event_study, lockup_study


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'eventstudy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BadInput",
    "ConfigError",
    "DataUnavailable",
    "EventStudyError",
    "Event",
    "lockup_events",
    "make_event",
    "read_events",
    "Listing",
    "load_listings",
    "upcoming_expiries",
    "PriceLoader",
    "load_prices",
    "normalise_ticker",
    "write_report",
    "batch_study",
    "listing_study",
    "ListingStudyResult",
    "event_study",
    "chunked_study",
    "lockup_study",
    "EventStudyResult",
    "garch_study",
    "brown_warner",
]
__version__ = "0.2.0"  # the one source of the version (pyproject reads it; CHANGELOG.md)
