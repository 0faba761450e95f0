"""The quasi-likelihood-ratio test of an event-window variance dummy in the GARCH variance equation.

sigma2_t = omega exp(delta D_t) + alpha e2_{t-1} + beta sigma2_{t-1}, both models fitted by Gaussian
quasi-maximum likelihood (arch). With fat-tailed innovations the plain LR = 2 (ll_u - ll_r) is not
chi2(1): for a restriction on variance parameters only it converges to (kappa - 1) / 2 chi2(1),
kappa = E z^4 of the standardised innovations, so the robust statistic is QLR = 2 LR / (kappa_hat -
1) ~ chi2(1), kappa_hat = mean(z^4) / mean(z^2)^2 of standardised residuals that carry no event: in
a study those of the chosen pre-event model over the estimation window (an event-day outlier, or a
degenerate fit through it, would otherwise distort kappa_hat); else the restricted fit's on the rows
where the dummy is 0 (Francq & Zakoian 2019, GARCH Models, 2nd ed., sec. 8.3; the quasi-score form
of Bollerslev & Wooldridge 1992). The unrestricted variance process is :class:`EventDummyGARCH`, a
``VolatilityProcess`` of arch. The plain LR (its chi2 p rejected 10.6-19.7% at 5% on fat-tailed
returns with no event, issue 11) and the robust (sandwich) Wald z of delta are reported beside it.
When a fit is irregular (the restricted fit flagged: persistence >= 0.999, alpha or beta at a bound,
not converged; or the unrestricted fit not converged) chi2 limits need not hold (Andrews 2001) and
the test's ``p_value`` is NaN, with the flags saying why. On 200 no-event draws of the bundled
stocks (``eventstudy simulate --garch 200``) the robust QLR rejected 9.6% at 5% over the 157 with
regular fits, the plain LR 28.2%: better, still above 5% with only 20 dummy days."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from arch.univariate import GARCH
from arch.univariate.volatility import VarianceForecast, VolatilityProcess
from arch.utility.exceptions import ConvergenceWarning
from scipy import stats
from scipy.signal import lfilter

from eventstudy.errors import BadInput
from eventstudy.formatting import num
from eventstudy.volatility.base import DELTA_BOUND, Returns, Sample, json_record
from eventstudy.volatility.garch import GarchFit, ModelSpec, arch_fit, fit_garch, std_error

if TYPE_CHECKING:
    from arch._typing import (
        ArrayLike1D,
        Float64Array,
        Float64Array1D,
        Float64Array2D,
        ForecastingMethod,
        RNGType,
    )
    from arch.univariate.base import ARCHModelResult


@dataclass(frozen=True)
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
                f"{self.kurtosis:.2f} - 1) = {self.robust_lr:.3f}, p = {num(self.p_value, 4)} "
                f"(chi2(1)); plain LR {self.lr_stat:.3f} (p {self.lr_pvalue:.4f}); robust Wald "
                f"z {self.wald_z:.3f} (p {self.wald_pvalue:.4f})")
        return text + (f"  [flags: {'; '.join(self.flags)}]" if self.flags else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return json_record({**self.__dict__, "omega_multiplier": self.omega_multiplier})


class EventDummyGARCH(VolatilityProcess):
    """GARCH(1,1) with an exogenous variance dummy, estimated by arch's own optimiser.

    sigma2_t = omega * exp(delta * D_t) + alpha * e2_{t-1} + beta * sigma2_{t-1}; the exponential
    keeps the intercept positive for any delta. With D_t = 1 on days [+1, +20] a likelihood-ratio
    test of delta = 0 tests for an event-induced shift of the variance intercept (a dummy in the
    variance equation as in Balaban & Constantinou 2006). Use it as
    ``ConstantMean(y, volatility=EventDummyGARCH(d))`` or with ``LS``; ``d`` is aligned with
    ``y``. Days after the sample (forecasts) have D = 0. Only analytic forecasts are provided.
    """

    _updatable = False

    def __init__(self, dummy: Sequence[float] | np.ndarray) -> None:
        super().__init__()
        self.dummy = np.asarray(dummy, dtype=float)
        if self.dummy.ndim != 1:
            raise BadInput("the variance dummy must be one-dimensional")
        self._num_params = 4
        self._name = "GARCH(1,1) with variance dummy"
        self._garch = GARCH(p=1, q=1)

    def _dummy(self, nobs: int) -> np.ndarray:
        """D_t for ``nobs`` observations from ``self.start`` (zero past the end of the dummy)."""
        out = np.zeros(nobs)
        segment = self.dummy[self.start: self.start + nobs]
        out[: segment.size] = segment
        return out

    def parameter_names(self) -> list[str]:
        return ["omega", "alpha[1]", "beta[1]", "delta"]

    def starting_values(self, resids: ArrayLike1D) -> Float64Array1D:
        return np.append(self._garch.starting_values(resids), 0.0)

    def bounds(self, resids: ArrayLike1D) -> list[tuple[float, float]]:
        return [*self._garch.bounds(resids), (-DELTA_BOUND, DELTA_BOUND)]

    def constraints(self) -> tuple[Float64Array, Float64Array]:
        a, b = self._garch.constraints()
        return np.hstack([a, np.zeros((a.shape[0], 1))]), b

    def compute_variance(self, parameters: Float64Array1D, resids: ArrayLike1D,
                         sigma2: Float64Array1D, backcast: float | Float64Array1D,
                         var_bounds: Float64Array2D) -> Float64Array1D:
        omega, alpha, beta, delta = (float(v) for v in parameters[:4])
        e2 = np.asarray(resids, dtype=float) ** 2
        lagged = np.concatenate(([float(backcast)], e2[:-1]))
        drive = omega * np.exp(delta * self._dummy(e2.size)) + alpha * lagged
        path, _ = lfilter([1.0], [1.0, -beta], drive, zi=[beta * float(backcast)])
        lower, upper = var_bounds[:, 0], var_bounds[:, 1]
        path = np.maximum(path, lower)
        high = path > upper
        path[high] = upper[high] + np.log(path[high] / upper[high])
        sigma2[:] = path
        return sigma2

    def simulate(self, parameters: Sequence[int | float] | ArrayLike1D, nobs: int,
                 rng: RNGType, burn: int = 500,
                 initial_value: float | Float64Array | None = None
                 ) -> tuple[Float64Array, Float64Array]:
        omega, alpha, beta, delta = (float(v) for v in np.asarray(parameters)[:4])
        errors = rng(nobs + burn)
        dummy = np.concatenate((np.zeros(burn), self._dummy(nobs)))
        sigma2 = np.zeros(nobs + burn)
        data = np.zeros(nobs + burn)
        previous = omega / max(1.0 - alpha - beta, 1e-6) if initial_value is None else float(
            np.asarray(initial_value).ravel()[0])
        shock2 = previous
        for t in range(nobs + burn):
            sigma2[t] = omega * math.exp(delta * dummy[t]) + alpha * shock2 + beta * previous
            data[t] = errors[t] * math.sqrt(sigma2[t])
            previous, shock2 = sigma2[t], data[t] ** 2
        return data[burn:], sigma2[burn:]

    def _check_forecasting_method(self, method: ForecastingMethod, horizon: int) -> None:
        if method != "analytic":
            raise NotImplementedError("EventDummyGARCH provides analytic forecasts only")

    def _analytic_forecast(self, parameters: Float64Array1D, resids: ArrayLike1D,
                           backcast: float | Float64Array1D, var_bounds: Float64Array2D,
                           start: int, horizon: int) -> VarianceForecast:
        _, forecasts = self._one_step_forecast(
            parameters, np.asarray(resids, dtype=float), backcast, var_bounds, horizon, start)
        omega, alpha, beta = (float(v) for v in parameters[:3])
        for h in range(1, horizon):
            forecasts[:, h] = omega + (alpha + beta) * forecasts[:, h - 1]
        return VarianceForecast(forecasts)

    def _simulation_forecast(self, parameters: Float64Array1D, resids: ArrayLike1D,
                             backcast: float | Float64Array1D, var_bounds: Float64Array2D,
                             start: int, horizon: int, simulations: int,
                             rng: RNGType) -> VarianceForecast:
        raise NotImplementedError("EventDummyGARCH provides analytic forecasts only")


def _unrestricted_start(restricted: GarchFit) -> np.ndarray:
    """Restricted estimates with delta = 0 inserted after the volatility block."""
    values = np.array(list(restricted.params.values()))
    cut = restricted.spec.n_mean + restricted.spec.n_vol
    return np.concatenate((values[:cut], [0.0], values[cut:]))


def variance_dummy_test(returns: Returns | Sample, dummy: Sequence[float] | np.ndarray,
                        market: Returns | None = None, *, scale: float | None = None,
                        reference_z: np.ndarray | None = None) -> VarianceDummyTest:
    """Robust quasi-likelihood-ratio test of an event variance dummy (module docstring), both
    models fitted by arch with the Gaussian quasi-likelihood.

    Unrestricted: :class:`EventDummyGARCH`; restricted: arch's GARCH(1,1); same sample, same
    sigma2_0. ``returns`` (and ``market``) as for :func:`fit_garch`; ``dummy`` is aligned with
    ``returns`` (rows with missing values are dropped; with a :class:`Sample`, one value per
    row). kappa_hat is taken from ``reference_z`` (standardised residuals without the event),
    default the restricted fit's over the rows where the dummy is 0.
    """
    sample = Sample.of(returns, market, scale)
    values = _dummy_values(returns, dummy, sample)
    sample.check()
    if not values.any():
        raise BadInput("the variance dummy is zero everywhere: nothing to test")
    restricted = fit_garch(sample)
    model = ModelSpec("GARCH", "normal", sample.mean).model(sample, EventDummyGARCH(values))
    res, caught = arch_fit(model, "GARCH(1,1) with a variance dummy",
                           backcast=restricted.backcast,
                           starting_values=_unrestricted_start(restricted))
    flags = _irregular(restricted, res, caught)
    lr = 2.0 * (float(res.loglikelihood) - restricted.loglik)
    if lr < 0:
        flags.append(f"LR {lr:.2e} < 0 from the optimiser, set to 0")
    lr = max(lr, 0.0)
    z = (restricted.std_resid.to_numpy(dtype=float)[values == 0] if reference_z is None
         else np.asarray(reference_z, dtype=float))
    kappa = float(np.mean(z**4) / np.mean(z**2) ** 2)
    robust = 2.0 * lr / (kappa - 1.0) if kappa > 1.0 else math.nan
    delta, se = float(res.params["delta"]), std_error(res, "delta")
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
        nobs=len(sample), n_dummy=int(np.sum(values != 0)), dist="normal", flags=flags)


def _irregular(restricted: GarchFit, res: ARCHModelResult,
               caught: list[warnings.WarningMessage]) -> list[str]:
    """Why chi2 limits need not hold: the restricted fit flagged or with beta at its bound,
    the unrestricted fit not converged (Andrews 2001)."""
    flags = [f"restricted: {f}" for f in restricted.flags]
    if restricted.beta_at_bound:
        flags.append("restricted: beta at its bound 0")
    if res.convergence_flag != 0 or any(issubclass(w.category, ConvergenceWarning)
                                        for w in caught):
        flags.append(f"unrestricted: not converged (SLSQP status {res.convergence_flag})")
    return flags


def _dummy_values(returns: Returns | Sample, dummy: Sequence[float] | np.ndarray,
                  sample: Sample) -> np.ndarray:
    """D_t on the rows of ``sample``: ``dummy`` has one value per return (rows dropped with
    theirs), or per row of a :class:`Sample`."""
    if isinstance(dummy, pd.Series):
        d = dummy.astype(float)
    else:
        array = np.asarray(dummy, dtype=float)
        if array.ndim != 1:
            raise BadInput(f"dummy must be one-dimensional, got shape {array.shape}")
        d = pd.Series(array)
    if isinstance(returns, Sample):
        if len(d) != len(sample):
            raise BadInput("the dummy must have one value per row of the sample")
        return d.to_numpy(dtype=float)
    index = returns.index if isinstance(returns, pd.Series) else pd.RangeIndex(len(returns))
    if len(d) != len(index):
        raise BadInput("the dummy must have one value per return")
    d.index = index
    return d.loc[sample.index].to_numpy(dtype=float)
