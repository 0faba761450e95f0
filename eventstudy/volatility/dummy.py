"""The likelihood-ratio test of an event-window variance dummy in the GARCH variance equation."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from arch.utility.exceptions import ConvergenceWarning
from scipy import stats

from eventstudy.errors import BadInput, EstimationError
from eventstudy.volatility.base import SCALE, _as_series, _check_sample, _frame, _json
from eventstudy.volatility.garch import GarchFit, ModelSpec, _arch_model, _fit_scaled, _std_err
from eventstudy.volatility.processes import EventDummyGARCH


@dataclass
class VarianceDummyTest:
    """LR test of delta = 0 in sigma2_t = omega exp(delta D_t) + alpha e2_t-1 + beta sigma2_t-1."""

    delta: float
    delta_se: float
    lr_stat: float
    p_value: float
    loglik_restricted: float
    loglik_unrestricted: float
    nobs: int
    n_dummy: int
    dist: str
    flags: list[str]

    @property
    def omega_multiplier(self) -> float:
        """exp(delta): factor on the variance intercept while D_t = 1."""
        return math.exp(self.delta)

    def summary(self) -> str:
        """One line."""
        text = (f"LR test of a post-event variance dummy (GARCH(1,1) {self.dist}, "
                f"omega*exp(delta*D), {self.n_dummy} dummy days of {self.nobs}): delta = "
                f"{self.delta:.3f} (omega x{self.omega_multiplier:.2f}), LR = {self.lr_stat:.3f}, "
                f"p = {self.p_value:.4f} (chi2(1))")
        return text + (f"  [flags: {'; '.join(self.flags)}]" if self.flags else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _json({**self.__dict__, "omega_multiplier": self.omega_multiplier})


def _unrestricted_start(restricted: GarchFit) -> np.ndarray:
    """Restricted estimates with delta = 0 inserted after the volatility block."""
    values = np.array(list(restricted.params.values()))
    cut = restricted.spec.n_mean + restricted.spec.n_vol
    return np.concatenate((values[:cut], [0.0], values[cut:]))


def _dummy_test_scaled(frame: pd.DataFrame, dummy: np.ndarray, spec: ModelSpec,
                       scale: float) -> VarianceDummyTest:
    """Fit GARCH(1,1) with and without the dummy on the same scaled sample and backcast."""
    garch = ModelSpec("GARCH", spec.dist, spec.mean)
    restricted = _fit_scaled(frame, garch, scale=scale)
    model = _arch_model(frame, garch, EventDummyGARCH(dummy))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            res = model.fit(disp="off", backcast=restricted.backcast,
                            starting_values=_unrestricted_start(restricted))
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EstimationError(f"GARCH(1,1) with a variance dummy: arch could not fit the "
                                  f"model: {exc}") from exc
    flags = [f"restricted: {f}" for f in restricted.flags]
    if res.convergence_flag != 0 or any(issubclass(w.category, ConvergenceWarning)
                                        for w in caught):
        flags.append(f"unrestricted: not converged (SLSQP status {res.convergence_flag})")
    lr = 2.0 * (float(res.loglikelihood) - restricted.loglik)
    if lr < 0:
        flags.append(f"LR {lr:.2e} < 0 from the optimiser, set to 0")
    return VarianceDummyTest(
        delta=float(res.params["delta"]), delta_se=_std_err(res, "delta"),
        lr_stat=max(lr, 0.0), p_value=float(stats.chi2.sf(max(lr, 0.0), 1)),
        loglik_restricted=restricted.loglik, loglik_unrestricted=float(res.loglikelihood),
        nobs=len(frame), n_dummy=int(np.sum(dummy != 0)), dist=spec.dist, flags=flags)


def variance_dummy_test(returns: pd.Series | np.ndarray, dummy: Sequence[float] | np.ndarray,
                        market: pd.Series | np.ndarray | None = None, *, dist: str = "normal",
                        scale: float = SCALE) -> VarianceDummyTest:
    """Likelihood-ratio test of an event variance dummy, both models fitted by arch.

    Unrestricted: :class:`EventDummyGARCH`; restricted: arch's GARCH(1,1); same sample, same
    sigma2_0, so LR = 2 (ll_u - ll_r) ~ chi2(1) under delta = 0 (delta is interior). ``dummy``
    is aligned with ``returns`` (rows with missing values are dropped from both).
    """
    d = _as_series(dummy, "dummy")
    if len(d) != len(_as_series(returns, "returns")):
        raise BadInput("the dummy must have one value per return")
    d.index = _as_series(returns, "returns").index
    frame = _frame(returns, market)
    _check_sample(frame)
    spec = ModelSpec("GARCH", dist, "constant" if market is None else "market")
    values = d.loc[frame.index].to_numpy(dtype=float)
    if not values.any():
        raise BadInput("the variance dummy is zero everywhere: nothing to test")
    return _dummy_test_scaled(frame * scale, values, spec, scale)
