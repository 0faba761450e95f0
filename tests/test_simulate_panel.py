"""Issue 22: the simulation's real panel (190 HK stocks, data/panel/hk_panel_190.parquet) and its
designs: clustered samples of 30 on one date, young listings estimated by the lock-up rule, one
pseudo-event per firm per sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine.panel import STABILISATION
from eventstudy.engine.pseudo import bundled_series
from eventstudy.engine.realpanel import (
    HK_PANEL,
    listing_dates,
    one_per_firm_samples,
    panel_series,
    young_panel,
)
from eventstudy.errors import BadInput


def test_the_panel_file_is_the_shared_csvs_close_and_volume() -> None:
    """Spot-check two stocks against the raw shared-data layout (3-row yfinance header)."""
    table = pd.read_parquet(HK_PANEL)
    assert table["ticker"].nunique() == 190
    first = table[table["ticker"] == "0001.HK"].iloc[0]
    assert str(first["date"].date()) == "2009-01-02"
    assert first["close"] == pytest.approx(24.84714698791504, rel=1e-15, abs=0)
    assert first["volume"] == 5246448
    assert table["close"].notna().all()


def test_young_listings_are_estimated_after_stabilisation_and_miss_the_anniversary() -> None:
    series = bundled_series()
    listed = listing_dates(series)
    assert "0700.HK" not in listed and "0020.HK" in listed  # Tencent starts at the download
    panel = young_panel(series, 6, np.random.default_rng(1), per_listing=3)
    for row in panel.events.itertuples():
        dates = pd.DatetimeIndex(series[row.ticker].dates)
        listing = dates.get_loc(pd.Timestamp(row.listing_date))
        start, day0 = dates.get_loc(row.estimation_start), dates.get_loc(row.day0)
        anniversary = dates.searchsorted(pd.Timestamp(row.listing_date) + pd.DateOffset(months=6))
        assert start == max(listing + STABILISATION, day0 - 270)
        assert 25 <= day0 - anniversary <= 60


def test_one_pseudo_event_per_firm_in_each_sample() -> None:
    rng = np.random.default_rng(3)
    tickers = np.repeat(np.array([f"T{i}" for i in range(12)]), 5)
    rows = np.arange(len(tickers))
    samples = one_per_firm_samples(tickers, rows, 200, 10, rng)
    assert samples.shape == (200, 10)
    assert all(len(set(tickers[s])) == 10 for s in samples)
    assert len(np.unique(samples)) == len(rows)  # every row can be drawn
    with pytest.raises(BadInput, match="need at least that many"):
        one_per_firm_samples(tickers, rows, 5, 13, rng)


def test_clustered_samples_of_30_on_one_date_from_the_real_panel() -> None:
    """``--cluster-size 30`` failed on the 10 bundled stocks; the 190-stock panel has dates with
    30 stocks."""
    from eventstudy.engine.simulate import brown_warner

    table = brown_warner(n_samples=5, designs=["clustered:30"], tests=["t", "kp"],
                         shifts=[0.0], variance_ratios=[1.0], source="hk190", pool_size=300)
    assert set(table["n_events"]) == {30} and set(table["design"]) == {"clustered:30"}
    assert len(panel_series("hk190")) > 190
