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
from eventstudy.engine.windows import Window

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
