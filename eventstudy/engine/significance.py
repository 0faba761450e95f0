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

import math
from collections.abc import Iterable

import numpy as np
from scipy import stats

from eventstudy.engine.prepare import Prepared, Stat
from eventstudy.errors import BadInput

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
