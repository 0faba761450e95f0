"""Normal-return models with their own regressors, fitted on the whole panel at once.

* ``FactorModel``: R_it - rf_t = a_i + b_i' F_t + e_it on any factor columns of a user file
  (Fama & French 1993 three factors, Carhart 1997 four, Fama & French 2015 five, or the user's
  own), the risk-free rate subtracted when given.
* ``DimsonModel``: R_it = a_i + sum_{j=-lags..leads} b_ij Rm_{t+j} + e_it (Dimson 1979); the
  Dimson beta is sum_j b_ij. ARs are the out-of-sample residuals of this regression.
* ``ScholesWilliamsModel``: beta_SW = (b_-1 + b_0 + b_+1) / (1 + 2 rho_m), each b_j the slope
  of R_t on Rm_{t+j} alone, rho_m the first-order autocorrelation of Rm, and
  alpha_SW = mean(R) - beta_SW mean(Rm), all over the sessions where the lead and the lag exist
  (Scholes & Williams 1977, eq. 11-14). AR_t = R_t - alpha - beta_SW Rm_t; its variance uses
  the market-model form with s^2 from these residuals (n - 2 dof), an approximation since the
  SW estimator is not OLS.

For OLS models the prediction-error variance is exact for K regressors (Campbell, Lo & MacKinlay
1997, eq. 4.4.8): with z the regressors, S = sum (z - zbar)(z - zbar)' = C C' (Cholesky),
x_t'(X'X)^{-1}x_t = 1/n + |C^{-1}(z_t - zbar)|^2, so the standardised terms are
d_t = C^{-1}(z_t - zbar). Leads and lags come from the whole market series (``Panel.market_shift``:
the sessions just before and after each block), so every day of a block has them; a panel
without those margins takes them from neighbouring columns (its first ``lags`` and last
``leads`` days then have none). Returns are trade-to-trade (Maynes & Rumsey 1993): a stock's
return after a non-trading day spans the gap, matched by the market over the same dates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Bools, Dates, Floats
from eventstudy.engine.panel import Panel
from eventstudy.errors import BadInput


def _lookup(dates: Dates, table: pd.DataFrame) -> Floats:
    """Rows of ``table`` (date-indexed) at ``dates`` (any shape), NaN where absent."""
    index = pd.DatetimeIndex(table.index).normalize()
    pos = index.get_indexer(pd.DatetimeIndex(dates.reshape(-1)).normalize())
    values = np.vstack([table.to_numpy(float), np.full((1, table.shape[1]), np.nan)])
    return values[pos].reshape(*dates.shape, table.shape[1])  # pos -1 -> the NaN row


def _shift(block: Floats, k: int) -> Floats:
    """``block[:, t + k]`` at column t, NaN where it falls outside the block."""
    out = np.full_like(block, np.nan)
    if k > 0:
        out[:, :-k] = block[:, k:]
    elif k < 0:
        out[:, -k:] = block[:, :k]
    else:
        out[:] = block
    return out


def _market(panel: Panel, k: int, estimation: bool) -> Floats:
    """The market return k sessions after each cell of a block: from the whole series when the
    panel carries it (``Panel.market_shift``), else from the block's own columns."""
    wide = panel.market_shift(k, estimation)
    if wide is not None:
        return wide
    return _shift(panel.est_mkt if estimation else panel.mkt, k)


def ols_fit(y_est: Floats, z_est: Floats, y_evt: Floats, z_evt: Floats,
            names: list[str]) -> dict[str, Any]:
    """Per-row OLS of y on [1, z] (z: (N, L, K)) over the valid estimation days, and the
    event-block abnormal returns with the standardised terms of the prediction error."""
    valid = np.isfinite(y_est) & np.isfinite(z_est).all(axis=2)
    n = valid.sum(axis=1).astype(float)
    k = z_est.shape[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        zbar = np.where(valid[..., None], z_est, 0.0).sum(axis=1) / n[:, None]
        ybar = np.where(valid, y_est, 0.0).sum(axis=1) / n
        dz = np.where(valid[..., None], z_est - zbar[:, None, :], 0.0)
        dy = np.where(valid, y_est - ybar[:, None], 0.0)
        s = np.einsum("nlk,nlj->nkj", dz, dz)
        ok = (n > k + 1) & np.isfinite(s).all(axis=(1, 2))
        s[~ok] = np.eye(k)
        # Degenerate regressors: relative to the UNcentred sum of squares, as a constant
        # non-zero market return (+0.1% a day) leaves a centred s of rounding noise (~1e-30).
        z0 = np.where(valid[..., None], z_est, 0.0)
        scale = np.maximum(np.einsum("nlk,nlk->n", z0, z0), 1e-300)
        ok &= np.linalg.eigvalsh(s)[:, 0] > 1e-12 * scale
        s[~ok] = np.eye(k)
        chol = np.linalg.cholesky(s)
        beta = np.linalg.solve(s, np.einsum("nlk,nl->nk", dz, dy)[..., None])[..., 0]
        alpha = ybar - np.einsum("nk,nk->n", beta, zbar)
        beta[~ok], alpha[~ok] = np.nan, np.nan
        est_ar = np.where(valid, y_est - alpha[:, None] - np.einsum("nlk,nk->nl", z_est, beta),
                          np.nan)
        ar = y_evt - alpha[:, None] - np.einsum("nwk,nk->nw", z_evt, beta)
        dev = np.where(valid, est_ar, 0.0)
        dof = n - (k + 1)
        sigma2 = np.einsum("nl,nl->n", dev, dev) / dof
        centred = z_evt - zbar[:, None, :]
        terms = np.linalg.solve(chol[:, None], centred[..., None])[..., 0]  # C^-1 (z - zbar)
        h0 = 1.0 / n
    params = {"alpha": alpha, **{f"beta_{name}": beta[:, j] for j, name in enumerate(names)}}
    return dict(alpha=alpha, beta=beta[:, 0], sigma2=sigma2, dof=dof, n_est=n, h0=h0,
                d=terms[..., 0], dx=terms[..., 1:], ar=ar, est_ar=est_ar, params=params)


@dataclass
class FactorModel:
    """Factor model on a date-indexed frame of factor returns in decimals."""

    factors: pd.DataFrame
    columns: list[str]
    rf: str | None = None

    def __post_init__(self) -> None:
        missing = [c for c in [*self.columns, *([self.rf] if self.rf else [])]
                   if c not in self.factors.columns]
        if missing or not self.columns:
            raise BadInput(f"factor columns {missing or '(none)'} not in the factor file "
                           f"(has: {', '.join(map(str, self.factors.columns))})")
        if self.rf and self.rf in self.columns:
            raise BadInput(f"--rf-col {self.rf!r} is also a factor column: the risk-free rate "
                           "is subtracted from returns, not a regressor (drop it from "
                           "--factor-cols)")
        if len(set(self.columns)) < len(self.columns):
            raise BadInput(f"a factor column is named twice: {', '.join(self.columns)}")

    def fit(self, panel: Panel) -> dict[str, Any]:
        cols = [*self.columns, *([self.rf] if self.rf else [])]
        table = self.factors[cols]
        est, evt = _lookup(panel.est_dates, table), _lookup(panel.dates, table)
        k = len(self.columns)
        y_est, y_evt = panel.est_ret, panel.ret
        if self.rf:
            y_est, y_evt = y_est - est[..., k], y_evt - evt[..., k]
        return ols_fit(y_est, est[..., :k], y_evt, evt[..., :k], list(self.columns))


@dataclass
class DimsonModel:
    """Dimson (1979) regression on ``lags`` lagged and ``leads`` leading market returns."""

    lags: int = 1
    leads: int = 1

    def __post_init__(self) -> None:
        if not (0 <= self.lags <= 5 and 0 <= self.leads <= 5):
            raise BadInput("Dimson lags and leads must be between 0 and 5")

    @property
    def shifts(self) -> list[int]:
        return list(range(-self.lags, self.leads + 1))

    def fit(self, panel: Panel) -> dict[str, Any]:
        z_est = np.stack([_market(panel, k, True) for k in self.shifts], axis=2)
        z_evt = np.stack([_market(panel, k, False) for k in self.shifts], axis=2)
        names = [f"m{k:+d}" if k else "m" for k in self.shifts]
        out = ols_fit(panel.est_ret, z_est, panel.ret, z_evt, names)
        slopes = [out["params"][f"beta_{n}"] for n in names]
        out["params"]["beta_dimson"] = np.sum(slopes, axis=0)
        out["beta"] = out["params"]["beta_dimson"]
        return out


class ScholesWilliamsModel:
    """Scholes & Williams (1977) beta for non-synchronous trading."""

    def fit(self, panel: Panel) -> dict[str, Any]:
        y, m = panel.est_ret, panel.est_mkt
        lag, lead = _market(panel, -1, True), _market(panel, 1, True)
        valid = np.isfinite(y) & np.isfinite(m) & np.isfinite(lag) & np.isfinite(lead)
        n = valid.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            slopes = [_slope(y, x, valid, n) for x in (lag, m, lead)]
            rho = _autocorr(m, lag, valid, n)
            beta = (slopes[0] + slopes[1] + slopes[2]) / (1.0 + 2.0 * rho)

            def mean(x: Floats) -> Floats:
                means: Floats = np.where(valid, x, 0.0).sum(axis=1) / n
                return means

            alpha = mean(y) - beta * mean(m)
            est_ar = np.where(valid, y - alpha[:, None] - beta[:, None] * m, np.nan)
            dev = np.where(valid, est_ar, 0.0)
            sigma2 = np.einsum("nl,nl->n", dev, dev) / (n - 2)
            mbar = mean(m)
            sxx = np.where(valid, (m - mbar[:, None]) ** 2, 0.0).sum(axis=1)
            d = (panel.mkt - mbar[:, None]) / np.sqrt(sxx)[:, None]
            ar = panel.ret - alpha[:, None] - beta[:, None] * panel.mkt
            h0 = 1.0 / n
        return dict(alpha=alpha, beta=beta, sigma2=sigma2, dof=n - 2, n_est=n, h0=h0, d=d,
                    ar=ar, est_ar=est_ar, params={"alpha": alpha, "beta_sw": beta,
                                                  "rho_market": rho})


def _slope(y: Floats, x: Floats, valid: Bools, n: Floats) -> Floats:
    x0, y0 = np.where(valid, x, 0.0), np.where(valid, y, 0.0)
    dx = np.where(valid, x0 - (x0.sum(axis=1) / n)[:, None], 0.0)
    sxx = np.einsum("nl,nl->n", dx, dx)
    flat = sxx <= 1e-12 * np.einsum("nl,nl->n", x0, x0)  # a constant regressor, as in models.py
    slope: Floats = np.einsum("nl,nl->n", dx, y0) / np.where(flat, np.nan, sxx)
    return slope


def _autocorr(m: Floats, lag: Floats, valid: Bools, n: Floats) -> Floats:
    """First-order autocorrelation of the market over the valid days: corr(Rm_t, Rm_t-1)."""
    a = np.where(valid, m - (np.where(valid, m, 0).sum(axis=1) / n)[:, None], 0.0)
    b = np.where(valid, lag - (np.where(valid, lag, 0).sum(axis=1) / n)[:, None], 0.0)
    rho: Floats = np.einsum("nl,nl->n", a, b) / np.sqrt(np.einsum("nl,nl->n", a, a)
                                                        * np.einsum("nl,nl->n", b, b))
    return rho
