"""Clean estimation windows: other event windows of the same firm are left out of each event's
estimation window, and the placeholder rows dropped around each event are counted.

An estimation window measures normal returns; a window that contains another event of the same
firm (the 6-month lock-up crash inside the 12-month tranche's window) measures that event
instead. MacKinlay (1997, "Event studies in economics and finance", Journal of Economic
Literature 35, 13-39, sec. 4) keeps the event out of the estimation window so that it does not
influence the normal-return parameters; the same holds for every other event of the firm. Rule:
the estimation window keeps its fixed position and the sessions inside the other events' event
windows are removed from it (not replaced by sessions further back). The model is then fitted on
the sessions kept, so the residual degrees of freedom and the prediction-error variance
(X'X of the kept rows, Campbell, Lo & MacKinlay 1997, sec. 4.4) are those of the rows used."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event
from eventstudy.engine.panel import Panel, Series
from eventstudy.engine.placeholders import placeholders_within


def event_cover(dates: np.ndarray, sessions: Sequence[pd.Timestamp],
                window: tuple[int, int]) -> np.ndarray:
    """Boolean over ``dates``: True inside the event window of any of ``sessions``.

    A session missing from the data (a placeholder row, a suspension) counts from the next
    session present, where its day 0 lies."""
    days = np.array([np.datetime64(s, "ns") for s in sessions], dtype="datetime64[ns]")
    pos = np.searchsorted(dates, days)
    pos = pos[pos < len(dates)]
    edges = np.zeros(len(dates) + 1, dtype=np.int64)
    np.add.at(edges, np.clip(pos + window[0], 0, len(dates)), 1)
    np.add.at(edges, np.clip(pos + window[1] + 1, 0, len(dates)), -1)
    return np.cumsum(edges[:-1]) > 0


def clean_estimation(panel: Panel, events: Sequence[Event], load: Callable[[str], Series],
                     window: tuple[int, int], keep_other_events: bool = False) -> Panel:
    """``panel`` with each event's estimation block cleaned of the event windows (``window``)
    of the other ``events`` of its ticker, unless ``keep_other_events``.

    Adds to ``panel.events``: ``estimation_excluded`` (sessions left out), ``estimation_days``
    (sessions kept) and ``placeholders_dropped`` (placeholder rows dropped within the
    estimation and event windows)."""
    frame = panel.events.copy()
    # the stock's returns and volumes are left out; market returns stay (Dimson / Scholes-Williams
    # lags and leads of the sessions next to a left-out run are still valid regressors)
    est = {name: getattr(panel, name).copy() for name in ("est_ret", "est_vol")}
    sessions: dict[str, list[pd.Timestamp]] = {}
    for event in events:
        sessions.setdefault(event.ticker, []).append(event.session)
    covers: dict[str, np.ndarray] = {}
    excluded = np.zeros(len(frame), dtype=np.int64)
    dropped = np.zeros(len(frame), dtype=np.int64)
    length = panel.est_ret.shape[1]
    alone = {t for t, days in sessions.items() if len(set(days)) < 2}  # no other event day
    for i, row in enumerate(frame.itertuples()):
        series = load(str(row.ticker))
        if not len(series.placeholders) and (keep_other_events or row.ticker in alone):
            continue  # nothing to count or leave out (its own windows never overlap)
        dates = series.dates
        start, end, day0 = np.searchsorted(dates, np.array(
            [row.estimation_start, row.estimation_end, row.day0], dtype="datetime64[ns]"))
        last = min(int(day0) + window[1], len(dates) - 1)
        dropped[i] = placeholders_within(dates, series.placeholders,
                                         [(int(start), int(end)), (int(day0) + window[0], last)])
        if keep_other_events:
            continue
        if row.ticker not in covers:
            covers[str(row.ticker)] = event_cover(dates, sessions.get(str(row.ticker), []),
                                                  window)
        out = covers[str(row.ticker)][start:end + 1]
        if out.any():
            cols = length - len(out) + np.flatnonzero(out)
            for block in est.values():
                block[i, cols] = np.nan
            excluded[i] = int(out.sum())
    frame["estimation_days"] = frame["estimation_days"].to_numpy() - excluded
    frame["estimation_excluded"] = excluded
    frame["placeholders_dropped"] = dropped
    return replace(panel, events=frame, **est)
