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
run on random dates shows ``kp`` far too conservative there, ``kp_overlap`` at nominal size).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy.errors import BadInput
from eventstudy.models import AbnormalReturns
from eventstudy.panel import Panel

Window = tuple[int, int]

REFERENCES: dict[str, str] = {
    "t": "cross-sectional t on CAR_i (Brown & Warner 1985; MacKinlay 1997)",
    "patell": "Patell (1976) Z, variance (L_i-2)/(L_i-4) per standardised CAR",
    "bmp": "Boehmer, Musumeci & Poulsen (1991) standardised cross-sectional t",
    "kp": "Kolari & Pynnonen (2010) BMP adjusted for cross-correlation",
    "kp_overlap": "Kolari & Pynnonen (2010) adjusted BMP, r_ij weighted by the share of "
                  "event-window days i and j have in common (extension)",
    "corrado": "Corrado (1989) rank test, Corrado & Zivney (1992) missing days, "
               "Cowan (1992) window sum",
    "sign": "Cowan (1992) generalized sign test",
    "grank": "Kolari & Pynnonen (2011) generalized rank test GRANK-T",
    "wilcoxon": "Wilcoxon (1945) signed-rank test on CAR_i (scipy.stats.wilcoxon)",
    "bhar_t": "t on buy-and-hold abnormal returns (Barber & Lyon 1997)",
    "bhar_skew_t": "skewness-adjusted t on BHAR (Lyon, Barber & Tsai 1999)",
    "volume_t": "abnormal log volume, cross-sectional t (Campbell & Wasley 1996)",
    "volume_rank": "abnormal log volume, rank test (Campbell & Wasley 1996; Corrado 1989)",
}
CAR_TESTS = ("t", "patell", "bmp", "kp", "kp_overlap", "corrado", "sign", "grank", "wilcoxon")
BHAR_TESTS = ("bhar_t", "bhar_skew_t")
VOLUME_TESTS = ("volume_t", "volume_rank")
TESTS = CAR_TESTS + BHAR_TESTS + VOLUME_TESTS
RESULT_COLUMNS = ["window", "start", "end", "test", "estimate", "effect", "statistic", "p_value",
                  "n", "merged", "reference"]


@dataclass(frozen=True)
class Stat:
    """A test's mean effect, statistic and two-sided p-value (arrays of the batch shape)."""

    estimate: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    n: int


# ---------------------------------------------------------------------------------------------
# Per-event ingredients


def rank_rows(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the rows of a 2-D array; NaN stays NaN."""
    return _ranks(x)[0]


def _ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average ranks of x along rows, with the sorting flat indices and sorted values."""
    rows, width = x.shape
    flat = np.argsort(x, axis=1)
    flat += (np.arange(rows) * width)[:, None]
    xs = x.ravel()[flat]
    out = np.empty(x.size)
    out[flat] = _sorted_ranks(xs)
    ranks = out.reshape(x.shape)
    ranks[np.isnan(x)] = np.nan
    return ranks, flat, xs


def _sorted_ranks(xs: np.ndarray) -> np.ndarray:
    """Average ranks of rows already sorted ascending: 1..width, ties share their mean."""
    rows, width = xs.shape
    pos: np.ndarray = np.arange(1.0, width + 1.0)
    tie = xs[:, 1:] == xs[:, :-1]
    if not tie.any():
        return pos
    pos = np.tile(pos, (rows, 1))
    hit = np.flatnonzero(tie.any(axis=1))
    start = np.ones((len(hit), width), dtype=bool)
    start[:, 1:] = ~tie[hit]
    group = np.cumsum(start.ravel()) - 1
    mean = np.bincount(group, pos[hit].ravel()) / np.bincount(group)
    pos[hit] = mean[group].reshape(start.shape)
    return pos


def rank_u(x: np.ndarray, ranks: np.ndarray | None = None) -> np.ndarray:
    """Corrado & Zivney (1992) uniform ranks U_it = K_it / (M_i + 1) - 1/2, M_i = valid days."""
    m = np.isfinite(x).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_rows(x) if ranks is None else ranks) / (m + 1.0) - 0.5


def split_ranks(x: np.ndarray, flat: np.ndarray, xs: np.ndarray, first: int) -> np.ndarray:
    """Average ranks within the first ``first`` columns of x, reusing its row sort (``_ranks``)."""
    rows, width = x.shape
    col = flat % width
    head = col < first  # every row has exactly ``first`` such cells, in sorted order
    sub_col = col[head].reshape(rows, first)
    pos = np.broadcast_to(_sorted_ranks(xs[head].reshape(rows, first)), (rows, first))
    ranks = np.empty((rows, first))
    np.put_along_axis(ranks, sub_col, pos, axis=1)
    ranks[np.isnan(x[:, :first])] = np.nan
    return ranks


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


def abnormal_log_volume(panel: Panel, zero_missing: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Campbell & Wasley (1996) style abnormal volume: ``log(1 + V_it)`` minus its mean over the
    event's estimation window; returns ``(estimation block, event block)``.

    With ``zero_missing`` a zero volume is missing: Yahoo reports 0 on Hong Kong half-day sessions
    (24 and 31 December, Lunar New Year's eve) although prices move, and log(1 + 0) = 0 would
    dominate the estimation-window mean.
    """
    est, event = _log_volume(panel.est_vol, zero_missing), _log_volume(panel.vol, zero_missing)
    ok = ~np.isnan(est)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, est, 0.0).sum(axis=1) / ok.sum(axis=1)
    est -= mean[:, None]
    event -= mean[:, None]
    return est, event


def _log_volume(vol: np.ndarray, zero_missing: bool) -> np.ndarray:
    keep = vol > 0 if zero_missing else vol >= 0
    return np.log1p(vol, out=np.full(vol.shape, np.nan), where=keep)


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


# ---------------------------------------------------------------------------------------------
# Kernels: events on the last axis (scalars) or the second last (series); any leading batch axes.


def _normal_p(z: np.ndarray) -> np.ndarray:
    return 2.0 * stats.norm.sf(np.abs(z))


def _t_p(t: np.ndarray, df: float | np.ndarray) -> np.ndarray:
    return 2.0 * stats.t.sf(np.abs(t), df)


def t_test(x: np.ndarray) -> Stat:
    """Cross-sectional t (Brown & Warner 1985): t = mean(x) / (sd(x) / sqrt(n)), t(n-1)."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    t = mean / (x.std(axis=-1, ddof=1) / math.sqrt(n))
    return Stat(mean, t, _t_p(t, n - 1), n)


def patell(car: np.ndarray, scar: np.ndarray, patell_var: np.ndarray) -> Stat:
    """Patell (1976): Z = sum_i SCAR_i / sqrt(sum_i (L_i-2)/(L_i-4)), N(0, 1); the variance of
    each standardised CAR is dof_i/(dof_i-2), i.e. (L_i-2)/(L_i-4) for the market model."""
    z = scar.sum(axis=-1) / np.sqrt(patell_var.sum(axis=-1))
    return Stat(car.mean(axis=-1), z, _normal_p(z), car.shape[-1])


def bmp(car: np.ndarray, scar: np.ndarray) -> Stat:
    """Boehmer, Musumeci & Poulsen (1991): t = mean(SCAR) / (sd(SCAR) / sqrt(n)), t(n-1)."""
    res = t_test(scar)
    return Stat(car.mean(axis=-1), res.statistic, res.p_value, res.n)


def kp_rbar(z: np.ndarray, zday: np.ndarray, n_days: int) -> np.ndarray:
    """Average pairwise cross-correlation of estimation residuals (Kolari & Pynnonen 2010) in
    O(n L): with unit-norm residual vectors z_i on a common calendar-day grid,
    sum_{i != j} r_ij = ||sum_i z_i||^2 - sum_i ||z_i||^2 and rbar = that / (n (n - 1)).

    r_ij = sum_t z_it z_jt over the dates both events have; each z_i is demeaned and normalised over
    its own estimation window, so for identical windows r_ij is Pearson's correlation, and dates
    one event lacks (non-overlapping windows, missing returns) add nothing to r_ij.
    """
    lead, n = z.shape[:-2], z.shape[-2]
    batches = math.prod(lead)
    offset = (np.arange(batches) * n_days).reshape(lead + (1, 1))
    sums = np.bincount((zday + offset).ravel(), weights=z.ravel(), minlength=batches * n_days)
    total = (sums.reshape(lead + (n_days,)) ** 2).sum(axis=-1)
    own = (z**2).sum(axis=(-2, -1))
    return (total - own) / (n * (n - 1.0))


def kp(car: np.ndarray, scar: np.ndarray, z: np.ndarray, zday: np.ndarray, n_days: int) -> Stat:
    """Kolari & Pynnonen (2010) adjusted BMP: t_BMP * sqrt((1 - rbar) / (1 + (n - 1) rbar)),
    rbar from ``kp_rbar``; t(n-1)."""
    base = bmp(car, scar)
    rbar = kp_rbar(z, zday, n_days)
    n = base.n
    t = base.statistic * np.sqrt((1.0 - rbar) / (1.0 + (n - 1.0) * rbar))
    return Stat(base.estimate, t, _t_p(t, n - 1), n)


def kp_overlap_rbar(z: np.ndarray, zday: np.ndarray, zmin: np.ndarray,
                    wday: np.ndarray) -> np.ndarray:
    """Average pairwise correlation of the events' CARs when r_ij (as in ``kp_rbar``) only
    applies to the event-window days i and j share: rbar = sum_{i != j} r_ij s_ij / tau /
    (n (n - 1)), s_ij = shared calendar days. With sum_{i != j} r_ij s_ij = sum_t
    (||sum_{i covers t} z_i||^2 - sum_{i covers t} ||z_i||^2), only days two or more events
    cover cost anything. Equals ``kp_rbar`` when every event has the same window dates."""
    lead, (n, length), tau = z.shape[:-2], z.shape[-2:], wday.shape[-1]
    batches = math.prod(lead)
    key = (wday.reshape(batches, n * tau) + (np.arange(batches) << 40)[:, None]).ravel()
    _, group, count = np.unique(key, return_inverse=True, return_counts=True)
    shared = count[group] > 1
    total = np.zeros(batches)
    if shared.any():
        rows = np.repeat(np.arange(batches * n), tau)[shared]
        _, group = np.unique(group[shared], return_inverse=True)
        total = _shared_sums(z.reshape(-1, length)[rows], zday.reshape(-1, length)[rows],
                             zmin.reshape(-1)[rows], group, rows // n, batches)
    return (total / (tau * n * (n - 1.0))).reshape(lead)


def _shared_sums(z: np.ndarray, zday: np.ndarray, zmin: np.ndarray, group: np.ndarray,
                 batch: np.ndarray, batches: int) -> np.ndarray:
    """Per batch, sum over groups of ||sum of the group's z||^2 - sum of ||z||^2, each group
    summed on its own stretch of calendar days (its members' estimation windows overlap)."""
    size = int(group.max()) + 1
    start = np.full(size, np.iinfo(np.int64).max)
    np.minimum.at(start, group, zmin)
    local = np.maximum(zday - start[group][:, None], 0)  # missing residuals are 0 anyway
    span = int(local.max()) + 1
    sums = np.bincount((group[:, None] * span + local).ravel(), weights=z.ravel(),
                       minlength=size * span)
    inside = (sums.reshape(size, span) ** 2).sum(axis=1) - np.bincount(group, (z**2).sum(axis=1))
    owner = np.zeros(size, dtype=np.int64)
    owner[group] = batch
    return np.bincount(owner, inside, minlength=batches)


def kp_overlap(car: np.ndarray, scar: np.ndarray, z: np.ndarray, zday: np.ndarray,
               zmin: np.ndarray, wday: np.ndarray) -> Stat:
    """Kolari & Pynnonen (2010) adjustment of BMP with the event-window overlap rbar of
    ``kp_overlap_rbar``: t_BMP * sqrt((1 - rbar) / (1 + (n - 1) rbar)); t(n-1)."""
    base = bmp(car, scar)
    rbar = kp_overlap_rbar(z, zday, zmin, wday)
    n = base.n
    t = base.statistic * np.sqrt((1.0 - rbar) / (1.0 + (n - 1.0) * rbar))
    return Stat(base.estimate, t, _t_p(t, n - 1), n)


def corrado(estimate: np.ndarray, u: np.ndarray, cols: slice) -> Stat:
    """Rank test of Corrado (1989) with the missing-day form of Corrado & Zivney (1992) and, for a
    window of tau days, the sum of Cowan (1992) / Campbell & Wasley (1993):

        Z = sum_{t in window} (sum_i U_it / sqrt(n_t)) / (sqrt(tau) S_U),
        S_U^2 = (1/T) sum_t (sum_i U_it)^2 / n_t  over the T days (estimation + event) with
        n_t > 0 events; U_it = rank_it / (M_i + 1) - 1/2 ranked within event i.  N(0, 1).
    """
    ok = np.isfinite(u)
    cnt = ok.sum(axis=-2)
    usum = np.where(ok, u, 0.0).sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_day = np.where(cnt > 0, usum / np.sqrt(cnt), 0.0)
        s_u = np.sqrt((per_day**2).sum(axis=-1) / (cnt > 0).sum(axis=-1))
        win = np.where(cnt[..., cols] > 0, per_day[..., cols], np.nan)
        z = win.sum(axis=-1) / (math.sqrt(cols.stop - cols.start) * s_u)
    return Stat(estimate, z, _normal_p(z), u.shape[-2])


def sign_test(car: np.ndarray, pos_frac: np.ndarray) -> Stat:
    """Cowan (1992) generalized sign test: Z = (w - n p) / sqrt(n p (1 - p)), w = #{CAR_i > 0},
    p = (1/n) sum_i (1/L_i) sum_t 1[AR_it > 0] over the estimation windows; N(0, 1)."""
    n = car.shape[-1]
    p = pos_frac.mean(axis=-1)
    w = (car > 0).sum(axis=-1)
    z = (w - n * p) / np.sqrt(n * p * (1.0 - p))
    return Stat(car.mean(axis=-1), z, _normal_p(z), n)


def grank(car: np.ndarray, scar: np.ndarray, est_sar: np.ndarray, est_rank: np.ndarray) -> Stat:
    """Kolari & Pynnonen (2011) GRANK-T. SCAR*_i = SCAR_i / sd_i(SCAR) is event i's value on the
    cumulated event day, SAR_it = AR_it / s_i on its L_i estimation days; U_it = rank_it/(T_i+1)
    - 1/2 within event i (T_i = L_i + 1); Z = Ubar_0 / S, S^2 = (1/T) sum_t (n_t/n) Ubar_t^2;
    t = Z sqrt((T - 2) / (T - 1 - Z^2)) ~ t(T - 2), T = days with n_t > 0 plus the event day."""
    n = scar.shape[-1]
    g = (scar / scar.std(axis=-1, ddof=1, keepdims=True))[..., None]
    equal, below = est_sar == g, est_sar < g
    above = (est_sar > g) + 0.5 * equal  # ranks of estimation days move up past g
    size = np.isfinite(est_sar).sum(axis=-1) + 1.0
    rank0 = 1.0 + below.sum(axis=-1) + 0.5 * equal.sum(axis=-1)
    u0 = rank0 / (size + 1.0) - 0.5
    u_est = (est_rank + above) / (size[..., None] + 1.0) - 0.5
    ok = np.isfinite(u_est)
    cnt = ok.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.where(cnt > 0, np.where(ok, u_est, 0.0).sum(axis=-2) / cnt, 0.0)
        ubar0 = u0.mean(axis=-1)
        days = (cnt > 0).sum(axis=-1) + 1.0
        s = np.sqrt(((cnt / n) * ubar**2).sum(axis=-1) + ubar0**2) / np.sqrt(days)
        z = ubar0 / s
        t = z * np.sqrt((days - 2.0) / (days - 1.0 - z**2))
    return Stat(car.mean(axis=-1), t, _t_p(t, days - 2.0), n)


def wilcoxon(x: np.ndarray) -> Stat:
    """Wilcoxon signed-rank test on x (zeros dropped): z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24
    - sum_g (t_g^3 - t_g)/48) over tie groups g; p from scipy.stats.wilcoxon (exact when small)."""
    a = np.where(x != 0, np.abs(x), np.nan)
    low = stats.rankdata(a, method="min", axis=-1, nan_policy="omit")
    high = stats.rankdata(a, method="max", axis=-1, nan_policy="omit")
    n = (x != 0).sum(axis=-1)
    w_plus = np.where(x > 0, (low + high) / 2.0, 0.0).sum(axis=-1)
    ties = np.nansum((high - low + 1.0) ** 2 - 1.0, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (w_plus - n * (n + 1) / 4.0) / np.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - ties / 48.0)
    p = np.asarray(stats.wilcoxon(x, axis=-1).pvalue)
    return Stat(x.mean(axis=-1), z, p, x.shape[-1])


def skew_t(x: np.ndarray) -> Stat:
    """Lyon, Barber & Tsai (1999) skewness-adjusted t: sqrt(n) (S + g S^2 / 3 + g / (6 n)),
    S = mean / sd, g = sum (x - mean)^3 / (n sd^3); compared with t(n-1)."""
    n = x.shape[-1]
    mean, sd = x.mean(axis=-1), x.std(axis=-1, ddof=1)
    s = mean / sd
    g = ((x - mean[..., None]) ** 3).sum(axis=-1) / (n * sd**3)
    t = math.sqrt(n) * (s + g * s**2 / 3.0 + g / (6.0 * n))
    return Stat(mean, t, _t_p(t, n - 1), n)


def compute(prep: Prepared, test: str, sel: np.ndarray) -> Stat:
    """Test ``test`` on the rows ``sel`` of ``prep`` ((n,) or (samples, n) row indices);
    degenerate samples (no dispersion) give NaN or infinite statistics, without warnings."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _compute(prep, test, sel)


def _compute(prep: Prepared, test: str, sel: np.ndarray) -> Stat:
    if sel.ndim == 1 and len(sel) == len(prep.car) and (sel == np.arange(len(sel))).all():
        sel = slice(None)  # type: ignore[assignment]  # every row, in order: no copies
    car = prep.car[sel]
    if test == "t":
        return t_test(car)
    if test == "patell":
        return patell(car, prep.scar[sel], prep.patell_var[sel])
    if test == "bmp":
        return bmp(car, prep.scar[sel])
    if test == "kp":
        return kp(car, prep.scar[sel], prep.z[sel], prep.zday[sel], prep.n_days)
    if test == "kp_overlap":
        return kp_overlap(car, prep.scar[sel], prep.z[sel], prep.zday[sel], prep.zmin[sel],
                          prep.wday[sel][..., prep.event_cols])
    if test == "corrado":
        return corrado(car.mean(axis=-1), prep.ret_u[sel], prep.cols)
    if test == "sign":
        return sign_test(car, prep.pos_frac[sel])
    if test == "grank":
        return grank(car, prep.scar[sel], prep.est_sar[sel], prep.est_rank[sel])
    if test == "wilcoxon":
        return wilcoxon(car)
    if test == "bhar_t":
        return t_test(prep.bhar[sel])
    if test == "bhar_skew_t":
        return skew_t(prep.bhar[sel])
    if test == "volume_t":
        return t_test(prep.mav[sel])
    if test == "volume_rank":
        return corrado(prep.mav[sel].mean(axis=-1), prep.vol_u[sel], prep.cols)
    raise BadInput(f"unknown test {test!r} (use {', '.join(TESTS)})")


def kind_of(test: str) -> str:
    """Which sample a test needs: ``car``, ``bhar`` or ``volume``."""
    if test in BHAR_TESTS:
        return "bhar"
    return "volume" if test in VOLUME_TESTS else "car"


def check_tests(tests: Iterable[str] | None) -> tuple[str, ...]:
    """The tests asked for (all by default), or BadInput naming the unknown one."""
    chosen = TESTS if tests is None else tuple(tests)
    for test in chosen:
        if test not in REFERENCES:
            raise BadInput(f"unknown test {test!r} (use {', '.join(TESTS)})")
    return chosen


# ---------------------------------------------------------------------------------------------
# Rows: usable events, groups and firm-days


def firm_days(events: pd.DataFrame) -> pd.Series:
    """For each event id, the id of the first event of the same firm-day (ticker, day0)."""
    first = events.groupby(["ticker", "day0"], sort=False).ngroup()
    reps = pd.Series(events.index, index=events.index).groupby(first.to_numpy()).transform("first")
    return reps.rename("firm_day")


def select_rows(ar: AbnormalReturns, mask: np.ndarray | None = None,
                dedupe: bool = True) -> tuple[np.ndarray, int]:
    """Row indices of fitted events (in ``mask``), one per firm-day if ``dedupe``; and how many
    events were merged into an identical firm-day."""
    keep = np.ones(ar.panel.n_events, dtype=bool) if mask is None else np.asarray(mask, bool)
    keep = keep.copy()
    keep[list(ar.problems)] = False
    rows = np.flatnonzero(keep)
    if not dedupe or len(rows) == 0:
        return rows, 0
    ev = ar.panel.events.iloc[rows]
    first = ~ev.duplicated(subset=["ticker", "day0"], keep="first").to_numpy()
    return rows[first], int((~first).sum())


def overlapping_windows(data: AbnormalReturns | Panel) -> pd.DataFrame:
    """Pairs of events of the same ticker whose event windows share sessions, with the number of
    shared sessions and whether they are the same firm-day (same ticker and day 0)."""
    panel = data.panel if isinstance(data, AbnormalReturns) else data
    ev = panel.events
    left = pd.DataFrame({"ticker": ev["ticker"].to_numpy(), "a": np.arange(len(ev))})
    pairs = left.merge(left.rename(columns={"a": "b"}), on="ticker")
    pairs = pairs[pairs["a"] < pairs["b"]]
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    dates = panel.dates
    missing = np.isnat(dates)
    first = np.where(missing, np.datetime64("2262-01-01", "ns"), dates).min(axis=1)
    last = np.where(missing, np.datetime64("1678-01-01", "ns"), dates).max(axis=1)
    shared = ((dates[a] >= first[b][:, None]) & (dates[a] <= last[b][:, None])).sum(axis=1)
    day0 = ev["day0"].to_numpy()
    out = pd.DataFrame({"ticker": pairs["ticker"].to_numpy(), "event_id": ev.index[a],
                        "other_event_id": ev.index[b], "day0": day0[a], "other_day0": day0[b],
                        "shared_days": shared, "same_firm_day": day0[a] == day0[b]})
    return out[out["shared_days"] > 0].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Public tables


def _column_t(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-column n, mean, cross-sectional t and p of x (events x days), NaN-aware."""
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / n
        var = np.where(ok, (x - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
        t = mean / np.sqrt(var / n)
        p = np.where(n > 1, _t_p(t, np.maximum(n - 1, 1)), np.nan)
    return n, mean, t, p


def aar_table(ar: AbnormalReturns, window: Sequence[int] | None = None, *, dedupe: bool = True,
              mask: np.ndarray | None = None) -> pd.DataFrame:
    """Per day: n, AAR_t = mean_i AR_it with its cross-sectional t (Brown & Warner 1985), and
    CAAR from the window start = mean_i CAR_i[start, t] over events with every day, with its t."""
    start, end = check_window(ar, window or (int(ar.panel.days[0]), int(ar.panel.days[-1])))
    rows, _ = select_rows(ar, mask, dedupe)
    x = ar.ar[rows][:, ar.cols((start, end))]
    n, aar, t, p = _column_t(x)
    cn, caar, ct, cp = _column_t(np.cumsum(x, axis=1))
    return pd.DataFrame({"day": np.arange(start, end + 1), "n": n, "aar": aar, "t": t,
                         "p_value": p, "caar": caar, "caar_n": cn, "caar_t": ct, "caar_p": cp})


def volume_table(ar: AbnormalReturns, window: Sequence[int] | None = None, *,
                 dedupe: bool = True, mask: np.ndarray | None = None) -> pd.DataFrame:
    """Per day: n, mean abnormal log volume (Campbell & Wasley 1996), its t, and the implied
    volume effect exp(mean) - 1."""
    start, end = check_window(ar, window or (int(ar.panel.days[0]), int(ar.panel.days[-1])))
    rows, _ = select_rows(ar, mask, dedupe)
    x = abnormal_log_volume(ar.panel)[1][rows][:, ar.cols((start, end))]
    n, mean, t, p = _column_t(x)
    return pd.DataFrame({"day": np.arange(start, end + 1), "n": n, "mean_abnormal_log_volume": mean,
                         "effect": np.expm1(mean), "t": t, "p_value": p})


def event_table(ar: AbnormalReturns, window: Sequence[int]) -> pd.DataFrame:
    """Per event (keyed by event id): CAR, its variance, SCAR, BHAR, mean abnormal log volume and
    the firm-day it belongs to; ``problem`` says why an event has no result."""
    prep = prepare(ar, check_window(ar, window))
    ev = ar.panel.events
    problem = pd.Series([ar.problems.get(i, "") for i in range(len(ev))], index=ev.index)
    table = pd.DataFrame({"ticker": ev["ticker"], "day0": ev["day0"], "firm_day": firm_days(ev),
                          "car": prep.car, "car_var": prep.car_var, "scar": prep.scar,
                          "bhar": prep.bhar, "abnormal_log_volume": prep.mav,
                          "volume_effect": np.expm1(prep.mav), "problem": problem},
                         index=ev.index)
    bad = problem != ""
    table.loc[bad, ["car", "car_var", "scar", "bhar"]] = np.nan
    return table


def _nan_stat(n: int) -> Stat:
    nan = np.asarray(np.nan)
    return Stat(nan, nan, nan, n)


def _run_window(prep: Prepared, tests: Sequence[str], rows: np.ndarray,
                merged: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for test in tests:
        sel = rows[prep.usable(kind_of(test))[rows]]
        res = compute(prep, test, sel) if len(sel) >= 2 else _nan_stat(len(sel))
        estimate = float(res.estimate)
        effect = math.expm1(estimate) if kind_of(test) == "volume" else estimate
        out.append({"window": f"[{prep.window[0]}, {prep.window[1]}]", "start": prep.window[0],
                    "end": prep.window[1], "test": test, "estimate": estimate, "effect": effect,
                    "statistic": float(res.statistic), "p_value": float(res.p_value),
                    "n": int(res.n), "merged": merged, "reference": REFERENCES[test]})
    return out


def run_tests(ar: AbnormalReturns, windows: Sequence[Sequence[int]] = ((0, 0),),
              tests: Iterable[str] | None = None, *, by: str | None = None,
              dedupe: bool = True) -> pd.DataFrame:
    """Tidy table of ``tests`` (all by default) for each window, per group of ``by`` (any column
    of ``panel.events``) if given. Columns: [by, group,] window, start, end, test, estimate (mean
    CAR, BHAR or abnormal log volume), effect (exp(estimate) - 1 for volume), statistic, p_value,
    n, merged (events merged into an identical firm-day), reference."""
    chosen = check_tests(tests)
    if not windows or any(np.ndim(w) != 1 for w in windows):
        raise BadInput("windows must be a list of (start, end) pairs, e.g. [(0, 0)]")
    checked = [check_window(ar, w) for w in windows]
    common = base(ar)
    preps = [prepare(ar, w, common) for w in checked]
    ev = ar.panel.events
    if by is not None and by not in ev.columns:
        raise BadInput(f"cannot group by {by!r}: events have {', '.join(map(str, ev.columns))}")
    groups = [None] if by is None else sorted(ev[by].dropna().unique(), key=str)
    rows_out: list[dict[str, object]] = []
    for group in groups:
        mask = None if by is None else (ev[by] == group).to_numpy()
        rows, merged = select_rows(ar, mask, dedupe)
        for prep in preps:
            block = _run_window(prep, chosen, rows, merged)
            if by is not None:
                block = [{"by": by, "group": group, **row} for row in block]
            rows_out.extend(block)
    columns = (["by", "group"] if by is not None else []) + RESULT_COLUMNS
    return pd.DataFrame(rows_out, columns=columns)
