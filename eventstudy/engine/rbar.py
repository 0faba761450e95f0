"""The Kolari & Pynnonen (2010) cross-correlation r-bar of the ``kp`` test: the mean pairwise
correlation of the events' estimation-window residuals in event time, pairwise complete, without
n x n arrays unless the events have more than ``MAX_DAY_SETS`` distinct sets of days."""

from __future__ import annotations

import numpy as np

from eventstudy.engine.arrays import Bools, Floats


def kp_rbar(z: Floats, ok: Bools) -> Floats:
    """Kolari & Pynnonen (2010) r-bar: the mean of the pairwise Pearson correlations r_ij
    (i != j) of the events' estimation-window residuals aligned in EVENT time (column k of the
    right-aligned estimation block is the same position before day 0 for every event), each
    r_ij over the days both events have (pairwise complete, as R's
    ``cor(use = "pairwise.complete.obs")`` in EventStudy's ``KolariPynnonenTest``). A pair with
    fewer than 2 common days or a constant residual on them has no r_ij and is left out of the
    mean. ``z``: residuals demeaned and scaled to unit norm over each event's own days (0 where
    missing), ``ok``: the days each event has; leading axes are batches of samples.

    Cost: when every event of a sample has the same estimation days (the usual case, and every
    Brown-Warner sample) each z_i is already the standardised row over the common days, so
    sum_{i != j} r_ij = sum_t ((sum_i z_it)^2 - sum_i z_it^2) in O(n L) without any n x n array.
    Otherwise (unequal windows, missing days) the events are grouped by their set of days (G
    sets; right-aligned windows of different lengths give at most L) and, for each pair of sets,
    the sum of r_ij over the pairs is one product of column sums of the residuals standardised
    over the common days: O(G n L) time and O(n L) memory, linear in n. Only when the sets are
    more than ``MAX_DAY_SETS`` (nearly every event its own missing days) is r_ij computed from
    matrix products over blocks of rows: O(n^2 L) time, the one quadratic step, in
    O(n L + ``PAIR_BLOCK``) memory (no n x n array: 100,000 events fit in a few GB).
    """
    same = (ok == ok[..., :1, :]).all(axis=(-2, -1))
    if np.all(same):
        return _rbar_common_days(z)
    if z.ndim == 2:
        grouped = _rbar_by_day_sets(z, ok)
        return grouped if grouped is not None else _rbar_pairwise_blocked(z, ok)
    exact = _rbar_pairwise(z, ok)
    if np.any(same):
        exact = np.where(same, _rbar_common_days(z), exact)
    return exact


def _rbar_common_days(z: Floats) -> Floats:
    """r-bar when every row has the same days: sums of unit-norm rows, O(n L)."""
    m = (np.abs(z).sum(axis=-1) > 0).sum(axis=-1)  # rows with a correlation at all
    total = (z.sum(axis=-2) ** 2).sum(axis=-1) - (z**2).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar: Floats = total / (m * (m - 1.0))
    return rbar


MAX_DAY_SETS = 512


def _standardised(x: Floats) -> tuple[Floats, int]:
    """Rows of ``x`` demeaned and scaled to unit norm (0 for a constant row, by the same
    1e-14 relative rule as ``_rbar_pairwise``) and how many rows are not constant."""
    count = x.shape[1]
    sx, sxx = x.sum(axis=1), (x * x).sum(axis=1)
    var = sxx - sx**2 / count
    valid = var > 1e-14 * sxx
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(valid[:, None], (x - (sx / count)[:, None]) / np.sqrt(var)[:, None], 0.0)
    return out, int(valid.sum())


def _rbar_by_day_sets(z: Floats, ok: Bools) -> Floats | None:
    """r-bar over pairwise-common days, events grouped by their set of days (see ``kp_rbar``);
    None when there are more than ``MAX_DAY_SETS`` sets."""
    sets, which = np.unique(ok, axis=0, return_inverse=True)
    if len(sets) > MAX_DAY_SETS:
        return None
    which = which.reshape(-1)
    rows = [np.flatnonzero(which == g) for g in range(len(sets))]
    total, pairs = 0.0, 0
    for g in range(len(sets)):
        for h in range(g, len(sets)):
            common = sets[g] & sets[h]
            if common.sum() < 2:
                continue
            a, na = _standardised(z[np.ix_(rows[g], np.flatnonzero(common))])
            if g == h:
                sa = a.sum(axis=0)
                total += float(sa @ sa - (a * a).sum())
                pairs += na * (na - 1)
                continue
            b, nb = _standardised(z[np.ix_(rows[h], np.flatnonzero(common))])
            total += 2.0 * float(a.sum(axis=0) @ b.sum(axis=0))
            pairs += 2 * na * nb
    return np.asarray(total / pairs if pairs else np.nan)


PAIR_BLOCK = 4_000_000  # pairs (i, j) per block of rows in ``_rbar_pairwise_blocked``


def _rbar_pairwise_blocked(z: Floats, ok: Bools) -> Floats:
    """``_rbar_pairwise`` of one sample (2-D) over blocks of rows i against every j: the same
    sums, never more than ``PAIR_BLOCK`` pairs in memory at once."""
    x, mask = np.where(ok, z, 0.0), ok.astype(float)
    xx = x * x
    n = len(x)
    step = max(1, PAIR_BLOCK // max(n, 1))
    total, pairs = 0.0, 0
    for lo in range(0, n, step):
        rows = slice(lo, min(lo + step, n))
        count = mask[rows] @ mask.T  # n_ij common days
        sx, sxx = x[rows] @ mask.T, xx[rows] @ mask.T  # sums of x_i over the days j has
        sx_t, sxx_t = mask[rows] @ x.T, mask[rows] @ xx.T  # sums of x_j over the days i has
        sxy = x[rows] @ x.T
        with np.errstate(invalid="ignore", divide="ignore"):
            vi, vj = sxx - sx**2 / count, sxx_t - sx_t**2 / count
            r = (sxy - sx * sx_t / count) / np.sqrt(vi * vj)
        valid = (count >= 2) & (vi > 1e-14 * sxx) & (vj > 1e-14 * sxx_t)
        valid[np.arange(rows.stop - lo), np.arange(lo, rows.stop)] = False  # i != j
        total += float(np.where(valid, r, 0.0).sum())
        pairs += int(valid.sum())
    return np.asarray(total / pairs if pairs else np.nan)


def _rbar_pairwise(z: Floats, ok: Bools) -> Floats:
    """r-bar from pairwise-complete Pearson correlations, batched matrix products."""
    x, mask = np.where(ok, z, 0.0), ok.astype(float)
    mt = np.swapaxes(mask, -1, -2)
    count = mask @ mt  # n_ij common days
    sx = x @ mt  # sum of x_i over the days j has
    sxx = (x * x) @ mt
    sxy = x @ np.swapaxes(x, -1, -2)
    sx_t, sxx_t = np.swapaxes(sx, -1, -2), np.swapaxes(sxx, -1, -2)
    with np.errstate(invalid="ignore", divide="ignore"):
        vi, vj = sxx - sx**2 / count, sxx_t - sx_t**2 / count
        r = (sxy - sx * sx_t / count) / np.sqrt(vi * vj)
    n = z.shape[-2]
    valid = (count >= 2) & (vi > 1e-14 * sxx) & (vj > 1e-14 * sxx_t) & ~np.eye(n, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar: Floats = np.where(valid, r, 0.0).sum(axis=(-2, -1)) / valid.sum(axis=(-2, -1))
    return rbar
