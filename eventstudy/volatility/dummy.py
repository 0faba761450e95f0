"""The quasi-likelihood-ratio test of an event-window variance dummy in the GARCH variance equation.

sigma2_t = omega exp(delta D_t) + alpha e2_{t-1} + beta sigma2_{t-1}, both models fitted by
Gaussian quasi-maximum likelihood (arch). With fat-tailed innovations the plain LR = 2 (ll_u -
ll_r) is not chi2(1): for a restriction on variance parameters only it converges to
(kappa - 1) / 2 chi2(1), kappa = E z^4 of the standardised innovations, so the robust statistic
is QLR = 2 LR / (kappa_hat - 1) ~ chi2(1), kappa_hat = mean(z^4) / mean(z^2)^2 of standardised
residuals that carry no event: in a study those of the chosen pre-event model over the estimation
window (an event-day outlier, or a degenerate fit through it, would otherwise distort kappa_hat);
else the restricted fit's on the rows where the dummy is 0 (Francq & Zakoian 2019, GARCH
Models, 2nd ed., sec. 8.3; the quasi-score form of Bollerslev & Wooldridge 1992). The plain LR
(its chi2 p rejected 10.6-19.7% at 5% on fat-tailed returns with no event, issue 11) and the
robust (sandwich) Wald z of delta are reported beside it. When a fit is irregular (the restricted
fit flagged: persistence >= 0.999, alpha or beta at a bound, not converged; or the unrestricted
fit not converged) chi2 limits need not hold (Andrews 2001) and the test's ``p_value`` is NaN,
with the flags saying why. On 200 no-event draws of the bundled stocks (``eventstudy simulate
--garch 200``) the robust QLR rejected 9.6% at 5% over the 157 with regular fits, the plain LR
28.2%: better, still above 5% with only 20 dummy days."""

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
    """Robust QLR test of delta = 0 in sigma2_t = omega exp(delta D_t) + alpha e2_t-1 + beta
    sigma2_t-1 (module docstring): ``p_value`` is chi2(1) of ``robust_lr``; ``lr_stat`` and
    ``lr_pvalue`` the plain LR; ``wald_z``/``wald_pvalue`` delta over its robust standard error."""

    delta: float
    delta_se: float
    lr_stat: float
    lr_pvalue: float
    kurtosis: float
    robust_lr: float
    p_value: float
    wald_z: float
    wald_pvalue: float
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
        text = (f"Robust QLR test of a post-event variance dummy (GARCH(1,1) {self.dist} QMLE, "
                f"omega*exp(delta*D), {self.n_dummy} dummy days of {self.nobs}): delta = "
                f"{self.delta:.3f} (omega x{self.omega_multiplier:.2f}), QLR = 2 LR / (kurtosis "
                f"{self.kurtosis:.2f} - 1) = {self.robust_lr:.3f}, p = {_p_text(self.p_value)} "
                f"(chi2(1)); plain LR {self.lr_stat:.3f} (p {self.lr_pvalue:.4f}); robust Wald "
                f"z {self.wald_z:.3f} (p {self.wald_pvalue:.4f})")
        return text + (f"  [flags: {'; '.join(self.flags)}]" if self.flags else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _json({**self.__dict__, "omega_multiplier": self.omega_multiplier})


def _p_text(p: float) -> str:
    return f"{p:.4f}" if math.isfinite(p) else "n/a"


def _unrestricted_start(restricted: GarchFit) -> np.ndarray:
    """Restricted estimates with delta = 0 inserted after the volatility block."""
    values = np.array(list(restricted.params.values()))
    cut = restricted.spec.n_mean + restricted.spec.n_vol
    return np.concatenate((values[:cut], [0.0], values[cut:]))


def _dummy_test_scaled(frame: pd.DataFrame, dummy: np.ndarray, spec: ModelSpec,
                       scale: float, reference_z: np.ndarray | None = None
                       ) -> VarianceDummyTest:
    """Fit GARCH(1,1) with and without the dummy on the same scaled sample and backcast."""
    garch = ModelSpec("GARCH", "normal", spec.mean)
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
    if restricted.beta_at_bound:
        flags.append("restricted: beta at its bound 0")
    if res.convergence_flag != 0 or any(issubclass(w.category, ConvergenceWarning)
                                        for w in caught):
        flags.append(f"unrestricted: not converged (SLSQP status {res.convergence_flag})")
    lr = 2.0 * (float(res.loglikelihood) - restricted.loglik)
    if lr < 0:
        flags.append(f"LR {lr:.2e} < 0 from the optimiser, set to 0")
    lr = max(lr, 0.0)
    z = (restricted.std_resid.to_numpy(dtype=float)[dummy == 0] if reference_z is None
         else np.asarray(reference_z, dtype=float))
    kappa = float(np.mean(z**4) / np.mean(z**2) ** 2)
    robust = 2.0 * lr / (kappa - 1.0) if kappa > 1.0 else math.nan
    delta, se = float(res.params["delta"]), _std_err(res, "delta")
    wald = delta / se if se > 0 else math.nan
    irregular = [f for f in flags if not f.startswith("LR ")]
    p = float(stats.chi2.sf(robust, 1))
    if irregular:
        flags.append("p-value not reported: an irregular fit (above), chi2(1) does not apply")
        p = math.nan
    return VarianceDummyTest(
        delta=delta, delta_se=se, lr_stat=lr, lr_pvalue=float(stats.chi2.sf(lr, 1)),
        kurtosis=kappa, robust_lr=robust, p_value=p,
        wald_z=wald, wald_pvalue=float(2.0 * stats.norm.sf(abs(wald))),
        loglik_restricted=restricted.loglik, loglik_unrestricted=float(res.loglikelihood),
        nobs=len(frame), n_dummy=int(np.sum(dummy != 0)), dist="normal", flags=flags)


def variance_dummy_test(returns: pd.Series | np.ndarray, dummy: Sequence[float] | np.ndarray,
                        market: pd.Series | np.ndarray | None = None, *,
                        scale: float = SCALE) -> VarianceDummyTest:
    """Robust quasi-likelihood-ratio test of an event variance dummy (module docstring), both
    models fitted by arch with the Gaussian quasi-likelihood.

    Unrestricted: :class:`EventDummyGARCH`; restricted: arch's GARCH(1,1); same sample, same
    sigma2_0. ``dummy`` is aligned with ``returns`` (rows with missing values are dropped);
    kappa_hat is taken over the rows where the dummy is 0.
    """
    d = _as_series(dummy, "dummy")
    if len(d) != len(_as_series(returns, "returns")):
        raise BadInput("the dummy must have one value per return")
    d.index = _as_series(returns, "returns").index
    frame = _frame(returns, market)
    _check_sample(frame)
    spec = ModelSpec("GARCH", "normal", "constant" if market is None else "market")
    values = d.loc[frame.index].to_numpy(dtype=float)
    if not values.any():
        raise BadInput("the variance dummy is zero everywhere: nothing to test")
    return _dummy_test_scaled(frame * scale, values, spec, scale)
