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
rank tests rank each event's available days of its estimation window plus the tested window
(Corrado & Zivney 1992) and average day t over the events that have it. Volume: a zero volume
is missing (see ``abnormal_log_volume``).

Cross-correlation: ``kp`` is the adjusted BMP of Kolari & Pynnonen (2010), with r-bar the mean
pairwise Pearson correlation of the estimation-window residuals aligned in event time (as in KP
2010 and R's EventStudy ``KolariPynnonenTest``), see ``kp_rbar``. Residuals of events months
apart are uncorrelated in event time, so on independent dates r-bar is ~0 and KP equals BMP;
on clustered dates r-bar picks up the common component of the same calendar days.

Cost: each test states it (n events, L estimation days, tau window days); none builds an n x n
array except ``kp_rbar`` on more than ``MAX_DAY_SETS`` distinct sets of estimation days. The
volume tests are ``t_test`` and ``corrado`` on abnormal log volume.

Single-event tests (N = 1) live in ``SINGLE_TESTS``: functions of (prepared window, rows) that
give one statistic and p-value per row; ``eventstudy.engine.simulate`` runs each of them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from eventstudy.engine.grank import grank, grank_rows
from eventstudy.engine.grank import grank_from_sums as grank_from_sums  # re-exported
from eventstudy.engine.prepare import Prepared, Stat
from eventstudy.engine.pvalues import normal_two_sided, t_two_sided
from eventstudy.engine.quantile import sq_test
from eventstudy.engine.ranks import u_column_sums
from eventstudy.engine.rbar import kp_rbar
from eventstudy.engine.signedrank import wilcoxon as wilcoxon  # re-exported
from eventstudy.errors import BadInput

REFERENCES: dict[str, str] = {
    "t": "cross-sectional t on CAR_i (Brown & Warner 1985; MacKinlay 1997)",
    "patell": "Patell (1976) Z, variance (L_i-2)/(L_i-4) per standardised CAR",
    "bmp": "Boehmer, Musumeci & Poulsen (1991) standardised cross-sectional t",
    "kp": "Kolari & Pynnonen (2010) BMP adjusted for cross-correlation (event-time r-bar, "
          "floored at 0)",
    "corrado": "Corrado (1989) rank test, Corrado & Zivney (1992) missing days, "
               "Cowan (1992) window sum",
    "sign": "Cowan (1992) generalized sign test",
    "grank": "Kolari & Pynnonen (2011) generalized rank test GRANK-T",
    "wilcoxon": "Wilcoxon (1945) signed-rank test on CAR_i (scipy.stats.wilcoxon)",
    "bhar_t": "t on buy-and-hold abnormal returns (Barber & Lyon 1997)",
    "bhar_skew_t": "skewness-adjusted t on BHAR, Hall (1992) monotone form (Lyon, Barber & "
                   "Tsai 1999)",
    "bhar_boot_skew_t": "bootstrapped skewness-adjusted t on BHAR (Lyon, Barber & Tsai 1999; "
                        "n/4 resamples, B = 1000)",
    "volume_t": "market-adjusted abnormal log volume, t with the estimation-period sd of the "
                "mean (Campbell & Wasley 1996; Brown & Warner 1985 crude dependence adjustment)",
    "volume_rank": "abnormal log volume, rank test (Campbell & Wasley 1996; Corrado 1989)",
}


CAR_TESTS = ("t", "patell", "bmp", "kp", "corrado", "sign", "grank", "wilcoxon")


BHAR_TESTS = ("bhar_t", "bhar_skew_t", "bhar_boot_skew_t")


# What a study reports: the skewness-adjusted BHAR tests rejected 7-44% of true nulls at 5% in
# the Brown-Warner simulation on real HK stocks (issue 22); they stay available to run_tests
DEFAULT_BHAR_TESTS = ("bhar_t",)


VOLUME_TESTS = ("volume_t", "volume_rank")


REPORTED_TESTS = CAR_TESTS + DEFAULT_BHAR_TESTS + VOLUME_TESTS  # what a study reports


TESTS = CAR_TESTS + BHAR_TESTS + VOLUME_TESTS


RESULT_COLUMNS = ["window", "start", "end", "test", "estimate", "effect", "statistic", "p_value",
                  "n", "merged", "reference"]


def _normal_p(z: np.ndarray) -> np.ndarray:
    p: np.ndarray = normal_two_sided(z)
    return p


def _t_p(t: np.ndarray, df: float | np.ndarray) -> np.ndarray:
    p: np.ndarray = t_two_sided(t, df)
    return p


def t_test(x: np.ndarray) -> Stat:
    """Cross-sectional t (Brown & Warner 1985): t = mean(x) / (sd(x) / sqrt(n)), t(n-1).
    Cost O(n)."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    t = mean / (x.std(axis=-1, ddof=1) / math.sqrt(n))
    return Stat(mean, t, _t_p(t, n - 1), n)


def patell(car: np.ndarray, scar: np.ndarray, patell_var: np.ndarray) -> Stat:
    """Patell (1976): Z = sum_i SCAR_i / sqrt(sum_i (L_i-2)/(L_i-4)), N(0, 1); the variance of
    each standardised CAR is dof_i/(dof_i-2), i.e. (L_i-2)/(L_i-4) for the market model.
    Cost O(n)."""
    z = scar.sum(axis=-1) / np.sqrt(patell_var.sum(axis=-1))
    return Stat(car.mean(axis=-1), z, _normal_p(z), car.shape[-1])


def bmp(car: np.ndarray, scar: np.ndarray) -> Stat:
    """Boehmer, Musumeci & Poulsen (1991): t = mean(SCAR) / (sd(SCAR) / sqrt(n)), t(n-1).
    Cost O(n)."""
    res = t_test(scar)
    return Stat(car.mean(axis=-1), res.statistic, res.p_value, res.n)


def kp(car: np.ndarray, scar: np.ndarray, z: np.ndarray, ok: np.ndarray) -> Stat:
    """Kolari & Pynnonen (2010, eq. 19) adjusted BMP:
    t_adj = t_BMP * sqrt((1 - rbar) / (1 + (n - 1) rbar)), rbar from ``kp_rbar`` floored at 0
    (conservative: a negative sample r-bar of events that are not clustered would inflate
    t_BMP, and KP's adjustment is for positive cross-correlation); t(n-1).
    Cost: that of ``kp_rbar`` (O(n L), or O(G n L) with G sets of estimation days)."""
    return kp_from_rbar(car, scar, kp_rbar(z, ok))


def kp_from_rbar(car: np.ndarray, scar: np.ndarray, rbar: np.ndarray) -> Stat:
    """``kp`` given the sample's r-bar (before flooring): the pooled path
    (``eventstudy.engine.pooling``) sums r-bar's ingredients across blocks of events."""
    base = bmp(car, scar)
    rbar = np.maximum(rbar, 0.0)  # NaN stays NaN
    n = base.n
    t = base.statistic * np.sqrt((1.0 - rbar) / (1.0 + (n - 1.0) * rbar))
    return Stat(base.estimate, t, _t_p(t, n - 1), n)


def corrado(estimate: np.ndarray, u: np.ndarray, cols: slice) -> Stat:
    """Rank test of Corrado (1989) with the missing-day form of Corrado & Zivney (1992) and, for a
    window of tau days, the sum of Cowan (1992) / Campbell & Wasley (1993):

        Z = sum_{t in window} (sum_i U_it / sqrt(n_t)) / (sqrt(tau) S_U),
        S_U^2 = (1/T) sum_t (sum_i U_it)^2 / n_t  over the T days (estimation + event) with
        n_t > 0 events; U_it = rank_it / (M_i + 1) - 1/2 ranked within event i.  N(0, 1).
    Cost O(n (L + tau)) (the ranks: O(n (L + tau) log(L + tau)), ``Prepared.ret_u``, or a
    block of events at a time for one sample, ``ranks.u_column_sums``).
    """
    usum, cnt = column_sums(u)
    return corrado_from_sums(estimate, usum, cnt, cols, u.shape[-2])


def column_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day (column): the sum of the finite values of x over the events (rows) and their
    count; additive over blocks of events."""
    ok = np.isfinite(x)
    return np.where(ok, x, 0.0).sum(axis=-2), ok.sum(axis=-2)


def corrado_from_sums(estimate: np.ndarray, usum: np.ndarray, cnt: np.ndarray, cols: slice,
                      n: int) -> Stat:
    """``corrado`` from its per-day sums of U_it over the events and counts n_t (``column_sums``
    of the U matrix; summed over blocks of events, the pooled path)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        per_day = np.where(cnt > 0, usum / np.sqrt(cnt), 0.0)
        s_u = np.sqrt((per_day**2).sum(axis=-1) / (cnt > 0).sum(axis=-1))
        win = np.where(cnt[..., cols] > 0, per_day[..., cols], np.nan)
        z = win.sum(axis=-1) / (math.sqrt(cols.stop - cols.start) * s_u)
    return Stat(estimate, z, _normal_p(z), n)


def sign_test(car: np.ndarray, pos_frac: np.ndarray) -> Stat:
    """Cowan (1992) generalized sign test: Z = (w - n p) / sqrt(n p (1 - p)), w = #{CAR_i > 0},
    p = (1/n) sum_i (1/L_i) sum_t 1[AR_it > 0] over the estimation windows; N(0, 1).
    Cost O(n) (p's ingredient: O(n L) once, ``prepare.base``)."""
    n = car.shape[-1]
    p = pos_frac.mean(axis=-1)
    w = (car > 0).sum(axis=-1)
    z = (w - n * p) / np.sqrt(n * p * (1.0 - p))
    return Stat(car.mean(axis=-1), z, _normal_p(z), n)


def hall_t(x: np.ndarray, center: np.ndarray | float = 0.0) -> np.ndarray:
    """Hall's (1992) monotone skewness-adjusted t along the last axis, the form Lyon, Barber &
    Tsai (1999, eq. 5 with Hall's cubic term) use for BHARs:

        t_sa = sqrt(n) (S + g S^2 / 3 + g^2 S^3 / 27 + g / (6 n)),
        S = (mean(x) - center) / sd(x),  g = sum (x - mean)^3 / (n sd^3)  (sd with n - 1).

    dt_sa/dS = sqrt(n) (1 + g S / 3)^2 >= 0: t_sa never decreases as the sample shifts up,
    unlike LBT's quadratic S + g S^2 / 3 + g / (6 n), which turns back for |S| > 3 / (2 |g|)."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    dev = x - mean[..., None]
    dev2 = dev * dev
    sd = np.sqrt(dev2.sum(axis=-1) / (n - 1))
    s = (mean - center) / sd
    g = (dev2 * dev).sum(axis=-1) / (n * sd**3)
    out: np.ndarray = math.sqrt(n) * (s + g * s**2 / 3.0 + g**2 * s**3 / 27.0 + g / (6.0 * n))
    return out


def skew_t(x: np.ndarray) -> Stat:
    """Skewness-adjusted t of Lyon, Barber & Tsai (1999) in Hall's (1992) monotone form
    (``hall_t``), compared with t(n-1). Cost O(n)."""
    n = x.shape[-1]
    t = hall_t(x)
    return Stat(x.mean(axis=-1), t, _t_p(t, n - 1), n)


BOOTSTRAP_DRAWS = 1000


BOOTSTRAP_SEED = 0


DRAW_BLOCK = 250  # resamples gathered at a time (each resample's t_sa* is computed on its own)


MIN_BOOTSTRAP_EVENTS = 20  # resamples of n/4 >= 5 values; fewer events: no p-value


def boot_skew_t(x: np.ndarray, draws: int = BOOTSTRAP_DRAWS, seed: int = BOOTSTRAP_SEED) -> Stat:
    """Bootstrapped skewness-adjusted t (Lyon, Barber & Tsai 1999, sec. III.B): ``draws``
    resamples of n_b = max(n // 4, 3) values drawn with replacement from the sample; in each,
    t_sa* = ``hall_t`` of the resample centred at the sample mean (S* = (mean* - mean) / sd*,
    the null imposed on the bootstrap world, so t_sa* is the bootstrap analogue of t_sa minus
    its value under the null). LBT reject when t_sa lies below the alpha/2 or above the
    1 - alpha/2 quantile of t_sa*; the matching equal-tailed two-sided p-value is
    p = min(1, 2 min(P*(t_sa* <= t_sa), P*(t_sa* >= t_sa))) over the resamples with a defined
    t_sa*. The statistic reported is t_sa; below ``MIN_BOOTSTRAP_EVENTS`` events the p-value is
    NaN (resamples of 3 or 4 values cannot estimate a skewness).

    The resampling positions come from ``numpy.random.default_rng(seed)`` and depend only on
    (seed, n, draws), so a result is reproducible and a batch of samples equals the samples
    tested one at a time; vectorised as one (..., draws, n_b) gather. Cost O(draws n / 4)."""
    n = x.shape[-1]
    nb = max(n // 4, 3)
    idx = np.random.default_rng(seed).integers(0, n, size=(draws, nb))
    t = hall_t(x)
    center = x.mean(axis=-1)[..., None]
    star = np.concatenate([hall_t(x[..., idx[lo:lo + DRAW_BLOCK]], center)  # bounded memory
                           for lo in range(0, draws, DRAW_BLOCK)], axis=-1)
    seen = np.isfinite(star).sum(axis=-1)
    low = (star <= t[..., None]).sum(axis=-1) / seen
    high = (star >= t[..., None]).sum(axis=-1) / seen
    p = np.minimum(1.0, 2.0 * np.minimum(low, high))
    return Stat(x.mean(axis=-1), t, np.where(np.isfinite(t) & (n >= MIN_BOOTSTRAP_EVENTS), p,
                                             np.nan), n)


def volume_t(mav: np.ndarray, av_est: np.ndarray, tau: int) -> Stat:
    """Campbell & Wasley (1996) parametric test of abnormal log volume, with the crude
    dependence adjustment of Brown & Warner (1985): Abar_t = mean over the events of the
    abnormal log volume A_it on estimation day t (event time, the days some event has),
    S = sd of Abar_t over those T days (T - 1 dof), and over a tau-day window
    t = mean_i(mean_window A_i) sqrt(tau) / S, compared with t(T - 1). The sd from the time
    series of the sample mean takes cross-correlation (events on one date) into account."""
    avsum, cnt = column_sums(av_est)
    return volume_t_from_sums(mav, avsum, cnt, tau)


def volume_t_from_sums(mav: np.ndarray, avsum: np.ndarray, cnt: np.ndarray, tau: int) -> Stat:
    """``volume_t`` from the per-day sums and counts of the estimation-block abnormal log
    volume (``column_sums``; summed over blocks of events, the pooled path)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        abar = np.where(cnt > 0, avsum / cnt, np.nan)
        days = (cnt > 0).sum(axis=-1)
        center = np.nansum(abar, axis=-1) / days
        s = np.sqrt(np.nansum((abar - center[..., None]) ** 2, axis=-1) / (days - 1.0))
        estimate = mav.mean(axis=-1)
        t = estimate * math.sqrt(tau) / s
    return Stat(estimate, t, _t_p(t, days - 1.0), mav.shape[-1])


def single_t(prep: Prepared, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-event t (N = 1): t_i = CAR_i / sqrt(Var(CAR_i)) with the prediction-error
    variance (MacKinlay 1997, eq. 9-10; Campbell, Lo & MacKinlay 1997, sec. 4.4), t(L_i - 2)
    for the market model (the residual degrees of freedom). One (statistic, p) per row."""
    t = prep.scar[rows]
    return t, _t_p(t, prep.dof[rows])


def single_sq(prep: Prepared, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample-quantile test (Gelbach, Helland & Klick 2013, ``eventstudy.engine.quantile``):
    CAR_i / s_i ranked among the tau-day sums of the estimation residuals / s_i (the same ranks
    as unscaled). Statistic: CAR_i / s_i. One (statistic, p) per row."""
    tau = prep.window[1] - prep.window[0] + 1
    x = prep.car[rows] / prep.sigma[rows]
    return x, sq_test(x, prep.est_sar[rows], tau)[0]


SingleTest = Callable[[Prepared, np.ndarray], tuple[np.ndarray, np.ndarray]]


SINGLE_TESTS: dict[str, SingleTest] = {"single_t": single_t, "single_sq": single_sq}


SINGLE_REFERENCES: dict[str, str] = {
    "single_t": "single-event t, CAR / prediction-error sd, t(L-2) (MacKinlay 1997)",
    "single_sq": "sample-quantile test, CAR among estimation-window L-day sums (Gelbach, "
                 "Helland & Klick 2013)",
}


def compute(prep: Prepared, test: str, sel: np.ndarray) -> Stat:
    """Test ``test`` on the rows ``sel`` of ``prep`` ((n,) or (samples, n) row indices);
    degenerate samples (no dispersion) give NaN or infinite statistics, without warnings."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _compute(prep, test, sel)


def _compute(prep: Prepared, test: str, sel: np.ndarray) -> Stat:
    if sel.ndim == 1 and test in ("corrado", "volume_rank"):
        return _rank_test(prep, test, sel)
    if sel.ndim == 1 and test == "grank":
        return grank_rows(prep.car[sel], prep.scar[sel], prep.est_sar, prep.est_rank, sel)
    if sel.ndim == 1 and test in ("kp", "volume_t"):
        return _window_free(prep, test, sel)
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
        return kp(car, prep.scar[sel], prep.z[sel], prep.est_ok[sel])
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
    if test == "bhar_boot_skew_t":
        return boot_skew_t(prep.bhar[sel])
    if test == "volume_t":
        return volume_t(prep.mav[sel], prep.av_est[sel], prep.cols.stop - prep.cols.start)
    if test == "volume_rank":
        return corrado(prep.mav[sel].mean(axis=-1), prep.vol_u[sel], prep.cols)
    raise BadInput(f"unknown test {test!r} (use {', '.join(TESTS)})")


def _rank_test(prep: Prepared, test: str, rows: np.ndarray) -> Stat:
    """``corrado`` or ``volume_rank`` on the rows ``rows`` (1-D) from the per-day sums of U,
    ranked a block of rows at a time (``ranks.u_column_sums``): no (n, L + tau) U matrix."""
    if test == "corrado":
        estimate = prep.car[rows].mean(axis=-1)
        usum, cnt = u_column_sums(prep.est_ar, prep.window_ar, rows)
    else:
        estimate = prep.mav[rows].mean(axis=-1)
        usum, cnt = u_column_sums(prep.av_est, prep.window_av, rows)
    return corrado_from_sums(estimate, usum, cnt, prep.cols, len(rows))


def _window_free(prep: Prepared, test: str, rows: np.ndarray) -> Stat:
    """``kp`` or ``volume_t`` on the rows ``rows`` (1-D), their window-independent part (KP's
    r-bar, the per-day sums of the estimation-block abnormal log volume) made once per sample
    of events and kept in ``prep.memo`` for the other windows."""
    key = (test, rows.tobytes())
    if key not in prep.memo:
        every = len(rows) == len(prep.car) and bool((rows == np.arange(len(rows))).all())
        pick = slice(None) if every else rows  # every row, in order: no copies
        prep.memo[key] = (kp_rbar(prep.z[pick], prep.est_ok[pick]) if test == "kp"
                          else column_sums(prep.av_est[pick]))
    if test == "kp":
        return kp_from_rbar(prep.car[rows], prep.scar[rows], prep.memo[key])
    avsum, cnt = prep.memo[key]
    return volume_t_from_sums(prep.mav[rows], avsum, cnt, prep.cols.stop - prep.cols.start)


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
