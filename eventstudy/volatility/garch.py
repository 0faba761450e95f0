"""One GARCH-family fit through ``arch``: the model specification (process, distribution, mean),
the one route to arch's optimiser (warnings turned into flags), the fit with its diagnostics
(convergence, persistence, parameters on bounds). GARCH: Bollerslev (1986); GJR: Glosten,
Jagannathan & Runkle (1993); EGARCH: Nelson (1991); skew-t: Hansen (1994); the sample backcast:
Fiorentini, Calzolari & Panattoni (1996)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from arch.univariate import (
    EGARCH,
    GARCH,
    LS,
    ConstantMean,
)
from arch.univariate.volatility import VolatilityProcess
from arch.utility.exceptions import ConvergenceWarning

from eventstudy.errors import BadInput, EstimationError
from eventstudy.formatting import num
from eventstudy.volatility.base import (
    DIST_LABELS,
    DISTRIBUTIONS,
    DISTS,
    MAX_PERSISTENCE,
    NEWS_EPS,
    NU_LOWER,
    VOL_LABELS,
    VOLS,
    CovType,
    Returns,
    Sample,
    arch_backcast,
    json_record,
)

if TYPE_CHECKING:
    from arch._typing import ArrayLike1D, Float64Array1D, Float64Array2D
    from arch.univariate.base import ARCHModel, ARCHModelResult


@dataclass(frozen=True)
class ModelSpec:
    """One candidate: volatility process (GARCH/GJR/EGARCH), error distribution, mean equation."""

    vol: str = "GARCH"
    dist: str = "normal"
    mean: str = "constant"

    def __post_init__(self) -> None:
        if self.vol not in VOL_LABELS:
            raise BadInput(f"unknown volatility model {self.vol!r}: use one of {', '.join(VOLS)}")
        if self.dist not in DIST_LABELS:
            raise BadInput(f"unknown error distribution {self.dist!r}: use one of "
                           f"{', '.join(DISTS)}")
        if self.mean not in ("constant", "market"):
            raise BadInput(f"unknown mean {self.mean!r}: use 'constant' or 'market'")

    @property
    def label(self) -> str:
        """e.g. ``'GJR-GARCH(1,1,1) skew-t'``."""
        return f"{VOL_LABELS[self.vol]} {DIST_LABELS[self.dist]}"

    @property
    def n_mean(self) -> int:
        """Number of mean parameters (mu, or Const and market beta)."""
        return 2 if self.mean == "market" else 1

    @property
    def n_vol(self) -> int:
        """Number of volatility parameters."""
        return 3 if self.vol == "GARCH" else 4

    def process(self, sample_backcast: bool = False, nobs: int | None = None
                ) -> VolatilityProcess:
        """arch's process for ``vol`` (the FCP sample-backcast variant on request)."""
        if self.vol == "EGARCH":
            return EGARCH(p=1, o=1, q=1)
        o = 1 if self.vol == "GJR" else 0
        return SampleBackcastGARCH(1, o, 1, nobs) if sample_backcast else GARCH(p=1, o=o, q=1)

    def model(self, sample: Sample, volatility: VolatilityProcess | None = None) -> ARCHModel:
        """arch's ConstantMean, or LS with the market return as regressor, on ``sample``;
        ``volatility`` defaults to :meth:`process`."""
        process = self.process() if volatility is None else volatility
        dist = DISTRIBUTIONS[self.dist]()
        y = sample.y  # arrays: arch's pandas handling costs ~15% per fit
        if self.mean == "market":
            x = pd.DataFrame({"market": sample.frame["m"].to_numpy(dtype=float)})
            return LS(y, x, volatility=process, distribution=dist, rescale=False)
        return ConstantMean(y, volatility=process, distribution=dist, rescale=False)


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


BETA_BOUND_TOL = 1e-6


@dataclass(frozen=True)
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
    def beta_at_bound(self) -> bool:
        """beta[1] on the boundary of its parameter space: <= ``BETA_BOUND_TOL`` for GARCH and
        GJR (the variance is then an ARCH(1) and chi2 reference distributions of tests that
        involve beta do not hold; Andrews 2001), |beta| >= 1 - ``BETA_BOUND_TOL`` for EGARCH.
        Reported, not a reason to drop the fit."""
        beta = self.params.get("beta[1]", math.nan)
        if self.spec.vol == "EGARCH":
            return bool(abs(beta) >= 1.0 - BETA_BOUND_TOL)
        return bool(beta <= BETA_BOUND_TOL)

    @property
    def std_err(self) -> dict[str, float]:
        """Standard errors (``cov_type``), computed by arch on first use (NaN if singular)."""
        if self.result is None:
            return {}
        return {name: std_error(self.result, name) for name in self.params}

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
            f"{num(self.persistence, 4)}  converged: {'yes' if self.converged else 'no'}",
            f"  flags: {'; '.join(self.flags) if self.flags else 'none'}"
            + ("  [beta at its bound]" if self.beta_at_bound else ""),
            f"  sigma2_0 ({self.backcast_rule} backcast) = {num(self.backcast, 4)}",
            f"  {'parameter':<10} {'estimate':>12} {'std.err':>12}",
        ]
        for name, value in self.params.items():
            lines.append(f"  {name:<10} {value:>12.6f} {num(se.get(name), 6):>12}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (series left out)."""
        return json_record({
            "model": self.spec.label, "vol": self.spec.vol, "dist": self.spec.dist,
            "mean": self.spec.mean, "params": self.params, "std_err": self.std_err,
            "loglik": self.loglik, "bic": self.bic, "aic": self.aic, "nobs": self.nobs,
            "converged": self.converged, "convergence_flag": self.convergence_flag,
            "persistence": self.persistence, "flags": self.flags,
            "beta_at_bound": self.beta_at_bound, "scale": self.scale,
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


def _initial_variance(sample: Sample, backcast: float | str) -> float | None:
    """sigma2_0 (variance scale) of the rule; None for 'sample' (the FCP process computes it).

    For 'arch' this is exactly what arch computes itself; arch is then left to compute it (a
    value passed in goes through ``backcast_transform``, sqrt(.)**2, and may move by an ulp).
    """
    if backcast == "sample":
        return None
    if not isinstance(backcast, str):
        return float(backcast)
    return arch_backcast(sample.ols_residuals()[0])


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


def arch_fit(model: ARCHModel, label: str, **fit_options: Any
             ) -> tuple[ARCHModelResult, list[warnings.WarningMessage]]:
    """arch's ``model.fit(disp="off", **fit_options)``, its ConvergenceWarnings recorded (they
    become flags), its numerical failures an ``EstimationError`` naming ``label``: the one
    call of arch's optimiser in this package."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            res = model.fit(disp="off", **fit_options)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EstimationError(f"{label}: arch could not fit the model: {exc}") from exc
    return res, caught


def fit_garch(returns: Returns | Sample, *, vol: str = "GARCH", dist: str = "normal",
              market: Returns | None = None, scale: float | None = None,
              backcast: float | str = "arch", cov_type: str = "robust",
              tol: float | None = None, options: dict[str, Any] | None = None) -> GarchFit:
    """Fit one GARCH-family model with arch (Bollerslev 1986; GJR 1993; Nelson 1991).

    ``returns`` (and ``market``) are multiplied by ``scale`` (default ``SCALE``, 100: percent)
    first, or are a :class:`Sample` already scaled. ``market`` switches the mean to arch's
    ``LS`` market model. ``backcast`` sets sigma2_0: ``'arch'`` (arch's default,
    :func:`arch_backcast` of the OLS residuals), ``'sample'`` (Fiorentini, Calzolari &
    Panattoni 1996: the mean squared residual at the current parameters, via
    :class:`SampleBackcastGARCH`; GARCH/GJR only) or a fixed variance in scaled units.
    ``cov_type='classic'`` gives inverse-Hessian standard errors, ``'robust'``
    Bollerslev-Wooldridge ones. ``tol``/``options`` go to arch's SLSQP call.
    """
    sample = Sample.of(returns, market, scale)
    sample.check()
    spec = ModelSpec(vol, dist, sample.mean)
    rule = _backcast_rule(spec, backcast)
    if cov_type not in ("robust", "classic"):
        raise BadInput(f"cov_type must be 'robust' or 'classic', not {cov_type!r}")
    model = spec.model(sample, spec.process(rule == "sample"))
    sigma2_0 = _initial_variance(sample, backcast)
    res, caught = arch_fit(model, spec.label, cov_type=cast(CovType, cov_type), tol=tol,
                           options=options, backcast=None if rule == "arch" else sigma2_0)
    return _garch_fit(spec, res, caught, sample.index, sample.scale, sigma2_0, rule, cov_type)


def std_error(res: ARCHModelResult, name: str) -> float:
    """arch's standard error of ``name`` (NaN when the Hessian cannot be inverted)."""
    try:
        return float(res.std_err[name])
    except (np.linalg.LinAlgError, ValueError):
        return math.nan
