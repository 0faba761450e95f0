"""Figures of an :class:`~eventstudy.volatility.event.EventVolatility` result.

Every function returns a pyplot :class:`matplotlib.figure.Figure` (shown in notebooks, restyled
or saved by the caller; no backend is chosen here); :func:`save_volatility_plots` writes them as
PNG and closes them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from scipy import stats
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.stattools import acf

if TYPE_CHECKING:
    from eventstudy.volatility.event import EventVolatility


__all__ = [
    "plot_conditional_volatility",
    "plot_std_resid_diagnostics",
    "save_volatility_plots",
]


def _figure(width: float, height: float) -> Figure:
    """A new pyplot figure with constrained layout."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), layout="constrained")


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


def _sigma_panel(ax: Axes, result: EventVolatility) -> None:
    """Filtered sigma, ex-ante forecast and (after a fallback) the EWMA line."""
    path, x = result.path, _x(result)
    if result.fallback_reason:
        ax.plot(x, path["sigma_ewma"], color="C3", label="EWMA (RiskMetrics, lambda 0.94): "
                "GARCH fallback")
    else:
        ax.plot(x, path["sigma"], color="C0", label=f"conditional sigma, {result.model}")
    ax.plot(x, path["sigma_ex_ante"], color="C1", linestyle="--",
            label="ex-ante forecast from the estimation end")
    _mark_event(ax, result)
    ax.set_ylabel("sigma, % per day")
    ax.set_title(f"Conditional volatility: {_title(result)}")
    ax.legend(fontsize=8, loc="upper left")


def _ar_panel(ax: Axes, result: EventVolatility) -> None:
    """Abnormal returns with the +-1.96 sigma band."""
    path, x = result.path, _x(result)
    ax.bar(x, path["resid"], color="0.45", width=1.0, label="abnormal return")
    ax.fill_between(x, -1.96 * path["sigma"], 1.96 * path["sigma"], color="C0", alpha=0.2,
                    label="+-1.96 sigma")
    _mark_event(ax, result)
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="lower left")


def plot_conditional_volatility(result: EventVolatility) -> Figure:
    """Conditional sigma around the event (day 0 marked, event window shaded) over the ARs."""
    fig = _figure(10, 6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _sigma_panel(top, result)
    _ar_panel(bottom, result)
    if isinstance(result.path.index, pd.DatetimeIndex):
        locator = AutoDateLocator()
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        bottom.set_xlabel("event day")
    if result.fallback_reason:
        fig.supxlabel(f"Fallback: {result.fallback_reason}", fontsize=7)
    return fig


def _histogram(ax: Axes, z: np.ndarray) -> None:
    grid = np.linspace(min(-4.0, z.min()), max(4.0, z.max()), 200)
    ax.hist(z, bins="auto", density=True, color="0.7", edgecolor="white")
    ax.plot(grid, stats.norm.pdf(grid), color="C0", label="N(0,1)")
    ax.set_title("Standardised residuals")
    ax.legend(fontsize=8)


def _qq(ax: Axes, z: np.ndarray) -> None:
    (theoretical, ordered), _ = stats.probplot(z, dist="norm")
    ax.scatter(theoretical, ordered, s=10, color="C0")
    edge = float(max(np.abs(theoretical).max(), np.abs(ordered).max()))
    ax.plot([-edge, edge], [-edge, edge], color="k", linewidth=0.8)
    ax.set_xlabel("normal quantiles")
    ax.set_ylabel("sample quantiles")
    ax.set_title("QQ plot vs normal")


def _acf_squared(ax: Axes, z: np.ndarray) -> None:
    lags = max(1, min(20, z.size // 4))
    values = acf(z**2, nlags=lags, fft=False)[1:]
    band = 1.96 / np.sqrt(z.size)
    ax.bar(np.arange(1, lags + 1), values, color="C0", width=0.6)
    ax.axhline(band, color="k", linestyle="--", linewidth=0.8)
    ax.axhline(-band, color="k", linestyle="--", linewidth=0.8)
    p_value = float(acorr_ljungbox(z**2, lags=[lags])["lb_pvalue"].iloc[0])
    ax.set_title(f"ACF of z^2 (Ljung-Box({lags}) p = {p_value:.3f})")
    ax.set_xlabel("lag")


def plot_std_resid_diagnostics(result: EventVolatility) -> Figure:
    """In-sample standardised residuals: histogram vs N(0,1), QQ plot, ACF of squares."""
    path = result.path
    z = path.loc[path["estimation"], "z"].dropna().to_numpy(dtype=float)
    fig = _figure(12, 3.8)
    hist_ax, qq_ax, acf_ax = fig.subplots(1, 3)
    _histogram(hist_ax, z)
    _qq(qq_ax, z)
    _acf_squared(acf_ax, z)
    fig.suptitle(f"{result.model} diagnostics, estimation sample: {_title(result)}")
    return fig


def _stem(result: EventVolatility) -> str:
    """File-name stem from the label and day 0."""
    day0 = result.event_date.date() if result.event_date is not None else result.event_position
    text = f"{result.label or 'series'}_{day0}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def save_volatility_plots(result: EventVolatility, folder: str | Path, dpi: int = 200
                          ) -> list[Path]:
    """Write the volatility and diagnostics figures as PNG into ``folder`` (and close them);
    return the paths."""
    import matplotlib.pyplot as plt

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = _stem(result)
    figures = {
        f"{stem}_garch_volatility.png": plot_conditional_volatility(result),
        f"{stem}_garch_diagnostics.png": plot_std_resid_diagnostics(result),
    }
    paths = []
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=dpi)
        plt.close(fig)
        paths.append(out / name)
    return paths
