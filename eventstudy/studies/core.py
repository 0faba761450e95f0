"""The engine run shared by every study: events -> panel -> model -> per-event tables -> result,
with skips collected and progress shown for long runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.calendar.listings import Listing, inferred_listing, load_listings
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import IPO_INDEX, calendar_code, index_ticker
from eventstudy.engine.abnormal import abnormal_return_table, bhar_table, car_table
from eventstudy.engine.crosssection import (
    aar_table,
    adjust_p_values,
    overlapping_windows,
    run_tests,
)
from eventstudy.engine.estimation import clean_estimation
from eventstudy.engine.models import MODEL_NAMES, AbnormalReturns, fit_model, parameter_table
from eventstudy.engine.panel import Panel, build_panel, correct_day0
from eventstudy.engine.prepare import base
from eventstudy.engine.robustness import robustness_table
from eventstudy.engine.significance import CAR_TESTS, DEFAULT_BHAR_TESTS, VOLUME_TESTS
from eventstudy.engine.validity import SIZE_FAILS, Design, design_of, mark_tests
from eventstudy.engine.volume import (
    MarketVolume,
    day0_volume_ratio,
    event_window_volume_ratio,
    market_volume,
    unadjusted_events,
    volume_table,
)
from eventstudy.engine.windows import Window, window_label, with_windows
from eventstudy.errors import BadInput, DataUnavailable, EventStudyError
from eventstudy.quality.events import (
    Screens,
    after_panel,
    before_panel,
    loader_arrays,
    loader_stack,
)
from eventstudy.quality.finding import Finding, findings_frame
from eventstudy.quality.listing import check_inferred_listing
from eventstudy.quality.stacked import Stacked
from eventstudy.results.data import deferred
from eventstudy.results.result import PROGRESS_MIN, CrossSection, EventStudyResult, StudyOptions
from eventstudy.studies.aligned import AlignedSeries
from eventstudy.studies.benchmark import IpoBenchmark, ipo_members


def _market_volume_of(loader: PriceLoader, market: str | None
                      ) -> Callable[[str], pd.Series | None]:
    """ticker -> the volume series of its market index (None when the index has none); one
    Series object per index, so that ``market_volume`` groups the tickers by it."""
    memo: dict[str, pd.Series | None] = {}

    def volume(ticker: str) -> pd.Series | None:
        name = index_ticker(market, ticker)
        if name not in memo:
            memo[name] = loader.load(name).get("volume")
        return memo[name]

    return volume


def _skip_frame(skips: Iterable[Skip]) -> pd.DataFrame:
    return pd.DataFrame([vars(s) for s in skips],
                        columns=["event_id", "ticker", "reason", "exit_code"])


def _event_rows(ar: AbnormalReturns, view: AbnormalReturns,
                listings: dict[str, Listing]) -> pd.DataFrame:
    panel = ar.panel
    frame = panel.events.reset_index(drop=True)  # tidy: event_id is a column, not the index
    moved = frame.pop("day0_note").tolist() if "day0_note" in frame else [""] * len(frame)
    c0 = panel.column(0)
    tickers = frame["ticker"].tolist()
    with np.errstate(invalid="ignore", divide="ignore"):
        t0 = ar.t_at(c0)
    added = {
        "name": [listings[t].name if t in listings else t for t in tickers],
        "model": [MODEL_NAMES[m] for m in ar.model.tolist()],
        "alpha": ar.alpha, "beta": ar.beta, "sigma": np.sqrt(ar.sigma2),
        "estimation_used": ar.n_est.astype(int),  # sessions the fit used (returns on both)
        "close_0": panel.close[:, c0] if panel.close is not None else np.nan,
        "return_0": panel.ret[:, c0], "market_return_0": panel.mkt[:, c0],
        "ar_0": ar.ar[:, c0], "t_0": t0,
        "volume_ratio_0": day0_volume_ratio(view), "volume_ratio": event_window_volume_ratio(view),
        "note": ["; ".join(filter(None, (m, ar.notes.get(i, "")))) for i, m in enumerate(moved)]}
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


def cleaning_notes(events: pd.DataFrame, options: StudyOptions) -> list[str]:
    """Study notes: estimation sessions left out (other event windows of the same firm) and
    placeholder rows dropped; per event for small studies, totals for large ones."""
    span = window_label(options.event_span)
    if len(events) <= PROGRESS_MIN and "event_id" in events:
        events = events.set_index("event_id")  # per event: keyed by its id
    dropped = events.get("placeholders_dropped", pd.Series(0, events.index))
    excluded = events.get("estimation_excluded", pd.Series(0, events.index))
    if len(events) > PROGRESS_MIN:
        return [f"{(col > 0).sum()} of {len(events)} events: {int(col.sum())} {what} "
                f"(column {col.name})" for col, what in (
                    (dropped, "placeholder rows (zero volume, unchanged close) dropped"),
                    (excluded, f"estimation sessions in the {span} window of another event "
                               "of the same firm left out")) if col.sum() > 0]
    notes = [f"{i}: {n} placeholder row(s) (zero volume, unchanged close: no trading) dropped "
             "in the estimation and event windows; the next session's return spans each"
             for i, n in dropped[dropped > 0].items()]
    notes += [f"{i}: {row['estimation_excluded']} estimation session(s) in the {span} window "
              f"of another event of {row['ticker']} left out, fitted on "
              f"{row['estimation_days']} (keep them: --keep-other-events)"
              for i, row in events[excluded > 0].iterrows()]
    return notes


def _drop_problems(ar: AbnormalReturns) -> tuple[AbnormalReturns, list[Skip]]:
    if not ar.problems:
        return ar, []
    ids = ar.panel.events.index
    skips = [Skip(ids[i], ar.panel.events["ticker"].iloc[i], reason)
             for i, reason in sorted(ar.problems.items())]
    keep = np.ones(len(ids), dtype=bool)
    keep[list(ar.problems)] = False
    return ar.subset(keep), skips


@dataclass
class PanelStage:
    """The per-event stage of a study, before the model: the cleaned and screened panel, the
    index volume on its dates, the events given to ``build_panel`` (``built``), the rows the
    screens removed (``removed``), the day-0 skips and the findings (day 0, then screens)."""

    panel: Panel
    market_volume: MarketVolume | None
    built: list[Event]
    removed: pd.DataFrame
    day0_skips: list[Skip]
    found: list[Finding]


def panel_stage(events: Sequence[Event], loader: PriceLoader, options: StudyOptions, *,
                estimation: Window, max_estimation: int | None, min_start: int = 1,
                ipo: IpoBenchmark | None = None, progress: bool = False) -> PanelStage:
    """Events -> prices -> the screened panel: everything a study does per event (and per
    ticker) before the model; its rows depend only on their own ticker's events."""
    trade_to_trade = options.returns == "trade_to_trade"
    load = AlignedSeries(loader, options.market, ipo, trade_to_trade)
    if hasattr(loader, "prefetch"):  # a folder of files: read at once (not a wrapper)
        loader.prefetch([e.ticker for e in events])
    arrays = loader_arrays(loader)
    stack = loader_stack(loader, dict.fromkeys(e.ticker for e in events))  # for both screens
    events, day0_skips, found = before_panel(
        events, loader.load, lambda t: None if ipo is not None else index_ticker(options.market, t),
        trade_to_trade, arrays, stack)
    tickers = list(dict.fromkeys(e.ticker for e in events))
    bar = _progress_bar(len(tickers), progress and len(events) >= PROGRESS_MIN,
                        "loading prices", "ticker")
    load.prefetch(tickers, progress=bar.update_to if bar else None)
    if bar:
        bar.close()
    events, moved = correct_day0(events, load)
    panel = build_panel(events, load, window=options.panel_window, estimation=estimation,
                        max_estimation=max_estimation, min_start=min_start, notes=moved,
                        stabilisation=options.stabilisation)
    panel = clean_estimation(panel, events, load, options.event_span, options.keep_other_events,
                             copy=False)  # the panel just built: its own blocks
    frame = panel.events
    panel, screened = _screen_panel(panel, loader, options, stack)
    del load  # the aligned series of every ticker: the panel holds what is needed from here
    ids = pd.Index(frame.index.to_numpy(object), dtype=object)  # Arrow-string isin: 30x slower
    return PanelStage(panel, market_volume(panel, _market_volume_of(loader, options.market)),
                      events, frame.loc[~ids.isin(panel.events.index.to_numpy(object))], day0_skips,
                      [*found, *screened])


def loader_sources(loader: PriceLoader) -> Callable[[str], tuple[str, str]]:
    """ticker -> (source, adjustment) of its loaded prices: the loader's own ``source`` where it
    has one (``PriceLoader.source``: without making the frames of a folder's files; a wrapper
    loader's), else the attributes of its frames."""
    own = getattr(loader, "source", None)
    if callable(own):
        return own  # type: ignore[no-any-return]

    def source(ticker: str) -> tuple[str, str]:
        attrs = loader.load(ticker).attrs
        return str(attrs.get("source")), str(attrs.get("adjustment"))

    return source


def run_panel_study(kind: str, events: Sequence[Event], loader: PriceLoader,
                    options: StudyOptions, *, estimation: Window, max_estimation: int | None,
                    listings: dict[str, Listing] | None = None,
                    skipped: Sequence[Skip] = (), progress: bool = False,
                    min_start: int = 1, cross_section: bool = False,
                    universe: dict[str, Listing] | None = None,
                    findings: Sequence[Finding] = ()) -> EventStudyResult:
    """Events -> panel -> model -> statistics: the one engine behind every study.
    ``universe``: the listings calendar the IPO-index benchmark draws on (``market=
    "ipo-index"``; default the bundled calendar merged with $EVENTSTUDY_LISTINGS)."""
    ipo = None
    if options.market == IPO_INDEX:
        ipo = IpoBenchmark(loader, ipo_members({**(universe or load_listings()),
                                                **(listings or {})}, events),
                           options.ipo_index_months, options.ipo_index_min)
    stage = panel_stage(events, loader, options, estimation=estimation,
                        max_estimation=max_estimation, min_start=min_start, ipo=ipo,
                        progress=progress)
    return finish_study(kind, stage.panel, stage.market_volume, options,
                        estimation=estimation, max_estimation=max_estimation,
                        listings=listings, skipped=[*skipped, *stage.day0_skips],
                        findings=[*findings, *stage.found], notes=loader.notes,
                        sources=loader_sources(loader), cross_section=cross_section, ipo=ipo)


def finish_study(kind: str, panel: Panel, volume: MarketVolume | None, options: StudyOptions,
                 *, estimation: Window, max_estimation: int | None,
                 listings: dict[str, Listing] | None, skipped: Sequence[Skip],
                 findings: Sequence[Finding], notes: Sequence[str],
                 sources: Callable[[str], tuple[str, str]], cross_section: bool = False,
                 ipo: IpoBenchmark | None = None) -> EventStudyResult:
    """The screened panel -> model -> per-event tables and the cross-event tests; what a CAR
    and t do not need (the tests, ``events``, ``abnormal_returns``, ``bhar``, ``volume``,
    ``parameters``, ``robustness``) is made when first read (``results.data.deferred``).
    ``sources``: ticker -> (source, adjustment) of its prices; ``notes``: the loader's."""
    ar = fit_model(panel, options.model, min_estimation=options.min_estimation,
                   regressors=options.regressors())
    ar = replace(ar, market_volume=volume)
    if ipo is not None:
        ar.problems.update(ipo.day0_problems(ar))
    ar, problem_skips = _drop_problems(ar)
    view = ar.window_view(options.window)
    listings = listings or {}
    events_out = cache(partial(_event_rows, ar, view, listings))  # made once, when first read
    head = ar.panel.events  # the columns the notes read (``_event_rows`` adds to them)
    tickers = list(dict.fromkeys(head["ticker"].tolist()))
    wanted = cross_section or len(tickers) > 1
    said = [*dict.fromkeys(notes), *cleaning_notes(head, options)]
    said += volume_notes(unadjusted_events(ar))
    found = {t: sources(t) for t in _tickers_loaded(tickers, options)}
    extras: dict[str, Any] = {"adjustment": {t: adjustment
                                             for t, (_, adjustment) in found.items()}}
    if ipo is not None:
        more, ipo_notes = ipo.describe(ar, events_out())
        extras.update(more)
        said += ipo_notes
    overlaps, cross = pd.DataFrame(), CrossSection()
    if wanted:
        overlaps, note = overlap_table(ar, options)
        design = design_of(ar)
        said += note + validity_notes_of(design)
        cross = CrossSection(compute=lambda: cross_section_tables(ar, options, events_out(),
                                                                  design))
    result = EventStudyResult(
        kind=kind, options=options, events=deferred(events_out, len(head)),
        abnormal_returns=deferred(partial(abnormal_return_table, view)),
        car=car_table(ar, options.car_windows),
        bhar=deferred(partial(bhar_table, ar, options.bhar_windows)),
        volume=deferred(partial(volume_table, ar, options.car_windows)),
        skipped=_skip_frame([*skipped, *panel.skipped, *problem_skips]), ar=ar,
        notes=tuple(said), listings=listings,
        sources={t: source for t, (source, _) in found.items()}, extras=extras,
        setup={"estimation": estimation, "max_estimation": max_estimation,
               "from_listing": max_estimation is not None},
        parameters=deferred(partial(parameter_table, ar)),
        robustness=deferred(partial(robustness_table, ar, options.model, options.min_estimation)),
        quality=findings_frame(findings), overlaps=overlaps, cross_section=cross)
    return result

def validity_notes(ar: AbnormalReturns) -> list[str]:
    """Which tests hold their size in this sample (``eventstudy.engine.validity``)."""
    return validity_notes_of(design_of(ar))


def validity_notes_of(design: Design) -> list[str]:
    """``validity_notes`` of a sample's ``Design``."""
    valid = design.valid()
    notes = []
    if valid is not None:
        notes.append(f"{design.reason()}: the tests that stay valid are "
                     f"{', '.join(valid) or 'none'}; the others (marked * in the test tables, "
                     "column valid False) do not hold their size here (docs/inference.md)")
    notes.append(f"{', '.join(SIZE_FAILS)}: outside 3-7% at 5% in the simulation on 199 real HK "
                 "stocks, independent or young-listing events (marked *; docs/inference.md)")
    return notes


def volume_notes(plain: Sequence[object]) -> list[str]:
    """The note on the events whose abnormal volume is not market-adjusted."""
    return [f"abnormal volume of {', '.join(map(str, plain))} is not market-adjusted: the "
            "market index has no volume on half of the estimation days (Campbell & Wasley "
            "1996 adjust by the index volume)"] if plain else []


def overlap_table(ar: AbnormalReturns, opts: StudyOptions) -> tuple[pd.DataFrame, list[str]]:
    """The overlapping event windows (only a firm's several events can overlap), its note."""
    view = ar.panel.window_view(opts.window)
    several = ar.panel.events["ticker"].duplicated(keep=False).to_numpy()
    overlaps = overlapping_windows(view if several.all() else view.subset(several))
    return overlaps, overlap_notes(overlaps)


def overlap_notes(overlaps: pd.DataFrame) -> list[str]:
    """The note on the pairs of events of one firm whose event windows overlap."""
    same = int(overlaps["same_firm_day"].sum()) if len(overlaps) else 0
    return ([f"{len(overlaps) - same} pair(s) of events of the same firm have overlapping "
             "event windows (see overlaps)"] if len(overlaps) > same else [])


def _screen_panel(panel: Panel, loader: PriceLoader, options: StudyOptions,
                  stack: Stacked | None = None) -> tuple[Panel, list[Finding]]:
    """The panel without the events whose windows hold an impossible return (unless
    ``options.keep_suspect``), and what the screens found per event (docs/quality.md);
    ``stack``: the loader's arrays end to end (the tickers it finds quiet are not screened)."""
    raw = getattr(loader, "raw", None)  # a listing study: the frames without the offer row
    screens = (Screens(raw, calendar_code) if raw is not None
               else Screens(loader.load, calendar_code, loader_arrays(loader), stack))
    keep, skips, found = after_panel(panel.events, panel.dates, panel.days, screens,
                                     options.event_span, options.car_windows,
                                     options.keep_suspect)
    if not keep.all():
        panel = panel.subset(keep)
    panel.skipped.extend(skips)
    return panel, found


def cross_section_tables(ar: AbnormalReturns, opts: StudyOptions, events: pd.DataFrame,
                         design: Design | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every test per window (pooled and per group of ``events``' ``opts.group_by`` column)
    and CAAR per day; ``design``: ``design_of(ar)`` if already made."""
    car_tests = (*CAR_TESTS, *VOLUME_TESTS)
    common = base(ar)  # the window-independent ingredients, once for every call below
    frames = [run_tests(ar, opts.car_windows, car_tests, common=common),
              run_tests(ar, opts.bhar_windows, DEFAULT_BHAR_TESTS, common=common)]
    groups = events.get(opts.group_by) if opts.group_by else None
    if groups is not None and groups.nunique() > 1:
        frames += [run_tests(ar, opts.car_windows, car_tests, by=opts.group_by, common=common),
                   run_tests(ar, opts.bhar_windows, DEFAULT_BHAR_TESTS, by=opts.group_by,
                             common=common)]
    return (mark_tests(finish_tests(frames), design or design_of(ar)),
            aar_table(ar, opts.window))


def finish_tests(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The tests frames (pooled, per group) as one table with a ``group`` column first and
    Holm/BH adjusted p-values over the whole table."""
    tests = pd.concat(frames, ignore_index=True)
    if "group" not in tests:
        tests.insert(0, "group", "all")
    tests["group"] = tests["group"].fillna("all")
    tests = tests[["group", *[c for c in tests.columns if c != "group"]]]
    return with_windows(adjust_p_values(tests.drop(columns=[c for c in ("by",) if c in tests])))


def _tickers_loaded(tickers: list[str], options: StudyOptions) -> list[str]:
    markets = [index_ticker(options.market, t) for t in tickers]
    return list(dict.fromkeys([*tickers, *markets]))


class _Bar:
    def __init__(self, total: int, desc: str, unit: str = "event"):
        from eventstudy.progress import progress_bar

        self.bar = progress_bar(total, desc, unit, leave=False)

    def update_to(self, n: int) -> None:
        self.bar.update(n - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(total: int, enabled: bool, desc: str, unit: str = "event") -> _Bar | None:
    return _Bar(total, desc, unit) if enabled else None


def make_loader(*, offline: bool = False, data: str | Path | None = None,
                data_ticker: str | None = None, cache_dir: str | Path | None = None
                ) -> PriceLoader:
    return PriceLoader(offline=offline, data=Path(data) if data else None,
                       data_ticker=data_ticker, cache_dir=Path(cache_dir) if cache_dir else None)


def listing_for(ticker: str, calendar: dict[str, Listing], loader: PriceLoader,
                listing_date: pd.Timestamp | None = None) -> Listing:
    """The listing of ``ticker``: on ``listing_date`` if given, else the calendar's, else one
    inferred from its first row when that row is a plausible listing day (``quality.listing``:
    not where a download starts, not a stray row; otherwise BadInput saying how to give it)."""
    if listing_date is not None:
        known = calendar.get(ticker) or inferred_listing(ticker, listing_date)
        return replace(known, listing_date=listing_date, inferred=False,
                       source="--listing-date (given by the user)")
    if ticker in calendar:
        return calendar[ticker]
    frame = loader.load(ticker)
    check_inferred_listing(ticker, frame, calendar_code(ticker), _market_start(loader, ticker))
    return inferred_listing(ticker, pd.Timestamp(frame.index[0]))


def _market_start(loader: PriceLoader, ticker: str) -> pd.Timestamp | None:
    """The first date of the default market index's data (None when it cannot be loaded)."""
    try:
        index = loader.load(index_ticker(None, ticker)).index
    except (BadInput, DataUnavailable):
        return None
    return pd.Timestamp(index[0]) if len(index) else None


def with_known_listings(events: Sequence[Event], calendar: dict[str, Listing]
                        ) -> tuple[list[Event], list[Finding]]:
    """``events`` with the calendar's listing date for every ticker the calendar knows and the
    event does not date itself: every entry point studies a listing on the same date."""
    out, found = [], []
    for event in events:
        known = calendar.get(event.ticker)
        if known is None or known.status != "listed":
            out.append(event)
        elif event.listing_date is None:
            out.append(replace(event, listing_date=known.listing_date, listing_inferred=False))
        else:
            out.append(event)
            if event.listing_date.normalize() != known.listing_date.normalize():
                found.append(Finding(
                    event.ticker, "listing_date", str(event.listing_date.date()),
                    f"the events give listing date {event.listing_date.date()}, the calendar "
                    f"{known.listing_date.date()}", "the events' date used", event.event_id))
    return out, found


def _raise_if_nothing(result: EventStudyResult) -> None:
    """A study in which no event could be studied is an error carrying the first reason."""
    if result.n_events:
        return
    if result.skipped.empty:
        raise BadInput("no events to study")
    reason = result.skipped["reason"].iloc[0]
    code = int(result.skipped["exit_code"].iloc[0])
    cls: type[EventStudyError] = DataUnavailable if code == DataUnavailable.exit_code else BadInput
    more = f" (and {len(result.skipped) - 1} more skipped)" if len(result.skipped) > 1 else ""
    raise cls(f"{reason}{more}")
