"""``batch_study``: many events at once, from an events file, a list of events or every lock-up
of a listings calendar, with CAAR and every cross-event test, by group."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.events import (
    Event,
    Skip,
    events_from_frame,
    lockup_events,
    read_events,
)
from eventstudy.calendar.listings import (
    Listing,
    load_listings,
    read_listings_file,
    with_tranches,
)
from eventstudy.calendar.sessions import HolidayPolicy
from eventstudy.data.loader import PriceLoader
from eventstudy.engine.formula import parse_formula
from eventstudy.engine.panel import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOW,
    LOCKUP_ESTIMATION,
    LOCKUP_MAX_ESTIMATION,
    LOCKUP_MODEL,
)
from eventstudy.engine.windows import MIN_ESTIMATION, Window, default_car_windows
from eventstudy.errors import BadInput
from eventstudy.parallel import in_parallel
from eventstudy.quality.finding import Finding
from eventstudy.results.designs import apply_designs
from eventstudy.results.result import EventStudyResult, StudyOptions
from eventstudy.studies.core import (
    _raise_if_nothing,
    make_loader,
    run_panel_study,
    with_known_listings,
)
from eventstudy.studies.distribute import distributable, distributed_study
from eventstudy.studies.garch import add_volatility


def listing_events(listings: dict[str, Listing], tranches: Sequence[str] | None = None
                   ) -> tuple[list[Event], list[Skip]]:
    """Every lock-up event of every listed (not expected) listing, optionally some tranches."""
    events: list[Event] = []
    skips: list[Skip] = []
    for listing in listings.values():
        if listing.status != "listed":
            continue
        if not listing.tranches:
            skips.append(Skip(f"{listing.ticker}:*", listing.ticker, listing.no_lockup_reason))
            continue
        names = [t.name for t in listing.tranches]
        wanted = [n for n in names if not tranches or n in tranches]
        if wanted:
            try:  # e.g. a listing dated 1985: before the exchange calendar
                events.extend(lockup_events(with_tranches(listing, wanted)))
            except BadInput as exc:
                skips.append(Skip(f"{listing.ticker}:*", listing.ticker, str(exc)))
        elif tranches:
            skips.append(Skip(f"{listing.ticker}:*", listing.ticker,
                              f"no tranche {', '.join(tranches)} (has: {', '.join(names)})"))
    return events, skips


def _check_group_by(group_by: str | None, events: Sequence[Event]) -> None:
    """A ``group_by`` that names no column of the events is an error, not silence."""
    if not group_by or not events:
        return
    columns = dict.fromkeys(["group", "tranche", "ticker", "name"])
    for event in events:
        columns.update(dict.fromkeys(event.to_dict()))
    if group_by not in columns:
        raise BadInput(f"--group-by {group_by[:40]!r}: no such column of the events (have: "
                       f"{', '.join(c for c in columns if c != 'event_id')})")


def batch_study(events: str | Path | pd.DataFrame | Sequence[Event] | None = None, *,
                listings: str | Path | None = None, tranches: Sequence[str] | None = None,
                group_by: str = "group", model: str | None = None, market: str | None = None,
                window: Window = DEFAULT_WINDOW, estimation: Window | None = None,
                car_windows: tuple[Window, ...] | None = None,
                min_estimation: int = MIN_ESTIMATION, keep_other_events: bool = False,
                holiday_policy: HolidayPolicy = "next",
                offline: bool = False, data: str | Path | None = None,
                cache_dir: str | Path | None = None, loader: PriceLoader | None = None,
                volatility: bool = False, executor: str = "serial", workers: int | None = None,
                progress: bool = False, regress: Sequence[str] = (),
                regress_window: Window = (0, 1), calendar_time: Window | None = None,
                calendar_weight_col: str | None = None,
                bootstrap: int = 0, **model_options: Any) -> EventStudyResult:
    """Many events at once, with CAAR, BHAR and every cross-event test, pooled and by group.

    ``events`` is an events file (CSV/YAML: ticker, date[, tranche, group, any column]), a
    DataFrame with the same columns (``listing_date`` too; blank cells are missing) or a list
    of Events (with ``listings``, a calendar file describing their listings: names, offer
    prices for the run-up of ``regress``); without it, every lock-up of every listing in
    ``listings`` (a calendar file; the bundled calendar by default), restricted to ``tranches``
    if given. ``model`` default: market-adjusted returns for the calendar's lock-ups (as
    ``lockup_study``), the market model for events files. Lock-up events estimate from listing
    day +``stabilisation`` (30) to day -21; file events on ``estimation`` (default -270..-21;
    an event with a ``listing_date`` from listing day +30 on); ``car_windows`` default as in
    ``lockup_study``.
    Events that cannot be studied are skipped with their reason and the batch goes on.
    ``executor`` runs the events' per-event stage (prices, panel, screens) in chunks of whole
    tickers and the GARCH fits: ``'serial'`` (default: local processes saved no wall time in
    ``benchmarks/bench_parallel.py``), ``'local'`` (``workers`` processes, default the usable
    CPUs; a script calling it needs ``if __name__ == "__main__":``, Python's rule for spawned
    processes) or ``'dask://HOST:PORT'``; the result is the serial one, number for number
    (``market="ipo-index"``: the events run in this process). Workers load the prices
    themselves: on a dask cluster, ``data``/``cache_dir`` must be readable at the same paths.
    ``volatility`` adds the GARCH study of every firm-day and the GARCH-standardised BMP test.
    Designs (``result.designs``):
    ``regress`` formulas on ``regress_window`` outcomes (``car ~ runup + C(tranche)``), the
    ``calendar_time`` portfolio over those days (value-weighted by the events' column
    ``calendar_weight_col``, e.g. ``market_cap``), ``bootstrap`` wild-bootstrap resamples of
    CAAR. ``model_options``: ``factors``, ``factor_cols``, ``rf_col``, ``dimson``, ``returns`` (see
    ``StudyOptions``). Each estimation window leaves out the event windows of the same firm's
    other events unless ``keep_other_events``. The data-quality screens (docs/quality.md) skip
    events whose windows hold an impossible return unless ``keep_suspect=True``; what they
    found is ``result.quality``.
    """
    for formula in regress:  # a formula outside the grammar fails before any data is loaded
        parse_formula(formula)
    end = (estimation or (LOCKUP_ESTIMATION if events is None else DEFAULT_ESTIMATION))[1]
    if model is None:
        model = LOCKUP_MODEL if events is None else "market"
    options = StudyOptions(model=model, market=market, window=window, estimation=estimation,
                           car_windows=default_car_windows(end) if car_windows is None
                           else car_windows, min_estimation=min_estimation,
                           group_by=group_by, keep_other_events=keep_other_events,
                           **model_options)
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir)
    used: dict[str, Listing] = {}
    listing_findings: list[Finding] = []
    calendar: dict[str, Listing] | None = None  # the IPO index's listings (default: bundled)
    if events is None:
        calendar = ({x.ticker: x for x in read_listings_file(Path(listings))} if listings
                    else load_listings())
        chosen, skips = listing_events(calendar, tranches)
        used = {e.ticker: calendar[e.ticker] for e in chosen}
        est, max_est = estimation or LOCKUP_ESTIMATION, LOCKUP_MAX_ESTIMATION
    else:
        chosen, skips = _given_events(events, holiday_policy)
        chosen, listing_findings = with_known_listings(chosen, load_listings(listings))
        est, max_est = estimation or DEFAULT_ESTIMATION, None
        if listings:  # the calendar's entries describe the events' listings (names, run-up)
            calendar = {x.ticker: x for x in read_listings_file(Path(listings))}
            used = {e.ticker: calendar[e.ticker] for e in chosen if e.ticker in calendar}
    if not chosen and not skips:
        raise BadInput("no events to study")
    if calendar_weight_col and calendar_time is None:
        raise BadInput("--weight-col weights the calendar-time portfolio: add --calendar-time")
    _check_group_by(group_by, chosen)
    if chosen and in_parallel(executor, workers) and distributable(options):
        result = distributed_study("batch", chosen, loader, options, estimation=est,
                                   max_estimation=max_est, executor=executor, workers=workers,
                                   listings=used, skipped=skips, findings=listing_findings,
                                   progress=progress, cross_section=True)
    else:
        result = run_panel_study("batch", chosen, loader, options, estimation=est,
                                 max_estimation=max_est, listings=used, skipped=skips,
                                 progress=progress, cross_section=True, universe=calendar,
                                 findings=listing_findings)
    _raise_if_nothing(result)
    result = apply_designs(result, regress_formulas=tuple(regress),
                           regress_window=regress_window, calendar_horizon=calendar_time,
                           bootstrap=bootstrap, weight_col=calendar_weight_col)
    if volatility:
        result = add_volatility(result, loader, executor=executor, progress=progress,
                                workers=workers)
    return result


def _given_events(events: str | Path | pd.DataFrame | Sequence[Event], policy: HolidayPolicy
                  ) -> tuple[list[Event], list[Skip]]:
    if isinstance(events, pd.DataFrame):
        return events_from_frame(events, policy, source="events DataFrame")
    if isinstance(events, str | Path):
        return read_events(events, policy)
    return list(events), []
