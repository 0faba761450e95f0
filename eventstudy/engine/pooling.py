"""Exact cross-event tests from blocks of events: per-block summaries (``summarise``) pooled into
the tests table one pass over every event gives (``pool_tests``).

A block holds whole tickers (so the firm-day merging and the other-event cleaning of the
estimation windows are the same as in one pass). Each block keeps, per event, the O(1)
quantities the tests are functions of, and per window and group the per-day sums the rank and
volume tests are functions of:

* gathered per event (one float per event and window): CAR, SCAR, Patell's variance
  (L_i-2)/(L_i-4), the share of positive estimation ARs (sign test), BHAR, the mean abnormal log
  volume, the standardised AR(0) and dof (the validity design) and the AR rows of the event
  window (AAR/CAAR). The t, Patell, BMP, generalized sign, Wilcoxon (on the gathered CARs) and
  BHAR t tests run on the gathered vectors, put back in the one-pass order: the same numbers.
* per-day sums, added over blocks: Corrado (1989) and the volume rank test (sum of U_it and
  n_t per day), the volume t of Campbell & Wasley (1996) (sum and count of the estimation
  abnormal log volume per day), and the Kolari & Pynnonen (2010) r-bar when every event of the
  sample has the same estimation days (column sums of the unit-norm residuals, their sum of
  squares and the count): equal to one pass up to the order of floating-point additions.
* GRANK (Kolari & Pynnonen 2011) standardises each SCAR by the cross-sectional sd of the whole
  sample, known only after the last block: each block keeps its events' standardised
  estimation residuals (L floats per event, ``est_sar``) and the part of the U sums that does
  not depend on that sd; the rest is added when pooling, block by block.
* KP when the events do not all share one set of estimation days (missing days): r-bar then
  needs pairwise-complete correlations across blocks, so the pooled path recomputes each
  event's unit-norm residuals from ``est_sar`` (the same row scaled by 1/s_i: equal to one pass
  to about 1e-15) and runs ``kp_rbar`` on all of them.

The skewness-adjusted BHAR tests (``bhar_skew_t``, ``bhar_boot_skew_t``) are functions of the
gathered BHARs and run on them too; no study test needs the whole AR matrix."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.engine.crosssection import aar_from, nan_stat, test_row
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.prepare import Base, Prepared, Stat, base, event_time_z, prepare
from eventstudy.engine.ranks import u_column_sums
from eventstudy.engine.rbar import kp_rbar
from eventstudy.engine.significance import (
    RESULT_COLUMNS,
    bmp,
    boot_skew_t,
    column_sums,
    corrado_from_sums,
    grank_from_sums,
    kind_of,
    kp_from_rbar,
    patell,
    sign_test,
    skew_t,
    t_test,
    volume_t_from_sums,
    wilcoxon,
)
from eventstudy.engine.windows import Window

ALL = "\x00all"  # the key of the whole block (no group)


@dataclass
class Sums:
    """Per-day sums of one window and group over a block's selected events."""

    corrado: tuple[np.ndarray, np.ndarray]  # sum U_it, n_t (returns)
    volume_rank: tuple[np.ndarray, np.ndarray]  # sum U_it, n_t (abnormal log volume)
    volume_t: tuple[np.ndarray, np.ndarray]  # sum A_it, n_t (estimation abnormal log volume)
    grank: tuple[np.ndarray, np.ndarray]  # sum of the sd-free part of U_it, n_t
    kp_pattern: np.ndarray | None  # the one set of estimation days, None if the rows differ
    kp_colsum: np.ndarray  # column sums of the unit-norm residuals
    kp_squares: float
    kp_rows: int  # rows with a correlation at all
    n: int  # the block's events in this sample (CAR tests)


@dataclass
class BlockSummary:
    """What pooling needs of one block of events (rows: the block's fitted events)."""

    ids: np.ndarray
    tickers: np.ndarray
    day0: np.ndarray
    groups: np.ndarray | None
    dof: np.ndarray
    sar0: np.ndarray | None
    patell_var: np.ndarray
    pos_frac: np.ndarray
    est_sar: np.ndarray  # (P, L)
    windows: dict[Window, dict[str, np.ndarray]] = field(default_factory=dict)  # car, scar, mav
    bhar: dict[Window, np.ndarray] = field(default_factory=dict)
    ar_rows: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))  # AAR window
    sums: dict[tuple[Window, str], Sums] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return len(self.ids)


def _first_of_firm_day(tickers: np.ndarray, day0: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows in ``mask`` that are the first of their (ticker, day 0) among the rows in ``mask``
    (``crosssection.select_rows``)."""
    keep = mask.copy()
    rows = np.flatnonzero(mask)
    frame = pd.DataFrame({"ticker": tickers[rows], "day0": day0[rows]})
    keep[rows[frame.duplicated(keep="first").to_numpy()]] = False
    return keep


def _group_masks(groups: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
    masks = {ALL: np.ones(n, dtype=bool)}
    if groups is not None:
        for g in pd.unique(groups[pd.notna(groups)]):
            masks[str(g)] = np.asarray(groups == g, dtype=bool)
    return masks


def _block_sums(prep: Prepared, car_rows: np.ndarray, vol_rows: np.ndarray) -> Sums:
    z, ok = prep.z[car_rows], prep.est_ok[car_rows]
    pattern = ok[0] if len(ok) and (ok == ok[:1]).all() else None
    est = prep.est_sar[car_rows]
    size = np.isfinite(est).sum(axis=-1) + 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        part = prep.est_rank[car_rows] / (size[:, None] + 1.0) - 0.5
    return Sums(corrado=u_column_sums(prep.est_ar, prep.window_ar, car_rows),
                volume_rank=u_column_sums(prep.av_est, prep.window_av, vol_rows),
                volume_t=column_sums(prep.av_est[vol_rows]),
                grank=column_sums(part), kp_pattern=pattern, kp_colsum=z.sum(axis=0),
                kp_squares=float((z**2).sum()), kp_rows=int((np.abs(z).sum(axis=-1) > 0).sum()),
                n=len(car_rows))


def summarise(ar: AbnormalReturns, car_windows: Sequence[Window], bhar_windows: Sequence[Window],
              window: Window, group_by: str | None = None) -> BlockSummary:
    """The per-event quantities and per-day sums of one block (``ar``: its fitted events, whole
    tickers) that ``pool_tests`` needs for ``car_windows``, ``bhar_windows``, the AAR ``window``
    and the groups of the events' ``group_by`` column."""
    ev = ar.panel.events
    common: Base = base(ar)
    groups = ev[group_by].to_numpy() if group_by and group_by in ev else None
    tickers, day0 = ev["ticker"].to_numpy(), ev["day0"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        sar0 = ar.ar_t[:, ar.panel.column(0)] if 0 in ar.panel.days else None
    out = BlockSummary(ids=ev.index.to_numpy(), tickers=tickers, day0=day0, groups=groups,
                       dof=np.asarray(ar.dof, float), sar0=sar0, patell_var=common.patell_var,
                       pos_frac=common.pos_frac, est_sar=common.est_sar,
                       ar_rows=ar.ar[:, ar.cols(window)])
    masks = {k: _first_of_firm_day(tickers, day0, m)
             for k, m in _group_masks(groups, len(ev)).items()}
    for w in dict.fromkeys(car_windows):
        prep = prepare(ar, w, common)
        out.windows[w] = {"car": prep.car, "scar": prep.scar, "mav": prep.mav}
        car_ok, vol_ok = prep.usable("car"), prep.usable("volume")
        for key, mask in masks.items():
            out.sums[w, key] = _block_sums(prep, np.flatnonzero(mask & car_ok),
                                           np.flatnonzero(mask & vol_ok))
        prep.release()
    for w in dict.fromkeys(bhar_windows):
        out.bhar[w] = prepare(ar, w, common).bhar
    return out


@dataclass
class Pooled:
    """The blocks' per-event vectors gathered in the one-pass order."""

    blocks: list[BlockSummary]
    order: np.ndarray  # gathered row -> one-pass position
    tickers: np.ndarray
    day0: np.ndarray
    groups: np.ndarray | None
    width: int  # estimation days of the widest block (blocks are right-aligned to it)

    def gather(self, get: Callable[[BlockSummary], np.ndarray]) -> np.ndarray:
        """One array over every block's events, in the one-pass order (2-D: right-aligned)."""
        parts = [get(b) for b in self.blocks]
        if parts and parts[0].ndim == 2:
            width = max(x.shape[1] for x in parts)
            parts = [_left(x, width, np.nan) for x in parts]
        out: np.ndarray = np.concatenate(parts)[self.order]
        return out

    def sar0(self) -> np.ndarray | None:
        """The standardised AR(0) of every event (None when day 0 is not in the event block)."""
        parts = [b.sar0 for b in self.blocks]
        if any(x is None for x in parts):
            return None
        return self.gather(lambda b: b.sar0)  # type: ignore[arg-type, return-value]


def _left(x: np.ndarray, width: int, fill: float | bool) -> np.ndarray:
    """``x`` padded on the left (its last axis) to ``width``: estimation blocks are
    right-aligned in event time, so a narrower block lacks the earliest days."""
    extra = width - x.shape[-1]
    if extra == 0:
        return x
    pad = np.full((*x.shape[:-1], extra), fill, dtype=x.dtype)
    return np.concatenate([pad, x], axis=-1)


def pooled(blocks: Sequence[BlockSummary], position: Mapping[Any, int] | None = None
           ) -> Pooled:
    """The blocks gathered; rows in the order of ``position`` (event id -> place in the input;
    default the blocks' order)."""
    blocks = list(blocks)
    ids = np.concatenate([b.ids for b in blocks]) if blocks else np.array([])
    order = (np.argsort([position[i] for i in ids], kind="stable") if position is not None
             else np.arange(len(ids)))
    groups = (None if not blocks or blocks[0].groups is None
              else np.concatenate([b.groups for b in blocks if b.groups is not None])[order])
    return Pooled(blocks, order, np.concatenate([b.tickers for b in blocks])[order],
                  np.concatenate([b.day0 for b in blocks])[order], groups,
                  max((b.est_sar.shape[1] for b in blocks), default=0))


def _kp_rbar(p: Pooled, w: Window, key: str, rows: np.ndarray) -> np.ndarray:
    live = [b.sums[w, key] for b in p.blocks if (w, key) in b.sums and b.sums[w, key].n]
    patterns = [None if s.kp_pattern is None else _left(s.kp_pattern, p.width, False)
                for s in live]
    ref = patterns[0] if patterns else None
    if ref is not None and all(q is not None and np.array_equal(q, ref) for q in patterns):
        colsum = np.sum([_left(s.kp_colsum, p.width, 0.0) for s in live], axis=0)
        m = sum(s.kp_rows for s in live)
        total = float((colsum**2).sum()) - sum(s.kp_squares for s in live)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / (m * (m - 1.0)))
    est = p.gather(lambda b: b.est_sar)[rows]
    return kp_rbar(*event_time_z(est))


def _grank(p: Pooled, w: Window, key: str, car: np.ndarray, scar: np.ndarray,
           local: list[np.ndarray]) -> Stat:
    """GRANK from the blocks: the sd of the whole sample's SCARs, then each block's part."""
    sd = scar.std(ddof=1)
    usum = cnt = None
    u0sum, n = 0.0, len(scar)
    for b, rows in zip(p.blocks, local, strict=True):
        if (w, key) not in b.sums or not len(rows):
            continue
        part, count = (_left(x, p.width, 0) for x in b.sums[w, key].grank)
        g = (b.windows[w]["scar"][rows] / sd)[:, None]
        est = b.est_sar[rows]
        size = np.isfinite(est).sum(axis=-1) + 1.0
        equal = est == g
        rank0 = 1.0 + (est < g).sum(axis=-1) + 0.5 * equal.sum(axis=-1)
        u0sum += float((rank0 / (size + 1.0) - 0.5).sum())
        moved = _left(((est > g) + 0.5 * equal) / (size[:, None] + 1.0), p.width, 0.0)
        usum = part + moved.sum(axis=0) if usum is None else usum + part + moved.sum(axis=0)
        cnt = count if cnt is None else cnt + count
    assert usum is not None and cnt is not None
    return grank_from_sums(car.mean(), usum, cnt, np.asarray(u0sum / n), n)


def _summed(p: Pooled, w: Window, key: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [getattr(b.sums[w, key], name) for b in p.blocks if (w, key) in b.sums]
    width = max(len(a) for a, _ in pairs)
    return (np.sum([_left(a, width, 0.0) for a, _ in pairs], axis=0),
            np.sum([_left(c, width, 0) for _, c in pairs], axis=0))


def _local_rows(p: Pooled, keep: np.ndarray) -> list[np.ndarray]:
    """``keep`` (gathered, one-pass order) as row numbers within each block."""
    back = np.empty(len(p.order), dtype=bool)
    back[p.order] = keep
    out, lo = [], 0
    for b in p.blocks:
        out.append(np.flatnonzero(back[lo:lo + b.n_events]))
        lo += b.n_events
    return out


def _car_stat(p: Pooled, test: str, w: Window, key: str, sel: np.ndarray,
              keep: np.ndarray) -> Stat:
    car = p.gather(lambda b: b.windows[w]["car"])[sel]
    scar = p.gather(lambda b: b.windows[w]["scar"])[sel]
    if test == "t":
        return t_test(car)
    if test == "patell":
        return patell(car, scar, p.gather(lambda b: b.patell_var)[sel])
    if test == "bmp":
        return bmp(car, scar)
    if test == "kp":
        return kp_from_rbar(car, scar, _kp_rbar(p, w, key, sel))
    if test == "sign":
        return sign_test(car, p.gather(lambda b: b.pos_frac)[sel])
    if test == "wilcoxon":
        return wilcoxon(car)
    if test == "grank":
        return _grank(p, w, key, car, scar, _local_rows(p, keep))
    if test == "corrado":
        usum, cnt = _summed(p, w, key, "corrado")
        return corrado_from_sums(car.mean(), usum, cnt, _cols(p, w), len(sel))
    raise ValueError(test)


def _cols(p: Pooled, w: Window) -> slice:
    return slice(p.width, p.width + w[1] - w[0] + 1)


def _stat(p: Pooled, test: str, w: Window, key: str, sel: np.ndarray, keep: np.ndarray) -> Stat:
    kind = kind_of(test)
    if kind == "bhar":
        x = p.gather(lambda b: b.bhar[w])[sel]
        return {"bhar_t": t_test, "bhar_skew_t": skew_t, "bhar_boot_skew_t": boot_skew_t}[test](x)
    if kind == "volume":
        mav = p.gather(lambda b: b.windows[w]["mav"])[sel]
        if test == "volume_t":
            avsum, cnt = _summed(p, w, key, "volume_t")
            return volume_t_from_sums(mav, avsum, cnt, w[1] - w[0] + 1)
        usum, cnt = _summed(p, w, key, "volume_rank")
        return corrado_from_sums(mav.mean(), usum, cnt, _cols(p, w), len(sel))
    return _car_stat(p, test, w, key, sel, keep)


def _usable(p: Pooled, kind: str, w: Window) -> np.ndarray:
    out: np.ndarray
    if kind == "bhar":
        out = np.isfinite(p.gather(lambda b: b.bhar[w]))
    elif kind == "volume":
        out = np.isfinite(p.gather(lambda b: b.windows[w]["mav"]))
    else:
        out = (np.isfinite(p.gather(lambda b: b.windows[w]["car"]))
               & np.isfinite(p.gather(lambda b: b.windows[w]["scar"])))
    return out


def pool_tests(p: Pooled, windows: Sequence[Window], tests: Sequence[str],
               by: str | None = None) -> pd.DataFrame:
    """``crosssection.run_tests`` of the pooled blocks: the same table as one pass over every
    event (``by``: per group of the events' ``by`` column, as summarised)."""
    n = len(p.order)
    if by is None:
        groups: list[object] = [None]
    else:
        assert p.groups is not None
        groups = sorted(pd.unique(p.groups[pd.notna(p.groups)]), key=str)
    rows_out = []
    for group in groups:
        mask = np.ones(n, bool) if group is None else np.asarray(p.groups == group, bool)
        first = _first_of_firm_day(p.tickers, p.day0, mask)
        merged = int(mask.sum() - first.sum())
        key = ALL if group is None else str(group)
        for w in windows:
            for test in tests:
                keep = first & _usable(p, kind_of(test), w)
                sel = np.flatnonzero(keep)
                res = _stat(p, test, w, key, sel, keep) if len(sel) >= 2 else nan_stat(len(sel))
                row = test_row(w, test, res, merged)
                rows_out.append(row if by is None else {"by": by, "group": group, **row})
    columns = (["by", "group"] if by is not None else []) + RESULT_COLUMNS
    return pd.DataFrame(rows_out, columns=columns)


def pool_aar(p: Pooled, window: Window) -> pd.DataFrame:
    """``crosssection.aar_table`` of the pooled blocks (one row per firm-day)."""
    first = _first_of_firm_day(p.tickers, p.day0, np.ones(len(p.order), bool))
    return aar_from(p.gather(lambda b: b.ar_rows)[first], window[0], window[1])
