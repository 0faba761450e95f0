"""Cross-event tables on a fitted panel: tests per window and group, AAR/CAAR, volume, events.

``run_tests`` runs every test of ``eventstudy.engine.significance`` for each window (pooled and
per group); ``adjust_p_values`` adds Holm (1979) and Benjamini & Hochberg (1995) adjusted
p-values across a whole table of tests. Daily tables use the cross-sectional t of Brown &
Warner (1985); abnormal volume follows Campbell & Wasley (1996). Pooled tests count one
observation per firm-day (ticker, day 0) by default (``dedupe=True``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Bools, Floats, Ints
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.panel import Panel
from eventstudy.engine.prepare import Base, Prepared, Stat, base, check_window, prepare
from eventstudy.engine.significance import (
    REFERENCES,
    RESULT_COLUMNS,
    _t_p,
    check_tests,
    compute,
    kind_of,
)
from eventstudy.engine.volume import abnormal_log_volume
from eventstudy.engine.windows import window_label, with_windows
from eventstudy.errors import BadInput


def firm_days(events: pd.DataFrame) -> pd.Series:
    """For each event id, the id of the first event of the same firm-day (ticker, day0)."""
    first = events.groupby(["ticker", "day0"], sort=False).ngroup()
    reps = pd.Series(events.index, index=events.index).groupby(first.to_numpy()).transform("first")
    return reps.rename("firm_day")


def select_rows(ar: AbnormalReturns, mask: Bools | None = None,
                dedupe: bool = True) -> tuple[Ints, int]:
    """Row indices of fitted events (in ``mask``), one per firm-day if ``dedupe``; and how many
    events were merged into an identical firm-day."""
    keep = np.ones(ar.panel.n_events, dtype=bool) if mask is None else np.asarray(mask, bool)
    keep = keep.copy()
    keep[list(ar.problems)] = False
    rows = np.flatnonzero(keep)
    if not dedupe or len(rows) == 0:
        return rows, 0
    ev = ar.panel.events.iloc[rows]
    first = ~ev.duplicated(subset=["ticker", "day0"], keep="first").to_numpy()
    return rows[first], int((~first).sum())


def overlapping_windows(data: AbnormalReturns | Panel) -> pd.DataFrame:
    """Pairs of events of the same ticker whose event windows share sessions, with the number of
    shared sessions and whether they are the same firm-day (same ticker and day 0)."""
    panel = data.panel if isinstance(data, AbnormalReturns) else data
    ev = panel.events
    left = pd.DataFrame({"ticker": ev["ticker"].to_numpy(), "a": np.arange(len(ev))})
    pairs = left.merge(left.rename(columns={"a": "b"}), on="ticker")
    pairs = pairs[pairs["a"] < pairs["b"]]
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    dates = panel.dates
    missing = np.isnat(dates)
    first = np.where(missing, np.datetime64("2262-01-01", "ns"), dates).min(axis=1)
    last = np.where(missing, np.datetime64("1678-01-01", "ns"), dates).max(axis=1)
    shared = ((dates[a] >= first[b][:, None]) & (dates[a] <= last[b][:, None])).sum(axis=1)
    day0 = ev["day0"].to_numpy()
    out = pd.DataFrame({"ticker": pairs["ticker"].to_numpy(), "event_id": ev.index[a],
                        "other_event_id": ev.index[b], "day0": day0[a], "other_day0": day0[b],
                        "shared_days": shared, "same_firm_day": day0[a] == day0[b]})
    return out[out["shared_days"] > 0].reset_index(drop=True)


def _column_t(x: Floats) -> tuple[Ints, Floats, Floats, Floats]:
    """Per-column n, mean, cross-sectional t and p of x (events x days), NaN-aware."""
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / n
        var = np.where(ok, (x - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
        t = mean / np.sqrt(var / n)
        p = np.where(n > 1, _t_p(t, np.maximum(n - 1, 1)), np.nan)
    return n, mean, t, p


def aar_table(ar: AbnormalReturns, window: Sequence[int] | None = None, *, dedupe: bool = True,
              mask: Bools | None = None) -> pd.DataFrame:
    """Per day: n, AAR_t = mean_i AR_it with its cross-sectional t (Brown & Warner 1985), and
    CAAR from the window start = mean_i CAR_i[start, t] over events with every day, with its t;
    ``start``/``end``/``window``: the window [start, t] each row's CAAR cumulates over."""
    start, end = check_window(ar, window or (int(ar.panel.days[0]), int(ar.panel.days[-1])))
    rows, _ = select_rows(ar, mask, dedupe)
    return aar_from(ar.ar[rows][:, ar.cols((start, end))], start, end)


def aar_from(x: np.ndarray, start: int, end: int) -> pd.DataFrame:
    """``aar_table`` of the AR rows ``x`` (events x days ``start``..``end``)."""
    n, aar, t, p = _column_t(x)
    cn, caar, ct, cp = _column_t(np.cumsum(x, axis=1))
    days = np.arange(start, end + 1)
    return with_windows(pd.DataFrame({
        "day": days, "n": n, "aar": aar, "t": t, "p_value": p, "start": start, "end": days,
        "caar": caar, "caar_n": cn, "caar_t": ct, "caar_p": cp}))


def volume_table(ar: AbnormalReturns, window: Sequence[int] | None = None, *,
                 dedupe: bool = True, mask: Bools | None = None) -> pd.DataFrame:
    """Per day: n, mean abnormal log volume (Campbell & Wasley 1996), its t, and the implied
    volume effect exp(mean) - 1."""
    start, end = check_window(ar, window or (int(ar.panel.days[0]), int(ar.panel.days[-1])))
    rows, _ = select_rows(ar, mask, dedupe)
    x = abnormal_log_volume(ar.panel, ar.market_volume)[1][rows][:, ar.cols((start, end))]
    n, mean, t, p = _column_t(x)
    return pd.DataFrame({"day": np.arange(start, end + 1), "n": n, "mean_abnormal_log_volume": mean,
                         "effect": np.expm1(mean), "t": t, "p_value": p})


def event_table(ar: AbnormalReturns, window: Sequence[int]) -> pd.DataFrame:
    """Per event (keyed by event id): CAR, its variance, SCAR, BHAR, mean abnormal log volume and
    the firm-day it belongs to; ``problem`` says why an event has no result."""
    prep = prepare(ar, check_window(ar, window))
    ev = ar.panel.events
    problem = pd.Series([ar.problems.get(i, "") for i in range(len(ev))], index=ev.index)
    table = pd.DataFrame({"ticker": ev["ticker"], "day0": ev["day0"], "firm_day": firm_days(ev),
                          "car": prep.car, "car_var": prep.car_var, "scar": prep.scar,
                          "bhar": prep.bhar, "abnormal_log_volume": prep.mav,
                          "volume_effect": np.expm1(prep.mav), "problem": problem},
                         index=ev.index)
    bad = problem != ""
    table.loc[bad, ["car", "car_var", "scar", "bhar"]] = np.nan
    return table


def nan_stat(n: int) -> Stat:
    nan = np.asarray(np.nan)
    return Stat(nan, nan, nan, n)


def _run_window(prep: Prepared, tests: Sequence[str], rows: Ints,
                merged: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for test in tests:
        sel = rows[prep.usable(kind_of(test))[rows]]
        res = compute(prep, test, sel) if len(sel) >= 2 else nan_stat(len(sel))
        out.append(test_row(prep.window, test, res, merged))
    return out


def test_row(window: tuple[int, int], test: str, res: Stat, merged: int) -> dict[str, object]:
    """One row of a tests table (``RESULT_COLUMNS``)."""
    estimate = float(res.estimate)
    effect = math.expm1(estimate) if kind_of(test) == "volume" else estimate
    return {"window": window_label(window), "start": window[0], "end": window[1], "test": test,
            "estimate": estimate, "effect": effect, "statistic": float(res.statistic),
            "p_value": float(res.p_value), "n": int(res.n), "merged": merged,
            "reference": REFERENCES[test]}


def run_tests(ar: AbnormalReturns, windows: Sequence[Sequence[int]] = ((0, 0),),
              tests: Iterable[str] | None = None, *, by: str | None = None,
              dedupe: bool = True, common: Base | None = None) -> pd.DataFrame:
    """Tidy table of ``tests`` (all by default) for each window, per group of ``by`` (any column
    of ``panel.events``) if given. Columns: [by, group,] window, start, end, test, estimate (mean
    CAR, BHAR or abnormal log volume), effect (exp(estimate) - 1 for volume), statistic, p_value,
    n, merged (events merged into an identical firm-day), reference. ``common`` (``base(ar)``)
    saves recomputing the window-independent ingredients across calls on the same ``ar``."""
    chosen = check_tests(tests)
    if not windows or any(np.ndim(w) != 1 for w in windows):
        raise BadInput("windows must be a list of (start, end) pairs, e.g. [(0, 0)]")
    checked = [check_window(ar, w) for w in windows]
    common = common or base(ar)
    preps = [prepare(ar, w, common) for w in checked]
    ev = ar.panel.events
    if by is not None and by not in ev.columns:
        raise BadInput(f"cannot group by {by!r}: events have {', '.join(map(str, ev.columns))}")
    groups = [None] if by is None else sorted(ev[by].dropna().unique(), key=str)
    selected = [select_rows(ar, None if by is None else (ev[by] == g).to_numpy(), dedupe)
                for g in groups]
    blocks: dict[tuple[int, int], list[dict[str, object]]] = {}
    for w, prep in enumerate(preps):  # window by window: one window's rank inputs at a time
        for g, (group, (rows, merged)) in enumerate(zip(groups, selected, strict=True)):
            block = _run_window(prep, chosen, rows, merged)
            blocks[g, w] = block if by is None else [{"by": by, "group": group, **row}
                                                     for row in block]
        prep.release()
    rows_out = [row for g in range(len(groups)) for w in range(len(preps))
                for row in blocks[g, w]]
    columns = (["by", "group"] if by is not None else []) + RESULT_COLUMNS
    return with_windows(pd.DataFrame(rows_out, columns=columns))


def adjust_p_values(table: pd.DataFrame, column: str = "p_value") -> pd.DataFrame:
    """``table`` with ``p_holm`` and ``p_bh`` placed right after ``column``: the Holm (1979)
    step-down (family-wise error) and Benjamini & Hochberg (1995) step-up (false discovery
    rate) adjusted p-values, one family over every row with a p-value (all windows x tests x
    groups of the table); NaN stays NaN. O(m log m) for m p-values (one sort)."""
    out = table.drop(columns=[c for c in ("p_holm", "p_bh") if c in table]).copy()
    p = out[column].to_numpy(float)
    seen = np.isfinite(p)
    at = list(out.columns).index(column) + 1
    for name, method in (("p_bh", bh), ("p_holm", holm)):
        adjusted = np.full(len(p), np.nan)
        adjusted[seen] = method(p[seen])
        out.insert(at, name, adjusted)
    return out


def holm(p: Floats) -> Floats:
    """Holm (1979): with p sorted ascending, p~_(i) = max_{j <= i} min(1, (m-j+1) p_(j))."""
    order = np.argsort(p, kind="stable")
    m = len(p)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def bh(p: Floats) -> Floats:
    """Benjamini & Hochberg (1995): p~_(i) = min_{j >= i} min(1, m p_(j) / j), p sorted."""
    order = np.argsort(p, kind="stable")
    m = len(p)
    scaled = m * p[order] / np.arange(1, m + 1)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out
