"""Abnormal trading volume, the one implementation used by single-event and cross-event code.

Campbell & Wasley (1996), "Measuring abnormal daily trading volume for samples of NYSE/ASE and
NASDAQ securities using parametric and nonparametric test statistics", Review of Quantitative
Finance and Accounting 6, 309-326: log volume, market-adjusted by the log volume of the market
index on the same day where the index has volume, less its estimation-window mean, standardised
by its estimation-window standard deviation; the ratio of window to estimation-window mean
volume. Turnover: CW use log(100 n_it / S_it + 0.000255) (shares traded n over shares
outstanding S); Yahoo gives no shares outstanding, and with S constant over the study the
estimation-window demeaning removes log S, so log(1 + V) is used (``log_turnover`` takes S when
known)."""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.engine.abnormal import usable_windows
from eventstudy.engine.arrays import Bools, Floats, Ints
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.panel import Panel
from eventstudy.engine.windows import DEFAULT_CAR_WINDOWS, with_windows


def positive_volume(volume: Floats) -> Floats:
    """Volume with zero and negative values as missing (NaN).

    Yahoo reports volume 0 on Hong Kong half-day sessions (24 and 31 December, Lunar New Year's
    eve) although prices move, and on placeholder rows during suspensions: no trade is recorded,
    so the volume is unknown, not zero. log(1 + 0) = 0 would dominate any log-volume mean.
    """
    return np.where(volume > 0, volume, np.nan)


def log_volume(volume: Floats) -> Floats:
    """``log(1 + V)`` of the positive volumes, NaN elsewhere (see ``positive_volume``)."""
    return np.log1p(volume, out=np.full(volume.shape, np.nan), where=volume > 0)


@contextmanager
def _quiet() -> Iterator[None]:
    """NaN in, NaN out, without numpy's warnings: no volume data is a missing value, not an error.
    """
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def nanmean_rows(values: Floats) -> Floats:
    """``np.nanmean(values, axis=1)`` of a 2-D float array, bit for bit (numpy's arithmetic:
    the sum of a copy with NaN as 0 over the count of non-NaN values; NaN for an all-NaN row),
    in fewer passes over the data; call it inside ``_quiet``."""
    missing = np.isnan(values)
    return _nan_mean(np.where(missing, 0.0, values), _count(~missing))


def _count(have: Bools) -> Ints:
    return np.count_nonzero(have, axis=1)  # type: ignore[no-any-return]


def _nan_mean(filled: Floats, count: Ints) -> Floats:
    """Row sums of ``filled`` (NaN as 0) over ``count``, the rows' non-NaN values (numpy's)."""
    return np.sum(filled, axis=1) / count  # type: ignore[no-any-return]


def positive_mean(volume: Floats) -> Floats:
    """``nanmean_rows(positive_volume(volume))`` bit for bit, without the NaN copy."""
    have = volume > 0
    return _nan_mean(np.where(have, volume, 0.0), _count(have))


def nanstd_rows(values: Floats, ddof: int = 1) -> Floats:
    """``np.nanstd(values, axis=1, ddof=ddof)`` of a 2-D float array, bit for bit (numpy's
    arithmetic: deviations from ``nanmean_rows``, NaN as 0, squared, summed, over count - ddof;
    NaN where count <= ddof), in fewer passes; call it inside ``_quiet``."""
    missing = np.isnan(values)
    filled = np.where(missing, 0.0, values)
    count = missing.shape[1] - np.count_nonzero(missing, axis=1)
    np.subtract(filled, _nan_mean(filled, count)[:, None], out=filled)
    np.copyto(filled, 0.0, where=missing)
    np.multiply(filled, filled, out=filled)
    dof = count - ddof
    var = np.sum(filled, axis=1) / dof
    var[dof <= 0] = np.nan
    return np.sqrt(var)  # type: ignore[no-any-return]


def _positive(values: Floats) -> Floats:
    """A denominator: zero (no volume, constant volume) -> NaN, so ratios are n/a, not inf."""
    return np.where(values > 0, values, np.nan)


def abnormal_volume(ar: AbnormalReturns) -> tuple[Floats, Floats]:
    """Per day, the abnormal log volume (N, W) and its t (abnormal / estimation-window std)."""
    abnormal = abnormal_log_volume(ar.panel, ar.market_volume)[1]
    std = _est_volume_stats(ar)[1]  # the estimation block's, remembered
    with _quiet():
        return abnormal, abnormal / std[:, None]


def _est_volume_stats(ar: AbnormalReturns) -> tuple[Floats, ...]:
    """Per event: mean estimation-window volume, sd and count of its abnormal log volume (the
    same for a panel and its window views, which share the estimation block)."""
    return _remembered("estimation", ar.panel.est_vol, ar.market_volume,
                       lambda: _est_volume_arrays(ar))


def _est_volume_arrays(ar: AbnormalReturns) -> tuple[Floats, Floats, Floats]:
    est = abnormal_log_volume(ar.panel, ar.market_volume)[0]
    valid = np.isfinite(est).sum(axis=1)
    with _quiet():
        return (_positive(positive_mean(ar.panel.est_vol)), _positive(nanstd_rows(est, ddof=1)),
                valid.astype(float))


def volume_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...] = DEFAULT_CAR_WINDOWS
                 ) -> pd.DataFrame:
    """Per event and window: volume ratio (window mean / estimation mean), mean abnormal log
    volume over the window's days with a volume and its t (mean / (s / sqrt(k)), k such days,
    treated as independent). A zero volume is missing (``positive_volume``): a half-day with a
    price change keeps its return but does not enter the volume mean. A window that runs past
    the end of the data is null (docs/quality.md)."""
    abnormal, _ = abnormal_volume(ar)
    est_mean, est_std, _ = _est_volume_stats(ar)
    frames = []
    for window in usable_windows(ar, windows):
        cols = ar.cols(window)
        days = np.isfinite(abnormal[:, cols]).sum(axis=1)
        with _quiet():
            ratio = positive_mean(ar.panel.vol[:, cols]) / est_mean
            mean_abn = nanmean_rows(abnormal[:, cols])
            t = mean_abn / (est_std / np.sqrt(days))
        cut = ar.panel.outside_data(window)  # past the end of the data: null, as the CAR
        ratio[cut], mean_abn[cut], t[cut] = np.nan, np.nan, np.nan
        frames.append(pd.DataFrame({
            "event_id": ar.panel.events.index.to_numpy(), "start": window[0], "end": window[1],
            "volume_ratio": ratio, "abnormal_log_volume": mean_abn, "t": t}))
    columns = ["event_id", "start", "end", "volume_ratio", "abnormal_log_volume", "t"]
    return with_windows(pd.concat(frames, ignore_index=True) if frames
                        else pd.DataFrame(columns=columns))


def event_window_volume_ratio(ar: AbnormalReturns) -> Floats:
    """Mean volume over the whole event window / mean estimation-window volume, per event."""
    est_mean, _, _ = _est_volume_stats(ar)
    with _quiet():
        ratio: Floats = positive_mean(ar.panel.vol) / est_mean
    days = ar.panel.days
    ratio[ar.panel.outside_data((int(days[0]), int(days[-1])))] = np.nan  # past the data: null
    return ratio


def day0_volume_ratio(ar: AbnormalReturns) -> Floats:
    """Day-0 volume / mean estimation-window volume, per event (n/a without volume)."""
    est_mean, _, _ = _est_volume_stats(ar)
    with _quiet():
        return positive_volume(ar.panel.vol[:, ar.panel.column(0)]) / est_mean


def abnormal_log_volume(panel: Panel, market: MarketVolume | None = None
                        ) -> tuple[Floats, Floats]:
    """Campbell & Wasley (1996) abnormal volume: ``log(1 + V_it)`` less the market's
    ``log(1 + V_mt)`` (``market_adjust``; unadjusted where ``market`` is None) minus its mean
    over the event's estimation window; returns ``(estimation block, event block)``, read-only
    and remembered for the last few panels (a panel's arrays are not changed once built).
    Zero volume is missing (``positive_volume``)."""
    est, event = _remembered("abnormal", panel, market,
                             lambda: _abnormal_log_volume(panel, market))
    return est, event


def _remembered(name: str, owner: object, market: object,
                compute: Callable[[], tuple[Floats, ...]]) -> tuple[Floats, ...]:
    """``compute()`` for (``name``, ``owner``, ``market``), made read-only and kept while
    ``owner`` lives (a few entries at most): a study asks for the same volume statistics of a
    panel from several tables."""
    key = (name, id(owner), id(market))
    with _LOCK:  # the tables and the cross-event tests may ask from two threads
        hit = _LAST.get(key)
    if hit is not None and hit[0]() is owner and hit[1] is market:
        return hit[2]
    found = compute()
    for values in found:
        values.flags.writeable = False
    with _LOCK:
        while len(_LAST) >= 8:
            _LAST.pop(list(_LAST)[0], None)  # the oldest (a copy of the keys: no live iterator)
        _LAST[key] = (weakref.ref(owner, lambda _: _forget(key)), market, found)
    return found


def _forget(key: tuple[str, int, int]) -> None:
    with _LOCK:
        _LAST.pop(key, None)


_LOCK = threading.RLock()  # re-entrant: an owner may die (and be forgotten) while it is held


_LAST: dict[tuple[str, int, int], tuple[weakref.ref[object], object, tuple[Floats, ...]]] = {}


def _abnormal_log_volume(panel: Panel, market: MarketVolume | None
                         ) -> tuple[Floats, Floats]:
    """``market_adjust`` and the estimation-window demeaning, the estimation block's part made
    once for a panel and its window views (they share ``est_vol`` and the index's estimation
    volume)."""
    est, mean, rows = _estimation_volume(panel.est_vol, None if market is None else market[0])
    event = log_volume(panel.vol)
    if market is not None:
        event = market_adjust(event, market[1], np.asarray(rows, dtype=bool))
    return est, event - mean[:, None]


def _estimation_volume(est_vol: Floats, market: Floats | None) -> tuple[Floats, ...]:
    """(abnormal log volume of the estimation block, its mean per event, the market-adjusted
    rows), remembered for ``est_vol`` and the index's estimation-day volume ``market``."""
    return _remembered("estimation-block", est_vol, market,
                       lambda: _estimation_arrays(est_vol, market))


def _estimation_arrays(est_vol: Floats, market: Floats | None) -> tuple[Floats, ...]:
    rows: Any = np.zeros(len(est_vol), dtype=bool)  # the tuple is of Floats and this Bools
    if market is None:  # log_volume with 0 for NaN: numpy's nanmean copy, made in one pass
        have = est_vol > 0
        filled = np.log1p(est_vol, out=np.zeros(est_vol.shape), where=have)
        with _quiet():
            mean = _nan_mean(filled, _count(have))
        return np.where(have, filled - mean[:, None], np.nan), mean, rows  # NaN - mean = NaN
    est = log_volume(est_vol)
    rows = market_adjusted_rows(est, market)
    est = market_adjust(est, market, rows)
    with _quiet():
        mean = nanmean_rows(est)
    return est - mean[:, None], mean, rows


# --- market adjustment (Campbell & Wasley 1996) ---------------------------------------------

MarketVolume = tuple[Floats, Floats]  # the index's volume, (N, L) and (N, W)


CW_CONSTANT = 0.000255  # Campbell & Wasley (1996), after Cready & Ramanan (1991)


MIN_MARKET_SHARE = 0.5  # market-adjust an event when the index has volume on half its days


def log_turnover(volume: Floats, shares: Floats | None = None) -> Floats:
    """Campbell & Wasley (1996) log turnover ``log(100 V / S + 0.000255)`` when the shares
    outstanding ``S`` are known, else ``log(1 + V)`` (``log_volume``); zero volume is missing."""
    if shares is None:
        return log_volume(volume)
    with _quiet():
        turnover = 100.0 * positive_volume(volume) / np.where(shares > 0, shares, np.nan)
        return np.log(turnover + CW_CONSTANT)


def market_adjusted_rows(est: Floats, market: Floats) -> Bools:
    """Rows whose index has volume (``market``: on the same days as ``est``, the stock's log
    volume) on at least ``MIN_MARKET_SHARE`` of the stock's days."""
    have = np.isfinite(est) & np.isfinite(log_volume(market))
    with _quiet():
        rows: Bools = have.sum(axis=1) >= MIN_MARKET_SHARE * np.isfinite(est).sum(axis=1)
    return rows


def unadjusted_events(ar: AbnormalReturns) -> list[str]:
    """Tickers of events with volume whose abnormal volume is NOT market-adjusted (their index
    has no volume on half their estimation days, or none at all), for a note."""
    mv = ar.market_volume
    if mv is None:  # log(1 + V) is finite where 0 < V < inf
        vol = ar.panel.est_vol
        rows = ((vol > 0) & (vol < np.inf)).any(axis=1)
    else:
        est = log_volume(ar.panel.est_vol)
        rows = np.isfinite(est).any(axis=1) & ~market_adjusted_rows(est, mv[0])
    return list(dict.fromkeys(ar.panel.events["ticker"].to_numpy()[rows].tolist()))


def market_adjust(log_vol: Floats, market: Floats, rows: Bools) -> Floats:
    """Stock log volume less the index's log volume (``market``, volume on the same days) of
    the same day (Campbell & Wasley 1996's market adjustment), on ``rows``
    (``market_adjusted_rows`` of the estimation block); other rows unchanged."""
    adjusted: Floats = np.where(rows[:, None], log_vol - log_volume(market), log_vol)
    return adjusted


def market_volume(panel: Panel, volume_of: Callable[[str], pd.Series | None]
                  ) -> MarketVolume | None:
    """The index's volume on each event's estimation and event dates (NaN where it has none):
    ``volume_of(ticker)`` is the volume series of that ticker's market index, indexed by date,
    or None. None when no event's index has volume."""
    est = np.full(panel.est_vol.shape, np.nan)
    event = np.full(panel.vol.shape, np.nan)
    found = False
    tickers = panel.events["ticker"].to_numpy()
    by_series: dict[int, tuple[pd.Series, list[str]]] = {}  # one entry per index: O(N), not N^2
    for ticker in dict.fromkeys(tickers.tolist()):
        series = volume_of(str(ticker))
        if series is not None:
            by_series.setdefault(id(series), (series, []))[1].append(str(ticker))
    for series, names in by_series.values():
        if not (series > 0).any():
            continue
        found = True
        rows = np.isin(tickers.astype(str), names)
        lookup = series[~series.index.duplicated()]
        for target, dates in ((est, panel.est_dates), (event, panel.dates)):
            values = lookup.reindex(pd.DatetimeIndex(dates[rows].reshape(-1))).to_numpy(float)
            target[rows] = values.reshape(dates[rows].shape)
    return (est, event) if found else None
