"""Matplotlib plots of an :class:`~eventstudy.volatility.event.EventVolatility` result: the
conditional volatility around the event over the ARs, and the standardised residuals'
diagnostics (histogram, QQ plot, ACF of squares).

Every plot is named and titled by the model actually used: the chosen GARCH-family fit, or EWMA
(RiskMetrics) after the fallback (:func:`model_name`, :func:`model_stem`). One-panel plots take
``ax=``, the two- and three-panel ones ``axes=``; each returns its Figure (see
``eventstudy.plotting.axes``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from scipy import stats
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.stattools import acf

from eventstudy.plotting.axes import bar_collection, figure_of, one_axes, panel_axes

if TYPE_CHECKING:
    from eventstudy.volatility.event import EventVolatility


__all__ = [
    "model_name",
    "model_stem",
    "plot_acf_squared",
    "plot_conditional_volatility",
    "plot_qq",
    "plot_residual_band",
    "plot_sigma",
    "plot_std_resid_diagnostics",
    "plot_std_resid_histogram",
    "standardised_residuals",
]

_STEMS = {"GARCH": "garch", "GJR": "gjr_garch", "EGARCH": "egarch"}


def model_name(result: EventVolatility) -> str:
    """Short name of the variance model in use: 'GARCH', 'GJR-GARCH', 'EGARCH' or 'EWMA'."""
    return model_stem(result).replace("_", "-").upper()


def model_stem(result: EventVolatility) -> str:
    """File-name part of the model in use: garch, gjr_garch, egarch, or ewma (the fallback)."""
    fit = result.fit
    return _STEMS[fit.spec.vol] if fit is not None else "ewma"


def _title(result: EventVolatility) -> str:
    """'0020.HK, day 0 = 2022-06-30'."""
    day0 = result.event_date.date() if result.event_date is not None else result.event_position
    return f"{result.label or 'series'}, day 0 = {day0}"


def _x(result: EventVolatility) -> pd.Index:
    """Dates when the returns had them, else event days."""
    path = result.path
    return path.index if isinstance(path.index, pd.DatetimeIndex) else pd.Index(path["day"])


def _mark_event(ax: Axes, result: EventVolatility) -> None:
    """Day 0 as a dotted line, the event window shaded."""
    x, days = _x(result), result.path["day"].to_numpy()
    lo, hi = result.event_window
    inside = x[(days >= lo) & (days <= hi)]
    ax.axvspan(inside[0], inside[-1], color="0.9", zorder=0)
    ax.axvline(x[days == 0][0], color="k", linestyle=":", linewidth=1.2, label="day 0")


def _x_axis(ax: Axes, result: EventVolatility) -> None:
    if isinstance(result.path.index, pd.DatetimeIndex):
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.set_xlabel("event day")


def plot_sigma(result: EventVolatility, *, ax: Axes | None = None) -> Figure:
    """Conditional sigma of the model in use (GARCH fit, or EWMA after the fallback) and the
    ex-ante forecast from the estimation end; day 0 marked, event window shaded."""
    ax = one_axes(ax, 10, 3.6)
    path, x = result.path, _x(result)
    if result.fit is None:
        ax.plot(x, path["sigma_ewma"], color="C3", label=f"{result.model}: GARCH fallback")
    else:
        ax.plot(x, path["sigma"], color="C0", label=f"conditional sigma, {result.model}")
    ax.plot(x, path["sigma_ex_ante"], color="C1", linestyle="--",
            label="ex-ante forecast from the estimation end")
    _mark_event(ax, result)
    _x_axis(ax, result)
    ax.set_ylabel("sigma, % per day")
    ax.set_title(f"Conditional volatility ({model_name(result)}): {_title(result)}")
    ax.legend(fontsize=8, loc="upper left")
    return figure_of(ax)


def plot_residual_band(result: EventVolatility, *, ax: Axes | None = None) -> Figure:
    """Abnormal returns (bars) with the +-1.96 conditional sigma band of the model in use."""
    ax = one_axes(ax, 10, 2.4)
    path, x = result.path, _x(result)
    ax.fill_between(x, -1.96 * path["sigma"], 1.96 * path["sigma"], color="C0", alpha=0.2,
                    label=f"+-1.96 sigma ({model_name(result)})")
    _mark_event(ax, result)
    # one bar per session, under the band and over the event window's shade (zorder 0.9)
    bar_collection(ax, x, path["resid"], width=1.0, zorder=0.9, facecolors="0.45",
                   label="abnormal return")
    _x_axis(ax, result)
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="lower left")
    return figure_of(ax)


def plot_conditional_volatility(result: EventVolatility, *,
                                axes: Sequence[Axes] | None = None) -> Figure:
    """Two panels (``axes=`` two Axes): :func:`plot_sigma` over :func:`plot_residual_band`;
    after the EWMA fallback its reason is written under them."""
    top, bottom = panel_axes(axes, (2, 1), 10, 6, sharex=True, height_ratios=[3, 2])
    plot_sigma(result, ax=top)
    plot_residual_band(result, ax=bottom)
    if result.fallback_reason:
        note = textwrap.fill(f"Fallback: {result.fallback_reason}", 110)
        bottom.set_xlabel(f"{bottom.get_xlabel()}\n{note}".strip(), fontsize=7)
    return figure_of(top)


def standardised_residuals(result: EventVolatility) -> np.ndarray:
    """z = resid / sigma over the estimation sample (missing values dropped)."""
    path = result.path
    return path.loc[path["estimation"], "z"].dropna().to_numpy(dtype=float)


def plot_std_resid_histogram(z: np.ndarray, *, ax: Axes | None = None) -> Figure:
    """Density histogram of standardised residuals ``z`` with the N(0,1) density."""
    ax = one_axes(ax, 4, 3.8)
    z = np.asarray(z, dtype=float)
    grid = np.linspace(min(-4.0, z.min()), max(4.0, z.max()), 200)
    ax.hist(z, bins="auto", density=True, color="0.7", edgecolor="white")
    ax.plot(grid, stats.norm.pdf(grid), color="C0", label="N(0,1)")
    ax.set_title("Standardised residuals")
    ax.legend(fontsize=8)
    return figure_of(ax)


def plot_qq(z: np.ndarray, *, ax: Axes | None = None) -> Figure:
    """Normal QQ plot of ``z``: sorted values against normal quantiles, with the 45-degree line."""
    ax = one_axes(ax, 4, 3.8)
    (theoretical, ordered), _ = stats.probplot(np.asarray(z, dtype=float), dist="norm")
    ax.scatter(theoretical, ordered, s=10, color="C0")
    edge = float(max(np.abs(theoretical).max(), np.abs(ordered).max()))
    ax.plot([-edge, edge], [-edge, edge], color="k", linewidth=0.8)
    ax.set_xlabel("normal quantiles")
    ax.set_ylabel("sample quantiles")
    ax.set_title("QQ plot vs normal")
    return figure_of(ax)


def plot_acf_squared(z: np.ndarray, *, ax: Axes | None = None) -> Figure:
    """Autocorrelations of z^2 up to min(20, n/4) lags with the +-1.96/sqrt(n) band; the title
    gives the Ljung & Box (1978) Q test's p at the last lag."""
    ax = one_axes(ax, 4, 3.8)
    z = np.asarray(z, dtype=float)
    lags = max(1, min(20, z.size // 4))
    values = acf(z**2, nlags=lags, fft=False)[1:]
    band = 1.96 / np.sqrt(z.size)
    ax.bar(np.arange(1, lags + 1), values, color="C0", width=0.6)
    ax.axhline(band, color="k", linestyle="--", linewidth=0.8)
    ax.axhline(-band, color="k", linestyle="--", linewidth=0.8)
    p_value = float(acorr_ljungbox(z**2, lags=[lags])["lb_pvalue"].iloc[0])
    ax.set_title(f"ACF of z^2 (Ljung-Box({lags}) p = {p_value:.3f})")
    ax.set_xlabel("lag")
    return figure_of(ax)


def plot_std_resid_diagnostics(result: EventVolatility, *,
                               axes: Sequence[Axes] | None = None) -> Figure:
    """Three panels (``axes=`` three Axes) of the in-sample standardised residuals of the model
    in use: histogram vs N(0,1), QQ plot, ACF of squares."""
    hist_ax, qq_ax, acf_ax = panel_axes(axes, (1, 3), 12, 3.8)
    z = standardised_residuals(result)
    plot_std_resid_histogram(z, ax=hist_ax)
    plot_qq(z, ax=qq_ax)
    plot_acf_squared(z, ax=acf_ax)
    fig = figure_of(hist_ax)
    if axes is None:
        fig.suptitle(f"{result.model} diagnostics, estimation sample: {_title(result)}")
    return fig
