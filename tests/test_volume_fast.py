"""The copy-free NaN means and standard deviations of the abnormal-volume code
(``nanmean_rows``, ``nanstd_rows``, ``positive_mean``, the estimation block made in one pass,
``unadjusted_events``) against numpy's ``nanmean``/``nanstd`` and the straightforward formulas
written here, bit for bit: on seeded synthetic volumes (NaN, zero and infinite volume, all-NaN
rows, column views), on the real bundled prices and on the real HK panel of ../shared/data when
present (Yahoo's dirt; the index has volume there, so the market-adjusted path runs too)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import event_study, make_event
from eventstudy.calendar.listings import load_listings
from eventstudy.data.loader import PriceLoader
from eventstudy.engine import volume as vol
from eventstudy.studies.batch import listing_events
from tests.helpers import PANEL_FOLDER, panel_folder_sample

PANEL = PANEL_FOLDER


def same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal shape, dtype and every bit (NaN payloads and signed zeros included)."""
    got, want = np.asarray(got), np.asarray(want)
    return (got.shape == want.shape and got.dtype == want.dtype
            and np.array_equal(got.view(np.uint64), want.view(np.uint64)))


def quiet():  # noqa: ANN201
    """numpy's warnings off, as the library's ``_quiet`` (all-NaN rows are expected here)."""
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("ignore", RuntimeWarning)
    return context


def check_rows(values: np.ndarray) -> None:
    context = quiet()
    try:
        assert same_bits(vol.nanmean_rows(values), np.nanmean(values, axis=1))
        for ddof in (0, 1):
            assert same_bits(vol.nanstd_rows(values, ddof), np.nanstd(values, axis=1, ddof=ddof))
    finally:
        context.__exit__(None, None, None)


def synthetic_volume(seed: int, n: int, length: int) -> np.ndarray:
    """Seeded synthetic volumes: lognormal, a tenth zero, NaN holes, all-NaN rows, an inf."""
    rng = np.random.default_rng(seed)
    volume = rng.lognormal(12, 2, (n, length)) * (rng.random((n, length)) > 0.1)
    volume[rng.random((n, length)) < 0.05] = np.nan
    volume[rng.random(n) < 0.1] = np.nan
    volume[rng.random(n) < 0.1, 1:] = np.nan  # one value left
    if seed % 3 == 0:
        volume[0, 0] = np.inf
    return volume


def check_volume(est_vol: np.ndarray, market: np.ndarray | None) -> None:
    """The remembered estimation block and its statistics against the plain formulas."""
    context = quiet()
    try:
        est = vol.log_volume(est_vol)
        rows = np.zeros(len(est), dtype=bool)
        if market is not None:
            rows = vol.market_adjusted_rows(est, market)
            est = np.where(rows[:, None], est - vol.log_volume(market), est)
        mean = np.nanmean(est, axis=1)
        got = vol._estimation_arrays(est_vol, market)
        assert same_bits(got[0], est - mean[:, None])
        assert same_bits(got[1], mean)
        assert np.array_equal(got[2], rows)
        check_rows(est)
        check_rows(est - mean[:, None])
        assert same_bits(vol.positive_mean(est_vol),
                         np.nanmean(vol.positive_volume(est_vol), axis=1))
        assert same_bits(vol.positive_mean(est_vol[:, 2:-3]),
                         np.nanmean(vol.positive_volume(est_vol[:, 2:-3]), axis=1))
    finally:
        context.__exit__(None, None, None)


@pytest.mark.parametrize("seed", range(12))
def test_synthetic_rows_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, length = int(rng.integers(1, 80)), int(rng.integers(1, 300))
    volume = synthetic_volume(seed, n, length)
    check_volume(volume, None)
    market = synthetic_volume(seed + 50, n, length)
    market[: n // 3] = np.nan  # events whose index has no volume: not market-adjusted
    check_volume(volume, market)
    check_rows(vol.log_volume(volume)[:, length // 3:])  # a column view, as a window's


def check_study(ar) -> None:  # noqa: ANN001
    """A study's volume statistics against numpy's and the plain formulas."""
    panel, market = ar.panel, ar.market_volume
    check_volume(panel.est_vol, None)
    if market is not None:
        check_volume(panel.est_vol, market[0])
    context = quiet()
    try:
        est, abnormal = vol.abnormal_log_volume(panel, market)
        stats = vol._est_volume_arrays(ar)
        std = np.nanstd(est, axis=1, ddof=1)
        assert same_bits(stats[0], vol._positive(
            np.nanmean(vol.positive_volume(panel.est_vol), axis=1)))
        assert same_bits(stats[1], vol._positive(std))
        got, t = vol.abnormal_volume(ar)
        assert same_bits(t, abnormal / vol._positive(std)[:, None])
        plain = vol.log_volume(panel.est_vol)
        has = np.isfinite(plain).any(axis=1)
        if market is not None:
            has &= ~vol.market_adjusted_rows(plain, market[0])
        want = list(dict.fromkeys(panel.events["ticker"].to_numpy()[has].tolist()))
        assert vol.unadjusted_events(ar) == want
    finally:
        context.__exit__(None, None, None)


def test_bundled_listings_bit_for_bit() -> None:
    events, _ = listing_events(load_listings())
    result = event_study(events, offline=True)
    assert len(result.ar.panel.events) > 10
    check_study(result.ar)


@pytest.mark.skipif(not PANEL.is_dir(), reason="the real HK panel of ../shared/data is absent")
def test_real_hk_panel_bit_for_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(25)
    loader, found = panel_folder_sample(tmp_path / "cache", rng, 40)
    events = []
    for ticker, index in found:
        for k, at in enumerate(rng.integers(300, len(index), 4).tolist()):
            event = make_event(ticker, index[at], tranche=f"t{k}")
            if event is not None:
                events.append(event)
    result = event_study(events, loader=loader, market="^HSI", window=(-10, 20),
                         estimation=(-250, -11))
    assert len(result.ar.panel.events) > 50
    assert result.ar.market_volume is not None  # the index's volume: market-adjusted path
    check_study(result.ar)
    check_study(result.ar.window_view((-10, 20)))


def test_source_of_unnormalised_ticker(tmp_path: Path) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    frame = pd.DataFrame({"date": pd.bdate_range("2020-01-01", periods=5).strftime("%Y-%m-%d"),
                          "close": [1.0, 1.1, 1.2, 1.1, 1.0], "volume": [5, 6, 7, 8, 9]})
    frame.to_csv(folder / "0020.HK.csv", index=False)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    loader.prefetch(["0020.HK"])
    want = loader.source("0020.HK")
    assert loader.source("20.hk") == want == loader.source(" 0020.HK")
    attrs = loader.load("0020.HK").attrs
    assert want == (str(attrs.get("source")), str(attrs.get("adjustment")))
