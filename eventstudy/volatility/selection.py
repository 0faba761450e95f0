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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.errors import EstimationError
from eventstudy.volatility.base import (
    _EWMA_LABEL,
    _VOL_LABELS,
    DISTS,
    MIN_OBS,
    SCALE,
    VOLS,
    _check_sample,
    _frame,
    _json,
)
from eventstudy.volatility.garch import GarchFit, ModelSpec, _fit_scaled


@dataclass
class ModelSelection:
    """All candidates, the BIC choice among unflagged fits, or why there is none."""

    candidates: list[GarchFit]
    best: GarchFit | None
    fallback_reason: str | None
    nobs: int
    scale: float
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per candidate: model, dist, mean, loglik, BIC, converged, persistence, flags."""
        rows = [{
            "model": _VOL_LABELS[f.spec.vol], "dist": f.spec.dist, "mean": f.spec.mean,
            "loglik": f.loglik, "bic": f.bic, "converged": f.converged,
            "persistence": f.persistence, "flags": "; ".join(f.flags), "chosen": f is self.best,
        } for f in self.candidates]
        columns = ["model", "dist", "mean", "loglik", "bic", "converged", "persistence",
                   "flags", "chosen"]
        table = pd.DataFrame(rows, columns=columns)
        return table.sort_values("bic", kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        """The candidates table and the choice, as text."""
        head = (f"Model selection by BIC on {self.nobs} returns (x{self.scale:g}); "
                "flagged fits cannot be chosen")
        lines = [head]
        if self.candidates:
            table = self.table
            table["flags"] = [_flag_kinds(f) for f in table["flags"]]
            with pd.option_context("display.width", 200, "display.max_colwidth", 60):
                lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines += [f"  {name}: {message}" for name, message in self.errors.items()]
        choice = self.best.spec.label if self.best else f"none -> {_EWMA_LABEL}"
        lines.append(f"Chosen: {choice}")
        if self.fallback_reason:
            lines.append(f"Fallback: {self.fallback_reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table, the chosen model and the fallback reason."""
        return _json({
            "nobs": self.nobs, "scale": self.scale, "criterion": "bic",
            "chosen": self.best.spec.label if self.best else None,
            "fallback_reason": self.fallback_reason, "candidates": self.table,
            "errors": self.errors,
        })


def _flag_kind(flag: str) -> str:
    """'persistence >= 0.999 (1.0000)' -> 'persistence >= 0.999'."""
    return flag.split(" (")[0]


def _flag_kinds(flags: str) -> str:
    """'a (x); b (y)' -> 'a; b' for the compact table."""
    return "; ".join(_flag_kind(f) for f in flags.split("; ")) if flags else ""


def _no_candidate_reason(fits: list[GarchFit], errors: dict[str, str]) -> str:
    """Why no candidate is usable, counted by kind of flag."""
    kinds: dict[str, int] = {}
    for fit in fits:
        for flag in fit.flags:
            kinds[_flag_kind(flag)] = kinds.get(_flag_kind(flag), 0) + 1
    if errors:
        kinds["arch error"] = len(errors)
    counts = ", ".join(f"{kind}: {n}" for kind, n in kinds.items())
    total = len(fits) + len(errors)
    return f"all {total} GARCH candidates flagged ({counts}); using {_EWMA_LABEL}"


def _choose(fits: list[GarchFit], errors: dict[str, str], nobs: int,
            scale: float) -> ModelSelection:
    """Lowest BIC among unflagged fits, else the EWMA fallback with its reason."""
    usable = [f for f in fits if f.usable]
    if usable:
        best = min(usable, key=lambda f: f.bic)
        return ModelSelection(fits, best, None, nobs, scale, errors)
    return ModelSelection(fits, None, _no_candidate_reason(fits, errors), nobs, scale, errors)


def select_model(returns: pd.Series | np.ndarray, market: pd.Series | np.ndarray | None = None,
                 *, vols: Sequence[str] = VOLS, dists: Sequence[str] = DISTS,
                 scale: float = SCALE, min_obs: int = MIN_OBS,
                 backcast: float | str = "arch") -> ModelSelection:
    """Fit every ``vols`` x ``dists`` candidate with arch; pick the lowest BIC among unflagged.

    With fewer than ``min_obs`` returns no GARCH is attempted (documented rule: a GARCH(1,1)
    on a few dozen returns cannot separate alpha from beta) and the selection is the EWMA
    fallback with its reason.
    """
    frame = _frame(returns, market)
    if len(frame) < min_obs:
        reason = (f"only {len(frame)} returns in the estimation window (< min_obs={min_obs}): "
                  f"GARCH not attempted; using {_EWMA_LABEL}")
        return ModelSelection([], None, reason, len(frame), scale)
    _check_sample(frame)
    mean = "constant" if market is None else "market"
    scaled = frame * scale
    fits, errors = [], {}
    for vol in vols:
        for dist in dists:
            spec = ModelSpec(vol, dist, mean)
            try:
                fits.append(_fit_scaled(scaled, spec, scale=scale, backcast=backcast))
            except EstimationError as exc:
                errors[spec.label] = str(exc)
    return _choose(fits, errors, len(frame), scale)
