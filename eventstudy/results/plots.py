"""The plots of a study result: ``plot_car``, ``plot_price_volume``, ``plot_caar``,
``plot_volatility`` (also the result's ``plot_*`` methods), ``plot_volatility_diagnostics`` and
``plot_calendar_time``. This module picks the result's data, ``eventstudy.plotting`` draws.

Each takes ``ax=`` (one-panel plots) or ``axes=`` (multi-panel plots) to draw into the user's
own grid, and returns the Figure (see ``eventstudy.plotting.axes``); no backend is chosen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput
from eventstudy.results.data import StudyData
from eventstudy.results.summary import label_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def event_row(result: StudyData, event: str | int | None) -> tuple[int, str]:
    """(row in the engine's arrays, event id) of ``event``: an event id, a position, or None for
    the first event."""
    ids = result.event_ids()
    if not ids:
        raise BadInput("the result has no studied event to plot")
    if event is None:
        return 0, str(ids[0])
    if isinstance(event, int | np.integer) and not isinstance(event, bool):
        if not -len(ids) <= int(event) < len(ids):
            raise BadInput(f"event {event} out of range: the result has {len(ids)} events")
        row = int(event) % len(ids)
        return row, str(ids[row])
    if event not in ids:
        raise BadInput(f"no event {event!r} in the result (events: {', '.join(map(str, ids))})")
    return ids.index(event), str(event)


def _label(result: StudyData, event_id: str) -> str:
    """'TICKER DAY0 (tranches of that firm-day)'."""
    ev = result.events.set_index("event_id")
    row = ev.loc[event_id]
    same = ev.index[(ev["ticker"] == row["ticker"]) & (ev["day0"] == row["day0"])]
    return label_of(result, [str(i) for i in same])


def car_path(result: StudyData, event: str | int | None = None) -> pd.DataFrame:
    """One event's event-window days with its daily AR, the CAR from the window's first day to
    each day, that CAR's standard error (``AbnormalReturns.car``) and the critical value of its
    95% band, t(0.975, dof) of the estimation fit: the Student t of the CAR table's p-value."""
    from scipy import stats

    row, _ = event_row(result, event)
    view = result.ar.window_view(result.options.window)
    days = view.panel.days
    cars, ses = [], []
    for day in days:
        car, var = view.car((int(days[0]), int(day)))
        cars.append(car[row])
        ses.append(np.sqrt(var[row]))
    crit = float(stats.t.ppf(0.975, view.dof[row]))
    return pd.DataFrame({"day": days, "ar": view.ar[row], "car": cars, "se": ses,
                         "crit": crit})


def plot_car(result: StudyData, event: str | int | None = None, *,
             ax: Axes | None = None, title: str = "") -> Figure:
    """Daily ARs, the CAR from the window start and its 95% band CAR +/- t(0.975, dof) x se
    (the Student t of the per-event CAR test), for one event."""
    from eventstudy.plotting.events import plot_ar_car

    _, event_id = event_row(result, event)
    path = car_path(result, event)
    return plot_ar_car(path["day"].to_numpy(), path["ar"].to_numpy(), path["car"].to_numpy(),
                       path["se"].to_numpy(), crit=float(path["crit"].iloc[0]), ax=ax,
                       title=title or f"{_label(result, event_id)}: AR and CAR")


def plot_price_volume(result: StudyData, event: str | int | None = None, *,
                      axes: Sequence[Axes] | None = None, title: str = "") -> Figure:
    """Close and volume over the event window of one event, day 0 marked (two panels)."""
    from eventstudy.plotting.events import plot_price_volume as draw

    row, event_id = event_row(result, event)
    panel = result.ar.window_view(result.options.window).panel
    close = panel.close[row] if panel.close is not None else np.full(len(panel.days), np.nan)
    return draw(panel.dates[row], close, panel.vol[row], panel.dates[row][panel.column(0)],
                axes=axes, title=title or f"{_label(result, event_id)}: price and volume")


def caar_band(result: StudyData) -> pd.DataFrame:
    """Per event day: the CAAR, its standard error and the Student t critical value of its 95%
    band (NaN with one firm-day), and the number of firm-days n (see :func:`plot_caar`)."""
    from scipy import stats

    from eventstudy.engine.crosssection import aar_table

    caar = result.caar
    if caar.empty:
        if not result.event_ids():
            raise BadInput("no CAAR: the result has no studied event")
        caar = aar_table(result.ar, result.options.window)
    n_day = caar["caar_n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        se = (caar["caar"] / caar["caar_t"]).abs().to_numpy()
        crit = np.where(n_day > 1, stats.t.ppf(0.975, np.maximum(n_day - 1, 1)), np.nan)
    return pd.DataFrame({"day": caar["day"].to_numpy(), "caar": caar["caar"].to_numpy(),
                         "se": se, "crit": crit, "n": n_day})


def plot_caar(result: StudyData, *, ax: Axes | None = None, title: str = "") -> Figure:
    """The CAAR over the event window with its cross-sectional 95% band.

    CAAR on day t = mean over firm-days i of CAR_i[start, t] (Brown & Warner 1985; MacKinlay
    1997, sec. 4.4), tranches of one firm expiring on the same session counted once. For one
    firm with several events (SenseTime's lock-ups on two days) it is the mean CAR over that
    firm's events. The band is CAAR +/- t(0.975, n - 1) x sd / sqrt(n) of the CAR_i across the n
    firm-days: Student t, so with two firm-days the band is wide; with one firm-day there is no
    band and the line is that event's CAR."""
    from eventstudy.plotting.events import plot_caar as draw

    band = caar_band(result)
    n = int(band["n"].max())
    note = "" if n > 1 else "; no band with one firm-day"
    return draw(band["day"].to_numpy(), band["caar"].to_numpy(), band["se"].to_numpy(),
                crit=band["crit"].to_numpy(), ax=ax,
                title=title or f"CAAR across {n} firm-day{'s' if n != 1 else ''} "
                f"(cross-sectional 95% band, Student t{note})")


def volatility_of(result: StudyData, event: str | int | None) -> tuple[str, Any]:
    """The GARCH study of ``event``'s firm-day: (key, EventVolatility)."""
    vols = result.extras.get("volatility") or {}
    if not vols:
        raise BadInput("no GARCH volatility in this result: run the study with volatility=True")
    _, event_id = event_row(result, event)
    if event_id in vols:
        return event_id, vols[event_id]
    events = result.events.set_index("event_id")
    row = events.loc[event_id]
    for key, vol in vols.items():
        other = events.loc[key]
        if other["ticker"] == row["ticker"] and other["day0"] == row["day0"]:
            return key, vol
    raise BadInput(f"no GARCH volatility for {event_id} (see the notes)")


def plot_volatility(result: StudyData, event: str | int | None = None, *,
                    axes: Sequence[Axes] | None = None) -> Figure:
    """Conditional volatility of the model in use (GARCH, or EWMA after the fallback) around the
    event, over the abnormal returns (two panels)."""
    from eventstudy.plotting.volatility import plot_conditional_volatility

    return plot_conditional_volatility(volatility_of(result, event)[1], axes=axes)


def plot_volatility_diagnostics(result: StudyData, event: str | int | None = None, *,
                                axes: Sequence[Axes] | None = None) -> Figure:
    """The volatility model's standardised residuals: histogram, QQ plot, ACF of squares."""
    from eventstudy.plotting.volatility import plot_std_resid_diagnostics

    return plot_std_resid_diagnostics(volatility_of(result, event)[1], axes=axes)


def plot_calendar_time(result: StudyData, *,
                       axes: Sequence[Axes] | None = None) -> Figure:
    """The calendar-time portfolio's cumulative excess return and firms held (two panels)."""
    from eventstudy.plotting.events import plot_calendar_time as draw

    design = result.designs.get("calendar_time")
    if design is None:
        raise BadInput("no calendar-time portfolio in this result: run the study with "
                       "calendar_time=(0, K)")
    return draw(design.portfolio, design.alpha, axes=axes)
