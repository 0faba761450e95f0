"""Buy-and-hold abnormal return, the one implementation every table and test uses.

Barber, B. & Lyon, J. (1997). Detecting long-run abnormal stock returns: the empirical power and
specification of test statistics. Journal of Financial Economics 43, 341-372:
``BHAR_i = prod_t (1 + R_it) - prod_t (1 + R_mt)``, NaN when a day of the window is missing.
"""

from __future__ import annotations

import numpy as np

from eventstudy.engine.arrays import Floats


def compound(returns: Floats) -> Floats:
    """``prod(1 + r) - 1`` over the last axis (NaN if any return is NaN)."""
    out: Floats = np.prod(1.0 + np.asarray(returns, dtype=float), axis=-1) - 1.0
    return out


def buy_and_hold(stock: Floats, market: Floats
                 ) -> tuple[Floats, Floats, Floats]:
    """Compounded stock return, compounded market return and their difference, the BHAR, over
    the last axis."""
    own, bench = compound(stock), compound(market)
    return own, bench, own - bench
