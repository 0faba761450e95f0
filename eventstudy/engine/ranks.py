"""Cross-event significance tests on a fitted panel, vectorised over events.

Every test works on per-event ingredients computed once for an event window (``prepare``) and on
a selection of rows: a 1-D index array (one sample) or a 2-D ``(samples, n)`` array (many samples
at once, as the Brown-Warner simulation uses). Notation: ``AR_it`` abnormal returns,
``CAR_i`` their sum over the window of ``tau`` days, ``Var(CAR_i)`` the prediction-error variance of
``eventstudy.models``, ``SCAR_i = CAR_i / sqrt(Var(CAR_i))``, ``n`` the number of events tested,
``L_i`` the number of estimation-window returns of event i. All p-values are two-sided.

Several events of one firm: every per-event result is keyed by event id. Pooled tests count one
observation per firm-day (ticker, day 0) by default (``dedupe=True``): lock-up tranches that expire
on the same session are the same observation, and the number merged is reported.

Missing values: an event whose window lacks a day has no CAR/BHAR (it is left out of that test);
rank tests rank each event's available days only (Corrado & Zivney 1992) and average day t over
the events that have it (estimation days are matched by column of the estimation block, i.e. in
event time); estimation residuals are aligned on calendar dates for the cross-correlation of
Kolari & Pynnonen (2010), a date an event lacks contributing nothing (see ``kp_rbar``). Volume:
a zero volume is missing (see ``abnormal_log_volume``).

Clustering: ``kp`` uses the estimation-window cross-correlation of every pair, as KP (2010) do for
events on one date; ``kp_overlap`` weights each pair by the share of event-window days the two
events have in common, so events on unrelated dates are not treated as correlated (a Brown-Warner
run on random dates shows ``kp`` far too conservative there, ``kp_overlap`` at nominal size)."""

from __future__ import annotations

import numpy as np


def rank_rows(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the rows of a 2-D array; NaN stays NaN."""
    return _ranks(x)[0]


def _ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average ranks of x along rows, with the sorting flat indices and sorted values."""
    rows, width = x.shape
    flat = np.argsort(x, axis=1)
    flat += (np.arange(rows) * width)[:, None]
    xs = x.ravel()[flat]
    out = np.empty(x.size)
    out[flat] = _sorted_ranks(xs)
    ranks = out.reshape(x.shape)
    ranks[np.isnan(x)] = np.nan
    return ranks, flat, xs


def _sorted_ranks(xs: np.ndarray) -> np.ndarray:
    """Average ranks of rows already sorted ascending: 1..width, ties share their mean."""
    rows, width = xs.shape
    pos: np.ndarray = np.arange(1.0, width + 1.0)
    tie = xs[:, 1:] == xs[:, :-1]
    if not tie.any():
        return pos
    pos = np.tile(pos, (rows, 1))
    hit = np.flatnonzero(tie.any(axis=1))
    start = np.ones((len(hit), width), dtype=bool)
    start[:, 1:] = ~tie[hit]
    group = np.cumsum(start.ravel()) - 1
    mean = np.bincount(group, pos[hit].ravel()) / np.bincount(group)
    pos[hit] = mean[group].reshape(start.shape)
    return pos


def rank_u(x: np.ndarray, ranks: np.ndarray | None = None) -> np.ndarray:
    """Corrado & Zivney (1992) uniform ranks U_it = K_it / (M_i + 1) - 1/2, M_i = valid days."""
    m = np.isfinite(x).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_rows(x) if ranks is None else ranks) / (m + 1.0) - 0.5


def split_ranks(x: np.ndarray, flat: np.ndarray, xs: np.ndarray, first: int) -> np.ndarray:
    """Average ranks within the first ``first`` columns of x, reusing its row sort (``_ranks``)."""
    rows, width = x.shape
    col = flat % width
    head = col < first  # every row has exactly ``first`` such cells, in sorted order
    sub_col = col[head].reshape(rows, first)
    pos = np.broadcast_to(_sorted_ranks(xs[head].reshape(rows, first)), (rows, first))
    ranks = np.empty((rows, first))
    np.put_along_axis(ranks, sub_col, pos, axis=1)
    ranks[np.isnan(x[:, :first])] = np.nan
    return ranks
