"""Shared pieces of the volatility models: constants and units (returns x ``SCALE``), input
checks, the OLS mean, the arch backcast and the RiskMetrics (1996) EWMA variance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

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

if TYPE_CHECKING:
    from arch._typing import (
        ArrayLike1D,
    )
from eventstudy.engine.windows import Window, window_label

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


_VOL_LABELS = {"GARCH": "GARCH(1,1)", "GJR": "GJR-GARCH(1,1,1)", "EGARCH": "EGARCH(1,1)"}


_DIST_LABELS = {"normal": "normal", "t": "Student-t", "skewt": "skew-t"}


_DISTRIBUTIONS: dict[str, type[Distribution]] = {
    "normal": Normal, "t": StudentsT, "skewt": SkewStudent,
}


_EWMA_LABEL = f"EWMA (RiskMetrics 1996, lambda={RISKMETRICS_LAMBDA})"


CovType = Literal["robust", "classic"]


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
    """``(-20, -1)`` -> ``'[-20,-1]'`` (``window_label``, the one text form of a window)."""
    return window_label(window)


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


def ols_residuals(frame: pd.DataFrame, fit_rows: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mean-equation residuals over all of ``frame`` with the OLS coefficients of its first
    ``fit_rows`` rows (default: all), and the covariance of those coefficients."""
    coef, cov = _ols(frame if fit_rows is None else frame.iloc[:fit_rows])
    return frame["y"].to_numpy(dtype=float) - _design(frame) @ coef, cov


def _ols(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients of the mean equation and their covariance s^2 (X'X)^-1."""
    x, y = _design(frame), frame["y"].to_numpy(dtype=float)
    coef = np.linalg.pinv(x).dot(y)  # as arch's starting values
    resid = y - x @ coef
    dof = max(len(y) - x.shape[1], 1)
    return coef, float(resid @ resid / dof) * np.linalg.pinv(x.T @ x)
