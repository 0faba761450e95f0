"""Model choice: fit every candidate (3 processes x 3 distributions), drop flagged fits and rank the
rest by BIC (Schwarz 1978)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from eventstudy.errors import EstimationError
from eventstudy.volatility.base import (
    DISTS,
    EWMA_LABEL,
    MIN_OBS,
    VOL_LABELS,
    VOLS,
    Returns,
    Sample,
    json_record,
)
from eventstudy.volatility.garch import GarchFit, ModelSpec, fit_garch


@dataclass(frozen=True)
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
        """One row per candidate: model, dist, mean, loglik, BIC, converged, persistence,
        beta_at_bound, flags, chosen."""
        rows = [{
            "model": VOL_LABELS[f.spec.vol], "dist": f.spec.dist, "mean": f.spec.mean,
            "loglik": f.loglik, "bic": f.bic, "converged": f.converged,
            "persistence": f.persistence, "beta_at_bound": f.beta_at_bound,
            "flags": "; ".join(f.flags), "chosen": f is self.best,
        } for f in self.candidates]
        columns = ["model", "dist", "mean", "loglik", "bic", "converged", "persistence",
                   "beta_at_bound", "flags", "chosen"]
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
        choice = self.best.spec.label if self.best else f"none -> {EWMA_LABEL}"
        lines.append(f"Chosen: {choice}")
        if self.fallback_reason:
            lines.append(f"Fallback: {self.fallback_reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table, the chosen model and the fallback reason."""
        return json_record({
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
    return f"all {total} GARCH candidates flagged ({counts}); using {EWMA_LABEL}"


def _choose(fits: list[GarchFit], errors: dict[str, str], nobs: int,
            scale: float) -> ModelSelection:
    """Lowest BIC among unflagged fits, else the EWMA fallback with its reason."""
    usable = [f for f in fits if f.usable]
    if usable:
        best = min(usable, key=lambda f: f.bic)
        return ModelSelection(fits, best, None, nobs, scale, errors)
    return ModelSelection(fits, None, _no_candidate_reason(fits, errors), nobs, scale, errors)


def select_model(returns: Returns | Sample, market: Returns | None = None,
                 *, vols: Sequence[str] = VOLS, dists: Sequence[str] = DISTS,
                 scale: float | None = None, min_obs: int = MIN_OBS,
                 backcast: float | str = "arch") -> ModelSelection:
    """Fit every ``vols`` x ``dists`` candidate with arch; pick the lowest BIC among unflagged.

    ``returns`` (and ``market``) as for :func:`fit_garch`. With fewer than ``min_obs`` returns
    no GARCH is attempted (documented rule: a GARCH(1,1) on a few dozen returns cannot separate
    alpha from beta) and the selection is the EWMA fallback with its reason.
    """
    sample = Sample.of(returns, market, scale)
    if len(sample) < min_obs:
        reason = (f"only {len(sample)} returns in the estimation window (< min_obs={min_obs}): "
                  f"GARCH not attempted; using {EWMA_LABEL}")
        return ModelSelection([], None, reason, len(sample), sample.scale)
    sample.check()
    fits, errors = [], {}
    for vol in vols:
        for dist in dists:
            try:
                fits.append(fit_garch(sample, vol=vol, dist=dist, backcast=backcast))
            except EstimationError as exc:
                errors[ModelSpec(vol, dist, sample.mean).label] = str(exc)
    return _choose(fits, errors, len(sample), sample.scale)
