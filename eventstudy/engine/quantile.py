"""Single-firm inference without normality: the sample-quantile (SQ) test.

Gelbach, Helland & Klick (2013), "Valid inference in single-firm, single-event studies",
American Law and Economics Review 15(2), 495-541. With one event the t test's p-value rests on
normal abnormal returns; the SQ test instead compares the event-window CAR with the empirical
distribution of the same statistic in the estimation window: the estimation-period residuals
for a one-day window, and the sums of L consecutive estimation residuals (every L-day stretch,
overlapping) for an L-day window. GHK reject at level alpha when the event statistic lies
outside the empirical alpha/2 and 1 - alpha/2 quantiles (two-sided). The p-value reported is
the matching equal-tailed one with the event counted among the draws,

    p_SQ = min(1, 2 min(1 + #{S_k <= CAR}, 1 + #{S_k >= CAR}) / (n + 1)),

over the n estimation-window sums S_k without a missing day (a sum that would span a missing
session, or sessions left out of the estimation window, is not used), so p_SQ is never 0; its
smallest attainable value is ``sq_min_p = 2 / (n + 1)`` (an event beyond every estimation sum).
Rows with fewer than two sums have no p-value (NaN)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from eventstudy.engine.arrays import Floats, Ints

BLOCK_ROWS = 128  # rows of estimation residuals whose sums are made and counted at a time


def rolling_sums(est_ar: Floats, length: int) -> Floats:
    """Sums of every ``length`` consecutive columns of each row, NaN where a day is missing:
    (N, L) -> (N, L - length + 1)."""
    if length > est_ar.shape[1]:
        return np.full((est_ar.shape[0], 0), np.nan)
    if length < 8:  # a short window: added column by column, left to right, as numpy's sum
        width = est_ar.shape[1] - length + 1  # of fewer than 8 numbers does (no pairing)
        total: Floats = est_ar[:, :width].copy()
        for k in range(1, length):
            total += est_ar[:, k:k + width]
        return total
    if length <= 128:
        return _pairwise(est_ar, length, est_ar.shape[1] - length + 1)
    sums: Floats = sliding_window_view(est_ar, length, axis=1).sum(axis=2)
    return sums


def _pairwise(est_ar: Floats, length: int, width: int) -> Floats:
    """``rolling_sums`` for 8 <= length <= 128 in numpy's order for a sum of that many numbers
    (eight running sums of every eighth number, added in pairs, then the rest one by one),
    each partial sum shared by the overlapping windows: O(length / 8 + length % 8) passes."""
    blocks, span = length // 8, width + 7
    run = est_ar[:, :span].copy()  # run[t] = e[t] + e[t + 8] + ... (blocks numbers)
    for b in range(1, blocks):
        run += est_ar[:, 8 * b:8 * b + span]
    pairs = run[:, :-1] + run[:, 1:]  # (r0 + r1), (r2 + r3), ... at every offset
    quads = pairs[:, :-2] + pairs[:, 2:]  # (r0 + r1) + (r2 + r3)
    total: Floats = quads[:, :width] + quads[:, 4:4 + width]
    for k in range(8 * blocks, length):
        total += est_ar[:, k:k + width]
    return total


def sq_test(car: Floats, est_ar: Floats, length: int
            ) -> tuple[Floats, Floats, Ints]:
    """(p_SQ, sq_min_p, n windows) per row for event CARs ``car`` (N,) over ``length`` days
    against the estimation residuals ``est_ar`` (N, L) (Gelbach, Helland & Klick 2013); the
    sums are made and counted ``BLOCK_ROWS`` rows at a time (they stay in cache)."""
    x = np.asarray(car, float)
    n, below, above = (np.zeros(len(est_ar), dtype=np.intp) for _ in range(3))
    with np.errstate(invalid="ignore"):
        for start in range(0, len(est_ar), BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            sums, at = rolling_sums(est_ar[rows], length), x[rows, None]
            n[rows] = np.isfinite(sums).sum(axis=1)
            below[rows] = (sums <= at).sum(axis=1)  # a missing sum (NaN) compares False
            above[rows] = (sums >= at).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * (1.0 + np.minimum(below, above)) / (n + 1.0))
        min_p = np.minimum(1.0, 2.0 / (n + 1.0))
    bad = (n < 2) | ~np.isfinite(x)
    return np.where(bad, np.nan, p), np.where(n < 2, np.nan, min_p), n
