"""Per-event measures: daily ARs with t, CARs over windows with standard errors, abnormal volume.

The AR and CAR standard errors are the prediction-error standard deviations of the fitted model
(MacKinlay 1997, "Event Studies in Economics and Finance", JEL 35(1), eq. 7-15; Campbell, Lo &
MacKinlay 1997, ch. 4); p-values are two-sided from Student's t with the model's residual degrees
of freedom. Abnormal volume follows Campbell & Wasley (1996): the log of 1 + volume, less its
estimation-window mean, standardised by its estimation-window standard deviation.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy.models import AbnormalReturns

DEFAULT_CAR_WINDOWS: tuple[tuple[int, int], ...] = (
    (0, 0), (0, 1), (-1, 1), (-5, 5), (0, 5), (0, 10), (0, 20))


def window_label(window: tuple[int, int]) -> str:
    return f"[{window[0]:+d},{window[1]:+d}]" if window != (0, 0) else "[0,0]"


def usable_windows(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...]
                   ) -> list[tuple[int, int]]:
    """The windows that fit inside the panel's event block."""
    lo, hi = ar.panel.days[0], ar.panel.days[-1]
    return [w for w in windows if lo <= w[0] <= w[1] <= hi]


def abnormal_return_table(ar: AbnormalReturns) -> pd.DataFrame:
    """Long table: one row per event and day with return, market return, AR and its t."""
    panel = ar.panel
    n, w = ar.ar.shape
    with np.errstate(invalid="ignore"):
        t = ar.ar_t
    return pd.DataFrame({
        "event_id": np.repeat(panel.events.index.to_numpy(), w),
        "day": np.tile(panel.days, n),
        "date": panel.dates.reshape(-1),
        "return": panel.ret.reshape(-1),
        "market_return": panel.mkt.reshape(-1),
        "ar": ar.ar.reshape(-1),
        "t": t.reshape(-1),
    })


def car_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...] = DEFAULT_CAR_WINDOWS
              ) -> pd.DataFrame:
    """Long table: one row per event and window with CAR, standard error, t and p-value."""
    frames = []
    for window in usable_windows(ar, windows):
        car, var = ar.car(window)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(var)
            t = car / se
        p = 2 * stats.t.sf(np.abs(t), ar.dof)
        frames.append(pd.DataFrame({
            "event_id": ar.panel.events.index.to_numpy(), "window": window_label(window),
            "start": window[0], "end": window[1], "car": car, "se": se, "t": t, "p": p}))
    return pd.concat(frames, ignore_index=True)


def log_volume(volume: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.log1p(np.where(volume >= 0, volume, np.nan))


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
    panel = ar.panel
    est = log_volume(panel.est_vol)
    with _quiet():
        mean = np.nanmean(np.where(np.isfinite(est), est, np.nan), axis=1)
        std = _positive(np.nanstd(est, axis=1, ddof=1))
        abnormal = log_volume(panel.vol) - mean[:, None]
        return abnormal, abnormal / std[:, None]


def _est_volume_stats(ar: AbnormalReturns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    est = log_volume(ar.panel.est_vol)
    valid = np.isfinite(est).sum(axis=1)
    with _quiet():
        return (_positive(np.nanmean(ar.panel.est_vol, axis=1)),
                _positive(np.nanstd(est, axis=1, ddof=1)), valid.astype(float))


def volume_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...] = DEFAULT_CAR_WINDOWS
                 ) -> pd.DataFrame:
    """Per event and window: volume ratio (window mean / estimation mean), mean abnormal log
    volume and its t (mean / (s / sqrt(tau)), days treated as independent)."""
    abnormal, _ = abnormal_volume(ar)
    est_mean, est_std, _ = _est_volume_stats(ar)
    frames = []
    for window in usable_windows(ar, windows):
        cols = ar.cols(window)
        tau = cols.stop - cols.start
        with _quiet():
            ratio = ar.panel.vol[:, cols].mean(axis=1) / est_mean
            mean_abn = abnormal[:, cols].mean(axis=1)
            t = mean_abn / (est_std / np.sqrt(tau))
        frames.append(pd.DataFrame({
            "event_id": ar.panel.events.index.to_numpy(), "window": window_label(window),
            "volume_ratio": ratio, "abnormal_log_volume": mean_abn, "t": t}))
    return pd.concat(frames, ignore_index=True)


def event_window_volume_ratio(ar: AbnormalReturns) -> np.ndarray:
    """Mean volume over the whole event window / mean estimation-window volume, per event."""
    est_mean, _, _ = _est_volume_stats(ar)
    with _quiet():
        return np.nanmean(ar.panel.vol, axis=1) / est_mean


def bhar_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    """Per event and window: buy-and-hold abnormal return against the market,
    BHAR_i = prod(1 + R_it) - prod(1 + Rm_it) (Barber & Lyon 1997); NaN if a day is missing."""
    frames = []
    for window in usable_windows(ar, windows):
        cols = ar.cols(window)
        stock = np.prod(1.0 + ar.panel.ret[:, cols], axis=1) - 1.0
        market = np.prod(1.0 + ar.panel.mkt[:, cols], axis=1) - 1.0
        frames.append(pd.DataFrame({
            "event_id": ar.panel.events.index.to_numpy(), "window": window_label(window),
            "return": stock, "market_return": market, "bhar": stock - market}))
    columns = ["event_id", "window", "return", "market_return", "bhar"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
