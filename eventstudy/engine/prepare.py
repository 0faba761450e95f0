"""Per-event ingredients of the cross-event tests (``prepare``), computed once per event window.

Notation: ``AR_it`` abnormal returns, ``CAR_i`` their sum over the window of ``tau`` days,
``Var(CAR_i)`` the prediction-error variance of ``eventstudy.engine.models``,
``SCAR_i = CAR_i / sqrt(Var(CAR_i))``, ``L_i`` the number of estimation-window returns of event i.

Missing values: an event whose window lacks a day has no CAR/BHAR (it is left out of that test).
Rank tests rank each event's returns over its estimation window plus the tested window only
(Corrado 1989; Corrado & Zivney 1992 for missing days; Campbell & Wasley 1993 for multi-day
windows), so a rank statistic does not depend on which other windows a study asks for. The
estimation block is right-aligned (``eventstudy.engine.panel``): column k is the same event-time
position for every event, which is how the Kolari & Pynnonen (2010) cross-correlation aligns the
estimation residuals (``est_ok`` marks the days an event has). Volume: a zero volume is missing
(see ``abnormal_log_volume``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from eventstudy.engine.bhar import buy_and_hold
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.panel import Panel
from eventstudy.engine.ranks import ROWS, rank_rows, rank_u
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


def event_time_z(est_ar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each event's estimation residuals demeaned and scaled to unit norm over the days it has,
    in event time (column = position in the right-aligned estimation block): ``(z, ok)``; a
    missing residual is 0 in ``z`` and False in ``ok``; a constant row is all 0. Made
    ``ROWS`` events at a time (each row on its own: the temporaries stay small)."""
    ok = np.isfinite(est_ar)
    z = np.empty(est_ar.shape)
    for lo in range(0, len(est_ar), ROWS):
        z[lo:lo + ROWS] = _unit_rows(est_ar[lo:lo + ROWS], ok[lo:lo + ROWS])
    return z, ok


def _unit_rows(est_ar: np.ndarray, ok: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, est_ar, 0.0).sum(axis=1) / ok.sum(axis=1)
        dev = np.where(ok, est_ar - mean[:, None], 0.0)
        norm = np.sqrt((dev**2).sum(axis=1))
        z: np.ndarray = np.where(norm[:, None] > 0, dev / norm[:, None], 0.0)
    return z


def bhar(panel: Panel, window: Window) -> np.ndarray:
    """BHAR_i = prod(1 + R_it) - prod(1 + Rm_it) over ``window`` (market benchmark; Barber &
    Lyon 1997); NaN if a day is missing."""
    cols = slice(panel.column(window[0]), panel.column(window[1]) + 1)
    return buy_and_hold(panel.ret[:, cols], panel.mkt[:, cols])[2]


@dataclass
class Base:
    """Window-independent per-event ingredients (row = event of the panel)."""

    dof: np.ndarray  # (P,) residual degrees of freedom (L - 2 for the market model)
    sigma: np.ndarray  # (P,) residual standard deviation s_i
    patell_var: np.ndarray  # (P,) dof/(dof-2): (L-2)/(L-4) for the market model
    pos_frac: np.ndarray  # (P,) share of positive estimation-window ARs
    est_sar: np.ndarray  # (P, L)
    est_rank: np.ndarray  # (P, L) ranks of est_sar within the event (float32: exact halves)
    z: np.ndarray  # (P, L) unit-norm estimation residuals in event time (KP 2010)
    est_ok: np.ndarray  # (P, L) the estimation days each event has
    av_est: np.ndarray  # (P, L) abnormal log volume of the estimation block
    av: np.ndarray  # (P, W) abnormal log volume of the event block
    # window-independent results by (name, rows.tobytes()): one dict shared by every window's
    # ``Prepared`` made from this ``Base`` (e.g. KP's r-bar of a sample of events)
    memo: dict[tuple[str, bytes], Any] = field(default_factory=dict, kw_only=True, repr=False)


def base(ar: AbnormalReturns) -> Base:
    """Compute the window-independent ingredients of every test (no loop over events)."""
    est = ar.est_ar
    av_est, av = abnormal_log_volume(ar.panel, ar.market_volume)
    with np.errstate(invalid="ignore", divide="ignore"):
        patell_var = np.where(ar.dof > 2, ar.dof / (ar.dof - 2.0), np.nan)
        pos_frac = (est > 0).sum(axis=1) / np.isfinite(est).sum(axis=1)
        est_sar = ar.est_sar
    z, ok = event_time_z(est)
    return Base(dof=np.asarray(ar.dof, float), sigma=np.sqrt(ar.sigma2),
                patell_var=patell_var, pos_frac=pos_frac,
                est_sar=est_sar, est_rank=rank_rows(est, np.empty(est.shape, np.float32)), z=z,
                est_ok=ok, av_est=av_est, av=av)


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
    cols: slice  # the window's columns in ret_u / vol_u: L .. L + tau
    event_cols: slice  # the window's columns in the event block
    est_ar: np.ndarray  # (P, L) estimation-window ARs
    window_ar: np.ndarray  # (P, tau) the window's ARs
    window_av: np.ndarray  # (P, tau) the window's abnormal log volume

    @cached_property
    def ret_u(self) -> np.ndarray:
        """(P, L + tau) Corrado U of ARs over estimation + tested window, for many samples at
        once (a (samples, n) selection); one sample sums U a block of events at a time
        (``ranks.u_column_sums``) without it. O(P (L + tau) log(L + tau))."""
        return rank_u(np.hstack([self.est_ar, self.window_ar]), overwrite=True)

    @cached_property
    def vol_u(self) -> np.ndarray:
        """(P, L + tau) the same for abnormal log volume."""
        return rank_u(np.hstack([self.av_est, self.window_av]), overwrite=True)

    def release(self) -> None:
        """Drop the rank inputs made so far (they are made again if asked for)."""
        for name in ("ret_u", "vol_u"):
            self.__dict__.pop(name, None)

    def usable(self, kind: str) -> np.ndarray:
        """Rows with the ingredients of ``car``, ``bhar`` or ``volume`` tests."""
        ok: np.ndarray
        if kind == "car":
            ok = np.isfinite(self.car) & np.isfinite(self.scar)
        elif kind == "bhar":
            ok = np.isfinite(self.bhar)
        else:
            ok = np.isfinite(self.mav)
        return ok


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
    mav[ar.panel.outside_data(window)] = np.nan  # a window past the data is no full window
    width = ar.est_ar.shape[1]
    return Prepared(**vars(common), ids=ar.panel.events.index.to_numpy(), window=window,
                    car=car, car_var=car_var, scar=scar, bhar=bhar(ar.panel, window), mav=mav,
                    cols=slice(width, width + cols.stop - cols.start), event_cols=cols,
                    est_ar=ar.est_ar, window_ar=ar.ar[:, cols], window_av=window_av)
