"""Tail probabilities of the t, normal and chi-square statistics, from ``scipy.special``.

``scipy.stats`` computes ``t.sf(x, df)`` as ``special.stdtr(df, -x)``, ``norm.sf(x)`` as
``special.ndtr(-x)`` and ``chi2.sf(x, k)`` as ``special.chdtrc(k, x)``, with NaN for a degrees
of freedom that is not positive; these functions do the same without importing ``scipy.stats``
(0.6-1 s in a fresh process), so a study that asks only for CARs and t never loads it.
Student (1908) t; the normal and chi-square laws as in any textbook (e.g. Casella & Berger 2002).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special


def _out(p: np.ndarray) -> Any:
    return p[()] if p.ndim == 0 else p  # a scalar for scalars, as scipy.stats returns


def t_two_sided(t: Any, df: Any) -> Any:
    """Two-sided p-value ``2 P(T_df > |t|)`` of Student's t with ``df`` degrees of freedom
    (NaN where t is NaN or df <= 0 or NaN): ``2 * scipy.stats.t.sf(abs(t), df)``."""
    x = np.abs(np.asarray(t, dtype=float))
    dof = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.stdtr(dof, -x)
        return _out(np.where(dof > 0, p, np.nan))


def normal_two_sided(z: Any) -> Any:
    """Two-sided p-value ``2 P(Z > |z|)`` of a standard normal statistic:
    ``2 * scipy.stats.norm.sf(abs(z))``."""
    return _out(np.asarray(2.0 * special.ndtr(-np.abs(np.asarray(z, dtype=float)))))


def chi2_upper(x: Any, df: Any) -> Any:
    """Upper tail ``P(X_df > x)`` of the chi-square law (NaN where df <= 0 or NaN; 1 for x <= 0):
    ``scipy.stats.chi2.sf(x, df)``."""
    value = np.asarray(x, dtype=float)
    dof = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        p = np.where(value <= 0, 1.0, special.chdtrc(dof, value))
        return _out(np.where((dof > 0) & ~np.isnan(value), p, np.nan))
