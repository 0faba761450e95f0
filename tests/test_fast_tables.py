"""The vectorised per-event tables against straightforward loops written here, on real
bundled prices: the sample-quantile (SQ) test's rolling sums and p-values (Gelbach, Helland &
Klick 2013) and the CAR table's t and p (MacKinlay 1997)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.engine.quantile import rolling_sums, sq_test
from eventstudy.studies.batch import batch_study

EVENTS = pd.DataFrame({  # real bundled prices
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-12-30", "2021-08-05"],
})


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return batch_study(EVENTS, offline=True)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 7, 8, 11, 21])
def test_rolling_sums_equal_a_loop(result, length: int) -> None:  # type: ignore[no-untyped-def]
    est = result.ar.est_ar
    assert np.isnan(est).any() and np.isfinite(est).sum() > 100  # real gaps and returns
    sums = rolling_sums(est, length)
    width = est.shape[1] - length + 1
    assert sums.shape == (len(est), width)
    for i in range(len(est)):
        for k in range(width):
            window = est[i, k:k + length]
            if np.isnan(window).any():
                assert np.isnan(sums[i, k])
            else:
                assert sums[i, k] == pytest.approx(math.fsum(window), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("length", [1, 3, 21])
def test_sq_p_values_equal_a_count(result, length: int) -> None:  # type: ignore[no-untyped-def]
    est = result.ar.est_ar
    car = np.nansum(result.ar.ar[:, :length], axis=1) * 0.5  # inside the sums' range
    p, min_p, n = sq_test(car, est, length)
    for i in range(len(est)):
        sums = [math.fsum(est[i, k:k + length]) for k in range(est.shape[1] - length + 1)
                if not np.isnan(est[i, k:k + length]).any()]
        assert n[i] == len(sums)
        below = sum(s <= car[i] for s in sums)
        above = sum(s >= car[i] for s in sums)
        expected = min(1.0, 2 * (1 + min(below, above)) / (len(sums) + 1))
        assert p[i] == pytest.approx(expected, rel=1e-12, abs=0)
        assert min_p[i] == pytest.approx(min(1.0, 2 / (len(sums) + 1)), rel=1e-12, abs=0)


def test_car_table_equals_the_formulas(result) -> None:  # type: ignore[no-untyped-def]
    """CAR_i = sum of AR over the window, se from the prediction-error variance (MacKinlay
    1997, eq. 9-10), t = CAR / se, p two-sided Student t with the event's residual dof."""
    ar = result.ar
    ids = list(ar.panel.events.index)
    days = list(ar.panel.days)
    checked = 0
    for row in result.car.itertuples():
        i = ids.index(row.event_id)
        cols = slice(days.index(row.start), days.index(row.end) + 1)
        tau = cols.stop - cols.start
        car = ar.ar[i, cols].sum()
        var = ar.sigma2[i] * (tau + tau**2 * ar.h0[i] + ar.d[i, cols].sum() ** 2)
        if not np.isfinite(car):
            assert np.isnan(row.car)
            continue
        t = car / math.sqrt(var)
        assert row.car == pytest.approx(car, rel=1e-12, abs=1e-15)
        assert row.t == pytest.approx(t, rel=1e-12, abs=1e-12)
        assert row.p == pytest.approx(2 * stats.t.sf(abs(t), ar.dof[i]), rel=1e-10, abs=0)
        checked += 1
    assert checked > 10


def _wilcoxon_by_hand(x: np.ndarray) -> tuple[float, float]:
    """Signed-rank z with ties and zeros dropped, written out (Wilcoxon 1945; the normal
    approximation with the tie correction), and scipy's p-value."""
    d = x[x != 0]
    a = np.abs(d)
    ranks = stats.rankdata(a)  # average ranks of the ties
    n = len(d)
    w_plus = ranks[d > 0].sum()
    _, counts = np.unique(a, return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24 - (counts**3 - counts).sum() / 48
    return (w_plus - n * (n + 1) / 4) / math.sqrt(var), float(stats.wilcoxon(x).pvalue)


@pytest.mark.parametrize("case", ["plain", "ties", "zeros", "small"])
def test_wilcoxon_equals_scipy_on_real_returns(result, case: str) -> None:  # type: ignore[no-untyped-def]
    """Real abnormal returns of bundled prices: above 50 values without ties or zeros the
    p-value is the normal approximation computed here; with ties, zeros or few values scipy's
    own. Either way the same numbers as scipy.stats.wilcoxon."""
    from eventstudy.engine.significance import wilcoxon

    x = result.ar.ar.ravel()
    x = x[np.isfinite(x)][:400]
    if case == "ties":
        x = np.round(x, 3)  # many |x| tied
    elif case == "zeros":
        x = np.concatenate([x[:200], np.zeros(3)])
    elif case == "small":
        x = x[:30]
    assert len(np.unique(np.abs(x))) < len(x) if case == "ties" else True
    got = wilcoxon(x)
    z, p = _wilcoxon_by_hand(x)
    assert float(got.statistic) == pytest.approx(z, rel=1e-12, abs=1e-12)
    assert float(got.p_value) == pytest.approx(p, rel=1e-12, abs=0)
    rows = np.vstack([x, -x[::-1], x * 2.0])  # several samples at once
    batch = wilcoxon(rows)
    for row, stat, pv in zip(rows, batch.statistic, batch.p_value, strict=True):
        assert pv == pytest.approx(float(stats.wilcoxon(row).pvalue), rel=1e-12, abs=0)
        assert stat == pytest.approx(_wilcoxon_by_hand(row)[0], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("model", ["market", "dimson", "market_adjusted"])
def test_t_of_one_day_equals_the_full_matrix(result, model: str) -> None:  # type: ignore[no-untyped-def]
    """``t_at(c)`` (what the events table and the design checks read for day 0) is column c of
    the full AR t matrix, AR / sqrt(s^2 (1 + h0 + d^2 + |dx|^2)), on real prices."""
    from eventstudy.engine.models import fit_model

    ar = fit_model(result.ar.panel, model)
    with np.errstate(invalid="ignore", divide="ignore"):
        full = ar.ar / np.sqrt(ar.ar_var)
        for c in range(full.shape[1]):
            np.testing.assert_array_equal(ar.t_at(c), full[:, c])
    assert (ar.dx is not None) == (model == "dimson")
