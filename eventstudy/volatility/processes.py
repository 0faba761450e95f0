"""Volatility processes added to ``arch``: GARCH with a sample backcast, and a GARCH with an
event-window variance dummy (the event-induced variance of Boehmer, Musumeci & Poulsen 1991
expressed in the conditional variance)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from arch.univariate import (
    GARCH,
)
from arch.univariate.volatility import VarianceForecast, VolatilityProcess
from scipy.signal import lfilter

from eventstudy.errors import BadInput

if TYPE_CHECKING:
    from arch._typing import (
        ArrayLike1D,
        Float64Array,
        Float64Array1D,
        Float64Array2D,
        ForecastingMethod,
        RNGType,
    )
from eventstudy.volatility.base import DELTA_BOUND


class SampleBackcastGARCH(GARCH):
    """GARCH/GJR whose pre-sample variance is the mean squared residual at the current parameters.

    The initialisation of Fiorentini, Calzolari & Panattoni (1996): sigma2_0 = e2_0 = mean(e_t^2)
    with e_t = y_t - mu at the parameters being tried, so the backcast moves with mu during the
    optimisation. (A fixed value from demeaned returns gives mu = -0.006173 on their DEM/GBP
    benchmark instead of the published -0.006190.) ``nobs`` restricts the mean to the first
    ``nobs`` residuals, which keeps the estimation-sample value when filtering beyond it.
    """

    def __init__(self, p: int = 1, o: int = 0, q: int = 1, nobs: int | None = None) -> None:
        super().__init__(p=p, o=o, q=q)
        self.backcast_nobs = nobs

    def compute_variance(self, parameters: Float64Array1D, resids: ArrayLike1D,
                         sigma2: Float64Array1D, backcast: float | Float64Array1D,
                         var_bounds: Float64Array2D) -> Float64Array1D:
        sample = np.asarray(resids)[: self.backcast_nobs]
        start = float(np.mean(sample**2))
        return super().compute_variance(parameters, resids, sigma2, start, var_bounds)


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
