"""eventstudy: what happens to a stock around an IPO lock-up expiry or a listing date.

The notebook API is one call per CLI command::

    from eventstudy import lockup_study
    result = lockup_study("0020.HK", offline=True)
    result.summary(); result.car; result.to_dict()
"""

from eventstudy.errors import BadInput, ConfigError, DataUnavailable, EventStudyError
from eventstudy.events import Event, lockup_events, make_event, read_events
from eventstudy.ipo import ListingStudyResult, listing_study
from eventstudy.listings import Listing, load_listings
from eventstudy.report import write_report
from eventstudy.sources import PriceLoader, load_prices, normalise_ticker
from eventstudy.study import EventStudyResult, batch_study, event_study, lockup_study
from eventstudy.upcoming import upcoming_expiries

__all__ = [
    "BadInput", "ConfigError", "DataUnavailable", "Event", "EventStudyError",
    "EventStudyResult", "Listing", "ListingStudyResult", "PriceLoader", "batch_study",
    "event_study", "listing_study", "upcoming_expiries", "load_listings",
    "load_prices", "lockup_events", "lockup_study", "make_event", "normalise_ticker",
    "read_events", "write_report",
]
__version__ = "0.1.0"
