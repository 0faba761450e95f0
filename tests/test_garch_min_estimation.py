"""MIN_GARCH_ESTIMATION (issue 22): a lock-up study reports no GARCH number on a short estimation
sample (the raw residual variance ratio and its permutation p instead, with a note); the explicit
``garch`` study fits anyway and flags it. Real bundled data: SenseTime's 12-month tranche has 85
GARCH estimation sessions, Tencent's long history several hundred."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.loader import PriceLoader
from eventstudy.report.headline import firm_day_cards
from eventstudy.report.volatility import volatility_blocks
from eventstudy.studies.garch import garch_study, return_series
from eventstudy.studies.lockup import lockup_study
from eventstudy.volatility.base import MIN_GARCH_ESTIMATION
from eventstudy.volatility.event import volatility_study

TWELVE = "0020.HK:controlling_12m:2022-12-30"


@pytest.fixture(scope="module")
def sensetime():
    return lockup_study("0020.HK", offline=True, volatility=True)


@pytest.fixture(scope="module")
def tencent() -> tuple[pd.Series, pd.Series]:
    return return_series(PriceLoader(offline=True), "0700.HK")


def test_short_sample_falls_back_to_the_raw_ratio(sensetime) -> None:
    vol = sensetime.extras["volatility"][TWELVE]
    assert vol.estimation_sessions == 85 < MIN_GARCH_ESTIMATION
    assert vol.fit is None and vol.ratio.dummy_test is None and vol.selection.candidates == []
    assert vol.short_sample.startswith(
        f"GARCH not fitted: 85 estimation sessions < {MIN_GARCH_ESTIMATION}")
    # raw ratio, independently: OLS market model on the 85 estimation returns (scaled x100),
    # mean e^2 over [+1,+20] / over [-20,-1]
    path = vol.path
    est = path[path["estimation"]]
    _, market = return_series(PriceLoader(offline=True), "0020.HK",
                              listing_date=pd.Timestamp("2021-12-30"))
    m = (market.reindex(path.index) * 100).to_numpy()
    x = np.column_stack([np.ones(len(est)), m[: len(est)]])
    beta = np.linalg.lstsq(x, est["ret"].to_numpy(), rcond=None)[0]
    e = path["ret"].to_numpy() - np.column_stack([np.ones(len(m)), m]) @ beta
    days = path["day"].to_numpy()
    post, pre = e[(days >= 1) & (days <= 20)], e[(days >= -20) & (days <= -1)]
    raw = np.mean(post**2) / np.mean(pre**2)
    assert vol.ratio.raw_ratio == pytest.approx(raw, rel=1e-9, abs=0)
    assert 0 < vol.ratio.raw_perm_pvalue <= 1
    line = (f"{TWELVE}: GARCH not fitted: 85 estimation sessions < {MIN_GARCH_ESTIMATION} "
            f"(MIN_GARCH_ESTIMATION, Hwang & Valls Pereira 2006); raw variance ratio {raw:.3f} "
            f"(permutation p {vol.ratio.raw_perm_pvalue:.3f})")
    assert line in str(sensetime.summary())
    doc = json.loads(sensetime.to_json())["volatility"][TWELVE]
    assert doc["garch_fitted"] is False and doc["estimation_sessions"] == 85
    assert doc["min_garch_estimation"] == MIN_GARCH_ESTIMATION
    assert doc["short_sample"] == vol.short_sample and doc["fit"] is None
    assert "garch_bmp" not in set(sensetime.tests.get("test", pd.Series(dtype=str)))


def test_short_sample_in_the_report(sensetime) -> None:
    vol = sensetime.extras["volatility"][TWELVE]
    text = str(volatility_blocks(vol)[0].items)
    assert f"WARNING: {vol.short_sample}" in text
    card = dict(firm_day_cards(sensetime))
    values = [c.loc["volatility ratio", "value"] for c in card.values()
              if "volatility ratio" in c.index]
    assert values and all(v.startswith("raw ") and "GARCH not fitted" in v for v in values)


def test_long_sample_fits_garch(tencent) -> None:
    stock, market = tencent
    vol = volatility_study(stock.iloc[-400:], stock.index[-60], market.iloc[-400:])
    assert vol.estimation_sessions >= MIN_GARCH_ESTIMATION
    assert vol.fit is not None and vol.short_sample is None
    assert "GARCH not fitted" not in vol.summary() and "WARNING" not in vol.summary()
    assert vol.to_dict()["garch_fitted"] is True


def test_the_threshold_is_the_constant(tencent) -> None:
    stock, market = tencent
    below, at = (volatility_study(stock.iloc[-400:], stock.index[-60], market.iloc[-400:],
                                  estimation_length=n, dummy_test=False)
                 for n in (MIN_GARCH_ESTIMATION - 1, MIN_GARCH_ESTIMATION))
    assert below.estimation_sessions == MIN_GARCH_ESTIMATION - 1 and below.fit is None
    assert at.estimation_sessions == MIN_GARCH_ESTIMATION and at.fit is not None
    assert at.short_sample is None


def test_explicit_garch_fits_short_samples_with_a_warning() -> None:
    vol = garch_study("0020.HK", offline=True, dummy_test=False)
    assert vol.fit is not None and vol.estimation_sessions < MIN_GARCH_ESTIMATION
    assert vol.short_sample.startswith(f"GARCH fitted on {vol.estimation_sessions} estimation "
                                       f"sessions < {MIN_GARCH_ESTIMATION}")
    assert f"WARNING: {vol.short_sample}" in vol.summary()
