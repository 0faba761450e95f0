"""Wilcoxon (1945) signed-rank test on a sample of CARs, vectorised over samples.

scipy.stats.wilcoxon decides the p-value ("auto"): exact null distribution up to 50 values,
the normal approximation above. Above 50 values without zeros or ties in |x| (real CARs), the
ranks and that normal p-value are computed here with numpy and scipy.special, the same numbers,
so a study does not load scipy.stats (0.6-1 s in a fresh process); otherwise scipy's own ranks,
tie correction and p-value."""

from __future__ import annotations

import numpy as np

from eventstudy.engine.prepare import Stat
from eventstudy.engine.pvalues import normal_two_sided

WILCOXON_EXACT_MAX = 50  # scipy.stats.wilcoxon's "auto": exact up to 50 values, else normal


def wilcoxon(x: np.ndarray) -> Stat:
    """Wilcoxon signed-rank test on x (zeros dropped): z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24
    - sum_g (t_g^3 - t_g)/48) over tie groups g; p as scipy.stats.wilcoxon gives it (exact up
    to ``WILCOXON_EXACT_MAX`` values; above, the normal approximation 2 P(Z > |z|), computed
    here when no value is zero, tied in |x| or missing, so that scipy.stats is not loaded).
    Cost O(n log n)."""
    ranks = _untied_ranks(x) if x.shape[-1] > WILCOXON_EXACT_MAX else None
    if ranks is None:
        return _wilcoxon_scipy(x)
    n = (x != 0).sum(axis=-1)
    w_plus = np.where(x > 0, ranks, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):  # no tie group: no tie correction
        z = (w_plus - n * (n + 1) / 4.0) / np.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
        count = np.asarray(n, dtype=float)  # scipy's normal approximation in its float order
        se = np.sqrt(count * (count + 1.0) * (2.0 * count + 1.0) / 24)
        p = normal_two_sided((w_plus - count * (count + 1.0) * 0.25) / se)
    return Stat(x.mean(axis=-1), z, np.asarray(p), x.shape[-1])


def _untied_ranks(x: np.ndarray) -> np.ndarray | None:
    """Ranks 1..n of |x| along the last axis, or None if a value is zero, missing or tied in
    |x| (then scipy's own ranks and tie correction are used)."""
    a = np.abs(x)
    if not (np.isfinite(x).all() and (x != 0).all()):
        return None
    order = np.argsort(a, axis=-1)
    if (np.diff(np.take_along_axis(a, order, axis=-1), axis=-1) == 0).any():
        return None
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, np.arange(1.0, x.shape[-1] + 1.0), axis=-1)
    return ranks


def _wilcoxon_scipy(x: np.ndarray) -> Stat:
    """``wilcoxon`` with scipy's ranks (ties, zeros) and p-value (exact when small)."""
    from scipy import stats  # loaded by a small or tied sample only

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
