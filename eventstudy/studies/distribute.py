"""A batch's per-event stage in chunks on an executor (local worker processes, dask), gathered
into the one panel a serial run builds, so that every number is the serial one.

The events are split by ticker (a ticker's prices are loaded once, in one chunk; the estimation
windows leave out the same firm's other events, all in that chunk). Each chunk runs
``core.panel_stage`` (load, align, place, clean, screen); the gathered panel is the serial one
row for row: rows and skips back in the events' order (each event carries its position as a
hidden attribute), estimation blocks padded on the left with NaN/NaT to the longest (they are
right-aligned), and the model, the per-event tables and the cross-event tests run on it here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, is_dataclass, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.calendar.listings import Listing
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import IPO_INDEX, index_ticker
from eventstudy.engine.panel import ARRAY_FIELDS, EVENT_FIELDS, MARGIN, Panel
from eventstudy.engine.volume import MarketVolume
from eventstudy.engine.windows import Window
from eventstudy.quality.finding import Finding
from eventstudy.results.result import PROGRESS_MIN, EventStudyResult, StudyOptions
from eventstudy.studies.chunked import blocks_of
from eventstudy.studies.core import PanelStage, finish_study, loader_sources, panel_stage

POSITION = "\x00position"  # the hidden attribute: an event's place in the batch
CHUNKS_PER_WORKER = 4  # chunks per worker: uneven chunks still keep every worker busy
DASK_WORKERS = 4  # workers assumed on a dask cluster when no --workers is given
BASE_COLUMNS = ("event_id", "ticker", "tranche", "group", "session", "date", "listing_date",
                "listing_inferred", "day0", "estimation_start", "estimation_end",
                "estimation_days", "data_end")  # engine.panel._EVENT_COLUMNS
T = TypeVar("T")


@dataclass
class Chunk:
    """Some tickers' events (each with its POSITION) and what ``panel_stage`` needs."""

    events: list[Event]
    loader: PriceLoader
    options: StudyOptions
    estimation: Window
    max_estimation: int | None


@dataclass
class ChunkPanel:
    """A chunk's ``PanelStage``, the loader's notes and (source, adjustment) per ticker."""

    stage: PanelStage
    notes: list[str]
    sources: dict[str, tuple[str, str]]


def distributable(options: StudyOptions) -> bool:
    """Can a batch with ``options`` run in chunks? Not on the IPO index (its benchmark draws on
    every listing of the calendar: one chunk would be the whole batch)."""
    return options.market != IPO_INDEX


def study_chunk(chunk: Chunk) -> ChunkPanel:
    """The per-event stage of one chunk (run by a worker)."""
    stage = panel_stage(chunk.events, chunk.loader, chunk.options,
                        estimation=chunk.estimation, max_estimation=chunk.max_estimation)
    tickers = list(dict.fromkeys(stage.panel.events["ticker"]))
    names = [*tickers, *(index_ticker(chunk.options.market, t) for t in tickers)]
    source = loader_sources(chunk.loader)
    return ChunkPanel(stage, list(chunk.loader.notes),
                      {t: source(t) for t in dict.fromkeys(names)})


def chunks(events: Sequence[Event], loader: PriceLoader, options: StudyOptions,
           estimation: Window, max_estimation: int | None, count: int) -> list[Chunk]:
    """About ``count`` chunks of whole tickers (first-seen order), each event tagged with its
    position; each chunk has its own fresh copy of ``loader`` (same settings, empty memo)."""
    tagged = [replace(e, attrs=(*e.attrs, (POSITION, str(i)))) for i, e in enumerate(events)]
    size = max(1, -(-len(events) // max(1, count)))
    return [Chunk(part, _fresh(loader), options, estimation, max_estimation)
            for part in blocks_of(tagged, size) or [[]]]


def _fresh(loader: PriceLoader) -> PriceLoader:
    return replace(loader, notes=[]) if is_dataclass(loader) else loader


def _position(event: Event) -> int:
    return int(dict(event.attrs)[POSITION])


def _places(frame: pd.DataFrame) -> pd.Series:
    """The positions of a panel's rows (none when it has no row)."""
    if POSITION not in frame:
        return pd.Series([], index=frame.index[:0], dtype=int)
    return frame[POSITION].astype(int)


@dataclass
class Gathered:
    """The serial run's panel stage, rebuilt from the chunks'."""

    panel: Panel
    volume: MarketVolume | None
    day0_skips: list[Skip]
    found: list[Finding]
    notes: list[str]
    sources: dict[str, tuple[str, str]]


def _ordered(pairs: list[tuple[int, T]]) -> list[T]:
    return [item for _, item in sorted(pairs, key=lambda pair: pair[0])]


def gather(parts: Sequence[Chunk], outs: Sequence[ChunkPanel], events: Sequence[Event]
           ) -> Gathered:
    """The chunks' panels as one, in the order of ``events`` (the serial run's)."""
    day0: list[tuple[int, Skip]] = []
    built: list[tuple[int, Skip]] = []
    screened: list[tuple[int, Skip]] = []
    found0: list[tuple[int, Finding]] = []
    found1: list[tuple[int, Finding]] = []
    for part, out in zip(parts, outs, strict=True):
        stage = out.stage
        into = {_position(e) for e in stage.built}
        skipped0 = [_position(e) for e in part.events if _position(e) not in into]
        day0 += zip(skipped0, stage.day0_skips, strict=True)
        found0 += zip(skipped0, stage.found[:len(skipped0)], strict=True)
        rows, removed = _places(stage.panel.events), _places(stage.removed)
        placed = {*rows.tolist(), *removed.tolist()}
        n_built = len(stage.panel.skipped) - len(removed)
        built += zip([_position(e) for e in stage.built if _position(e) not in placed],
                     stage.panel.skipped[:n_built], strict=True)
        screened += zip(removed.tolist(), stage.panel.skipped[n_built:], strict=True)
        where = {**dict(zip(rows.index, rows, strict=True)),
                 **dict(zip(removed.index, removed, strict=True))}
        last = -1  # a finding of no row of the chunk stays after the previous one
        for f in stage.found[len(skipped0):]:
            last = where.get(f.event_id, last)
            found1.append((last, f))
    panel, volume = _one_panel([o.stage for o in outs], events)
    panel.skipped = [*_ordered(built), *_ordered(screened)]
    notes = list(dict.fromkeys(n for o in outs for n in o.notes))
    sources = {t: s for o in outs for t, s in o.sources.items()}
    return Gathered(panel, volume, _ordered(day0), [*_ordered(found0), *_ordered(found1)],
                    notes, sources)


def _pad(block: np.ndarray, width: int) -> np.ndarray:
    """``block`` with NaN (NaT) columns on the left up to ``width`` columns."""
    if block.shape[1] == width:
        return block
    fill = np.datetime64("NaT") if block.dtype.kind == "M" else np.nan
    pad = np.full((block.shape[0], width - block.shape[1]), fill, dtype=block.dtype)
    return np.concatenate([pad, block], axis=1)


def _stack(blocks: list[np.ndarray], width: int | None = None) -> np.ndarray:
    return np.concatenate([b if width is None else _pad(b, width) for b in blocks], axis=0)


def _one_panel(stages: list[PanelStage], events: Sequence[Event]
               ) -> tuple[Panel, MarketVolume | None]:
    panels = [s.panel for s in stages]
    length = max(p.est_ret.shape[1] for p in panels)  # the serial run's: the longest placed
    arrays = {name: _stack([getattr(p, name) for p in panels],
                           None if name in EVENT_FIELDS else length) for name in ARRAY_FIELDS}
    wide = {"est_mkt_wide": _stack([_need(p.est_mkt_wide) for p in panels], length + 2 * MARGIN),
            "mkt_wide": _stack([_need(p.mkt_wide) for p in panels])}
    frame = pd.concat([p.events for p in panels])
    order = np.argsort(_places(frame).to_numpy(), kind="stable")
    panel = Panel(events=_columns(frame, stages, events), days=panels[0].days,
                  close=_stack([_need(p.close) for p in panels]),
                  positions=_stack([_need(p.positions) for p in panels]), skipped=[], **arrays,
                  **wide)
    volume = _volume(stages, length)
    panel = panel.subset(order)
    if volume is not None:
        volume = (volume[0][order], volume[1][order])
    return panel, volume


def _need(block: np.ndarray | None) -> np.ndarray:
    if block is None:
        raise AssertionError("build_panel always fills this block")
    return block


def _volume(stages: list[PanelStage], length: int) -> MarketVolume | None:
    """The index volume blocks of every chunk (NaN for a chunk whose index has none)."""
    if all(s.market_volume is None for s in stages):
        return None
    est, event = [], []
    for s in stages:
        n, width = s.panel.vol.shape
        pair = s.market_volume or (np.full((n, length), np.nan), np.full((n, width), np.nan))
        est.append(_pad(pair[0], length))
        event.append(pair[1])
    return _stack(est), _stack(event)


def _columns(frame: pd.DataFrame, stages: list[PanelStage], events: Sequence[Event]
             ) -> pd.DataFrame:
    """``frame`` without POSITION and with the serial run's column order: the base columns, the
    events' own columns in first-seen order over the placed events, then the engine's."""
    placed = sorted({*_places(frame).tolist(),
                     *(p for s in stages for p in _places(s.removed).tolist())})
    own = list(dict.fromkeys(k for i in placed for k, _ in events[i].attrs
                             if k not in BASE_COLUMNS))
    keys = {k for e in events for k, _ in e.attrs}
    rest = [c for s in stages for c in s.panel.events.columns
            if c not in BASE_COLUMNS and c not in keys and c != POSITION]
    columns = [*BASE_COLUMNS, *own, *dict.fromkeys(rest)]
    return frame[[c for c in columns if c in frame.columns]]


def distributed_study(kind: str, events: Sequence[Event], loader: PriceLoader,
                      options: StudyOptions, *, estimation: Window, max_estimation: int | None,
                      executor: str, workers: int | None = None,
                      listings: dict[str, Listing] | None = None, skipped: Sequence[Skip] = (),
                      findings: Sequence[Finding] = (), progress: bool = False,
                      cross_section: bool = False) -> EventStudyResult:
    """``core.run_panel_study`` with the per-event stage in chunks on ``executor`` (``workers``
    processes with ``'local'``): the same result, number for number."""
    from eventstudy.parallel import check_workers, run

    count = CHUNKS_PER_WORKER * (check_workers(workers) if executor == "local" or workers
                                 else DASK_WORKERS)
    parts = chunks(events, loader, options, estimation, max_estimation, count)
    outs = run(study_chunk, parts, executor, workers=workers,
               progress=progress and len(events) >= PROGRESS_MIN, desc="studying events",
               unit="chunk")
    for out in outs:
        if isinstance(out, BaseException):  # what the serial run raises, raised here
            raise out
    got = gather(parts, outs, events)
    return finish_study(kind, got.panel, got.volume, options, estimation=estimation,
                        max_estimation=max_estimation, listings=listings,
                        skipped=[*skipped, *got.day0_skips], findings=[*findings, *got.found],
                        notes=got.notes, sources=got.sources.__getitem__,
                        cross_section=cross_section)
