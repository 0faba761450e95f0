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
from eventstudy.engine.arrays import Bools, Dates, Ints, Strings
from eventstudy.engine.panel import Panel
from eventstudy.engine.placeholders import placeholders_within
from eventstudy.engine.series import Series


def event_cover(dates: Dates, sessions: Sequence[pd.Timestamp],
                window: tuple[int, int]) -> Bools:
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
                     window: tuple[int, int], keep_other_events: bool = False,
                     copy: bool = True) -> Panel:
    """``panel`` with each event's estimation block cleaned of the event windows (``window``)
    of the other ``events`` of its ticker, unless ``keep_other_events``.

    Adds to ``panel.events``: ``estimation_excluded`` (sessions left out), ``estimation_days``
    (sessions kept) and ``placeholders_dropped`` (placeholder rows dropped within the
    estimation and event windows). O(N L) numpy work; a Python step per event only for firms
    with several event days or with placeholder rows. ``copy=False``: the left-out cells are
    set to NaN in ``panel``'s own blocks (a panel nothing else holds), not in copies."""
    frame = panel.events.copy()
    n, length = len(frame), panel.est_ret.shape[1]
    tickers = frame["ticker"].to_numpy().astype(str)
    at = panel.positions if panel.positions is not None else _positions(panel, tickers, load)
    sessions: dict[str, list[pd.Timestamp]] = {}
    for event in events:
        sessions.setdefault(event.ticker, []).append(event.session)
    days = {t: len(set(v)) for t, v in sessions.items()}  # distinct event days per firm
    dropped = np.zeros(n, dtype=np.int64)
    out = np.zeros((n, length), dtype=bool)  # estimation columns left out
    series = {t: load(t) for t in dict.fromkeys(tickers.tolist())}
    busy = {t: bool(len(s.placeholders)) or (not keep_other_events and days.get(t, 0) > 1)
            for t, s in series.items()}  # the tickers that need a Python step
    for i in np.flatnonzero([busy[t] for t in tickers.tolist()]).tolist():
        ticker = str(tickers[i])
        day0, start, end, last = at[i].tolist()
        marks = series[ticker].placeholders
        if len(marks):
            dropped[i] = placeholders_within(series[ticker].dates, marks,
                                             [(start, end), (day0 + window[0],
                                                             min(day0 + window[1], last))])
        if not keep_other_events and days.get(ticker, 0) > 1:
            cover = event_cover(series[ticker].dates, sessions[ticker], window)
            out[i, length - (end - start + 1):] = cover[start:end + 1]
    if not keep_other_events:  # a firm's only event: its own window [day0 + w0, day0 + w1]
        one = np.array([days.get(t, 0) == 1 for t in tickers], dtype=bool)
        lo = np.maximum(at[:, 1], at[:, 0] + window[0])
        hi = np.minimum(at[:, 2], np.minimum(at[:, 0] + window[1], at[:, 3]))
        for i in np.flatnonzero(one & (hi >= lo)).tolist():
            cols = at[i, 2] - (length - 1) + np.arange(length)  # the Series position of each
            out[i] = (cols >= lo[i]) & (cols <= hi[i])
    excluded = out.sum(axis=1)
    frame["estimation_days"] = frame["estimation_days"].to_numpy() - excluded
    frame["estimation_excluded"] = excluded
    frame["placeholders_dropped"] = dropped
    if not copy:  # no dataclasses.replace: it would read (convert) every block
        if excluded.any():
            panel.est_ret[out] = np.nan
            panel.est_vol[out] = np.nan
        panel.events = frame
        return panel
    if not excluded.any():
        return replace(panel, events=frame)
    return replace(panel, events=frame, est_ret=np.where(out, np.nan, panel.est_ret),
                   est_vol=np.where(out, np.nan, panel.est_vol))  # the panel given unchanged


def _positions(panel: Panel, tickers: Strings, load: Callable[[str], Series]) -> Ints:
    """(N, 4) day 0, estimation start and end, last row: positions in each event's Series,
    for a panel built without them."""
    days = panel.events[["day0", "estimation_start", "estimation_end"]].to_numpy(
        "datetime64[ns]")
    at = np.empty((len(tickers), 4), dtype=np.int64)
    for i, ticker in enumerate(tickers.tolist()):
        dates = load(ticker).dates
        at[i, :3] = np.searchsorted(dates, days[i])
        at[i, 3] = len(dates) - 1
    return at
