"""Normal-return models fitted on the whole panel at once, and the abnormal returns they give.

Each model yields, per event i, the abnormal returns in the estimation and event blocks, the
residual variance s_i^2 with its degrees of freedom, and the two terms of the prediction-error
variance (MacKinlay 1997, eq. 9-10; Campbell, Lo & MacKinlay 1997, sec. 4.4):

    Var(AR_it)          = s_i^2 (1 + h0_i + d_it^2)
    Var(CAR_i[t1, t2])  = s_i^2 (tau + tau^2 h0_i + (sum_t d_it)^2)

with ``h0 = 1/L`` for models that estimate a mean (0 for market-adjusted) and
``d_it = (Rm_t - mean Rm) / sqrt(sum (Rm - mean Rm)^2)`` for the market model (0 otherwise);
these are the row sums of X*(X'X)^{-1}X*' for X = [1, Rm]. Models with K > 1 regressors
(``eventstudy.engine.regressors``: factor models, Dimson 1979) carry the other K - 1 standardised
terms in ``dx`` (N, W, K - 1): ``d_it^2`` becomes ``d_it^2 + |dx_it|^2`` and ``(sum d)^2``
becomes ``(sum d)^2 + |sum dx|^2``, the same quadratic form written through a Cholesky factor."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Bools, Floats, Ints, Objects
from eventstudy.engine.panel import Panel
from eventstudy.engine.windows import MIN_ESTIMATION
from eventstudy.errors import BadInput

MODEL_NAMES = {"market": "market model (OLS)", "market_adjusted": "market-adjusted",
               "constant_mean": "constant mean", "factors": "factor model (OLS)",
               "dimson": "Dimson (1979) lead/lag market model",
               "scholes_williams": "Scholes-Williams (1977) market model"}


class Regressors(Protocol):
    """What a model with its own regressors provides (``eventstudy.engine.regressors``)."""

    def fit(self, panel: Panel) -> dict[str, Any]: ...


MIN_FALLBACK_ESTIMATION = 20


DEGENERATE_RELATIVE_VARIANCE = 1e-12  # var(Rm) <= this * mean(Rm^2): the market is constant


@dataclass
class AbnormalReturns:
    """Abnormal returns of every event of a panel under one fitted model per event."""

    panel: Panel
    model: Objects  # (N,) model key per event
    alpha: Floats
    beta: Floats
    sigma2: Floats  # residual variance (dof-corrected)
    dof: Floats
    n_est: Floats
    h0: Floats  # (N,)
    d: Floats  # (N, W)
    ar: Floats  # (N, W)
    est_ar: Floats  # (N, L)
    problems: dict[int, str] = field(default_factory=dict)  # row -> why it has no result
    notes: dict[int, str] = field(default_factory=dict)  # row -> fallback note
    dx: Floats | None = None  # (N, W, K-1) further standardised regressors (K > 1 models)
    params: dict[str, Floats] = field(default_factory=dict)  # name -> (N,) coefficients
    # the market index's volume on each event's dates, (N, L) and (N, W), for market-adjusted
    # abnormal volume (``eventstudy.engine.volume``); None when the index has no volume
    market_volume: tuple[Floats, Floats] | None = None

    @property
    def ar_var(self) -> Floats:
        """Prediction-error variance of each event-window AR, (N, W)."""
        extra = 0.0 if self.dx is None else (self.dx**2).sum(axis=2)
        return self.sigma2[:, None] * (1.0 + self.h0[:, None] + self.d**2 + extra)

    @property
    def ar_t(self) -> Floats:
        return self.ar / np.sqrt(self.ar_var)

    def t_at(self, column: int) -> Floats:
        """``ar_t[:, column]`` without the other days (the same numbers, element by element)."""
        extra = 0.0 if self.dx is None else (self.dx[:, column] ** 2).sum(axis=1)
        var = self.sigma2 * (1.0 + self.h0 + self.d[:, column] ** 2 + extra)
        t: Floats = self.ar[:, column] / np.sqrt(var)
        return t

    @property
    def sar(self) -> Floats:
        """Standardised ARs (Patell 1976): AR / its prediction-error standard deviation."""
        return self.ar_t

    @property
    def est_sar(self) -> Floats:
        """Estimation-window residuals divided by s_i."""
        return self.est_ar / np.sqrt(self.sigma2)[:, None]

    def cols(self, window: tuple[int, int]) -> slice:
        return slice(self.panel.column(window[0]), self.panel.column(window[1]) + 1)

    def car(self, window: tuple[int, int]) -> tuple[Floats, Floats]:
        """CAR_i over ``window`` and its variance (NaN if any day of the window is missing)."""
        cols = self.cols(window)
        tau = cols.stop - cols.start
        car = self.ar[:, cols].sum(axis=1)  # NaN propagates: incomplete window -> NaN
        var = self.sigma2 * (tau + tau**2 * self.h0 + self.d[:, cols].sum(axis=1) ** 2)
        if self.dx is not None:
            var = var + self.sigma2 * (self.dx[:, cols].sum(axis=1) ** 2).sum(axis=1)
        return car, var

    def window_view(self, window: tuple[int, int]) -> AbnormalReturns:
        """The same fit with the event block cut to ``window``."""
        cols = self.cols(window)
        mv = None if self.market_volume is None else (self.market_volume[0],
                                                      self.market_volume[1][:, cols])
        return replace(self, panel=self.panel.window_view(window), d=self.d[:, cols],
                       ar=self.ar[:, cols], dx=None if self.dx is None else self.dx[:, cols],
                       market_volume=mv)

    def subset(self, rows: Ints | Bools) -> AbnormalReturns:
        pick = np.asarray(rows)
        index = np.arange(len(self.model))[pick]
        remap = {int(old): new for new, old in enumerate(index)}
        return AbnormalReturns(
            panel=self.panel.subset(pick), model=self.model[pick], alpha=self.alpha[pick],
            beta=self.beta[pick], sigma2=self.sigma2[pick], dof=self.dof[pick],
            n_est=self.n_est[pick], h0=self.h0[pick], d=self.d[pick], ar=self.ar[pick],
            est_ar=self.est_ar[pick],
            problems={remap[k]: v for k, v in self.problems.items() if k in remap},
            notes={remap[k]: v for k, v in self.notes.items() if k in remap},
            dx=None if self.dx is None else self.dx[pick],
            params={k: v[pick] for k, v in self.params.items()},
            market_volume=None if self.market_volume is None else (
                self.market_volume[0][pick], self.market_volume[1][pick]))


def _masked_mean(x: Floats, valid: Bools, n: Floats) -> Floats:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: Floats = np.where(valid, x, 0.0).sum(axis=1) / n
    return mean


FIT_ROWS = 256  # events fitted at a time: a block's temporaries stay in cache


def _fit_arrays(model: str, panel: Panel) -> dict[str, Floats]:
    """Fit ``model`` on every row of the estimation block; NaN-aware, ``FIT_ROWS`` events at a
    time (every quantity is per row). The rows without a missing estimation day take
    ``_fit_full`` (no masks: the same operations on the same numbers, so the same results bit
    for bit), the others ``_fit_masked``."""
    if model not in ("market", "constant_mean", "market_adjusted"):
        raise BadInput(f"unknown model {model!r} (use {', '.join(MODEL_NAMES)})")
    # rows in memory order: numpy's row sums add in the same order whatever the panel's layout
    y, x, ret, mkt = (np.ascontiguousarray(a, dtype=float) for a in (
        panel.est_ret, panel.est_mkt, panel.ret, panel.mkt))
    out = _empty_fit(y, x, ret, mkt)
    for start in range(0, len(y), FIT_ROWS):
        rows = slice(start, start + FIT_ROWS)
        _fit_rows(model, y[rows], x[rows], ret[rows], mkt[rows],
                  {k: v[rows] for k, v in out.items()})
    return out


def _empty_fit(y: Floats, x: Floats, ret: Floats, mkt: Floats) -> dict[str, Floats]:
    """The arrays a fit fills: one number per row, the event block (``d``, ``ar``) and the
    estimation block (``est_ar``)."""
    out = {k: np.empty(len(y)) for k in ("alpha", "beta", "sigma2", "dof", "n_est", "h0")}
    return {**out, "d": np.empty(ret.shape), "ar": np.empty(ret.shape),
            "est_ar": np.empty(y.shape)}


def _fit_rows(model: str, y: Floats, x: Floats, ret: Floats, mkt: Floats,
              into: dict[str, Floats]) -> None:
    """``_fit_arrays`` of a block of rows, written ``into`` its arrays."""
    sums = y.sum(axis=1), x.sum(axis=1)
    full = np.isfinite(sums[0]) & np.isfinite(sums[1])  # no NaN or inf in the row
    if full.all():
        _fit_full(model, y, x, ret, mkt, sums, into)
        return
    parts = [(~full, _fit_masked(model, y[~full], x[~full], ret[~full], mkt[~full]))]
    if full.any():
        parts.append((full, _fit_full(model, y[full], x[full], ret[full], mkt[full],
                                      (sums[0][full], sums[1][full]))))
    for rows, fitted in parts:
        for key, value in fitted.items():
            into[key][rows] = value


def _fit_full(model: str, y: Floats, x: Floats, ret: Floats, mkt: Floats,
              sums: tuple[Floats, Floats], into: dict[str, Floats] | None = None
              ) -> dict[str, Floats]:
    """``_fit_masked`` for rows without a missing estimation day (every mask True): the same
    formulas without the masks. ``sums``: the row sums of ``y`` and ``x``; ``into``: the
    arrays to fill (``_empty_fit``; new ones by default), returned."""
    out = into if into is not None else _empty_fit(y, x, ret, mkt)
    n = out["n_est"]
    n[:] = y.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            mx, my = sums[1] / n, sums[0] / n
            dx = x - mx[:, None]
            sxx = np.einsum("ij,ij->i", dx, dx)
            flat = sxx <= DEGENERATE_RELATIVE_VARIANCE * np.einsum("ij,ij->i", x, x)
            sxx = np.where(flat, np.nan, sxx)
            beta = np.einsum("ij,ij->i", dx, y) / sxx
            alpha = my - beta * mx
            np.divide(np.subtract(mkt, mx[:, None], out=out["d"]), np.sqrt(sxx)[:, None],
                      out=out["d"])
            out["h0"][:], k = 1.0 / n, 2
            fitted = np.multiply(beta[:, None], x, out=dx)  # dx is not needed any more
        else:
            if model == "constant_mean":
                alpha, beta, out["h0"][:], k = sums[0] / n, np.zeros(len(n)), 1.0 / n, 1
            else:
                alpha, beta, out["h0"][:], k = np.zeros(len(n)), np.ones(len(n)), 0.0, 0
            out["d"][:] = 0.0
            fitted = beta[:, None] * x
        out["alpha"][:], out["beta"][:] = alpha, beta
        est_ar = np.subtract(y, alpha[:, None], out=out["est_ar"])
        est_ar -= fitted  # y - alpha - beta x, evaluated left to right as in _fit_masked
        np.subtract(ret, alpha[:, None], out=out["ar"])
        out["ar"] -= beta[:, None] * mkt
        if model == "market_adjusted":
            est_dev, k = est_ar - (est_ar.sum(axis=1) / n)[:, None], 1
        else:
            est_dev = est_ar
        ssr = np.einsum("ij,ij->i", est_dev, est_dev)
        np.subtract(n, k, out=out["dof"])
        np.divide(ssr, out["dof"], out=out["sigma2"])
    return out


def _fit_masked(model: str, y: Floats, x: Floats, ret: Floats, mkt: Floats
                ) -> dict[str, Floats]:
    """Fit ``model`` on each row's estimation days with both returns (NaN elsewhere)."""
    valid = np.isfinite(y) & np.isfinite(x)
    n = valid.sum(axis=1).astype(float)
    zeros_n, zeros_nw = np.zeros(len(n)), np.zeros(ret.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            x0, y0 = np.where(valid, x, 0.0), np.where(valid, y, 0.0)
            mx, my = x0.sum(axis=1) / n, y0.sum(axis=1) / n
            dx = np.where(valid, x0 - mx[:, None], 0.0)
            sxx = np.einsum("ij,ij->i", dx, dx)
            # A market return that is constant up to rounding (e.g. +0.1% every day) leaves
            # sxx ~ 1e-30, not 0: X'X is singular relative to its scale, beta would be ~1e13.
            flat = sxx <= DEGENERATE_RELATIVE_VARIANCE * np.einsum("ij,ij->i", x0, x0)
            sxx = np.where(flat, np.nan, sxx)
            beta = np.einsum("ij,ij->i", dx, y0) / sxx  # sum dx = 0: no need to centre y
            alpha = my - beta * mx
            h0, d, k = 1.0 / n, (mkt - mx[:, None]) / np.sqrt(sxx)[:, None], 2
        elif model == "constant_mean":
            alpha, beta = _masked_mean(y, valid, n), zeros_n
            h0, d, k = 1.0 / n, zeros_nw, 1
        else:  # market_adjusted
            alpha, beta, h0, d, k = zeros_n, np.ones(len(n)), zeros_n, zeros_nw, 0
        est_ar = np.where(valid, y - alpha[:, None] - beta[:, None] * x, np.nan)
        ar = ret - alpha[:, None] - beta[:, None] * mkt
        if model == "market_adjusted":
            # No parameter is estimated; s^2 is the sample variance of R - Rm (Brown-Warner 1985).
            center = _masked_mean(est_ar, valid, n)
            est_dev, k = est_ar - center[:, None], 1
        else:
            est_dev = est_ar
        dev0 = np.where(valid, est_dev, 0.0)
        ssr = np.einsum("ij,ij->i", dev0, dev0)
        dof = n - k
        sigma2 = ssr / dof
    return dict(alpha=alpha, beta=beta, sigma2=sigma2, dof=dof, n_est=n, h0=h0, d=d, ar=ar,
                est_ar=est_ar)


def _problem(model: str, n: float, sigma2: float, min_obs: int,
             beta: float = 1.0) -> str | None:
    if n < min_obs:
        return f"estimation window has {int(n)} sessions, the {MODEL_NAMES[model]} needs {min_obs}"
    if not np.isfinite(beta) and model != "factors":
        # sum (Rm - mean Rm)^2 ~ 0 relative to sum Rm^2: X'X singular (Dimson, SW: lagged Rm)
        return ("constant market returns in the estimation window: the market model cannot be "
                "estimated (use the constant mean model)")
    if not np.isfinite(beta):  # the factor model's regressors: X'X singular
        return (f"collinear regressors in the estimation window (a constant factor, or "
                f"factors that are combinations of each other): the {MODEL_NAMES[model]} "
                "cannot be estimated; drop a factor")
    if not np.isfinite(sigma2):  # squares of extreme returns overflow
        return ("extreme returns in the estimation window (the residual variance overflows): "
                "check the price data")
    if sigma2 <= 1e-14:
        return "constant returns in the estimation window: the model cannot be estimated"
    return None


def fit_model(panel: Panel, model: str = "market", *, min_estimation: int = MIN_ESTIMATION,
              fallback: str | None = "market_adjusted",
              min_fallback: int = MIN_FALLBACK_ESTIMATION,
              regressors: Regressors | None = None) -> AbnormalReturns:
    """Fit ``model`` to every event of ``panel``; an event whose estimation window is too short
    falls back to ``fallback`` (noted), and one that cannot be fitted at all gets a problem.
    ``regressors``: the fitter of a model with its own regressors (factors, Dimson, SW)."""
    regressors = regressors or _default_regressors(model)
    main: dict[str, Any] = (_fit_arrays(model, panel) if regressors is None
                            else regressors.fit(panel))
    dx = main.pop("dx", None)
    params: dict[str, Floats] = main.pop("params", {})
    n_rows = panel.n_events
    chosen = np.full(n_rows, model, dtype=object)
    problems: dict[int, str] = {}
    notes: dict[int, str] = {}
    use_fallback = np.zeros(n_rows, dtype=bool)
    fine = ((main["n_est"] >= min_estimation) & np.isfinite(main["sigma2"])
            & (main["sigma2"] > 1e-14))
    for i in np.flatnonzero(_constant_stock(panel)).tolist():  # any model: a data problem
        problems[i] = "constant returns in the estimation window: the model cannot be estimated"
        fine[i] = True  # said once, here
    for i in np.flatnonzero(~fine).tolist():
        reason = _problem(model, main["n_est"][i], main["sigma2"][i], min_estimation,
                          main["beta"][i])
        if reason is None:
            continue
        if fallback and fallback != model and "sessions" in reason:
            use_fallback[i] = True
            notes[i] = f"{reason}; fell back to {MODEL_NAMES[fallback]}"
        elif model == fallback and "sessions" in reason:
            if main["n_est"][i] >= min_fallback:
                notes[i] = (f"estimation window has {int(main['n_est'][i])} sessions (fewer "
                            f"than {min_estimation}): {MODEL_NAMES[model]} returns estimate no "
                            "parameter, the variance comes from these sessions")
            else:
                problems[i] = ("too short an estimation window: " + str(_problem(
                    model, main["n_est"][i], main["sigma2"][i], min_fallback)))
        else:
            problems[i] = reason
    if use_fallback.any():
        alt = _fit_arrays(str(fallback), panel)
        for key, value in main.items():
            main[key] = np.where(use_fallback.reshape((-1,) + (1,) * (value.ndim - 1)),
                                 alt[key], value)
        chosen[use_fallback] = fallback
        if dx is not None:
            dx = np.where(use_fallback[:, None, None], 0.0, dx)
        params = {k: np.where(use_fallback, np.nan, v) for k, v in params.items()}
        for row in np.flatnonzero(use_fallback).tolist():
            reason = _problem(str(fallback), main["n_est"][row], main["sigma2"][row], min_fallback)
            if reason is not None:
                problems[row] = f"too short an estimation window: {reason}"
    return AbnormalReturns(panel=panel, model=chosen, problems=problems, notes=notes, dx=dx,
                           params=params, **main)


def _constant_stock(panel: Panel) -> Bools:
    """Rows whose stock return does not vary over the estimation window (a price that never
    moves): market-adjusted returns would be -Rm, a model of nothing."""
    y = np.ascontiguousarray(panel.est_ret)
    constant = np.zeros(len(y), dtype=bool)
    for start in range(0, len(y), FIT_ROWS):
        rows = slice(start, start + FIT_ROWS)
        constant[rows] = _constant_rows(y[rows])
    return constant


def _constant_rows(y: Floats) -> Bools:
    """``_constant_stock`` of a block of estimation returns."""
    with np.errstate(invalid="ignore", divide="ignore"):
        total = y.sum(axis=1)
        if np.isfinite(total).all():  # no missing day: the same sums without the masks
            n = np.full(len(y), y.shape[1])
            dev = y - (total / n)[:, None]
            var = np.square(dev, out=dev).sum(axis=1) / (n - 1)
        else:
            ok = np.isfinite(y)
            n = ok.sum(axis=1)
            mean = np.where(ok, y, 0.0).sum(axis=1) / n
            var = np.where(ok, (y - mean[:, None]) ** 2, 0.0).sum(axis=1) / (n - 1)
    constant: Bools = (n >= 2) & (var <= 1e-14)
    return constant


def _default_regressors(model: str) -> Regressors | None:
    from eventstudy.engine import regressors as reg

    if model == "dimson":
        return reg.DimsonModel()
    if model == "scholes_williams":
        return reg.ScholesWilliamsModel()
    if model == "factors":
        raise BadInput("the factor model needs factor returns (--factors FILE)")
    return None


def parameter_table(ar: AbnormalReturns) -> pd.DataFrame:
    """One row per event: model, alpha, every slope, sigma, R^2 and n of the estimation fit.
    R^2 = 1 - SSR / SST over the estimation days (NaN for market-adjusted returns, which
    estimate nothing)."""
    r2 = np.empty(len(ar.est_ar))
    est_ret, est_ar = np.ascontiguousarray(ar.panel.est_ret), np.ascontiguousarray(ar.est_ar)
    for start in range(0, len(r2), FIT_ROWS):
        rows = slice(start, start + FIT_ROWS)
        r2[rows] = _r2_rows(est_ret[rows], est_ar[rows])
    r2 = np.where(ar.model == "market_adjusted", np.nan, r2)
    slopes = {k: v for k, v in ar.params.items() if k != "alpha"} or {"beta": ar.beta}
    return pd.DataFrame({"event_id": event_ids(ar.panel.events.index),
                         "model": [MODEL_NAMES[m] for m in ar.model], "alpha": ar.alpha,
                         **slopes, "sigma": np.sqrt(ar.sigma2), "r2": r2,
                         "n": ar.n_est.astype(int), "dof": ar.dof})


def _r2_rows(est_ret: Floats, est_ar: Floats) -> Floats:
    """1 - SSR / SST of a block of rows over their fitted days (finite residuals); the rows
    without a missing day all at once without the masks (the same sums)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if np.isfinite(est_ar.sum(axis=1)).all():
            dev = est_ret - (est_ret.sum(axis=1) / est_ret.shape[1])[:, None]
            sst = np.square(dev, out=dev).sum(axis=1)
            ssr = np.square(est_ar).sum(axis=1)
        else:
            valid = np.isfinite(est_ar)  # the fitted days (numpy's nanmean/nansum written out)
            y = np.where(valid, est_ret, 0.0)
            ybar = y.sum(axis=1) / valid.sum(axis=1)
            sst = np.where(valid, (y - ybar[:, None]) ** 2, 0.0).sum(axis=1)
            ssr = np.where(valid, est_ar**2, 0.0).sum(axis=1)
        r2: Floats = 1.0 - ssr / sst
    return r2


def event_ids(index: pd.Index, rows: Ints | None = None) -> Any:
    """The event ids of ``index`` (at positions ``rows``, e.g. repeated per day or window), as
    a table's column: an Arrow-backed string index is taken as such (no Python string per
    row), any other as the numpy array of its values."""
    taken = index if rows is None else index.take(rows)
    if isinstance(taken.dtype, pd.StringDtype):
        return taken.array
    return taken.to_numpy()
