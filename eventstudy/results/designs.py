"""Designs on a finished study: the events' characteristics, cross-sectional regressions of CAR
and abnormal volume, the calendar-time portfolio and the wild bootstrap of CAAR.

Each works from the engine's arrays (``result.ar``), so it does not depend on how the tables
label windows. The statistics live in ``eventstudy.engine`` (``regression``, ``calendar_time``,
``bootstrap``) with their references."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

import numpy as np
import pandas as pd

from eventstudy.data.tickers import IPO_INDEX, market_for
from eventstudy.engine.bootstrap import MIN_WILD_EVENTS, wild_bootstrap_caar
from eventstudy.engine.calendar_time import CalendarTimeResult, calendar_time_portfolio
from eventstudy.engine.crosssection import select_rows
from eventstudy.engine.regression import RegressionResult, cross_sectional_regression
from eventstudy.engine.volume import abnormal_log_volume
from eventstudy.engine.windows import Window, window_label, with_windows
from eventstudy.errors import BadInput
from eventstudy.results.data import StudyData

R = TypeVar("R", bound=StudyData)

LISTING_FIELDS = ("board", "sector", "category", "offer_price", "float_shares",
                  "shares_outstanding")


def _check_span(result: StudyData, window: Window) -> None:
    days = result.ar.panel.days
    if not days[0] <= window[0] <= window[1] <= days[-1]:
        raise BadInput(f"window {window_label(window)} is outside the study's days "
                       f"[{days[0]},{days[-1]}]: widen --window")


def event_characteristics(result: StudyData, window: Window = (0, 1)) -> pd.DataFrame:
    """One row per studied event: the study's event columns, ``car`` and ``car_t`` over
    ``window``, ``abnormal_volume`` (mean abnormal log volume, Campbell & Wasley 1996), the
    listing's fields, ``is_18c``, ``locked_ratio`` (tranche locked shares / float shares) and
    ``runup`` (close on day -1 / offer price - 1) where the calendar knows them."""
    _check_span(result, window)
    ar = result.ar
    car, var = ar.car(window)
    _, abnormal = abnormal_log_volume(ar.panel, ar.market_volume)
    cols = ar.cols(window)
    frame = ar.panel.events.reset_index(drop=True).copy()
    frame = frame.loc[:, ~frame.columns.duplicated()]
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["car"], frame["car_t"] = car, car / np.sqrt(var)
        frame["abnormal_volume"] = np.nanmean(abnormal[:, cols], axis=1)
    listings = result.listings
    for name in LISTING_FIELDS:
        frame[name] = [getattr(listings.get(t), name, None) for t in frame["ticker"]]
    frame["is_18c"] = ["18C" in str(getattr(listings.get(t), "board", "")).upper()
                       for t in frame["ticker"]]
    frame["locked_ratio"] = [_locked_ratio(listings.get(t), tr)
                             for t, tr in zip(frame["ticker"], frame["tranche"], strict=True)]
    close = ar.panel.close
    before = close[:, ar.panel.column(-1)] if close is not None and ar.panel.days[0] <= -1 \
        else np.full(len(frame), np.nan)
    offer = pd.to_numeric(frame["offer_price"], errors="coerce").to_numpy(dtype=float)
    frame["runup"] = before / offer - 1.0
    return frame


def _locked_ratio(listing: object, tranche: str) -> float:
    float_shares = getattr(listing, "float_shares", None)
    for tr in getattr(listing, "tranches", ()):
        if tr.name == tranche and tr.locked_shares and float_shares:
            return float(tr.locked_shares) / float(float_shares)
    return float("nan")


def regress(result: StudyData, formula: str, window: Window = (0, 1),
            cluster: str = "day0") -> RegressionResult:
    """OLS of an event outcome (``car``, ``car_t``, ``abnormal_volume``) on characteristics
    (any column of ``event_characteristics``), HC3 and date-clustered errors. Tranches of one
    firm expiring on the same session share one outcome: they count once (the first), as in
    the pooled tests."""
    data = event_characteristics(result, window)
    rows, merged = select_rows(result.ar)
    out = cross_sectional_regression(data.iloc[rows], formula, cluster=cluster)
    out.notes.insert(0, f"outcomes over {window_label(window)}; {merged} tranche(s) sharing a "
                        "firm-day with another counted once")
    return out


def event_weights(result: StudyData, column: str) -> np.ndarray:
    """Each event's value weight: a column of the events (an events-file column such as
    ``market_cap``) or of the calendar (``shares_outstanding``, ``float_shares``, ...); for
    ``market_cap`` without such a column, shares_outstanding x the close on day -1. A missing,
    non-numeric or non-positive value is an error naming the events (exit 2)."""
    data = event_characteristics(result, (0, 0))
    if column in data.columns and data[column].notna().any():
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
    elif column == "market_cap":
        shares = pd.to_numeric(data["shares_outstanding"], errors="coerce").to_numpy(dtype=float)
        close = result.ar.panel.close
        if close is None or result.ar.panel.days[0] > -1 or not np.isfinite(shares).any():
            raise BadInput("--weight-col market_cap: no market_cap column in the events and no "
                           "shares_outstanding in the calendar to multiply by the price")
        values = shares * close[:, result.ar.panel.column(-1)]
    else:
        have = [c for c in data.columns if pd.to_numeric(data[c], errors="coerce").notna().any()]
        raise BadInput(f"--weight-col {column[:40]!r}: no such column of the events (numeric "
                       f"columns: {', '.join(map(str, have))})")
    return values


def calendar_time(result: StudyData, horizon: Window = (0, 20),
                  factors: pd.DataFrame | None = None, factor_cols: list[str] | None = None,
                  rf_col: str | None = None, weights: pd.Series | None = None,
                  market: str | None = None, weight_col: str | None = None
                  ) -> CalendarTimeResult:
    """The calendar-time portfolio of the study's events over days ``horizon``.

    ``weights`` (per ticker) or ``weight_col`` (a column of the events, fixed per event; see
    ``event_weights``) make it value-weighted; a firm live in two events on a session counts
    once, with the weight of the first of them.

    One portfolio needs one market: when the events have several (``.HK`` and US tickers),
    it holds the events of ``market`` (default: the market with most events), said in its
    notes. Without ``factors``, a study run with the factor model regresses on its factors.
    """
    _check_span(result, horizon)
    panel = result.ar.panel
    tickers = panel.events["ticker"].to_numpy()
    markets = np.array([result.options.market or market_for(t) for t in tickers])
    names, counts = np.unique(markets, return_counts=True)
    market = market or str(names[np.argmax(counts)])
    if market not in names:
        raise BadInput(f"no event of the study has the market {market} "
                       f"(have: {', '.join(names)})")
    keep = markets == market
    n, w = int(keep.sum()), panel.ret.shape[1]
    rows = pd.DataFrame({
        "ticker": np.repeat(tickers[keep], w), "day": np.tile(panel.days, n),
        "date": panel.dates[keep].reshape(-1), "return": panel.ret[keep].reshape(-1),
        "market_return": panel.mkt[keep].reshape(-1)})
    chosen: pd.Series | str | None = weights
    if weight_col is not None:
        if weights is not None:
            raise BadInput("give weights or weight_col, not both")
        values = event_weights(result, weight_col)[keep]
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            ids = panel.events.index.to_numpy()[keep][bad]
            raise BadInput(f"--weight-col {weight_col[:40]!r}: no positive number for "
                           f"{len(ids)} event(s): {', '.join(map(str, ids[:5]))}"
                           f"{' ...' if len(ids) > 5 else ''}")
        rows["weight"], chosen = np.repeat(values, w), "weight"
    opts = result.options
    if factors is None and opts.model == "factors":  # the study's factor model, not the market
        factors, factor_cols, rf_col = opts.factors, list(opts.factor_cols), opts.rf_col
    out = calendar_time_portfolio(rows, horizon, factors=factors, factor_cols=factor_cols,
                                  rf_col=rf_col, weights=chosen)
    if opts.model == "factors" and factors is opts.factors:
        out.notes.append(f"regressors: the study's factors ({', '.join(opts.factor_cols)})"
                         + (f", less the risk-free rate {opts.rf_col}" if opts.rf_col else ""))
    if weight_col is not None:
        out.notes.append(f"value weights: {weight_col} of each event, fixed over its days")
    if market == IPO_INDEX:
        out.notes.append("benchmark: each session, the median over the firms held of their IPO "
                         "index (each excludes its own firm)")
    if len(names) > 1:
        out.notes.append(f"events against {market} only; {len(tickers) - n} event(s) on other "
                         f"markets ({', '.join(m for m in names if m != market)}) left out")
    return out


def wild_bootstrap(result: StudyData, windows: tuple[Window, ...] | None = None,
                   n_boot: int = 9999, seed: int = 0) -> pd.DataFrame:
    """Wild-bootstrap p-value of CAAR per window, one observation per firm-day."""
    rows, _ = select_rows(result.ar)
    out = []
    for window in windows or result.options.car_windows:
        _check_span(result, window)
        car, _ = result.ar.car(window)
        stats = wild_bootstrap_caar(car[rows], n_boot=n_boot, seed=seed)
        out.append({"window": window_label(window), "start": window[0], "end": window[1],
                    **stats})
    return with_windows(pd.DataFrame(out))


def apply_designs(result: R, *, regress_formulas: tuple[str, ...] = (),
                  regress_window: Window = (0, 1), calendar_horizon: Window | None = None,
                  bootstrap: int = 0, seed: int = 0, weight_col: str | None = None) -> R:
    """``result`` with the requested designs added to ``designs`` (name -> object with
    ``summary()`` and ``to_dict()``; the wild bootstrap is a DataFrame) and their notes."""
    designs, notes = dict(result.designs), list(result.notes)
    for i, formula in enumerate(regress_formulas):
        designs[f"regression_{i + 1}"] = regress(result, formula, regress_window)
    if calendar_horizon is not None:
        designs["calendar_time"] = calendar_time(result, calendar_horizon, weight_col=weight_col)
    elif weight_col is not None:
        raise BadInput("--weight-col weights the calendar-time portfolio: add --calendar-time")
    if bootstrap:
        n = len(select_rows(result.ar)[0])
        if n >= 2:
            designs["wild_bootstrap"] = wild_bootstrap(result, n_boot=bootstrap, seed=seed)
            if n < MIN_WILD_EVENTS:
                notes.append(f"wild bootstrap of CAAR: {n} firm-days give only 2^{n} "
                             f"sign patterns, no p-value below {MIN_WILD_EVENTS}")
        else:  # a batch left with one firm-day still reports it, it does not abort
            notes.append(f"wild bootstrap of CAAR skipped: it needs at least 2 "
                         f"firm-days, {n} studied")
    if not (regress_formulas or calendar_horizon is not None or bootstrap):
        return result  # nothing added (replace would make the result's deferred tables)
    return replace(result, designs=designs, notes=tuple(notes))
