"""Average ranks along rows, vectorised, and the uniform ranks of the rank tests.

Corrado (1989) rank test; Corrado & Zivney (1992) U_it = K_it / (M_i + 1) - 1/2 with M_i the
event's valid days (missing days are not ranked). Ties share their average rank."""

from __future__ import annotations

import numpy as np

from eventstudy.engine.arrays import Floats, Ints

ROWS = 512  # rows ranked at a time: the sort's temporaries stay small and are reused


def rank_rows(x: Floats, out: np.ndarray | None = None) -> Floats:
    """Average ranks (1 = smallest) along the rows of a 2-D array; NaN stays NaN.
    O(N W log W), ``ROWS`` rows at a time (each row is ranked on its own); ``out`` may be ``x``
    itself (each block is ranked before it is overwritten), or float32 (ranks are halves: exact
    below 2^23 columns)."""
    out = np.empty(x.shape) if out is None else out
    for lo in range(0, len(x), ROWS):
        out[lo:lo + ROWS] = _ranks(x[lo:lo + ROWS])
    return out


def _ranks(x: Floats) -> Floats:
    """Average ranks of x along rows. NaN is sorted as +inf (numpy's argsort is several times
    slower on NaN) unless x holds a real +inf; either way NaN is never tied and ranks NaN."""
    rows, width = x.shape
    nan = np.isnan(x)
    keyed = np.where(nan, np.inf, x) if nan.any() and not (x == np.inf).any() else x
    flat = np.argsort(keyed, axis=1)
    flat += (np.arange(rows) * width)[:, None]
    out = np.empty(x.size)
    out[flat] = _sorted_ranks(keyed.ravel()[flat], keyed is not x)
    ranks = out.reshape(x.shape)
    ranks[nan] = np.nan
    return ranks


def _sorted_ranks(xs: Floats, inf_is_nan: bool = False) -> Floats:
    """Average ranks of rows already sorted ascending: 1..width, ties share their mean;
    ``inf_is_nan``: +inf stands for NaN (never tied)."""
    rows, width = xs.shape
    pos: Floats = np.arange(1.0, width + 1.0)
    tie = xs[:, 1:] == xs[:, :-1]
    if inf_is_nan:
        tie &= xs[:, 1:] != np.inf
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


def rank_u(x: Floats, ranks: Floats | None = None, overwrite: bool = False
           ) -> Floats:
    """Corrado & Zivney (1992) uniform ranks U_it = K_it / (M_i + 1) - 1/2, M_i = valid days;
    ``overwrite``: ``x`` is a temporary the result may be written into."""
    m = np.isfinite(x).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ranks is not None:
            u: Floats = ranks / (m + 1.0) - 0.5
            return u
        out = rank_rows(x, x if overwrite else None)  # then the same two operations in place
        out /= m + 1.0
        out -= 0.5
        return out


def u_column_sums(left: Floats, right: Floats, rows: Ints) -> tuple[Floats, Ints]:
    """Per column of ``[left | right]``: the sum over ``rows`` (in that order) of the finite
    Corrado & Zivney U (``rank_u`` of each row) and their count, i.e.
    ``significance.column_sums(rank_u(np.hstack([left, right]))[rows])`` bit for bit, made
    ``ROWS`` rows at a time in buffers reused from block to block (no (n, L + tau) matrix):
    each row is sorted once, U is made in sorted order (the rank is the position, ties share
    their mean; the NaN cells, sorted last, are 0) and put back in its column; numpy sums a
    C-ordered block over its rows one row after another, so the running total, put in front
    of each block, continues the one-pass order exactly."""
    split, width = left.shape[1], left.shape[1] + right.shape[1]
    usum: Floats = np.zeros(width)
    cnt: Ints = np.zeros(width, dtype=np.intp)
    if width < 2:  # one column: numpy would sum it pairwise, not row after row
        whole = rank_u(np.hstack([left[rows], right[rows]]), overwrite=True)
        seen = np.isfinite(whole)
        return np.where(seen, whole, 0.0).sum(axis=0), seen.sum(axis=0)
    size = min(ROWS, len(rows))
    buffer, stack = np.empty((size, width)), np.empty((size + 1, width))
    columns = np.arange(width)
    offsets = (np.arange(size) * width)[:, None]
    for lo in range(0, len(rows), ROWS):
        chunk = rows[lo:lo + ROWS]
        k = len(chunk)
        x = buffer[:k]
        if chunk[-1] - chunk[0] == k - 1 and (np.diff(chunk) == 1).all():
            chunk = slice(int(chunk[0]), int(chunk[0]) + k)  # type: ignore[assignment]
        x[:, :split] = left[chunk]
        x[:, split:] = right[chunk]
        nan = np.isnan(x)
        missing = nan.sum(axis=1)
        keyed = np.where(nan, np.inf, x) if missing.any() and not (x == np.inf).any() else x
        flat = np.argsort(keyed, axis=1)  # NaN last: as +inf, or numpy's NaN after +inf
        flat += offsets[:k]
        ranks = _sorted_ranks(keyed.ravel()[flat], keyed is not x)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = ranks / (np.isfinite(x).sum(axis=1, keepdims=True) + 1.0)
        u -= 0.5
        if missing.any():
            u[columns >= (width - missing)[:, None]] = 0.0
        stack[1:k + 1].ravel()[flat] = u
        stack[0] = usum
        usum = stack[:k + 1].sum(axis=0)
        cnt += k - nan.sum(axis=0)
    return usum, cnt
