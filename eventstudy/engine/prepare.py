"""Cross-event significance tests on a fitted panel, vectorised over events.

Every test works on per-event ingredients computed once for an event window (``prepare``) and on
a selection of rows: a 1-D index array (one sample) or a 2-D ``(samples, n)`` array (many samples
at once, as the Brown-Warner simulation uses). Notation: ``AR_it`` abnormal returns,
``CAR_i`` their sum over the window of ``tau`` days, ``Var(CAR_i)`` the prediction-error variance of
``eventstudy.models``, ``SCAR_i = CAR_i / sqrt(Var(CAR_i))``, ``n`` the number of events tested,
``L_i`` the number of estimation-window returns of event i. All p-values are two-sided.

Several events of one firm: every per-event result is keyed by event id. Pooled tests count one
observation per firm-day (ticker, day 0) by default (``dedupe=True``): lock-up tranches that expire
on the same session are the same observation, and the number merged is reported.

Missing values: an event whose window lacks a day has no CAR/BHAR (it is left out of that test);
rank tests rank each event's available days only (Corrado & Zivney 1992) and average day t over
the events that have it (estimation days are matched by column of the estimation block, i.e. in
event time); estimation residuals are aligned on calendar dates for the cross-correlation of
Kolari & Pynnonen (2010), a date an event lacks contributing nothing (see ``kp_rbar``). Volume:
a zero volume is missing (see ``abnormal_log_volume``).

Clustering: ``kp`` uses the estimation-window cross-correlation of every pair, as KP (2010) do for
events on one date; ``kp_overlap`` weights each pair by the share of event-window days the two
events have in common, so events on unrelated dates are not treated as correlated (a Brown-Warner
run on random dates shows ``kp`` far too conservative there, ``kp_overlap`` at nominal size)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.panel import Panel
from eventstudy.engine.ranks import _ranks, rank_u, split_ranks
from eventstudy.engine.volume import abnormal_log_volume
from eventstudy.engine.windows import Window
from eventstudy.errors import BadInput


@dataclass(frozen=True)
class Stat:
    """A test's mean effect, statistic and two-sided p-value (arrays of the batch shape)."""

    estimate: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    n: int


def day_numbers(dates: np.ndarray) -> np.ndarray:
    """Dates as integer days since 1970; NaT as distinct negative numbers (never shared)."""
    days = np.asarray(dates, dtype="datetime64[ns]").view(np.int64) // 86_400_000_000_000
    missing = np.isnat(dates)
    days[missing] = -1 - np.arange(int(missing.sum()))
    return days


def calendar_z(est_ar: np.ndarray, est_dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Each event's estimation residuals demeaned and scaled to unit norm, with calendar-day
    positions: ``(z, day, n_days)``; a residual without a date, or missing, is 0 (at day 0)."""
    ok = np.isfinite(est_ar) & ~np.isnat(est_dates)
    count = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, est_ar, 0.0).sum(axis=1) / count
        dev = np.where(ok, est_ar - mean[:, None], 0.0)
        norm = np.sqrt((dev**2).sum(axis=1))
        z = np.where(norm[:, None] > 0, dev / norm[:, None], 0.0)
    days = np.asarray(est_dates, dtype="datetime64[ns]").view(np.int64) // 86_400_000_000_000
    if not ok.any():
        return z, np.zeros(days.shape, dtype=np.int64), 1
    low, high = days[ok].min(), days[ok].max()
    return z, np.where(ok, days - low, 0), int(high - low + 1)


def bhar(panel: Panel, window: Window) -> np.ndarray:
    """BHAR_i = prod(1 + R_it) - prod(1 + Rm_it) over ``window`` (market benchmark; Barber &
    Lyon 1997); NaN if a day is missing."""
    cols = slice(panel.column(window[0]), panel.column(window[1]) + 1)
    return np.prod(1.0 + panel.ret[:, cols], axis=1) - np.prod(1.0 + panel.mkt[:, cols], axis=1)


@dataclass
class Base:
    """Window-independent per-event ingredients (row = event of the panel)."""

    patell_var: np.ndarray  # (P,) dof/(dof-2): (L-2)/(L-4) for the market model
    pos_frac: np.ndarray  # (P,) share of positive estimation-window ARs
    est_sar: np.ndarray  # (P, L)
    est_rank: np.ndarray  # (P, L) ranks of est_sar within the event
    z: np.ndarray  # (P, L) unit-norm estimation residuals (KP 2010)
    zday: np.ndarray  # (P, L) their calendar-day positions
    n_days: int
    zmin: np.ndarray  # (P,) first calendar-day position of each event's residuals
    wday: np.ndarray  # (P, W) event-block days as integers (missing: distinct negatives)
    ret_u: np.ndarray  # (P, L + W) Corrado U of ARs, estimation then event block
    vol_u: np.ndarray  # (P, L + W) Corrado U of volume
    av: np.ndarray  # (P, W) abnormal log volume of the event block


def base(ar: AbnormalReturns) -> Base:
    """Compute the window-independent ingredients of every test (no loop over events)."""
    est = ar.est_ar
    av_est, av = abnormal_log_volume(ar.panel)
    with np.errstate(invalid="ignore", divide="ignore"):
        patell_var = np.where(ar.dof > 2, ar.dof / (ar.dof - 2.0), np.nan)
        pos_frac = (est > 0).sum(axis=1) / np.isfinite(est).sum(axis=1)
        est_sar = ar.est_sar
    z, zday, n_days = calendar_z(est, ar.panel.est_dates)
    zmin = np.where(z != 0, zday, n_days).min(axis=1)
    combined = np.hstack([est, ar.ar])
    ranks, flat, xs = _ranks(combined)  # est_sar = est_ar / s_i: the same order within i
    return Base(patell_var=patell_var, pos_frac=pos_frac, est_sar=est_sar,
                est_rank=split_ranks(combined, flat, xs, est.shape[1]), z=z, zday=zday,
                n_days=n_days, zmin=zmin, wday=day_numbers(ar.panel.dates),
                ret_u=rank_u(combined, ranks), vol_u=rank_u(np.hstack([av_est, av])), av=av)


@dataclass
class Prepared(Base):
    """Per-event ingredients of every test for one event window."""

    ids: np.ndarray  # (P,) event ids
    window: Window
    car: np.ndarray  # (P,)
    car_var: np.ndarray
    scar: np.ndarray
    bhar: np.ndarray
    mav: np.ndarray  # mean abnormal log volume over the window's available days
    cols: slice  # the window's columns in ret_u / vol_u
    event_cols: slice  # the window's columns in the event block

    def usable(self, kind: str) -> np.ndarray:
        """Rows with the ingredients of ``car``, ``bhar`` or ``volume`` tests."""
        if kind == "car":
            return np.isfinite(self.car) & np.isfinite(self.scar)
        if kind == "bhar":
            return np.isfinite(self.bhar)
        return np.isfinite(self.mav)


def check_window(ar: AbnormalReturns, window: Sequence[int]) -> Window:
    """``window`` as a (start, end) tuple inside the event block, or BadInput."""
    if len(window) != 2 or int(window[0]) > int(window[1]):
        raise BadInput(f"window must be (start, end) with start <= end, got {tuple(window)}")
    start, end = int(window[0]), int(window[1])
    for day in (start, end):
        ar.panel.column(day)  # raises BadInput outside the event block
    return start, end


def prepare(ar: AbnormalReturns, window: Sequence[int], common: Base | None = None) -> Prepared:
    """Every per-event ingredient of the tests for ``window``; ``common`` (from ``base(ar)``)
    saves recomputing the window-independent part when testing several windows."""
    window = check_window(ar, window)
    common = common or base(ar)
    cols = ar.cols(window)
    car, car_var = ar.car(window)
    window_av = common.av[:, cols]
    seen = np.isfinite(window_av)
    with np.errstate(invalid="ignore", divide="ignore"):
        scar = car / np.sqrt(car_var)
        mav = np.where(seen, window_av, 0.0).sum(axis=1) / seen.sum(axis=1)  # available days
    width = ar.est_ar.shape[1]
    return Prepared(**vars(common), ids=ar.panel.events.index.to_numpy(), window=window,
                    car=car, car_var=car_var, scar=scar, bhar=bhar(ar.panel, window), mav=mav,
                    cols=slice(width + cols.start, width + cols.stop), event_cols=cols)
