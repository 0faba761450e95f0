"""Kolari & Pynnonen (2011) generalized rank test GRANK-T on the events of a prepared window
(``eventstudy.engine.significance`` runs it as ``grank``): one sample, many samples at once,
or a block of events at a time (``grank_rows``), and from per-day sums (the pooled path)."""

from __future__ import annotations

import numpy as np

from eventstudy.engine.prepare import Stat
from eventstudy.engine.pvalues import t_two_sided


def grank(car: np.ndarray, scar: np.ndarray, est_sar: np.ndarray, est_rank: np.ndarray) -> Stat:
    """Kolari & Pynnonen (2011) GRANK-T. SCAR*_i = SCAR_i / sd_i(SCAR) is event i's value on the
    cumulated event day, SAR_it = AR_it / s_i on its L_i estimation days; U_it = rank_it/(T_i+1)
    - 1/2 within event i (T_i = L_i + 1); Z = Ubar_0 / S, S^2 = (1/T) sum_t (n_t/n) Ubar_t^2;
    t = Z sqrt((T - 2) / (T - 1 - Z^2)) ~ t(T - 2), T = days with n_t > 0 plus the event day.
    Cost O(n L) (the within-event ranks: O(n L log L) once, ``prepare.base``)."""
    n = scar.shape[-1]
    g = (scar / scar.std(axis=-1, ddof=1, keepdims=True))[..., None]
    u0, u_est = _grank_u(g, est_sar, est_rank)
    ok = np.isfinite(u_est)
    cnt = ok.sum(axis=-2)
    u_est[~ok] = 0.0
    return grank_from_sums(car.mean(axis=-1), u_est.sum(axis=-2), cnt, u0.mean(axis=-1), n)


def _grank_u(g: np.ndarray, est_sar: np.ndarray, est_rank: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """GRANK's event-day U (per event) and estimation-day U (per event and day) given each
    event's cumulated event-day value ``g`` (..., 1)."""
    equal = est_sar == g
    size = np.isfinite(est_sar).sum(axis=-1) + 1.0
    rank0 = 1.0 + (est_sar < g).sum(axis=-1) + 0.5 * equal.sum(axis=-1)
    u0 = rank0 / (size + 1.0) - 0.5
    # ranks of estimation days move up past g: + 1 above it, + 1/2 tied (exact halves, so the
    # in-place sums equal (rank + above) / (T + 1) - 1/2 written out)
    u_est = (est_sar > g).astype(float)
    u_est += est_rank
    np.add(u_est, 0.5, out=u_est, where=equal)
    u_est /= size[..., None] + 1.0
    u_est -= 0.5
    return u0, u_est


GRANK_ROWS = 512  # events at a time in ``grank_rows``


def grank_rows(car: np.ndarray, scar: np.ndarray, est_sar: np.ndarray, est_rank: np.ndarray,
               rows: np.ndarray) -> Stat:
    """``grank`` of the events ``rows`` (1-D; ``car``, ``scar`` already of those rows, the
    estimation arrays of every event), ``GRANK_ROWS`` events at a time: the same numbers bit
    for bit (the per-day sums run over the events in order, the running total in front of
    each block, as numpy sums a C-ordered array's rows one after another) without an (n, L)
    temporary. Cost O(n L)."""
    width = est_sar.shape[-1]
    if width < 2:  # one column: numpy would sum it pairwise
        return grank(car, scar, est_sar[rows], est_rank[rows])
    n = len(rows)
    g = (scar / scar.std(ddof=1))[:, None]
    u0 = np.empty(n)
    usum = np.zeros(width)
    cnt = np.zeros(width, dtype=np.intp)
    stack = np.empty((min(GRANK_ROWS, n) + 1, width))
    for lo in range(0, n, GRANK_ROWS):
        chunk = rows[lo:lo + GRANK_ROWS]
        u0[lo:lo + len(chunk)], u_est = _grank_u(g[lo:lo + len(chunk)], est_sar[chunk],
                                                 est_rank[chunk])
        missing = np.isnan(u_est)  # U is NaN exactly where the residual is missing
        cnt += len(chunk) - missing.sum(axis=0)
        block = stack[1:len(chunk) + 1]
        np.copyto(block, u_est)
        np.copyto(block, 0.0, where=missing)
        stack[0] = usum
        usum = stack[:len(chunk) + 1].sum(axis=0)
    return grank_from_sums(car.mean(axis=-1), usum, cnt, u0.mean(axis=-1), n)


def grank_from_sums(estimate: np.ndarray, usum: np.ndarray, cnt: np.ndarray,
                    ubar0: np.ndarray, n: int) -> Stat:
    """``grank`` from the per-day sums of the estimation-day U_it and counts n_t and the mean
    event-day U (Ubar_0): the pooled path sums them over blocks of events."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.where(cnt > 0, usum / cnt, 0.0)
        days = (cnt > 0).sum(axis=-1) + 1.0
        s = np.sqrt(((cnt / n) * ubar**2).sum(axis=-1) + ubar0**2) / np.sqrt(days)
        z = ubar0 / s
        t = z * np.sqrt((days - 2.0) / (days - 1.0 - z**2))
    return Stat(estimate, t, t_two_sided(t, days - 2.0), n)
