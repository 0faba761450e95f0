"""Abnormal trading volume, the one implementation used by single-event and cross-event code.

Campbell & Wasley (1996), "Measuring abnormal daily trading volume for samples of NYSE/ASE and
NASDAQ securities using parametric and nonparametric test statistics", Review of Quantitative
Finance and Accounting 6, 309-326: log volume less its estimation-window mean, standardised by
its estimation-window standard deviation; the ratio of window to estimation-window mean volume."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from eventstudy.engine.abnormal import usable_windows
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.panel import Panel
from eventstudy.engine.windows import DEFAULT_CAR_WINDOWS, window_label


def positive_volume(volume: np.ndarray) -> np.ndarray:
    """Volume with zero and negative values as missing (NaN).

    Yahoo reports volume 0 on Hong Kong half-day sessions (24 and 31 December, Lunar New Year's
    eve) although prices move, and on placeholder rows during suspensions: no trade is recorded,
    so the volume is unknown, not zero. log(1 + 0) = 0 would dominate any log-volume mean.
    """
    return np.where(volume > 0, volume, np.nan)


def log_volume(volume: np.ndarray) -> np.ndarray:
    """``log(1 + V)`` of the positive volumes, NaN elsewhere (see ``positive_volume``)."""
    return np.log1p(volume, out=np.full(volume.shape, np.nan), where=volume > 0)


@contextmanager
def _quiet() -> Iterator[None]:
    """NaN in, NaN out, without numpy's warnings: no volume data is a missing value, not an error.
    """
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _positive(values: np.ndarray) -> np.ndarray:
    """A denominator: zero (no volume, constant volume) -> NaN, so ratios are n/a, not inf."""
    return np.where(values > 0, values, np.nan)


def abnormal_volume(ar: AbnormalReturns) -> tuple[np.ndarray, np.ndarray]:
    """Per day, the abnormal log volume (N, W) and its t (abnormal / estimation-window std)."""
    est, abnormal = abnormal_log_volume(ar.panel)
    with _quiet():
        std = _positive(np.nanstd(est, axis=1, ddof=1))
        return abnormal, abnormal / std[:, None]


def _est_volume_stats(ar: AbnormalReturns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    est = log_volume(ar.panel.est_vol)
    valid = np.isfinite(est).sum(axis=1)
    with _quiet():
        return (_positive(np.nanmean(positive_volume(ar.panel.est_vol), axis=1)),
                _positive(np.nanstd(est, axis=1, ddof=1)), valid.astype(float))


def volume_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...] = DEFAULT_CAR_WINDOWS
                 ) -> pd.DataFrame:
    """Per event and window: volume ratio (window mean / estimation mean), mean abnormal log
    volume over the window's days with a volume and its t (mean / (s / sqrt(k)), k such days,
    treated as independent). A zero volume is missing (``positive_volume``): a half-day with a
    price change keeps its return but does not enter the volume mean."""
    abnormal, _ = abnormal_volume(ar)
    est_mean, est_std, _ = _est_volume_stats(ar)
    frames = []
    for window in usable_windows(ar, windows):
        cols = ar.cols(window)
        days = np.isfinite(abnormal[:, cols]).sum(axis=1)
        with _quiet():
            ratio = np.nanmean(positive_volume(ar.panel.vol[:, cols]), axis=1) / est_mean
            mean_abn = np.nanmean(abnormal[:, cols], axis=1)
            t = mean_abn / (est_std / np.sqrt(days))
        frames.append(pd.DataFrame({
            "event_id": ar.panel.events.index.to_numpy(), "window": window_label(window),
            "volume_ratio": ratio, "abnormal_log_volume": mean_abn, "t": t}))
    return pd.concat(frames, ignore_index=True)


def event_window_volume_ratio(ar: AbnormalReturns) -> np.ndarray:
    """Mean volume over the whole event window / mean estimation-window volume, per event."""
    est_mean, _, _ = _est_volume_stats(ar)
    with _quiet():
        return np.nanmean(positive_volume(ar.panel.vol), axis=1) / est_mean


def day0_volume_ratio(ar: AbnormalReturns) -> np.ndarray:
    """Day-0 volume / mean estimation-window volume, per event (n/a without volume)."""
    est_mean, _, _ = _est_volume_stats(ar)
    with _quiet():
        return positive_volume(ar.panel.vol[:, ar.panel.column(0)]) / est_mean


def abnormal_log_volume(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Campbell & Wasley (1996) abnormal volume: ``log(1 + V_it)`` minus its mean over the
    event's estimation window; returns ``(estimation block, event block)``. Zero volume is
    missing (``positive_volume``)."""
    est, event = log_volume(panel.est_vol), log_volume(panel.vol)
    with _quiet():
        mean = np.nanmean(est, axis=1)
    return est - mean[:, None], event - mean[:, None]
