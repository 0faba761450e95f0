"""GARCH volatility around an event, built on ``arch``.

Models, all estimated by ``arch``: GARCH(1,1) (Bollerslev 1986), GJR-GARCH(1,1,1) (Glosten,
Jagannathan & Runkle 1993) and EGARCH(1,1) with Nelson's asymmetric term (Nelson 1991; arch's
``EGARCH(p=1, o=1, q=1)``), each with normal, Student-t or skew-t (Hansen 1994) errors, and a
constant mean or a market-model mean (arch's ``LS`` mean with the market return as regressor).
Candidates are ranked by BIC (Schwarz 1978).

Units: returns (decimals) are multiplied by ``scale`` (default 100, i.e. percent) before they
reach arch's optimiser, whose SLSQP search is badly conditioned with daily variances near 1e-4.
Parameters, sigmas and variances in every result are in those units: sigma in % per day, omega
and variances in %^2.

Event-induced volatility: the parameters are estimated on the pre-event window (returns up to day
-11 by default), then the event-window returns are *filtered* through the fixed pre-event
parameters. The filtered sigma2_t is the conditional variance given information up to t-1, the
one-step forecast that standardises the abnormal return of day t, and it reacts on day +1 to the
day-0 shock as the model says it should. The multi-step forecast from day -11 (arch's
``forecast(horizon=...)``, column ``sigma_ex_ante``) is reported beside it; it ignores everything
after day -11, which is why it is not used to standardise.

Short histories: a fit is *flagged* when arch's optimiser did not converge (``convergence_flag``
!= 0 or a ``ConvergenceWarning``), when persistence >= 0.999, when the ARCH (news) coefficients are
~0 (beta is then not identified), or when alpha or nu sits on its bound. Only unflagged fits
compete on BIC. When none is left, or the estimation window has fewer than ``min_obs`` returns,
the conditional variance falls back to EWMA (RiskMetrics 1996, lambda = 0.94) and the result says
why in ``fallback_reason``.

References
----------
Balaban, E. & Constantinou, C. (2006). Volatility clustering and event-induced volatility:
    evidence from UK mergers and acquisitions. European Journal of Finance 12(5).
    doi:10.1080/13518470500377430
Beaver, W. (1968). The information content of annual earnings announcements. Journal of
    Accounting Research 6, 67-92.
Boehmer, E., Musumeci, J. & Poulsen, A. (1991). Event-study methodology under conditions of
    event-induced variance. Journal of Financial Economics 30, 253-272.
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity. Journal of
    Econometrics 31, 307-327.
Fiorentini, G., Calzolari, G. & Panattoni, L. (1996). Analytic derivatives and the computation
    of GARCH estimates. Journal of Applied Econometrics 11, 399-417.
Glosten, L., Jagannathan, R. & Runkle, D. (1993). On the relation between the expected value and
    the volatility of the nominal excess return on stocks. Journal of Finance 48, 1779-1801.
Hansen, B. (1994). Autoregressive conditional density estimation. International Economic
    Review 35, 705-730.
J.P. Morgan/Reuters (1996). RiskMetrics - Technical Document, 4th edition.
Nelson, D. (1991). Conditional heteroskedasticity in asset returns: a new approach.
    Econometrica 59, 347-370.
Savickas, R. (2003). Event-induced volatility and tests for abnormal performance. Journal of
    Financial Research 26(2), 165-178.
Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from eventstudy.engine.windows import Window
from eventstudy.errors import BadInput, EstimationError
from eventstudy.volatility.base import _days, _json
from eventstudy.volatility.event import EventVolatility


@dataclass
class SavickasTest:
    """Savickas (2003) cross-sectional test of GARCH-standardised (cumulative) ARs."""

    window: Window
    n_events: int
    mean_scar: float
    std_scar: float
    t_stat: float
    p_value: float

    def summary(self) -> str:
        """One line."""
        return (f"Savickas (2003) test over {_days(self.window)}: N = {self.n_events}, mean SCAR "
                f"= {self.mean_scar:.3f}, sd = {self.std_scar:.3f}, t = {self.t_stat:.3f}, "
                f"p = {self.p_value:.4f} (two-sided, t({self.n_events - 1}))")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _json(self.__dict__)


def _window_columns(n_days: int, window: Window | None, days: Sequence[int] | None
                    ) -> tuple[np.ndarray, Window]:
    """Boolean column mask of ``window`` (inclusive, in day labels) and the window used."""
    labels = np.arange(n_days) if days is None else np.asarray(days)
    if labels.shape != (n_days,):
        raise BadInput(f"days has {labels.size} labels for {n_days} columns")
    lo, hi = (int(labels[0]), int(labels[-1])) if window is None else window
    mask = (labels >= lo) & (labels <= hi)
    if not mask.any():
        raise BadInput(f"window {_days((lo, hi))} selects no column of the SAR array")
    return mask, (lo, hi)


def savickas_test(sar: np.ndarray, window: Window | None = None,
                  days: Sequence[int] | None = None) -> SavickasTest:
    """Savickas (2003) test on an (events x days) array of GARCH-standardised ARs (NaN = missing).

    Per event, SCAR_i = sum of its non-missing SARs in ``window`` / sqrt(their number); events
    with none are dropped. The statistic is the BMP-style (Boehmer, Musumeci & Poulsen 1991)
    cross-sectional t: mean(SCAR) / (sd(SCAR) / sqrt(N)), sd with N - 1 degrees of freedom;
    the p-value is two-sided from t(N - 1) (Savickas uses the normal limit). Savickas
    standardises the event-day dummy coefficient gamma_i by sqrt(h_i,E); with one day in the
    window this is the same construction. ``days`` labels the columns (default 0..n-1) and
    ``window`` is inclusive in those labels (default all columns).
    """
    values = np.asarray(sar, dtype=float)
    if values.ndim != 2:
        raise BadInput(f"sar must be a 2-d (events x days) array, got shape {values.shape}")
    mask, used = _window_columns(values.shape[1], window, days)
    block = values[:, mask]
    counts = np.sum(np.isfinite(block), axis=1)
    keep = counts > 0
    scar = np.nansum(block[keep], axis=1) / np.sqrt(counts[keep])
    if scar.size < 2:
        raise BadInput(f"the Savickas test needs at least 2 events with data in "
                       f"{_days(used)}, got {scar.size}")
    sd = float(np.std(scar, ddof=1))
    if sd == 0.0:
        raise EstimationError("all standardised CARs are equal: the cross-sectional t is undefined")
    t_stat = float(np.mean(scar) / (sd / math.sqrt(scar.size)))
    p_value = float(2.0 * stats.t.sf(abs(t_stat), scar.size - 1))
    return SavickasTest(used, int(scar.size), float(np.mean(scar)), sd, t_stat, p_value)


def sar_matrix(results: Sequence[EventVolatility]) -> tuple[np.ndarray, list[int]]:
    """(events x days) SAR array over the union of event days, NaN where an event has none."""
    days = sorted(set().union(*(set(r.sar.index) for r in results)))
    matrix = np.full((len(results), len(days)), np.nan)
    for i, result in enumerate(results):
        matrix[i] = result.sar.reindex(days).to_numpy(dtype=float)
    return matrix, [int(d) for d in days]
