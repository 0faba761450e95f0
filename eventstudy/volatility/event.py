"""``volatility_study``: estimate on the pre-event window, filter the event window through the fixed
parameters (the one-step conditional variance), fall back to EWMA when no fit is usable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.engine.windows import Window, window_label
from eventstudy.errors import BadInput, EstimationError
from eventstudy.formatting import num
from eventstudy.volatility.base import (
    DISTRIBUTIONS,
    DISTS,
    ESTIMATION_END,
    EVENT_WINDOW,
    EWMA_LABEL,
    EX_ANTE_SEED,
    EX_ANTE_SIMULATIONS,
    MIN_GARCH_ESTIMATION,
    MIN_OBS,
    POST_WINDOW,
    PRE_WINDOW,
    SCALE,
    VOLS,
    Returns,
    Sample,
    arch_backcast,
    ewma_variance,
    json_record,
)
from eventstudy.volatility.dummy import VarianceDummyTest, variance_dummy_test
from eventstudy.volatility.garch import GarchFit
from eventstudy.volatility.ratio import VolatilityRatio, WindowVariance
from eventstudy.volatility.selection import ModelSelection, select_model

if TYPE_CHECKING:
    from arch._typing import ForecastingMethod


@dataclass(frozen=True)
class _Layout:
    """Positions (in the aligned frame) of the estimation sample and the event days."""

    event: int
    est_start: int
    est_stop: int
    stop: int
    event_window: Window
    pre: Window
    post: Window
    notes: tuple[str, ...]

    def day(self, position: int) -> int:
        """Event day of a frame position."""
        return position - self.event


def _event_position(index: pd.Index, event: Any) -> tuple[int, list[str]]:
    """Position of day 0: an int position, or the first session on/after a date."""
    if isinstance(event, (int, np.integer)) and not isinstance(event, bool):
        if not 0 <= int(event) < len(index):
            raise BadInput(f"event position {event} is outside the {len(index)} returns")
        return int(event), []
    if not isinstance(index, pd.DatetimeIndex):
        raise BadInput("the event is a date but the returns have no date index: "
                       "pass day 0 as an integer position")
    try:
        when = pd.Timestamp(event)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"not a date: {event!r}") from exc
    if index.tz is not None and when.tz is None:
        when = when.tz_localize(index.tz)
    elif index.tz is None and when.tz is not None:
        when = when.tz_localize(None)
    position = int(index.searchsorted(when, side="left"))
    if position >= len(index):
        raise BadInput(f"event date {when.date()} is after the last return "
                       f"({index[-1].date()})")
    found = pd.Timestamp(index[position])
    notes = [] if found == when else [f"{when.date()} is not a session: day 0 is {found.date()}"]
    return position, notes


def _check_windows(estimation_end: int, event_window: Window, pre: Window, post: Window) -> None:
    """Raise BadInput on inconsistent windows."""
    for name, (lo, hi) in (("event_window", event_window), ("pre_window", pre),
                           ("post_window", post)):
        if lo > hi:
            raise BadInput(f"{name} {lo}..{hi} is empty: give (first day, last day)")
    if estimation_end >= event_window[0]:
        raise BadInput(f"estimation must end before the event window: estimation_end="
                       f"{estimation_end} is not < {event_window[0]}")
    if pre[1] >= post[0]:
        raise BadInput(f"pre window {window_label(pre)} must end before post window "
                       f"{window_label(post)}")


def _layout(event: int, n: int, estimation_end: int, estimation_length: int | None,
            event_window: Window, pre: Window, post: Window) -> _Layout:
    """Validate the windows against the data and truncate where the data end."""
    _check_windows(estimation_end, event_window, pre, post)
    est_stop = event + estimation_end + 1
    if est_stop < 1:
        raise BadInput(f"no returns before day {estimation_end}: the event is too close to the "
                       "start of the data")
    est_start = max(0, est_stop - estimation_length) if estimation_length else 0
    if event + 1 >= n:
        raise BadInput("no returns after day 0: the data end on the event day")
    notes = []
    last = max(event_window[1], post[1])
    stop = min(n, event + last + 1)
    if stop < event + last + 1:
        notes.append(f"data end at day {stop - 1 - event:+d}: windows truncated there")
    first = est_start - event
    if pre[0] < first:
        notes.append(f"pre window starts at day {first:+d} (first return), not {pre[0]:+d}")
        pre = (first, pre[1])
    clip = stop - 1 - event
    return _Layout(event, est_start, est_stop, stop, (event_window[0], min(event_window[1], clip)),
                   pre, (post[0], min(post[1], clip)), tuple(notes))


def _garch_filter(fit: GarchFit, full: Sample, n_est: int,
                  horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residuals, sigma2 filtered with the fixed pre-event parameters, ex-ante sigma2.

    The ex-ante path is arch's multi-step forecast from the estimation end: analytic for
    GARCH/GJR; for EGARCH the median of simulated variance paths, because the mean of
    exp(alpha |z|) is infinite with t errors (Nelson 1991).
    """
    resid = full.y - full.design() @ fit.part("mean")
    process = fit.spec.process(fit.backcast_rule == "sample", n_est)
    start = process.backcast_transform(fit.backcast)
    bounds = process.variance_bounds(resid)
    sigma2 = np.zeros(resid.size)
    process.compute_variance(fit.part("vol"), resid, sigma2, start, bounds)
    method: ForecastingMethod = "simulation" if fit.spec.vol == "EGARCH" else "analytic"
    rng = DISTRIBUTIONS[fit.spec.dist](seed=EX_ANTE_SEED).simulate(fit.part("dist"))
    forecast = process.forecast(fit.part("vol"), resid[:n_est], start, bounds[:n_est],
                                start=n_est - 1, horizon=horizon, method=method,
                                simulations=EX_ANTE_SIMULATIONS, rng=rng)
    if forecast.forecast_paths is not None:  # EGARCH: median path (the mean may not exist)
        return resid, sigma2, np.median(np.asarray(forecast.forecast_paths)[-1], axis=0)
    return resid, sigma2, np.asarray(forecast.forecasts)[-1]


def _ewma(resid: np.ndarray, n_est: int) -> np.ndarray:
    """RiskMetrics EWMA sigma2 of ``resid``, started at arch's backcast of the estimation part."""
    return ewma_variance(resid, backcast=arch_backcast(resid[:n_est]))


def _build_path(selection: ModelSelection, full: Sample, lay: _Layout,
                prediction_error: bool) -> tuple[pd.DataFrame, bool]:
    """Per-session table from the estimation start to the last event day (scaled units).

    Without a GARCH fit the residuals are those of the pre-event OLS mean and sigma is the
    EWMA, flat ex ante. Also says whether the prediction-error adjustment x_t' V x_t (V the
    covariance of the mean parameters) was applied: it is dropped when V is unusable.
    """
    n_est = lay.est_stop - lay.est_start
    horizon = len(full) - n_est
    if selection.best is not None:
        resid, sigma2, ex_ante = _garch_filter(selection.best, full, n_est, horizon)
        cov = selection.best.mean_cov()
        ewma = _ewma(resid, n_est)
    else:
        resid, cov = full.ols_residuals(n_est)
        sigma2 = ewma = _ewma(resid, n_est)
        ex_ante = np.full(horizon, sigma2[n_est])
    days = np.arange(len(full)) - (lay.event - lay.est_start)
    path = pd.DataFrame({"day": days, "ret": full.y, "resid": resid}, index=full.index)
    path["sigma"] = np.sqrt(sigma2)
    path["sigma_ewma"] = np.sqrt(ewma)
    path["sigma_ex_ante"] = np.concatenate((np.full(n_est, np.nan), np.sqrt(ex_ante)))
    path["z"] = resid / path["sigma"]
    x = full.design()
    extra = np.einsum("ij,jk,ik->i", x, cov, x) if prediction_error else np.zeros(len(full))
    applied = prediction_error and bool(np.all(np.isfinite(extra)) and np.all(extra >= 0))
    extra = extra if applied else np.zeros(len(full))
    in_window = (days >= lay.event_window[0]) & (days <= lay.event_window[1])
    path["sar"] = np.where(in_window, resid / np.sqrt(sigma2 + extra), np.nan)
    path["estimation"] = np.arange(len(full)) < n_est
    return path, applied


@dataclass(frozen=True)
class EventVolatility:
    """GARCH volatility around one event: model choice, event-induced volatility, SARs.

    ``path`` holds one row per session from the estimation start to the last event day (scaled
    units): ``day``, ``ret``, ``resid`` (abnormal return: residual of the pre-event mean
    equation), ``sigma`` (filtered with fixed pre-event parameters, information to t-1),
    ``sigma_ewma``, ``sigma_ex_ante`` (multi-step forecast from the estimation end), ``z`` =
    resid/sigma, ``sar`` (event window only) and ``estimation`` (in the estimation sample).
    """

    label: str
    event_date: pd.Timestamp | None
    event_position: int
    scale: float
    mean: str
    selection: ModelSelection
    path: pd.DataFrame = field(repr=False)
    windows: list[WindowVariance]
    ratio: VolatilityRatio
    event_window: Window
    prediction_error: bool
    notes: list[str] = field(default_factory=list)
    # estimation sample length; below MIN_GARCH_ESTIMATION the GARCH numbers are not reliable
    estimation_sessions: int = 0
    # the short-sample message: GARCH not fitted (fallback) or fitted anyway (warning); else None
    short_sample: str | None = None

    @property
    def fit(self) -> GarchFit | None:
        """The chosen GARCH fit (None after the EWMA fallback)."""
        return self.selection.best

    @property
    def model(self) -> str:
        """Name of the conditional-variance model in use."""
        return self.fit.spec.label if self.fit else EWMA_LABEL

    @property
    def fallback_reason(self) -> str | None:
        """Why EWMA replaced GARCH (None when a GARCH fit is used)."""
        return self.selection.fallback_reason

    @property
    def sar(self) -> pd.Series:
        """GARCH-standardised abnormal returns over the event window, indexed by event day."""
        rows = self.path[self.path["sar"].notna()]
        return pd.Series(rows["sar"].to_numpy(), index=rows["day"].to_numpy(), name="sar")

    def scar(self, window: Window = (0, 0)) -> float:
        """Standardised CAR over ``window``: sum of SARs / sqrt(number of days)."""
        sar = self.sar.loc[window[0]:window[1]].dropna()
        if sar.empty:
            raise BadInput(f"no standardised abnormal returns in {window_label(window)}")
        return float(sar.sum() / math.sqrt(len(sar)))

    def _estimation_line(self) -> str:
        est = self.path[self.path["estimation"]]
        first, last = est.index[0], est.index[-1]
        span = (f"{first.date()} .. {last.date()}" if isinstance(first, pd.Timestamp)
                else f"{first} .. {last}")
        return (f"Estimation: {span} ({len(est)} returns, up to day {int(est['day'].iloc[-1])}); "
                f"mean: {'market model (LS)' if self.mean == 'market' else 'constant'}")

    def _window_lines(self) -> list[str]:
        lines = [f"  {'window':<8}{'days':>10}{'n':>4}{'realised':>11}{'filtered':>11}"
                 f"{'ex-ante':>11}"]
        for w in self.windows:
            lines.append(f"  {w.name:<8}{window_label(w.days):>10}{w.n:>4}{w.realised:>11.3f}"
                         f"{w.filtered:>11.3f}{num(w.ex_ante, 3):>11}")
        first = int(self.path.loc[~self.path["estimation"], "day"].iloc[0])
        lines.append(f"  (realised: mean AR^2; filtered: mean one-step sigma2; ex-ante: mean "
                     f"multi-step forecast, days >= {first:+d} only)")
        return lines

    def summary(self) -> str:
        """Readable report: model, candidates, volatility ratio and tests, SARs, notes."""
        day0 = self.event_date.date() if self.event_date is not None else self.event_position
        sar0 = self.sar.get(0, np.nan)
        lines = [
            f"GARCH volatility around an event: {self.label or 'series'}, day 0 = {day0}",
            *([f"WARNING: {self.short_sample}"] if self.short_sample else []),
            f"Returns x{self.scale:g} (percent) for arch's optimiser; sigma in % per day.",
            self._estimation_line(),
            f"Conditional variance: {self.model}",
            *([self.fit.summary()] if self.fit else []),
            self.selection.summary(),
            "Event-induced volatility (sigma filtered with fixed pre-event parameters):",
            self.ratio.summary(),
            "Realised vs forecast variance (%^2):",
            *self._window_lines(),
            f"Standardised AR (AR / conditional sigma): SAR(0) = {num(float(sar0), 3)}, SCAR"
            f"{window_label(self.event_window)} = {num(self.scar(self.event_window), 3)}"
            + (" (prediction-error adjusted)" if self.prediction_error else ""),
        ]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: everything in the summary plus the event-window rows."""
        rows = self.path[self.path["sar"].notna()].reset_index(names="date")
        return json_record({
            "label": self.label, "event_date": self.event_date,
            "event_position": self.event_position, "scale": self.scale, "mean": self.mean,
            "model": self.model, "fallback_reason": self.fallback_reason,
            "fit": self.fit.to_dict() if self.fit else None,
            "selection": self.selection.to_dict(), "ratio": self.ratio.to_dict(),
            "windows": [w.to_dict() for w in self.windows],
            "event_window": self.event_window, "prediction_error": self.prediction_error,
            "scar_event_window": self.scar(self.event_window),
            "days": rows.drop(columns=["estimation"]), "notes": self.notes,
            "estimation_sessions": self.estimation_sessions,
            "min_garch_estimation": MIN_GARCH_ESTIMATION,
            "garch_fitted": self.fit is not None, "short_sample": self.short_sample,
        })


def volatility_study(returns: Returns, event_date: Any,
                     market: Returns | None = None, *, label: str = "",
                     estimation_end: int = ESTIMATION_END, estimation_length: int | None = None,
                     event_window: Window = EVENT_WINDOW, pre_window: Window = PRE_WINDOW,
                     post_window: Window = POST_WINDOW, vols: Sequence[str] = VOLS,
                     dists: Sequence[str] = DISTS, scale: float = SCALE,
                     min_obs: int = MIN_OBS, backcast: float | str = "arch",
                     dummy_test: bool = True, prediction_error: bool = True,
                     min_garch: int | None = MIN_GARCH_ESTIMATION) -> EventVolatility:
    """Model selection, event-induced volatility and GARCH-standardised ARs for one event.

    ``returns``/``market`` are simple returns (decimals); ``event_date`` is a date (day 0 is the
    first session on or after it) or an integer position. Parameters are estimated on returns
    up to day ``estimation_end`` (the last ``estimation_length`` of them, default all), event
    returns are filtered through them. SAR_t = AR_t / sqrt(sigma2_t + x_t' V x_t) on the event
    window, where V is the covariance of the estimated mean parameters (the prediction-error
    adjustment; ``prediction_error=False`` drops it): the out-of-sample analogue of Savickas's
    (2003) gamma_i / sqrt(h_i,E). ``dummy_test`` adds the LR test of a post-window variance
    dummy (skipped after the EWMA fallback). With fewer than ``min_garch`` estimation returns
    (default ``MIN_GARCH_ESTIMATION``) no GARCH is fitted: EWMA path, the raw residual variance
    ratio and its permutation p are the numbers to read (``short_sample`` says so);
    ``min_garch=None`` fits GARCH anyway and ``short_sample`` warns when the sample is short.
    """
    sample = Sample.of(returns, market, scale)
    event, notes = _event_position(sample.index, event_date)
    lay = _layout(event, len(sample), estimation_end, estimation_length, event_window,
                  pre_window, post_window)
    full = sample.rows(slice(lay.est_start, lay.stop))
    est = full.rows(slice(0, lay.est_stop - lay.est_start))
    short = _short_sample(len(est), min_garch)
    if min_garch is not None and len(est) < min_garch:
        selection = ModelSelection([], None, short, len(est), sample.scale)
    else:
        selection = select_model(est, vols=vols, dists=dists, min_obs=min_obs,
                                 backcast=backcast)
    path, adjusted = _build_path(selection, full, lay, prediction_error)
    if prediction_error and not adjusted:
        notes.append("prediction-error adjustment dropped: the covariance of the mean "
                     "parameters is not usable (degenerate fit)")
    ratio = VolatilityRatio.from_path(path, lay.pre, lay.post)
    test, note = _maybe_dummy_test(selection, full, path, lay, dummy_test)
    ratio = replace(ratio, dummy_test=test, note=note)
    windows = [WindowVariance.from_path(path, name, days) for name, days in
               (("pre", lay.pre), ("event", lay.event_window), ("post", lay.post))]
    index = sample.index
    date = pd.Timestamp(index[event]) if isinstance(index, pd.DatetimeIndex) else None
    return EventVolatility(
        label=label, event_date=date, event_position=event, scale=sample.scale,
        mean=sample.mean, selection=selection, path=path,
        windows=windows, ratio=ratio, event_window=lay.event_window,
        prediction_error=adjusted, notes=notes + list(lay.notes),
        estimation_sessions=len(est), short_sample=short)


def _short_sample(n_est: int, min_garch: int | None) -> str | None:
    """The message of an estimation sample shorter than ``MIN_GARCH_ESTIMATION`` (or than
    ``min_garch``): GARCH not fitted, or (``min_garch=None``) fitted but unreliable."""
    if min_garch is not None and n_est < min_garch:
        return (f"GARCH not fitted: {n_est} estimation sessions < {min_garch} "
                f"(MIN_GARCH_ESTIMATION, Hwang & Valls Pereira 2006); using {EWMA_LABEL}: read "
                "the raw residual variance ratio and its permutation p")
    if n_est < MIN_GARCH_ESTIMATION:
        return (f"GARCH fitted on {n_est} estimation sessions < {MIN_GARCH_ESTIMATION} "
                "(MIN_GARCH_ESTIMATION, Hwang & Valls Pereira 2006): its parameters, volatility "
                "ratio and QLR p are unreliable; read the raw residual variance ratio and its "
                "permutation p")
    return None


def _maybe_dummy_test(selection: ModelSelection, full: Sample, path: pd.DataFrame,
                      lay: _Layout, wanted: bool) -> tuple[VarianceDummyTest | None, str | None]:
    """Run the robust QLR variance-dummy test on [estimation start, last post day] when it makes
    sense; kurtosis from the chosen model's standardised residuals of the estimation window."""
    if not wanted:
        return None, None
    if selection.best is None:
        return None, "LR variance-dummy test skipped: GARCH fell back to EWMA"
    keep = (path["day"] <= lay.post[1]).to_numpy()
    dummy = ((path["day"] >= lay.post[0]) & (path["day"] <= lay.post[1])).to_numpy()[keep]
    if not dummy.any():
        return None, "LR variance-dummy test skipped: no post-event day in the data"
    try:
        test = variance_dummy_test(full.rows(keep), dummy.astype(float),
                                   reference_z=path.loc[path["estimation"], "z"].to_numpy())
    except EstimationError as exc:
        return None, f"LR variance-dummy test failed: {exc}"
    return test, None
