"""Matplotlib figures of a study: price and volume around the event, ARs with the CAR and its band.

Every function returns a pyplot ``Figure`` the caller may restyle, show or save; nothing here
computes a statistic or chooses a matplotlib backend (only the CLI picks Agg)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eventstudy.engine.models import AbnormalReturns

Z95 = 1.959963984540054


def price_volume_figure(ar: AbnormalReturns, row: int, title: str = "") -> Figure:
    """Close and volume over the event window, day 0 (the expiry session) marked."""
    panel = ar.panel
    dates = pd.to_datetime(panel.dates[row])
    ok = ~pd.isna(dates)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.3]})
    close = panel.close[row] if panel.close is not None else np.full(len(dates), np.nan)
    top.plot(dates[ok], close[ok], color="#1f4e79", marker="o", ms=3, lw=1.5)
    top.set_ylabel("close (adjusted)")
    bottom.bar(dates[ok], panel.vol[row][ok] / 1e6, color="#7f7f7f", width=0.8)
    bottom.set_ylabel("volume (m)")
    day0 = dates[panel.column(0)]
    for ax in (top, bottom):
        ax.axvline(day0, color="#c00000", ls="--", lw=1.2)
        ax.grid(alpha=0.3)
    top.annotate("day 0", (day0, np.nanmax(close)), color="#c00000", ha="left",
                 xytext=(4, -10), textcoords="offset points")
    top.set_title(title or "Price and volume around the event")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def cumulative_car(ar: AbnormalReturns, row: int) -> tuple[np.ndarray, np.ndarray]:
    """CAR from the first day of the event window to each day, and its standard error."""
    days = ar.panel.days
    cars, ses = [], []
    for day in days:
        car, var = ar.car((int(days[0]), int(day)))
        cars.append(car[row])
        ses.append(np.sqrt(var[row]))
    return np.array(cars), np.array(ses)


def _cumulative_axes(fig: Figure, ax: plt.Axes, days: np.ndarray, value: np.ndarray,
                     se: np.ndarray, *, label: str, band: str, title: str,
                     crit: float | np.ndarray = Z95) -> Figure:
    """A cumulative abnormal return in % over event days with its 95% band (value +/- crit x
    se), day 0 marked."""
    ax.plot(days, 100 * value, color="#1f4e79", lw=2, label=label)
    ax.fill_between(days, 100 * (value - crit * se), 100 * (value + crit * se), color="#1f4e79",
                    alpha=0.15, label=band)
    ax.axvline(0, color="#c00000", ls="--", lw=1)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("event day (sessions)")
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def ar_car_figure(ar: AbnormalReturns, row: int, title: str = "") -> Figure:
    """Daily AR bars, the CAR line from the window start and its 95% prediction band."""
    days = ar.panel.days
    car, se = cumulative_car(ar, row)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = np.where(ar.ar[row] < 0, "#c00000", "#2e7d32")
    ax.bar(days, 100 * ar.ar[row], color=colors, alpha=0.6, label="AR (daily)")
    return _cumulative_axes(fig, ax, days, car, se, label=f"CAR from day {days[0]}",
                            band="95% confidence band of CAR",
                            title=title or "Abnormal returns and CAR")


def caar_figure(days: np.ndarray, caar: np.ndarray, se: np.ndarray, title: str = "", *,
                crit: float | np.ndarray = Z95) -> Figure:
    """Cross-event CAAR with its 95% confidence band CAAR +/- crit x se (``crit`` per day: the
    Student t quantile of the day's firm-days)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    return _cumulative_axes(fig, ax, days, caar, se, label="CAAR", band="95% confidence band",
                            title=title or "Cumulative average abnormal return", crit=crit)
