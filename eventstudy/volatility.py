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
Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
from arch.univariate import (
    EGARCH,
    GARCH,
    LS,
    ConstantMean,
    EWMAVariance,
    Normal,
    SkewStudent,
    StudentsT,
)
from arch.univariate.distribution import Distribution
from arch.univariate.volatility import VarianceForecast, VolatilityProcess
from arch.utility.exceptions import ConvergenceWarning
from scipy import stats
from scipy.signal import lfilter
from tqdm import tqdm

from eventstudy.errors import BadInput, EstimationError, EventStudyError

if TYPE_CHECKING:
    from arch._typing import (
        ArrayLike1D,
        Float64Array,
        Float64Array1D,
        Float64Array2D,
        ForecastingMethod,
        RNGType,
    )
    from arch.univariate.base import ARCHModel, ARCHModelResult

__all__ = [
    "DISTS",
    "SCALE",
    "VOLS",
    "EventDummyGARCH",
    "EventVolatility",
    "GarchFit",
    "GarchTask",
    "ModelSelection",
    "ModelSpec",
    "SampleBackcastGARCH",
    "SavickasTest",
    "StudyTask",
    "VarianceDummyTest",
    "VolatilityRatio",
    "WindowVariance",
    "arch_backcast",
    "ewma_variance",
    "fit_garch",
    "fit_many",
    "sar_matrix",
    "savickas_test",
    "select_model",
    "variance_dummy_test",
    "volatility_study",
]

SCALE = 100.0  # returns x 100: the optimiser works in percent
VOLS = ("GARCH", "GJR", "EGARCH")
DISTS = ("normal", "t", "skewt")
RISKMETRICS_LAMBDA = 0.94
MAX_PERSISTENCE = 0.999
NEWS_EPS = 1e-4  # ARCH coefficients below this (in absolute value) count as zero
MIN_OBS = 50  # below this many pre-event returns GARCH is not attempted at all
ESTIMATION_END = -11
EVENT_WINDOW = (-10, 20)
PRE_WINDOW = (-20, -1)
POST_WINDOW = (1, 20)
EX_ANTE_SIMULATIONS = 2000
EX_ANTE_SEED = 20030601
DELTA_BOUND = 10.0  # |delta| of the variance dummy: omega scaled by at most e^10
NU_LOWER = 2.05  # arch's lower bound of the t and skew-t degrees of freedom

_VOL_LABELS = {"GARCH": "GARCH(1,1)", "GJR": "GJR-GARCH(1,1,1)", "EGARCH": "EGARCH(1,1)"}
_DIST_LABELS = {"normal": "normal", "t": "Student-t", "skewt": "skew-t"}
_DISTRIBUTIONS: dict[str, type[Distribution]] = {
    "normal": Normal, "t": StudentsT, "skewt": SkewStudent,
}
_EWMA_LABEL = f"EWMA (RiskMetrics 1996, lambda={RISKMETRICS_LAMBDA})"

Window = tuple[int, int]
CovType = Literal["robust", "classic"]


# --------------------------------------------------------------------------- helpers


def _json(value: Any) -> Any:
    """``value`` with numpy scalars, NaN (-> None), timestamps and frames made JSON-ready."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [_json(row) for row in value.to_dict("records")]
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _fmt(value: float | None, digits: int = 4) -> str:
    """A number for a summary line ('n/a' for None/NaN)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _days(window: Window) -> str:
    """``(-20, -1)`` -> ``'[-20,-1]'``."""
    return f"[{window[0]:+d},{window[1]:+d}]"


def arch_backcast(resid: ArrayLike1D | np.ndarray) -> float:
    """arch's default sigma2_0: the 0.94-weighted mean of the first (up to) 75 squared residuals."""
    e = np.asarray(resid, dtype=float)[:75]
    weights = RISKMETRICS_LAMBDA ** np.arange(e.size)
    weights = weights / sum(weights)  # builtin sum and this order, as arch: identical fits
    return float(np.sum((e**2.0) * weights))


def ewma_variance(resid: ArrayLike1D | np.ndarray, lam: float = RISKMETRICS_LAMBDA,
                  backcast: float | None = None) -> np.ndarray:
    """RiskMetrics (1996) EWMA variance through arch's ``EWMAVariance``.

    sigma2_0 = ``backcast`` (default :func:`arch_backcast` of ``resid``) and
    sigma2_t = lam * sigma2_{t-1} + (1 - lam) * e_{t-1}^2.
    """
    e = np.ascontiguousarray(resid, dtype=float)
    start = arch_backcast(e) if backcast is None else float(backcast)
    sigma2 = np.zeros(e.size)
    unused_bounds = np.zeros((e.size, 2))
    EWMAVariance(float(lam)).compute_variance(np.empty(0), e, sigma2, start, unused_bounds)
    return sigma2


def _as_series(values: Any, name: str) -> pd.Series:
    """A float Series named ``name`` from a Series or a 1-d array."""
    if isinstance(values, pd.Series):
        return values.astype(float).rename(name)
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise BadInput(f"{name} must be one-dimensional, got shape {array.shape}")
    return pd.Series(array, name=name)


def _frame(returns: Any, market: Any = None) -> pd.DataFrame:
    """Columns ``y`` (and ``m``) aligned on the index; rows with a missing value dropped."""
    y = _as_series(returns, "returns")
    if market is None:  # fast path: no alignment needed
        values = y.to_numpy()
        keep = np.isfinite(values)
        frame = pd.DataFrame({"y": values[keep]}, index=y.index[keep])
        if frame.empty:
            raise BadInput("no returns left after dropping missing values")
        return frame
    m = _as_series(market, "market")
    if not (isinstance(returns, pd.Series) and isinstance(market, pd.Series)):
        if len(m) != len(y):
            raise BadInput(f"returns ({len(y)}) and market ({len(m)}) differ in length")
        m.index = y.index
    frame = pd.concat({"y": y, "m": m}, axis=1, join="inner")
    frame = frame.replace([np.inf, -np.inf], np.nan).dropna()
    if frame.empty:
        raise BadInput("no returns left after dropping missing values and aligning the market")
    return frame


def _check_sample(frame: pd.DataFrame, minimum: int = 10) -> None:
    """Raise EstimationError when ``frame`` cannot carry a GARCH fit at all."""
    if len(frame) < minimum:
        raise EstimationError(f"only {len(frame)} returns: a GARCH fit needs at least {minimum}")
    if float(np.ptp(frame["y"].to_numpy())) == 0.0:
        raise EstimationError("the returns are constant: there is no variance to model")


def _design(frame: pd.DataFrame) -> np.ndarray:
    """Mean-equation regressors: a constant, and the market return when present."""
    columns = [np.ones(len(frame))]
    if "m" in frame:
        columns.append(frame["m"].to_numpy(dtype=float))
    return np.column_stack(columns)


def _ols(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients of the mean equation and their covariance s^2 (X'X)^-1."""
    x, y = _design(frame), frame["y"].to_numpy(dtype=float)
    coef = np.linalg.pinv(x).dot(y)  # as arch's starting values
    resid = y - x @ coef
    dof = max(len(y) - x.shape[1], 1)
    return coef, float(resid @ resid / dof) * np.linalg.pinv(x.T @ x)


# --------------------------------------------------------------------------- arch extensions


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


# --------------------------------------------------------------------------- one fit


@dataclass(frozen=True)
class ModelSpec:
    """One candidate: volatility process (GARCH/GJR/EGARCH), error distribution, mean equation."""

    vol: str = "GARCH"
    dist: str = "normal"
    mean: str = "constant"

    def __post_init__(self) -> None:
        if self.vol not in _VOL_LABELS:
            raise BadInput(f"unknown volatility model {self.vol!r}: use one of {', '.join(VOLS)}")
        if self.dist not in _DIST_LABELS:
            raise BadInput(f"unknown error distribution {self.dist!r}: use one of "
                           f"{', '.join(DISTS)}")
        if self.mean not in ("constant", "market"):
            raise BadInput(f"unknown mean {self.mean!r}: use 'constant' or 'market'")

    @property
    def label(self) -> str:
        """e.g. ``'GJR-GARCH(1,1,1) skew-t'``."""
        return f"{_VOL_LABELS[self.vol]} {_DIST_LABELS[self.dist]}"

    @property
    def n_mean(self) -> int:
        """Number of mean parameters (mu, or Const and market beta)."""
        return 2 if self.mean == "market" else 1

    @property
    def n_vol(self) -> int:
        """Number of volatility parameters."""
        return 3 if self.vol == "GARCH" else 4


@dataclass
class GarchFit:
    """One arch fit in ``scale`` units, with diagnostics. ``result`` is arch's own result."""

    spec: ModelSpec
    params: dict[str, float]
    loglik: float
    bic: float
    aic: float
    nobs: int
    convergence_flag: int
    persistence: float
    flags: list[str]
    scale: float
    backcast: float
    backcast_rule: str
    cov_type: str
    conditional_volatility: pd.Series = field(repr=False)
    std_resid: pd.Series = field(repr=False)
    result: ARCHModelResult | None = field(default=None, repr=False, compare=False)

    @property
    def converged(self) -> bool:
        """arch's optimiser reported success and raised no ConvergenceWarning."""
        return self.convergence_flag == 0 and not any(
            f.startswith("not converged") for f in self.flags)

    @property
    def usable(self) -> bool:
        """No diagnostic flag: the fit may be chosen."""
        return not self.flags

    @property
    def std_err(self) -> dict[str, float]:
        """Standard errors (``cov_type``), computed by arch on first use (NaN if singular)."""
        if self.result is None:
            return {}
        return {name: _std_err(self.result, name) for name in self.params}

    def mean_cov(self) -> np.ndarray:
        """Covariance of the mean parameters (for the prediction-error adjustment)."""
        if self.result is None:
            return np.zeros((self.spec.n_mean, self.spec.n_mean))
        k = self.spec.n_mean
        try:
            return np.asarray(self.result.param_cov, dtype=float)[:k, :k]
        except (np.linalg.LinAlgError, ValueError):  # singular Hessian at a degenerate optimum
            return np.full((k, k), np.nan)

    def part(self, which: str) -> np.ndarray:
        """Parameter block ``'mean'``, ``'vol'`` or ``'dist'`` in arch's order."""
        values = np.array(list(self.params.values()), dtype=float)
        k, v = self.spec.n_mean, self.spec.n_vol
        return {"mean": values[:k], "vol": values[k:k + v], "dist": values[k + v:]}[which]

    def summary(self) -> str:
        """Parameters with standard errors and the diagnostics, as text."""
        se = self.std_err
        lines = [
            f"{self.spec.label}, {self.spec.mean} mean: {self.nobs} returns x{self.scale:g}",
            f"  loglik {self.loglik:.3f}  BIC {self.bic:.3f}  persistence "
            f"{_fmt(self.persistence)}  converged: {'yes' if self.converged else 'no'}",
            f"  flags: {'; '.join(self.flags) if self.flags else 'none'}",
            f"  sigma2_0 ({self.backcast_rule} backcast) = {_fmt(self.backcast)}",
            f"  {'parameter':<10} {'estimate':>12} {'std.err':>12}",
        ]
        for name, value in self.params.items():
            lines.append(f"  {name:<10} {value:>12.6f} {_fmt(se.get(name), 6):>12}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (series left out)."""
        return _json({
            "model": self.spec.label, "vol": self.spec.vol, "dist": self.spec.dist,
            "mean": self.spec.mean, "params": self.params, "std_err": self.std_err,
            "loglik": self.loglik, "bic": self.bic, "aic": self.aic, "nobs": self.nobs,
            "converged": self.converged, "convergence_flag": self.convergence_flag,
            "persistence": self.persistence, "flags": self.flags, "scale": self.scale,
            "backcast": self.backcast, "backcast_rule": self.backcast_rule,
            "cov_type": self.cov_type,
        })


def _backcast_rule(spec: ModelSpec, backcast: float | str) -> str:
    """'arch', 'sample' or 'fixed'; rejects what the model cannot do."""
    if isinstance(backcast, str):
        if backcast not in ("arch", "sample"):
            raise BadInput(f"backcast must be 'arch', 'sample' or a positive number, "
                           f"not {backcast!r}")
        if backcast == "sample" and spec.vol == "EGARCH":
            raise BadInput("backcast='sample' (FCP 1996) is implemented for GARCH and GJR only")
        return backcast
    if not float(backcast) > 0:
        raise BadInput(f"a fixed backcast must be a positive variance, got {backcast!r}")
    return "fixed"


def _volatility_process(vol: str, sample_backcast: bool = False,
                        nobs: int | None = None) -> VolatilityProcess:
    """arch's process for ``vol`` (FCP sample-backcast variant on request)."""
    if vol == "EGARCH":
        return EGARCH(p=1, o=1, q=1)
    o = 1 if vol == "GJR" else 0
    return SampleBackcastGARCH(1, o, 1, nobs) if sample_backcast else GARCH(p=1, o=o, q=1)


def _arch_model(frame: pd.DataFrame, spec: ModelSpec, volatility: VolatilityProcess,
                ) -> ARCHModel:
    """arch's ConstantMean, or LS with the market return as regressor, on scaled data."""
    dist = _DISTRIBUTIONS[spec.dist]()
    y = frame["y"].to_numpy(dtype=float)  # arrays: arch's pandas handling costs ~15% per fit
    if spec.mean == "market":
        x = pd.DataFrame({"market": frame["m"].to_numpy(dtype=float)})
        return LS(y, x, volatility=volatility, distribution=dist, rescale=False)
    return ConstantMean(y, volatility=volatility, distribution=dist, rescale=False)


def _initial_variance(frame: pd.DataFrame, backcast: float | str) -> float | None:
    """sigma2_0 (variance scale) of the rule; None for 'sample' (the FCP process computes it).

    For 'arch' this is exactly what arch computes itself; arch is then left to compute it (a
    value passed in goes through ``backcast_transform``, sqrt(.)**2, and may move by an ulp).
    """
    if backcast == "sample":
        return None
    if not isinstance(backcast, str):
        return float(backcast)
    coef, _ = _ols(frame)
    return arch_backcast(frame["y"].to_numpy() - _design(frame) @ coef)


def _persistence(vol: str, params: dict[str, float]) -> float:
    """alpha + beta (GARCH), alpha + gamma/2 + beta (GJR, symmetric errors), beta (EGARCH)."""
    if vol == "EGARCH":
        return params["beta[1]"]
    return params["alpha[1]"] + 0.5 * params.get("gamma[1]", 0.0) + params["beta[1]"]


def _flags(spec: ModelSpec, params: dict[str, float], persistence: float,
           res: ARCHModelResult, caught: list[warnings.WarningMessage]) -> list[str]:
    """Why a fit should not be trusted (empty when it may be used)."""
    flags = []
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if res.convergence_flag != 0 or warned:
        message = str(res.optimization_result.message).strip()
        flags.append(f"not converged (SLSQP status {res.convergence_flag}: {message})")
    if not math.isfinite(res.loglikelihood):
        flags.append("log-likelihood not finite")
    if persistence >= MAX_PERSISTENCE:
        flags.append(f"persistence >= {MAX_PERSISTENCE} ({persistence:.4f})")
    news = [abs(params[k]) for k in ("alpha[1]", "gamma[1]") if k in params]
    if max(news) < NEWS_EPS:
        flags.append("alpha ~ 0 (no ARCH effect: beta not identified)")
    if spec.vol != "EGARCH" and params["alpha[1]"] >= 1.0 - 1e-6:
        flags.append("alpha at its upper bound 1")
    if spec.vol == "EGARCH" and params["alpha[1]"] < 0:
        flags.append("negative size effect (EGARCH alpha < 0: variance falls after big shocks)")
    dof = params.get("nu", params.get("eta", math.inf))
    if dof <= NU_LOWER + 1e-3:
        flags.append(f"degrees of freedom at the lower bound {NU_LOWER} (tails too heavy)")
    return flags


def _garch_fit(spec: ModelSpec, res: ARCHModelResult, caught: list[warnings.WarningMessage],
               index: pd.Index, scale: float, sigma2_0: float | None, rule: str,
               cov_type: str) -> GarchFit:
    """Wrap arch's result with the diagnostics; series get ``index``."""
    params = {str(k): float(v) for k, v in res.params.items()}
    persistence = _persistence(spec.vol, params)
    resid = np.asarray(res.resid, dtype=float)
    sigma = pd.Series(np.asarray(res.conditional_volatility), index=index, name="sigma")
    start = float(np.mean(resid**2)) if sigma2_0 is None else sigma2_0
    return GarchFit(
        spec=spec, params=params, loglik=float(res.loglikelihood), bic=float(res.bic),
        aic=float(res.aic), nobs=int(res.nobs), convergence_flag=int(res.convergence_flag),
        persistence=persistence, flags=_flags(spec, params, persistence, res, caught),
        scale=scale, backcast=start, backcast_rule=rule, cov_type=cov_type,
        conditional_volatility=sigma, result=res,
        std_resid=pd.Series(resid / sigma.to_numpy(), index=index, name="std_resid"),
    )


def _fit_scaled(frame: pd.DataFrame, spec: ModelSpec, *, scale: float,
                backcast: float | str = "arch", cov_type: str = "robust",
                tol: float | None = None, options: dict[str, Any] | None = None) -> GarchFit:
    """Fit ``spec`` on already-scaled data with arch's optimiser, warnings turned into flags."""
    rule = _backcast_rule(spec, backcast)
    if cov_type not in ("robust", "classic"):
        raise BadInput(f"cov_type must be 'robust' or 'classic', not {cov_type!r}")
    model = _arch_model(frame, spec, _volatility_process(spec.vol, rule == "sample"))
    sigma2_0 = _initial_variance(frame, backcast)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            res = model.fit(disp="off", cov_type=cast(CovType, cov_type), tol=tol, options=options,
                            backcast=None if rule == "arch" else sigma2_0)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EstimationError(f"{spec.label}: arch could not fit the model: {exc}") from exc
    return _garch_fit(spec, res, caught, frame.index, scale, sigma2_0, rule, cov_type)


def fit_garch(returns: pd.Series | np.ndarray, *, vol: str = "GARCH", dist: str = "normal",
              market: pd.Series | np.ndarray | None = None, scale: float = SCALE,
              backcast: float | str = "arch", cov_type: str = "robust",
              tol: float | None = None, options: dict[str, Any] | None = None) -> GarchFit:
    """Fit one GARCH-family model with arch (Bollerslev 1986; GJR 1993; Nelson 1991).

    ``returns`` (and ``market``) are multiplied by ``scale`` (100: percent) first. ``market``
    switches the mean to arch's ``LS`` market model. ``backcast`` sets sigma2_0: ``'arch'``
    (arch's default, :func:`arch_backcast` of the OLS residuals), ``'sample'`` (Fiorentini,
    Calzolari & Panattoni 1996: the mean squared residual at the current parameters, via
    :class:`SampleBackcastGARCH`; GARCH/GJR only) or a fixed variance in scaled units.
    ``cov_type='classic'`` gives inverse-Hessian standard errors, ``'robust'``
    Bollerslev-Wooldridge ones. ``tol``/``options`` go to arch's SLSQP call.
    """
    frame = _frame(returns, market)
    _check_sample(frame)
    spec = ModelSpec(vol, dist, "constant" if market is None else "market")
    return _fit_scaled(frame * scale, spec, scale=scale, backcast=backcast, cov_type=cov_type,
                       tol=tol, options=options)


# --------------------------------------------------------------------------- selection


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


# --------------------------------------------------------------------------- variance dummy


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


def _std_err(res: ARCHModelResult, name: str) -> float:
    """arch's standard error of ``name`` (NaN when the Hessian cannot be inverted)."""
    try:
        return float(res.std_err[name])
    except (np.linalg.LinAlgError, ValueError):
        return math.nan


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


# --------------------------------------------------------------------------- event study


@dataclass
class WindowVariance:
    """Realised vs forecast variance over a window of event days (scaled units, squared)."""

    name: str
    days: Window
    n: int
    realised: float
    filtered: float
    ex_ante: float | None
    mean_sigma: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _json(self.__dict__)


@dataclass
class VolatilityRatio:
    """Mean conditional sigma after vs before day 0, and tests of a variance change.

    F test: mean z^2 over ``post`` / mean z^2 over ``pre`` for the standardised residuals
    z_t = e_t / sigma_t (sigma filtered with fixed pre-event parameters). Under no change in the
    variance beyond what the model predicts, the z_t are i.i.d. with unit variance and the ratio
    is F(n_post, n_pre) for Gaussian z (a residual-variance ratio in the spirit of Beaver 1968;
    approximate for t errors); the p-value is two-sided. The LR test of a variance dummy
    (Balaban & Constantinou 2006 style) is in ``dummy_test`` when it was run.
    """

    pre: Window
    post: Window
    mean_sigma_pre: float
    mean_sigma_post: float
    f_stat: float
    df_post: int
    df_pre: int
    f_pvalue: float
    dummy_test: VarianceDummyTest | None = None
    note: str | None = None

    @property
    def ratio(self) -> float:
        """mean sigma over ``post`` / mean sigma over ``pre``."""
        return self.mean_sigma_post / self.mean_sigma_pre

    def summary(self) -> str:
        """A few lines."""
        lines = [
            f"mean sigma {_days(self.pre)} = {self.mean_sigma_pre:.3f}, {_days(self.post)} = "
            f"{self.mean_sigma_post:.3f}: ratio {self.ratio:.3f}",
            f"F test of standardised residual variance {_days(self.post)} vs {_days(self.pre)}: "
            f"F({self.df_post},{self.df_pre}) = {self.f_stat:.3f}, p = {self.f_pvalue:.4f} "
            "(two-sided)",
        ]
        if self.dummy_test is not None:
            lines.append(self.dummy_test.summary())
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = {k: v for k, v in self.__dict__.items() if k != "dummy_test"}
        out["ratio"] = self.ratio
        out["dummy_test"] = self.dummy_test.to_dict() if self.dummy_test else None
        return _json(out)


@dataclass(frozen=True)
class _Layout:
    """Positions (in the aligned frame) of the estimation sample and the event days."""

    event: int
    est_start: int
    est_stop: int
    stop: int
    event_window: Window
    pre: Window
    post: Window
    notes: tuple[str, ...]

    def day(self, position: int) -> int:
        """Event day of a frame position."""
        return position - self.event


def _event_position(index: pd.Index, event: Any) -> tuple[int, list[str]]:
    """Position of day 0: an int position, or the first session on/after a date."""
    if isinstance(event, (int, np.integer)) and not isinstance(event, bool):
        if not 0 <= int(event) < len(index):
            raise BadInput(f"event position {event} is outside the {len(index)} returns")
        return int(event), []
    if not isinstance(index, pd.DatetimeIndex):
        raise BadInput("the event is a date but the returns have no date index: "
                       "pass day 0 as an integer position")
    try:
        when = pd.Timestamp(event)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"not a date: {event!r}") from exc
    if index.tz is not None and when.tz is None:
        when = when.tz_localize(index.tz)
    elif index.tz is None and when.tz is not None:
        when = when.tz_localize(None)
    position = int(index.searchsorted(when, side="left"))
    if position >= len(index):
        raise BadInput(f"event date {when.date()} is after the last return "
                       f"({index[-1].date()})")
    found = pd.Timestamp(index[position])
    notes = [] if found == when else [f"{when.date()} is not a session: day 0 is {found.date()}"]
    return position, notes


def _check_windows(estimation_end: int, event_window: Window, pre: Window, post: Window) -> None:
    """Raise BadInput on inconsistent windows."""
    for name, (lo, hi) in (("event_window", event_window), ("pre_window", pre),
                           ("post_window", post)):
        if lo > hi:
            raise BadInput(f"{name} {lo}..{hi} is empty: give (first day, last day)")
    if estimation_end >= event_window[0]:
        raise BadInput(f"estimation must end before the event window: estimation_end="
                       f"{estimation_end} is not < {event_window[0]}")
    if pre[1] >= post[0]:
        raise BadInput(f"pre window {_days(pre)} must end before post window {_days(post)}")


def _layout(event: int, n: int, estimation_end: int, estimation_length: int | None,
            event_window: Window, pre: Window, post: Window) -> _Layout:
    """Validate the windows against the data and truncate where the data end."""
    _check_windows(estimation_end, event_window, pre, post)
    est_stop = event + estimation_end + 1
    if est_stop < 1:
        raise BadInput(f"no returns before day {estimation_end}: the event is too close to the "
                       "start of the data")
    est_start = max(0, est_stop - estimation_length) if estimation_length else 0
    if event + 1 >= n:
        raise BadInput("no returns after day 0: the data end on the event day")
    notes = []
    last = max(event_window[1], post[1])
    stop = min(n, event + last + 1)
    if stop < event + last + 1:
        notes.append(f"data end at day {stop - 1 - event:+d}: windows truncated there")
    first = est_start - event
    if pre[0] < first:
        notes.append(f"pre window starts at day {first:+d} (first return), not {pre[0]:+d}")
        pre = (first, pre[1])
    clip = stop - 1 - event
    return _Layout(event, est_start, est_stop, stop, (event_window[0], min(event_window[1], clip)),
                   pre, (post[0], min(post[1], clip)), tuple(notes))


def _garch_filter(fit: GarchFit, full: pd.DataFrame, n_est: int,
                  horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residuals, sigma2 filtered with the fixed pre-event parameters, ex-ante sigma2.

    The ex-ante path is arch's multi-step forecast from the estimation end: analytic for
    GARCH/GJR; for EGARCH the median of simulated variance paths, because the mean of
    exp(alpha |z|) is infinite with t errors (Nelson 1991).
    """
    x = _design(full)
    resid = full["y"].to_numpy(dtype=float) - x @ fit.part("mean")
    process = _volatility_process(fit.spec.vol, fit.backcast_rule == "sample", n_est)
    start = process.backcast_transform(fit.backcast)
    bounds = process.variance_bounds(resid)
    sigma2 = np.zeros(resid.size)
    process.compute_variance(fit.part("vol"), resid, sigma2, start, bounds)
    method: ForecastingMethod = "simulation" if fit.spec.vol == "EGARCH" else "analytic"
    rng = _DISTRIBUTIONS[fit.spec.dist](seed=EX_ANTE_SEED).simulate(fit.part("dist"))
    forecast = process.forecast(fit.part("vol"), resid[:n_est], start, bounds[:n_est],
                                start=n_est - 1, horizon=horizon, method=method,
                                simulations=EX_ANTE_SIMULATIONS, rng=rng)
    if forecast.forecast_paths is not None:  # EGARCH: median path (the mean may not exist)
        return resid, sigma2, np.median(np.asarray(forecast.forecast_paths)[-1], axis=0)
    return resid, sigma2, np.asarray(forecast.forecasts)[-1]


def _ewma_filter(full: pd.DataFrame, n_est: int,
                 horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS residuals (pre-event fit), EWMA sigma2, flat ex-ante sigma2, OLS covariance."""
    coef, cov = _ols(full.iloc[:n_est])
    resid = full["y"].to_numpy(dtype=float) - _design(full) @ coef
    sigma2 = ewma_variance(resid, backcast=arch_backcast(resid[:n_est]))
    return resid, sigma2, np.full(horizon, sigma2[n_est]), cov


def _prediction_variance(full: pd.DataFrame, cov: np.ndarray) -> np.ndarray:
    """x_t' Var(theta_hat) x_t: variance added to sigma2_t by the estimated mean parameters."""
    x = _design(full)
    return np.einsum("ij,jk,ik->i", x, cov, x)


def _build_path(selection: ModelSelection, full: pd.DataFrame, lay: _Layout,
                prediction_error: bool) -> tuple[pd.DataFrame, bool]:
    """Per-session table from the estimation start to the last event day (scaled units).

    Also says whether the prediction-error adjustment was applied (it is dropped when the
    covariance of the mean parameters is unusable).
    """
    n_est = lay.est_stop - lay.est_start
    horizon = len(full) - n_est
    if selection.best is not None:
        resid, sigma2, ex_ante = _garch_filter(selection.best, full, n_est, horizon)
        cov = selection.best.mean_cov()
    else:
        resid, sigma2, ex_ante, cov = _ewma_filter(full, n_est, horizon)
    days = np.arange(len(full)) - (lay.event - lay.est_start)
    path = pd.DataFrame({"day": days, "ret": full["y"].to_numpy(), "resid": resid},
                        index=full.index)
    path["sigma"] = np.sqrt(sigma2)
    path["sigma_ewma"] = np.sqrt(ewma_variance(resid, backcast=arch_backcast(resid[:n_est])))
    path["sigma_ex_ante"] = np.concatenate((np.full(n_est, np.nan), np.sqrt(ex_ante)))
    path["z"] = resid / path["sigma"]
    extra = _prediction_variance(full, cov) if prediction_error else np.zeros(len(full))
    applied = prediction_error and bool(np.all(np.isfinite(extra)) and np.all(extra >= 0))
    extra = extra if applied else np.zeros(len(full))
    in_window = (days >= lay.event_window[0]) & (days <= lay.event_window[1])
    path["sar"] = np.where(in_window, resid / np.sqrt(sigma2 + extra), np.nan)
    path["estimation"] = np.arange(len(full)) < n_est
    return path, applied


def _window_variance(path: pd.DataFrame, name: str, days: Window) -> WindowVariance:
    """Realised mean e^2 vs mean filtered and ex-ante sigma2 over ``days``."""
    rows = path[(path["day"] >= days[0]) & (path["day"] <= days[1])]
    ex_ante = rows["sigma_ex_ante"].dropna()
    return WindowVariance(
        name=name, days=days, n=len(rows), realised=float(np.mean(rows["resid"] ** 2)),
        filtered=float(np.mean(rows["sigma"] ** 2)),
        ex_ante=float(np.mean(ex_ante**2)) if len(ex_ante) else None,
        mean_sigma=float(rows["sigma"].mean()))


def _variance_ratio(path: pd.DataFrame, pre: Window, post: Window) -> VolatilityRatio:
    """Mean sigma ratio and the F test on standardised residuals."""
    before = path[(path["day"] >= pre[0]) & (path["day"] <= pre[1])]
    after = path[(path["day"] >= post[0]) & (path["day"] <= post[1])]
    f_stat = float(np.mean(after["z"] ** 2) / np.mean(before["z"] ** 2))
    df_post, df_pre = len(after), len(before)
    tail = min(stats.f.cdf(f_stat, df_post, df_pre), stats.f.sf(f_stat, df_post, df_pre))
    return VolatilityRatio(pre, post, float(before["sigma"].mean()), float(after["sigma"].mean()),
                           f_stat, df_post, df_pre, float(min(1.0, 2.0 * tail)))


@dataclass
class EventVolatility:
    """GARCH volatility around one event: model choice, event-induced volatility, SARs.

    ``path`` holds one row per session from the estimation start to the last event day (scaled
    units): ``day``, ``ret``, ``resid`` (abnormal return: residual of the pre-event mean
    equation), ``sigma`` (filtered with fixed pre-event parameters, information to t-1),
    ``sigma_ewma``, ``sigma_ex_ante`` (multi-step forecast from the estimation end), ``z`` =
    resid/sigma, ``sar`` (event window only) and ``estimation`` (in the estimation sample).
    """

    label: str
    event_date: pd.Timestamp | None
    event_position: int
    scale: float
    mean: str
    selection: ModelSelection
    path: pd.DataFrame = field(repr=False)
    windows: list[WindowVariance]
    ratio: VolatilityRatio
    event_window: Window
    prediction_error: bool
    notes: list[str] = field(default_factory=list)

    @property
    def fit(self) -> GarchFit | None:
        """The chosen GARCH fit (None after the EWMA fallback)."""
        return self.selection.best

    @property
    def model(self) -> str:
        """Name of the conditional-variance model in use."""
        return self.fit.spec.label if self.fit else _EWMA_LABEL

    @property
    def fallback_reason(self) -> str | None:
        """Why EWMA replaced GARCH (None when a GARCH fit is used)."""
        return self.selection.fallback_reason

    @property
    def sar(self) -> pd.Series:
        """GARCH-standardised abnormal returns over the event window, indexed by event day."""
        rows = self.path[self.path["sar"].notna()]
        return pd.Series(rows["sar"].to_numpy(), index=rows["day"].to_numpy(), name="sar")

    def scar(self, window: Window = (0, 0)) -> float:
        """Standardised CAR over ``window``: sum of SARs / sqrt(number of days)."""
        sar = self.sar.loc[window[0]:window[1]].dropna()
        if sar.empty:
            raise BadInput(f"no standardised abnormal returns in {_days(window)}")
        return float(sar.sum() / math.sqrt(len(sar)))

    def _estimation_line(self) -> str:
        est = self.path[self.path["estimation"]]
        first, last = est.index[0], est.index[-1]
        span = (f"{first.date()} .. {last.date()}" if isinstance(first, pd.Timestamp)
                else f"{first} .. {last}")
        return (f"Estimation: {span} ({len(est)} returns, up to day {int(est['day'].iloc[-1])}); "
                f"mean: {'market model (LS)' if self.mean == 'market' else 'constant'}")

    def _window_lines(self) -> list[str]:
        lines = [f"  {'window':<8}{'days':>10}{'n':>4}{'realised':>11}{'filtered':>11}"
                 f"{'ex-ante':>11}"]
        for w in self.windows:
            lines.append(f"  {w.name:<8}{_days(w.days):>10}{w.n:>4}{w.realised:>11.3f}"
                         f"{w.filtered:>11.3f}{_fmt(w.ex_ante, 3):>11}")
        first = int(self.path.loc[~self.path["estimation"], "day"].iloc[0])
        lines.append(f"  (realised: mean AR^2; filtered: mean one-step sigma2; ex-ante: mean "
                     f"multi-step forecast, days >= {first:+d} only)")
        return lines

    def summary(self) -> str:
        """Readable report: model, candidates, volatility ratio and tests, SARs, notes."""
        day0 = self.event_date.date() if self.event_date is not None else self.event_position
        sar0 = self.sar.get(0, np.nan)
        lines = [
            f"GARCH volatility around an event: {self.label or 'series'}, day 0 = {day0}",
            f"Returns x{self.scale:g} (percent) for arch's optimiser; sigma in % per day.",
            self._estimation_line(),
            f"Conditional variance: {self.model}",
            *([self.fit.summary()] if self.fit else []),
            self.selection.summary(),
            "Event-induced volatility (sigma filtered with fixed pre-event parameters):",
            self.ratio.summary(),
            "Realised vs forecast variance (%^2):",
            *self._window_lines(),
            f"Standardised AR (AR / conditional sigma): SAR(0) = {_fmt(float(sar0), 3)}, SCAR"
            f"{_days(self.event_window)} = {_fmt(self.scar(self.event_window), 3)}"
            + (" (prediction-error adjusted)" if self.prediction_error else ""),
        ]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: everything in the summary plus the event-window rows."""
        rows = self.path[self.path["sar"].notna()].reset_index(names="date")
        return _json({
            "label": self.label, "event_date": self.event_date,
            "event_position": self.event_position, "scale": self.scale, "mean": self.mean,
            "model": self.model, "fallback_reason": self.fallback_reason,
            "fit": self.fit.to_dict() if self.fit else None,
            "selection": self.selection.to_dict(), "ratio": self.ratio.to_dict(),
            "windows": [w.to_dict() for w in self.windows],
            "event_window": self.event_window, "prediction_error": self.prediction_error,
            "scar_event_window": self.scar(self.event_window),
            "days": rows.drop(columns=["estimation"]), "notes": self.notes,
        })


def volatility_study(returns: pd.Series | np.ndarray, event_date: Any,
                     market: pd.Series | np.ndarray | None = None, *, label: str = "",
                     estimation_end: int = ESTIMATION_END, estimation_length: int | None = None,
                     event_window: Window = EVENT_WINDOW, pre_window: Window = PRE_WINDOW,
                     post_window: Window = POST_WINDOW, vols: Sequence[str] = VOLS,
                     dists: Sequence[str] = DISTS, scale: float = SCALE,
                     min_obs: int = MIN_OBS, backcast: float | str = "arch",
                     dummy_test: bool = True, prediction_error: bool = True) -> EventVolatility:
    """Model selection, event-induced volatility and GARCH-standardised ARs for one event.

    ``returns``/``market`` are simple returns (decimals); ``event_date`` is a date (day 0 is the
    first session on or after it) or an integer position. Parameters are estimated on returns
    up to day ``estimation_end`` (the last ``estimation_length`` of them, default all), event
    returns are filtered through them. SAR_t = AR_t / sqrt(sigma2_t + x_t' V x_t) on the event
    window, where V is the covariance of the estimated mean parameters (the prediction-error
    adjustment; ``prediction_error=False`` drops it): the out-of-sample analogue of Savickas's
    (2003) gamma_i / sqrt(h_i,E). ``dummy_test`` adds the LR test of a post-window variance
    dummy (skipped after the EWMA fallback).
    """
    frame = _frame(returns, market)
    event, notes = _event_position(frame.index, event_date)
    lay = _layout(event, len(frame), estimation_end, estimation_length, event_window,
                  pre_window, post_window)
    est = frame.iloc[lay.est_start: lay.est_stop]
    selection = select_model(est["y"], est.get("m"), vols=vols,
                             dists=dists, scale=scale, min_obs=min_obs, backcast=backcast)
    full = frame.iloc[lay.est_start: lay.stop] * scale
    path, adjusted = _build_path(selection, full, lay, prediction_error)
    if prediction_error and not adjusted:
        notes.append("prediction-error adjustment dropped: the covariance of the mean "
                     "parameters is not usable (degenerate fit)")
    ratio = _variance_ratio(path, lay.pre, lay.post)
    ratio.dummy_test, ratio.note = _maybe_dummy_test(selection, full, path, lay, dummy_test)
    windows = [_window_variance(path, name, days) for name, days in
               (("pre", lay.pre), ("event", lay.event_window), ("post", lay.post))]
    date = pd.Timestamp(frame.index[event]) if isinstance(frame.index, pd.DatetimeIndex) else None
    return EventVolatility(
        label=label, event_date=date, event_position=event, scale=scale,
        mean="market" if "m" in frame else "constant", selection=selection, path=path,
        windows=windows, ratio=ratio, event_window=lay.event_window,
        prediction_error=adjusted, notes=notes + list(lay.notes))


def _maybe_dummy_test(selection: ModelSelection, full: pd.DataFrame, path: pd.DataFrame,
                      lay: _Layout, wanted: bool) -> tuple[VarianceDummyTest | None, str | None]:
    """Run the LR variance-dummy test on [estimation start, last post day] when it makes sense."""
    if not wanted:
        return None, None
    if selection.best is None:
        return None, "LR variance-dummy test skipped: GARCH fell back to EWMA"
    keep = (path["day"] <= lay.post[1]).to_numpy()
    dummy = ((path["day"] >= lay.post[0]) & (path["day"] <= lay.post[1])).to_numpy()[keep]
    try:
        test = _dummy_test_scaled(full[keep], dummy.astype(float), selection.best.spec,
                                  selection.scale)
    except EstimationError as exc:
        return None, f"LR variance-dummy test failed: {exc}"
    return test, None


# --------------------------------------------------------------------------- across events


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


# --------------------------------------------------------------------------- many fits


@dataclass
class GarchTask:
    """One :func:`fit_garch` call for :func:`fit_many`."""

    returns: pd.Series | np.ndarray
    vol: str = "GARCH"
    dist: str = "normal"
    market: pd.Series | np.ndarray | None = None
    scale: float = SCALE
    backcast: float | str = "arch"
    label: str = ""

    def run(self) -> GarchFit:
        """Fit it."""
        return fit_garch(self.returns, vol=self.vol, dist=self.dist, market=self.market,
                         scale=self.scale, backcast=self.backcast)


@dataclass
class StudyTask:
    """One :func:`volatility_study` call for :func:`fit_many`; ``options`` are its keywords."""

    returns: pd.Series | np.ndarray
    event_date: Any
    market: pd.Series | np.ndarray | None = None
    label: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def run(self) -> EventVolatility:
        """Run the study."""
        return volatility_study(self.returns, self.event_date, self.market, label=self.label,
                                **self.options)


def _run_task(task: GarchTask | StudyTask, return_exceptions: bool = False) -> Any:
    """Run one task; eventstudy errors are returned instead of raised on request."""
    try:
        return task.run()
    except EventStudyError as exc:
        if return_exceptions:
            return exc
        raise


def _bar(total: int, enabled: bool) -> tqdm:
    """Progress bar on stderr."""
    return tqdm(total=total, disable=not enabled, file=sys.stderr, desc="GARCH fits",
                unit="fit")


def _run_serial(tasks: list[Any], progress: bool, return_exceptions: bool) -> list[Any]:
    results = []
    with _bar(len(tasks), progress) as bar:
        for task in tasks:
            results.append(_run_task(task, return_exceptions))
            bar.update()
    return results


def _run_local(tasks: list[Any], progress: bool, return_exceptions: bool,
               max_workers: int) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=max(1, min(max_workers, len(tasks)))) as pool:
        futures = {pool.submit(_run_task, task, return_exceptions): i
                   for i, task in enumerate(tasks)}
        with _bar(len(tasks), progress) as bar:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return results


def _dask_address(executor: str) -> str:
    """'dask://HOST:PORT' -> 'tcp://HOST:PORT' ('dask://inproc://..' etc. kept as given)."""
    rest = executor[len("dask://"):]
    if not rest:
        raise BadInput("give the dask scheduler as dask://HOST:PORT")
    return rest if "://" in rest else f"tcp://{rest}"


def _run_dask(tasks: list[Any], progress: bool, return_exceptions: bool,
              executor: str) -> list[Any]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    address = _dask_address(executor)
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise BadInput(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    with client:
        futures = client.map(_run_task, tasks, return_exceptions=return_exceptions, pure=False)
        with _bar(len(tasks), progress) as bar:
            for _ in dask_completed(futures, loop=client.loop):
                bar.update()
        return list(client.gather(futures))


def fit_many(tasks: Iterable[GarchTask | StudyTask], executor: str = "local", *,
             progress: bool = True, max_workers: int = 2,
             return_exceptions: bool = False) -> list[Any]:
    """Run many fits or studies, results in task order, with a tqdm bar on stderr.

    ``executor``: ``'serial'``; ``'local'`` (a ProcessPoolExecutor with ``max_workers``
    processes); or ``'dask://HOST:PORT'`` (a ``distributed.Client`` on that scheduler).
    ``return_exceptions`` puts eventstudy errors in the list instead of raising the first.
    """
    work = list(tasks)
    if not work:
        return []
    if executor == "serial":
        return _run_serial(work, progress, return_exceptions)
    if executor == "local":
        return _run_local(work, progress, return_exceptions, max_workers)
    if executor.startswith("dask://"):
        return _run_dask(work, progress, return_exceptions, executor)
    raise BadInput(f"unknown executor {executor!r}: use 'serial', 'local' or 'dask://HOST:PORT'")
