"""Matplotlib plots of a study's events: price and volume around day 0, daily ARs with the CAR
and its band, the CAAR and its band, the calendar-time portfolio.

Plain data in (arrays of days or dates and values), a Figure out; each plot draws into the
user's ``ax=`` (or ``axes=`` for the two-panel ones) or into a new figure (see
``eventstudy.plotting.axes``). Nothing here computes a statistic or chooses a backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from eventstudy.plotting.axes import figure_of, one_axes, panel_axes

__all__ = ["Z95", "plot_ar_car", "plot_caar", "plot_calendar_time", "plot_price",
           "plot_price_volume", "plot_volume"]

Z95 = 1.959963984540054
DAY0 = "#c00000"


def _dates(ax: Axes) -> None:
    """Concise date ticks on the x axis (instead of rotating the whole figure's labels)."""
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def plot_price(dates: Sequence[object] | np.ndarray, close: np.ndarray, day0: Any, *,
               ax: Axes | None = None, title: str = "") -> Figure:
    """Closes by date (missing dates left out), day 0 (the event session) marked."""
    ax = one_axes(ax, 9, 4)
    when, ok = _valid(dates)
    close = np.asarray(close, dtype=float)
    ax.plot(when[ok], close[ok], color="#1f4e79", marker="o", ms=3, lw=1.5)
    ax.set_ylabel("close (adjusted)")
    day0 = _timestamp(day0)
    ax.axvline(day0, color=DAY0, ls="--", lw=1.2)
    if np.isfinite(close[ok]).any():
        ax.annotate("day 0", (day0, np.nanmax(close[ok])), color=DAY0,
                    ha="left", xytext=(4, -10), textcoords="offset points")
    ax.grid(alpha=0.3)
    ax.set_title(title or "Price around the event")
    _dates(ax)
    return figure_of(ax)


def plot_volume(dates: Sequence[object] | np.ndarray, volume: np.ndarray, day0: Any, *,
                ax: Axes | None = None, title: str = "") -> Figure:
    """Daily volume in millions of shares as bars, day 0 marked."""
    ax = one_axes(ax, 9, 2.5)
    when, ok = _valid(dates)
    ax.bar(when[ok], np.asarray(volume, dtype=float)[ok] / 1e6, color="#7f7f7f", width=0.8)
    ax.set_ylabel("volume (m)")
    ax.axvline(_timestamp(day0), color=DAY0, ls="--", lw=1.2)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    _dates(ax)
    return figure_of(ax)


def _timestamp(value: Any) -> Any:
    """``value`` (a date, string or numpy datetime) as a pandas Timestamp."""
    return pd.Timestamp(value)


def _valid(dates: Sequence[object] | np.ndarray) -> tuple[pd.DatetimeIndex, np.ndarray]:
    when = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)))
    return when, ~np.asarray(when.isna())


def plot_price_volume(dates: Sequence[object] | np.ndarray, close: np.ndarray,
                      volume: np.ndarray, day0: Any, *,
                      axes: Sequence[Axes] | None = None, title: str = "") -> Figure:
    """Two panels (``axes=`` two Axes, price above volume): :func:`plot_price` and
    :func:`plot_volume` over the same dates."""
    top, bottom = panel_axes(axes, (2, 1), 9, 5.5, sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    plot_price(dates, close, day0, ax=top, title=title or "Price and volume around the event")
    plot_volume(dates, volume, day0, ax=bottom)
    return figure_of(top)


def _cumulative(ax: Axes, days: np.ndarray, value: np.ndarray, se: np.ndarray, *, label: str,
                band: str, title: str, crit: float | np.ndarray) -> Figure:
    """A cumulative abnormal return in % over event days with its 95% band (value +/- crit x
    se), day 0 marked."""
    days, value, se = (np.asarray(a, dtype=float) for a in (days, value, se))
    ax.plot(days, 100 * value, color="#1f4e79", lw=2, label=label)
    ax.fill_between(days, 100 * (value - crit * se), 100 * (value + crit * se),
                    color="#1f4e79", alpha=0.15, label=band)
    ax.axvline(0, color=DAY0, ls="--", lw=1)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("event day (sessions)")
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return figure_of(ax)


def plot_ar_car(days: np.ndarray, ar: np.ndarray, car: np.ndarray, se: np.ndarray, *,
                ax: Axes | None = None, title: str = "",
                crit: float | np.ndarray = Z95) -> Figure:
    """Daily AR bars (in %), the CAR from the first day and its band CAR +/- crit x se."""
    ax = one_axes(ax, 9, 4.5)
    ar = np.asarray(ar, dtype=float)
    ax.bar(np.asarray(days), 100 * ar, color=np.where(ar < 0, DAY0, "#2e7d32"), alpha=0.6,
           label="AR (daily)")
    return _cumulative(ax, days, car, se, label=f"CAR from day {int(days[0])}",
                       band="95% confidence band of CAR", crit=crit,
                       title=title or "Abnormal returns and CAR")


def plot_caar(days: np.ndarray, caar: np.ndarray, se: np.ndarray, *, ax: Axes | None = None,
              title: str = "", crit: float | np.ndarray = Z95) -> Figure:
    """The CAAR (in %) with its 95% band CAAR +/- crit x se (``crit`` may vary by day, e.g. the
    Student t quantile of the day's firm-days)."""
    ax = one_axes(ax, 9, 4.5)
    return _cumulative(ax, days, caar, se, label="CAAR", band="95% confidence band", crit=crit,
                       title=title or "Cumulative average abnormal return")


def plot_calendar_time(portfolio: pd.DataFrame, alpha: float, *,
                       axes: Sequence[Axes] | None = None) -> Figure:
    """Two panels: the calendar-time portfolio's cumulative (summed) daily excess return, and
    the number of firms it holds each session (``portfolio``: date, excess_return, n_firms)."""
    top, bottom = panel_axes(axes, (2, 1), 9, 5, sharex=True)
    dates = pd.to_datetime(portfolio["date"])
    top.plot(dates, portfolio["excess_return"].cumsum(), lw=1.2)
    top.set_ylabel("cumulative excess return")
    top.set_title(f"Calendar-time portfolio, alpha {alpha:+.4%} per day")
    bottom.bar(dates, portfolio["n_firms"], width=2.0)
    bottom.set_ylabel("firms held")
    _dates(bottom)
    return figure_of(top)
