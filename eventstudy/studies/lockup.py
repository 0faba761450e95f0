"""``lockup_study``: every lock-up tranche of each listing (from the calendar, or inferred from the
first trading day), and ``event_study`` for a list of events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eventstudy.calendar.events import Event, Skip, lockup_events
from eventstudy.calendar.listings import (
    Listing,
    load_listings,
    with_tranches,
)
from eventstudy.calendar.sessions import to_timestamp
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import normalise_ticker
from eventstudy.engine.panel import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOW,
    LOCKUP_ESTIMATION,
    LOCKUP_MAX_ESTIMATION,
    LOCKUP_MODEL,
)
from eventstudy.engine.windows import MIN_ESTIMATION, Window, default_car_windows
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.finding import Finding
from eventstudy.quality.listing import ImplausibleListing
from eventstudy.results.result import EventStudyResult, StudyOptions
from eventstudy.studies.core import (
    _raise_if_nothing,
    listing_for,
    make_loader,
    run_panel_study,
    with_known_listings,
)
from eventstudy.studies.garch import add_volatility


def lockup_study(tickers: str | Sequence[str], *, tranches: Sequence[str] | None = None,
                 model: str | None = None, market: str | None = None,
                 window: Window = DEFAULT_WINDOW, estimation: Window | None = None,
                 car_windows: tuple[Window, ...] | None = None,
                 min_estimation: int = MIN_ESTIMATION, keep_other_events: bool = False,
                 offline: bool = False,
                 data: str | Path | None = None, cache_dir: str | Path | None = None,
                 listings: str | Path | None = None, loader: PriceLoader | None = None,
                 volatility: bool | None = None, executor: str = "serial",
                 workers: int | None = None, progress: bool = False,
                 listing_date: Any = None,
                 **model_options: Any) -> EventStudyResult:
    """Lock-up expiry study of one or more tickers: one event per lock-up tranche.

    Day 0 is the first exchange session on or after listing date + N months. ``model`` default:
    market-adjusted returns, AR = R - Rm (Field & Hanka 2001; Brav & Gompers 2003): no post-IPO
    intercept is extrapolated; the market model is shown beside it (``result.robustness``).
    Variance and volume baseline come from the sessions from listing day +``stabilisation``
    (default 30, after the price-stabilisation period) to day -21 (at most 250; ``estimation``
    overrides the relative window); the event windows of the listing's other tranches are left
    out of it unless ``keep_other_events``.
    ``volatility`` adds the GARCH study of each firm-day (default: for a single ticker), run by
    ``executor`` (``workers`` processes with ``local``; default the usable CPUs).
    ``listing_date`` (one ticker): the listing date when the calendar does not know it and the
    first row of the prices is no plausible listing day (docs/quality.md).
    ``keep_suspect=True`` studies events whose windows hold an impossible return (flagged).
    ``car_windows`` default: the pre-event windows [-20,-1] and [-10,-1] (anticipation of a known
    expiry) and [0,0] .. [0,+20], less those the estimation window runs into.
    """
    names = [tickers] if isinstance(tickers, str) else list(tickers)
    if not names:
        raise BadInput("no ticker given")
    if car_windows is None:
        car_windows = default_car_windows((estimation or LOCKUP_ESTIMATION)[1])
    options = StudyOptions(model=model or LOCKUP_MODEL, market=market, window=window,
                           estimation=estimation, car_windows=car_windows,
                           min_estimation=min_estimation, keep_other_events=keep_other_events,
                           **model_options)
    single = data if len(names) == 1 else None
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir,
                                   data_ticker=normalise_ticker(names[0]) if single else None)
    calendar = load_listings(listings)
    given = to_timestamp(listing_date, "--listing-date") if listing_date is not None else None
    if given is not None and len(names) > 1:
        raise BadInput("--listing-date dates one listing: give one ticker")
    events: list[Event] = []
    skips: list[Skip] = []
    used: dict[str, Listing] = {}
    findings: list[Finding] = []
    for name in names:
        ticker = normalise_ticker(name)
        try:
            listing = with_tranches(listing_for(ticker, calendar, loader, given),
                                    list(tranches or []))
            if not listing.tranches:
                raise BadInput(listing.no_lockup_reason)
            found = lockup_events(listing)  # a listing dated 1985: before the calendar
        except (DataUnavailable, BadInput) as exc:
            if len(names) == 1:
                raise
            skips.append(Skip.from_error(f"{ticker}:*", ticker, exc))
            if isinstance(exc, ImplausibleListing):
                findings.append(Finding(ticker, "listing_date", exc.where, exc.why,
                                        "skipped: give the listing date", f"{ticker}:*"))
            continue
        used[ticker] = listing
        events.extend(found)
    result = run_panel_study("lockup", events, loader, options,
                             estimation=estimation or LOCKUP_ESTIMATION,
                             max_estimation=LOCKUP_MAX_ESTIMATION, listings=used,
                             skipped=skips, progress=progress, universe=calendar,
                             findings=findings)
    inferred = [f"{ticker} is not in the listings calendar: its listing date "
                f"{listing.listing_date.date()} was inferred from the first trading day of its "
                "price history" for ticker, listing in used.items() if listing.inferred]
    if inferred:  # (replace makes the result's deferred tables)
        result = replace(result, notes=(*result.notes, *inferred))
    _raise_if_nothing(result)
    if volatility if volatility is not None else len(names) == 1:
        result = add_volatility(result, loader, executor=executor, progress=progress,
                                workers=workers)
    return result


def event_study(events: Sequence[Event], *, model: str = "market", market: str | None = None,
                window: Window = DEFAULT_WINDOW, estimation: Window = DEFAULT_ESTIMATION,
                car_windows: tuple[Window, ...] | None = None, min_estimation: int = MIN_ESTIMATION,
                keep_other_events: bool = False, offline: bool = False,
                data: str | Path | None = None, cache_dir: str | Path | None = None,
                loader: PriceLoader | None = None, skipped: Sequence[Skip] = (),
                progress: bool = False, **model_options: Any) -> EventStudyResult:
    """Event study of arbitrary events (ticker, session) with a fixed relative estimation window
    (less the event windows of the same firm's other events, unless ``keep_other_events``);
    ``car_windows`` default as in ``lockup_study``."""
    options, loader, events, found = fixed_window_setup(
        events, model=model, market=market, window=window, estimation=estimation,
        car_windows=car_windows, min_estimation=min_estimation,
        keep_other_events=keep_other_events, offline=offline, data=data, cache_dir=cache_dir,
        loader=loader, **model_options)
    result = run_panel_study("events", events, loader, options, estimation=estimation,
                             max_estimation=None, skipped=skipped, progress=progress,
                             findings=found)
    _raise_if_nothing(result)
    return result


def fixed_window_setup(events: Sequence[Event], *, model: str, market: str | None,
                       window: Window, estimation: Window,
                       car_windows: tuple[Window, ...] | None, min_estimation: int,
                       keep_other_events: bool, offline: bool, data: str | Path | None,
                       cache_dir: str | Path | None, loader: PriceLoader | None,
                       **model_options: Any
                       ) -> tuple[StudyOptions, PriceLoader, list[Event], list[Finding]]:
    """The options, the loader and the events (listing dates from the calendar) of a study with
    a fixed relative estimation window (``event_study``, ``chunked_study``)."""
    if car_windows is None:
        car_windows = default_car_windows(estimation[1])
    options = StudyOptions(model=model, market=market, window=window, estimation=estimation,
                           car_windows=car_windows, min_estimation=min_estimation,
                           keep_other_events=keep_other_events, **model_options)
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir)
    known, found = with_known_listings(events, load_listings())
    return options, loader, list(known), list(found)
