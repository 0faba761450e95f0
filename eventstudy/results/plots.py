"""The plots of a study result as matplotlib Figures (``result.plot_car()``,
``plot_price_volume()``, ``plot_caar()``, ``plot_volatility()``): this module picks the data,
``eventstudy.plotting`` draws.
Nothing here chooses a matplotlib backend; figures are pyplot figures a user can restyle, show
or save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from eventstudy.errors import BadInput

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.results.result import EventStudyResult


def event_row(result: EventStudyResult, event: str | int | None) -> tuple[int, str]:
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


def _label(result: EventStudyResult, event_id: str) -> str:
    """'TICKER DAY0 (tranches of that firm-day)'."""
    from eventstudy.results.summary import label_of

    ev = result.events.set_index("event_id")
    row = ev.loc[event_id]
    same = ev.index[(ev["ticker"] == row["ticker"]) & (ev["day0"] == row["day0"])]
    return label_of(result, [str(i) for i in same])


def plot_car(result: EventStudyResult, event: str | int | None = None) -> Figure:
    """Daily ARs, the CAR from the window start and its 95% band, for one event."""
    from eventstudy.plotting.events import ar_car_figure

    row, event_id = event_row(result, event)
    view = result.ar.window_view(result.options.window)
    return ar_car_figure(view, row, f"{_label(result, event_id)}: AR and CAR")


def plot_price_volume(result: EventStudyResult, event: str | int | None = None) -> Figure:
    """Close and volume over the event window of one event, day 0 marked."""
    from eventstudy.plotting.events import price_volume_figure

    row, event_id = event_row(result, event)
    view = result.ar.window_view(result.options.window)
    return price_volume_figure(view, row, f"{_label(result, event_id)}: price and volume")


def plot_caar(result: EventStudyResult) -> Figure:
    """The CAAR over the event window with its cross-sectional 95% band.

    CAAR on day t = mean over firm-days i of CAR_i[start, t] (Brown & Warner 1985; MacKinlay
    1997, sec. 4.4), tranches of one firm expiring on the same session counted once. For one
    firm with several events (SenseTime's lock-ups on two days) it is the mean CAR over that
    firm's events. The band is CAAR +/- t(0.975, n - 1) x sd / sqrt(n) of the CAR_i across the n
    firm-days: Student t, so with two firm-days the band is wide; with one firm-day there is no
    band and the line is that event's CAR."""
    from scipy import stats

    from eventstudy.engine.crosssection import aar_table
    from eventstudy.plotting.events import caar_figure

    caar = result.caar
    if caar.empty:
        if not result.event_ids():
            raise BadInput("no CAAR: the result has no studied event")
        caar = aar_table(result.ar, result.options.window)
    n_day = caar["caar_n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        se = (caar["caar"] / caar["caar_t"]).abs().to_numpy()
        crit = np.where(n_day > 1, stats.t.ppf(0.975, np.maximum(n_day - 1, 1)), np.nan)
    n = int(caar["caar_n"].max())
    band = "" if n > 1 else "; no band with one firm-day"
    return caar_figure(caar["day"].to_numpy(), caar["caar"].to_numpy(), se,
                       f"CAAR across {n} firm-day{'s' if n != 1 else ''} "
                       f"(cross-sectional 95% band, Student t{band})",
                       crit=crit)


def volatility_of(result: EventStudyResult, event: str | int | None) -> tuple[str, Any]:
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


def plot_volatility(result: EventStudyResult, event: str | int | None = None) -> Figure:
    """Conditional volatility around the event over the abnormal returns (GARCH)."""
    from eventstudy.plotting.volatility import plot_conditional_volatility

    return plot_conditional_volatility(volatility_of(result, event)[1])
