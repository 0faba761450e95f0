"""A study of many events in blocks (``chunked_study``): each block of whole tickers is fitted
and reduced to its per-event tables and the per-event summaries of the cross-event tests
(``study_block``, a plain top-level function: processes and dask can run it), then the blocks
are pooled into exactly the tests table and CAAR one pass over every event gives
(``eventstudy.engine.pooling`` says how, test by test). Memory: the per-event tables plus
about L + W floats per event (L estimation days, W event-window days), not the whole panel."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.calendar.listings import Listing
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import IPO_INDEX
from eventstudy.engine.abnormal import abnormal_return_table, bhar_table, car_table
from eventstudy.engine.models import AbnormalReturns, fit_model, parameter_table
from eventstudy.engine.panel import DEFAULT_ESTIMATION, DEFAULT_WINDOW
from eventstudy.engine.pooling import (
    BlockSummary,
    Pooled,
    pool_aar,
    pool_tests,
    pooled,
    summarise,
)
from eventstudy.engine.significance import CAR_TESTS, DEFAULT_BHAR_TESTS, VOLUME_TESTS
from eventstudy.engine.validity import Design, design_from, mark_tests
from eventstudy.engine.volume import unadjusted_events, volume_table
from eventstudy.engine.windows import MIN_ESTIMATION, Window, with_windows
from eventstudy.errors import BadInput
from eventstudy.quality.finding import Finding, findings_frame
from eventstudy.results.result import CrossSection, EventStudyResult, StudyOptions
from eventstudy.studies.core import (
    _drop_problems,
    _event_rows,
    _skip_frame,
    cleaning_notes,
    finish_tests,
    overlap_notes,
    overlap_table,
    panel_stage,
    validity_notes_of,
    volume_notes,
)
from eventstudy.studies.lockup import fixed_window_setup

DEFAULT_CHUNK = 20_000  # events per block


@dataclass
class Fitted:
    """A fitted sample: the model's arrays, its event rows and what was skipped or found."""

    ar: AbnormalReturns
    view: AbnormalReturns  # ``ar`` cut to the event window
    events: pd.DataFrame  # ``_event_rows``
    skipped: list[Skip]
    findings: list[Finding]


def fit_events(events: Sequence[Event], loader: PriceLoader, options: StudyOptions, *,
               estimation: Window, max_estimation: int | None, min_start: int = 1,
               listings: dict[str, Listing] | None = None, skipped: Sequence[Skip] = (),
               findings: Sequence[Finding] = ()) -> Fitted:
    """Events -> screened panel -> fitted model (no IPO-index benchmark): the part of a study
    before any table, as ``finish_study`` fits it (the chunked path's blocks)."""
    stage = panel_stage(events, loader, options, estimation=estimation,
                        max_estimation=max_estimation, min_start=min_start)
    ar = fit_model(stage.panel, options.model, min_estimation=options.min_estimation,
                   regressors=options.regressors())
    ar, problem_skips = _drop_problems(replace(ar, market_volume=stage.market_volume))
    view = ar.window_view(options.window)
    return Fitted(ar, view, _event_rows(ar, view, listings or {}),
                  [*skipped, *stage.day0_skips, *stage.panel.skipped, *problem_skips],
                  [*findings, *stage.found])


@dataclass
class StudyBlock:
    """One block's output: its per-event tables and the summaries pooling needs."""

    summary: BlockSummary | None  # None: no event of the block could be studied
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    keys: dict[str, Key] = field(default_factory=dict)  # event id -> ``given_key``
    plain_volume: list[object] = field(default_factory=list)  # ``unadjusted_events``


TABLES = ("events", "car", "bhar", "volume", "parameters", "overlaps", "abnormal_returns")


def study_block(events: Sequence[Event], options: StudyOptions, source: PriceLoader,
                keep_abnormal_returns: bool = False) -> StudyBlock:
    """Fit one block of events (whole tickers: every event of a ticker in the same block) on the
    prices of ``source`` and reduce it to its per-event tables (CAR, BHAR, volume, parameters,
    events, overlaps; the daily AR rows only if ``keep_abnormal_returns``) and its
    ``BlockSummary``. A top-level function of picklable arguments (executors run it)."""
    fitted = fit_events(events, source, options, estimation=options.estimation
                        or DEFAULT_ESTIMATION, max_estimation=None)
    out = StudyBlock(None, skipped=fitted.skipped, findings=fitted.findings,
                     notes=list(dict.fromkeys(source.notes)))
    ar = fitted.ar
    if ar.panel.n_events == 0:
        return out
    ev = ar.panel.events
    out.keys = {i: (t, tr, d if isinstance(d, str) else s) for i, t, tr, d, s in zip(
        ev.index, ev["ticker"], ev["tranche"], ev["date"], ev["session"], strict=True)}
    out.plain_volume = list(unadjusted_events(ar))
    out.tables = {"events": fitted.events, "car": car_table(ar, options.car_windows),
                  "bhar": bhar_table(ar, options.bhar_windows),
                  "volume": volume_table(ar, options.car_windows),
                  "parameters": parameter_table(ar), "overlaps": overlap_table(ar, options)[0]}
    if keep_abnormal_returns:
        out.tables["abnormal_returns"] = abnormal_return_table(fitted.view)
    out.summary = summarise(ar, options.car_windows, options.bhar_windows, options.window,
                            options.group_by)
    return out


Key = tuple[str, str, str]


def given_key(event: Event) -> Key:
    """An event as given (ticker, tranche, date or else session): an event id changes when
    day 0 moves off a placeholder row or a missing session, this does not."""
    when = event.date if event.date is not None else event.session
    return event.ticker, event.tranche, str(when.date())


def blocks_of(events: Sequence[Event], chunk_size: int) -> list[list[Event]]:
    """The events in blocks of about ``chunk_size`` (at least 1), whole tickers per block (a
    ticker with more events than that is one block), tickers in order of first appearance and
    each ticker's events in their input order."""
    if chunk_size < 1:
        raise BadInput("chunk_size must be at least 1")
    by_ticker: dict[str, list[Event]] = {}
    for event in events:
        by_ticker.setdefault(event.ticker, []).append(event)
    out: list[list[Event]] = [[]]
    for group in by_ticker.values():
        if out[-1] and len(out[-1]) + len(group) > chunk_size:
            out.append([])
        out[-1].extend(group)
    return [b for b in out if b]


Mapper = Callable[..., Iterable[StudyBlock]]


def chunked_study(events: Sequence[Event], *, chunk_size: int = DEFAULT_CHUNK,
                  model: str = "market", market: str | None = None,
                  window: Window = DEFAULT_WINDOW, estimation: Window = DEFAULT_ESTIMATION,
                  car_windows: tuple[Window, ...] | None = None,
                  min_estimation: int = MIN_ESTIMATION,
                  keep_other_events: bool = False, keep_abnormal_returns: bool = False,
                  offline: bool = False, data: str | Path | None = None,
                  cache_dir: str | Path | None = None, loader: PriceLoader | None = None,
                  map_blocks: Mapper = map, **model_options: Any) -> EventStudyResult:
    """``event_study`` in blocks of about ``chunk_size`` events (whole tickers per block), for
    more events than fit in memory at once: the same per-event tables (CAR, BHAR, volume,
    parameters, events; the daily ``abnormal_returns`` only if ``keep_abnormal_returns``) and
    the same ``tests`` and ``caar`` as one pass (pooled from per-event summaries,
    ``eventstudy.engine.pooling``). The result holds no engine arrays (``ar`` is None: the
    figures that draw daily ARs need ``event_study``) and no robustness rows.
    ``map_blocks(study_block, blocks, options, loaders, keeps)``: how blocks run (``map``:
    one after the other; an executor's ``map`` runs them on processes or dask).
    ``market="ipo-index"`` is refused: its benchmark is built from every listing of the study
    at once, which a block does not see (use ``event_study``)."""
    if market is not None and market.strip().lower().replace("_", "-") == IPO_INDEX:
        raise BadInput("the IPO-index benchmark needs every event at once: use event_study "
                       "(or batch_study), not chunked_study")
    options, loader, events, found = fixed_window_setup(
        events, model=model, market=market, window=window, estimation=estimation,
        car_windows=car_windows, min_estimation=min_estimation,
        keep_other_events=keep_other_events, offline=offline, data=data, cache_dir=cache_dir,
        loader=loader, **model_options)
    position = {given_key(e): i for i, e in enumerate(events)}
    blocks = blocks_of(events, chunk_size)
    done = list(map_blocks(study_block, blocks, _repeat(options, len(blocks)),
                           _repeat(loader, len(blocks)),
                           _repeat(keep_abnormal_returns, len(blocks))))
    return pool_blocks(done, options, position, found)


def _repeat(x: Any, n: int) -> Iterator[Any]:
    return (x for _ in range(n))


def pool_blocks(done: Sequence[StudyBlock], options: StudyOptions,
                position: dict[Key, int], findings: Sequence[Finding] = ()
                ) -> EventStudyResult:
    """The result of the blocks ``done``: per-event tables concatenated in the input order
    (``position``: ``given_key`` -> place), tests and CAAR pooled."""
    by_id = {i: position[key] for b in done for i, key in b.keys.items()}
    live = [b for b in done if b.summary is not None]
    windows = {w: i for i, w in enumerate(dict.fromkeys(
        (*options.car_windows, *options.bhar_windows)))}
    tables = {name: _concat([b.tables[name] for b in live if name in b.tables], by_id,
                            windows) for name in TABLES}
    notes = [*dict.fromkeys(n for b in done for n in b.notes),
             *cleaning_notes(tables["events"], options),
             *volume_notes(sorted((e for b in done for e in b.plain_volume),
                                  key=lambda i: by_id.get(str(i), -1)))]
    cross = CrossSection()
    if live and tables["events"]["ticker"].nunique() > 1:
        pool = pooled([b.summary for b in live if b.summary is not None], by_id)
        design = design_from(pd.DataFrame({"ticker": pool.tickers, "day0": pool.day0}),
                             pool.sar0(), pool.gather(lambda s: s.dof))
        notes += overlap_notes(tables["overlaps"]) + validity_notes_of(design)
        cross = CrossSection(*pooled_tables(pool, options, design, tables["events"]))
    notes.append(f"studied in {len(done)} block(s) of whole tickers; cross-event tests pooled "
                 "from per-event summaries (equal to one pass); no robustness rows and no "
                 "engine arrays (ar)")
    return EventStudyResult(
        kind="events", options=options, events=tables["events"],
        abnormal_returns=tables["abnormal_returns"], car=tables["car"], bhar=tables["bhar"],
        volume=tables["volume"], skipped=_skip_frame([s for b in done for s in b.skipped]),
        ar=None,  # type: ignore[arg-type]  # a chunked study keeps no engine arrays
        cross_section=cross, overlaps=tables["overlaps"], notes=tuple(notes),
        setup={"estimation": options.estimation, "max_estimation": None,
               "from_listing": False, "chunks": len(done)},
        parameters=tables["parameters"],
        quality=findings_frame([*findings, *(f for b in done for f in b.findings)]))


def pooled_tables(pool: Pooled, options: StudyOptions, design: Design, events: pd.DataFrame
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tests table (pooled and per group of ``options.group_by``) and CAAR of the blocks,
    as ``core.cross_section_tables`` makes them in one pass."""
    car_tests = (*CAR_TESTS, *VOLUME_TESTS)
    frames = [pool_tests(pool, options.car_windows, car_tests),
              pool_tests(pool, options.bhar_windows, DEFAULT_BHAR_TESTS)]
    groups = events.get(options.group_by) if options.group_by else None
    if groups is not None and groups.nunique() > 1:
        frames += [pool_tests(pool, options.car_windows, car_tests, by=options.group_by),
                   pool_tests(pool, options.bhar_windows, DEFAULT_BHAR_TESTS,
                              by=options.group_by)]
    return mark_tests(finish_tests(frames), design), pool_aar(pool, options.window)


def _concat(frames: list[pd.DataFrame], position: dict[Any, int],
            windows: dict[Window, int]) -> pd.DataFrame:
    """Frames of per-event rows in the one-pass order: window by window (``windows``: window ->
    its place), each window's events in their input order (``position``)."""
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    if "event_id" not in frame or len(frame) == 0:
        return frame
    keys = [frame["event_id"].map(position).to_numpy()]
    if "start" in frame and "end" in frame:
        keys.append(np.array([windows.get((int(a), int(b)), -1) for a, b in
                              zip(frame["start"], frame["end"], strict=True)]))
    out = frame.iloc[np.lexsort(keys)].reset_index(drop=True)
    return with_windows(out) if "start" in out and "end" in out else out
