"""What every volatility model here shares: constants and units (returns x ``SCALE``), the
:class:`Sample` every fit reads (returns and market aligned and scaled, with its OLS mean), the
arch backcast, the RiskMetrics (1996) EWMA variance and JSON-ready values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
from arch.univariate import (
    EWMAVariance,
    Normal,
    SkewStudent,
    StudentsT,
)
from arch.univariate.distribution import Distribution

from eventstudy.errors import BadInput, EstimationError
from eventstudy.formatting import json_clean

if TYPE_CHECKING:
    from arch._typing import ArrayLike1D

SCALE = 100.0  # returns x 100: the optimiser works in percent


VOLS = ("GARCH", "GJR", "EGARCH")


DISTS = ("normal", "t", "skewt")


RISKMETRICS_LAMBDA = 0.94


MAX_PERSISTENCE = 0.999


NEWS_EPS = 1e-4  # ARCH coefficients below this (in absolute value) count as zero


MIN_OBS = 50  # below this many pre-event returns GARCH is not attempted at all


# Shortest estimation sample on which a study reports GARCH numbers. GARCH(1,1) quasi-ML needs
# several hundred observations: Hwang & Valls Pereira (2006, Applied Economics Letters 13(15))
# find biased persistence and frequent non-convergence below 250 observations, 500 preferred;
# on ~100 returns the robust QLR dummy test rejected 9-15% at 5% (issue 22). Shorter: no GARCH
# fit (EWMA path), the raw residual variance ratio and its permutation p are the numbers to read.
MIN_GARCH_ESTIMATION = 250


ESTIMATION_END = -11


EVENT_WINDOW = (-10, 20)


PRE_WINDOW = (-20, -1)


POST_WINDOW = (1, 20)


EX_ANTE_SIMULATIONS = 2000


EX_ANTE_SEED = 20030601


DELTA_BOUND = 10.0  # |delta| of the variance dummy: omega scaled by at most e^10


NU_LOWER = 2.05  # arch's lower bound of the t and skew-t degrees of freedom


VOL_LABELS = {"GARCH": "GARCH(1,1)", "GJR": "GJR-GARCH(1,1,1)", "EGARCH": "EGARCH(1,1)"}


DIST_LABELS = {"normal": "normal", "t": "Student-t", "skewt": "skew-t"}


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    "normal": Normal, "t": StudentsT, "skewt": SkewStudent,
}


EWMA_LABEL = f"EWMA (RiskMetrics 1996, lambda={RISKMETRICS_LAMBDA})"


CovType = Literal["robust", "classic"]


def json_record(record: dict[str, Any]) -> dict[str, Any]:
    """``formatting.json_clean`` (the one JSON cleaner) of a dict: the ``to_dict`` of every
    result here."""
    return cast(dict[str, Any], json_clean(record))


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


Returns = pd.Series | np.ndarray


@dataclass(frozen=True, eq=False)
class Sample:
    """What every fit reads: returns (column ``y``) and, for a market-model mean, the market
    return (``m``), aligned on their index, rows with a missing value dropped, multiplied by
    ``scale`` (the units of every parameter and variance). Build it with :meth:`of`."""

    frame: pd.DataFrame
    scale: float = SCALE

    @classmethod
    def of(cls, returns: Returns | Sample, market: Returns | None = None,
           scale: float | None = None) -> Sample:
        """The sample of ``returns`` (and ``market``) in decimals, x ``scale`` (default
        ``SCALE``); a ``Sample`` is returned as it is (it carries its market and scale)."""
        if isinstance(returns, Sample):
            if market is not None or (scale is not None and scale != returns.scale):
                raise BadInput("a Sample carries its market and scale: give them to Sample.of")
            return returns
        factor = SCALE if scale is None else float(scale)
        return cls(_aligned(returns, market) * factor, factor)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def index(self) -> pd.Index:
        """The dates (or positions) of the rows."""
        return self.frame.index

    @property
    def mean(self) -> str:
        """``'market'`` (a market-model mean) or ``'constant'``."""
        return "market" if "m" in self.frame else "constant"

    @property
    def y(self) -> np.ndarray:
        """The scaled returns."""
        return self.frame["y"].to_numpy(dtype=float)

    def rows(self, which: slice | np.ndarray) -> Sample:
        """The rows ``which`` (a slice of positions or a boolean mask)."""
        return Sample(self.frame.iloc[which], self.scale)

    def check(self, minimum: int = 10) -> None:
        """Raise EstimationError when the sample cannot carry a GARCH fit at all."""
        if len(self) < minimum:
            raise EstimationError(f"only {len(self)} returns: a GARCH fit needs at least "
                                  f"{minimum}")
        if float(np.ptp(self.y)) == 0.0:
            raise EstimationError("the returns are constant: there is no variance to model")

    def design(self) -> np.ndarray:
        """Mean-equation regressors: a constant, and the market return when present."""
        columns = [np.ones(len(self))]
        if "m" in self.frame:
            columns.append(self.frame["m"].to_numpy(dtype=float))
        return np.column_stack(columns)

    def ols_residuals(self, fit_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean-equation residuals over every row with the OLS coefficients of the first
        ``fit_rows`` rows (default: all), and the covariance of those coefficients."""
        coef, cov = (self if fit_rows is None else self.rows(slice(0, fit_rows)))._ols()
        return self.y - self.design() @ coef, cov

    def _ols(self) -> tuple[np.ndarray, np.ndarray]:
        """OLS coefficients of the mean equation and their covariance s^2 (X'X)^-1."""
        x, y = self.design(), self.y
        coef = np.linalg.pinv(x).dot(y)  # as arch's starting values
        resid = y - x @ coef
        dof = max(len(y) - x.shape[1], 1)
        return coef, float(resid @ resid / dof) * np.linalg.pinv(x.T @ x)


def _as_series(values: Any, name: str) -> pd.Series:
    """A float Series named ``name`` from a Series or a 1-d array."""
    if isinstance(values, pd.Series):
        return values.astype(float).rename(name)
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise BadInput(f"{name} must be one-dimensional, got shape {array.shape}")
    return pd.Series(array, name=name)


def _aligned(returns: Any, market: Any = None) -> pd.DataFrame:
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
