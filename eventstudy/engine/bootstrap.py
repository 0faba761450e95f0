"""Wild bootstrap of the cross-sectional mean CAR (CAAR).

The Rademacher wild bootstrap (Wu 1986; Liu 1988; Mammen 1993) keeps each event's CAR magnitude
and flips its sign about the mean at random, which respects heteroskedasticity across events. For
B resamples of the centred CARs e_i = CAR_i - CAAR with weights v_i in {-1, +1} (p = 1/2),
t*_b = mean(v e) / (sd(v e) / sqrt(n)); the two-sided p-value is the share of |t*_b| at least
|t|, with t the ordinary cross-sectional t of the CARs (the bootstrap-t, Hall 1992). Seeded and
vectorised: one (B, n) draw. Complexity: O(B n) time and memory per window."""

from __future__ import annotations

import numpy as np

from eventstudy.engine.arrays import Floats
from eventstudy.errors import BadInput


def _t(x: Floats) -> Floats:
    """Cross-sectional t of each row of x (the last axis holds the events)."""
    n = x.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        t: Floats = x.mean(axis=-1) / (x.std(axis=-1, ddof=1) / np.sqrt(n))
    return t


MIN_WILD_EVENTS = 10  # 2^10 = 1,024 sign patterns: fewer events, no p-value


def wild_bootstrap_caar(car: Floats, n_boot: int = 9999,
                        seed: int = 0) -> dict[str, float]:
    """Wild (Rademacher) bootstrap-t p-value of CAAR = mean(car) against zero.

    Returns caar, t, p_boot and the number of resamples. NaN CARs are left out. Below
    ``MIN_WILD_EVENTS`` events there are too few distinct sign patterns (2^n) for a p-value:
    p_boot is NaN."""
    x = np.asarray(car, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        raise BadInput(f"the wild bootstrap needs at least 2 events, got {n}")
    if n_boot < 99:
        raise BadInput(f"n_boot {n_boot} is too small (at least 99)")
    t = float(_t(x))
    e = x - x.mean()
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 2, size=(n_boot, n), dtype=np.int8) * 2 - 1
    t_star = _t(v * e)
    p = float((np.sum(np.abs(t_star) >= abs(t)) + 1) / (n_boot + 1))
    if n < MIN_WILD_EVENTS:
        p = float("nan")
    return {"caar": float(x.mean()), "t": t, "p_boot": p, "n": n, "n_boot": n_boot}
