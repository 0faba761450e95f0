"""Brown & Warner (1985) simulation: pseudo-events from real data, size and power, small runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.engine import pseudo
from eventstudy.engine import simulate as sim
from eventstudy.engine.crosssection import run_tests
from eventstudy.engine.models import fit_model
from eventstudy.engine.panel import Panel
from eventstudy.engine.prepare import base
from eventstudy.engine.significance import SINGLE_TESTS
from eventstudy.errors import BadInput


@pytest.fixture(scope="module")
def series() -> dict:
    return sim.bundled_series(["0700.HK", "9988.HK", "3690.HK", "1024.HK"])


def synthetic_pool(n: int, seed: int = 0) -> Panel:
    """Synthetic (seeded) iid normal market-model pseudo-events, each on its own dates."""
    rng = np.random.default_rng(seed)
    calendar = pd.bdate_range("2000-01-03", periods=3000).to_numpy().astype("datetime64[ns]")
    start = rng.integers(0, len(calendar) - 141, n)
    idx = start[:, None] + np.arange(141)
    mkt = rng.normal(0.0, 0.01, (n, 141))
    ret = 0.8 * mkt + rng.normal(0.0, 0.02, (n, 141))
    vol = np.exp(rng.normal(12.0, 0.5, (n, 141)))
    ids = [f"S{i:04d}.SYN:pseudo:{i}" for i in range(n)]
    events = pd.DataFrame({"ticker": [i.split(":")[0] for i in ids], "tranche": "pseudo",
                           "group": "synthetic", "day0": calendar[idx[:, 130]]},
                          index=pd.Index(ids, name="event_id"))
    e, w = slice(0, 120), slice(120, None)
    return Panel(events=events, days=np.arange(-10, 11), ret=ret[:, w], mkt=mkt[:, w],
                 vol=vol[:, w], dates=calendar[idx[:, w]], est_ret=ret[:, e], est_mkt=mkt[:, e],
                 est_vol=vol[:, e], est_dates=calendar[idx[:, e]])


def test_pseudo_panel_rows_are_the_real_series(series: dict) -> None:
    panel = sim.pseudo_panel(series, 60, np.random.default_rng(3))
    assert panel.n_events == 60 and panel.events.index.is_unique
    assert panel.est_ret.shape == (60, 250) and not np.isnan(panel.est_ret).any()
    for row, (ticker, day0) in enumerate(zip(panel.events["ticker"], panel.events["day0"],
                                             strict=True)):
        s = series[ticker]
        pos = int(np.searchsorted(s.dates, np.datetime64(day0, "ns")))
        assert s.dates[pos] == np.datetime64(day0, "ns")
        np.testing.assert_array_equal(panel.ret[row], s.ret[pos - 10:pos + 11])
        np.testing.assert_array_equal(panel.est_mkt[row], s.mkt[pos - 260:pos - 10])
        assert panel.est_dates[row, -1] == s.dates[pos - 11]


def test_inject_shifts_and_scales_day0() -> None:
    ar = fit_model(synthetic_pool(40))
    moved = sim.inject(ar, -0.02, 2.0)
    col = ar.panel.column(0)
    np.testing.assert_allclose(moved.ar[:, col], math.sqrt(2) * ar.ar[:, col] - 0.02)
    normal = ar.panel.ret - ar.ar  # the normal return is untouched
    np.testing.assert_allclose(moved.panel.ret - moved.ar, normal, atol=1e-15)
    np.testing.assert_array_equal(np.delete(moved.ar, col, 1), np.delete(ar.ar, col, 1))
    refit = fit_model(moved.panel)
    np.testing.assert_allclose(refit.ar, moved.ar, atol=1e-14)


def test_sample_statistics_match_scipy_per_sample() -> None:
    ar = fit_model(synthetic_pool(200))
    common = base(ar)
    prep = sim.scenario(ar, common, (0, 0), -0.01, 2.0)
    samples = sim.draw_samples(200, 7, 25, np.random.default_rng(0))
    got = sim.sample_statistics(prep, ["t", "bmp", "wilcoxon"], samples, chunk=3)
    moved = sim.inject(ar, -0.01, 2.0)
    for k, rows in enumerate(samples):
        assert len(set(rows)) == 25
        car = moved.ar[rows, moved.panel.column(0)]
        res = stats.ttest_1samp(car, 0.0)
        assert got["t"][0][k] == pytest.approx(res.statistic, rel=1e-10, abs=0)
        assert got["t"][1][k] == pytest.approx(res.pvalue, rel=1e-8, abs=0)
        assert got["wilcoxon"][1][k] == pytest.approx(stats.wilcoxon(car).pvalue, rel=1e-8, abs=0)
        one = run_tests(moved.subset(rows), [(0, 0)], ["bmp"], dedupe=False).iloc[0]
        assert got["bmp"][0][k] == pytest.approx(one["statistic"], rel=1e-10, abs=0)


def test_size_and_power_on_real_data() -> None:
    calls: list[tuple[int, int]] = []
    table = sim.brown_warner(n_samples=120, n_events=30, pool_size=1500,
                             designs=["independent"],
                             shifts=(0.0, -0.005, -0.02), variance_ratios=(1.0,),
                             tests=["t", "bmp", "corrado", "sign", "volume_t"], seed=4,
                             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] == len(calls)
    rate = table.set_index(["test", "shift"])["rejection_rate"]
    assert 0.0 <= rate["t", 0.0] <= 0.15
    for test in ("t", "bmp", "corrado", "sign"):
        assert rate[test, 0.0] < rate[test, -0.005] < rate[test, -0.02]
        assert rate[test, -0.02] > 0.8
    assert ("volume_t", -0.02) not in rate.index
    flags = table[table["kind"] == "size"]
    expected = (flags["rejection_rate"] < 0.03) | (flags["rejection_rate"] > 0.07)
    assert (flags["size_flag"] == expected).all()
    assert not table.loc[table["kind"] == "power", "size_flag"].any()
    power = table[table["shift"] < 0]
    assert (power["reject_negative"] >= power["rejection_rate"] - 0.02).all()


def test_variance_increase_misleads_patell_not_bmp() -> None:
    table = sim.brown_warner(panel=synthetic_pool(600, seed=1), n_samples=300, n_events=40,
                             shifts=(0.0,), variance_ratios=(1.0, 4.0),
                             tests=["patell", "bmp"], seed=2, designs=["independent"])
    rate = table.set_index(["test", "variance_ratio"])["rejection_rate"]
    assert rate["patell", 4.0] > 0.25  # Z ~ N(0, 4): P(|Z| > 1.96) = 0.33
    assert rate["bmp", 4.0] < 0.1
    assert rate["patell", 1.0] < 0.1


def test_same_seed_same_table() -> None:
    kwargs = dict(panel=synthetic_pool(150), n_samples=20, n_events=10, shifts=(0.0, -0.01),
                  variance_ratios=(1.0,), tests=["t", "grank", "kp"])
    first, again = sim.brown_warner(seed=5, **kwargs), sim.brown_warner(seed=5, **kwargs)
    pd.testing.assert_frame_equal(first, again)


def test_bad_arguments() -> None:
    pool = synthetic_pool(30)
    with pytest.raises(BadInput, match="at least that many"):
        sim.brown_warner(panel=pool, n_samples=2, n_events=50)
    with pytest.raises(BadInput, match="variance ratios"):
        sim.brown_warner(panel=pool, variance_ratios=(0.0,))
    with pytest.raises(BadInput, match="unknown test"):
        sim.brown_warner(panel=pool, tests=["z"])
    with pytest.raises(BadInput, match="outside the event window"):
        sim.brown_warner(panel=pool, window=(0, 40), n_events=5, n_samples=2)
    with pytest.raises(BadInput, match="unknown design"):
        sim.brown_warner(panel=pool, designs=["mixed"], n_events=5, n_samples=2)
    with pytest.raises(BadInput, match="on one date"):  # synthetic dates never coincide 5 times
        sim.brown_warner(panel=pool, designs=["clustered"], n_events=5, n_samples=2)


def test_clustered_pool_puts_every_sample_on_one_date(series: dict) -> None:
    rng = np.random.default_rng(1)
    panel = pseudo.clustered_panel(series, 40, 3, rng)
    ev = panel.events
    assert ev.groupby("day0").size().min() >= 3 and ev.groupby("day0").ngroups == 40
    for row, (ticker, day0) in enumerate(zip(ev["ticker"], ev["day0"], strict=True)):
        s = series[ticker]
        pos = int(np.searchsorted(s.dates, np.datetime64(day0, "ns")))
        np.testing.assert_array_equal(panel.est_ret[row], s.ret[pos - 260:pos - 10])
    rows = np.arange(panel.n_events)
    samples = pseudo.cluster_samples(ev["day0"].to_numpy(), rows, 200, 3, rng)
    for sample in samples:
        assert len(set(sample)) == 3
        assert ev["day0"].iloc[sample].nunique() == 1
        assert ev["ticker"].iloc[sample].nunique() == 3


def test_designs_and_single_event_hook() -> None:
    """The single design calls every per-event test with (prepared window, rows); single_t is
    CAR / prediction-error sd against t(L - 2), checked against scipy on each drawn event."""
    seen: list[int] = []

    def always(prep, rows):  # a per-event test as another helper would add (e.g. SQ)
        seen.append(len(rows))
        return np.zeros(len(rows)), np.full(len(rows), 0.01)

    pool = synthetic_pool(300, seed=3)
    table = sim.brown_warner(panel=pool, n_samples=80, n_events=10, shifts=(0.0, -0.04),
                             variance_ratios=(1.0,), tests=["t"], designs=["single"],
                             single_tests={**SINGLE_TESTS, "always": always}, seed=1)
    rate = table.set_index(["test", "shift"])["rejection_rate"]
    assert rate["always", 0.0] == 1.0 and seen == [80, 80]
    assert set(table["design"]) == {"single"} and (table["n_events"] == 1).all()
    ar = fit_model(pool)
    rng = np.random.default_rng(1)
    rows = pseudo.single_samples(300, 80, rng)
    col = ar.panel.column(0)
    rejected = rejected_sq = 0
    for i in rows:  # literal: OLS residual variance and the MacKinlay (1997) prediction error
        y, x = ar.panel.est_ret[i], ar.panel.est_mkt[i]
        b, a = np.polyfit(x, y, 1)
        s2 = ((y - a - b * x) ** 2).sum() / (len(y) - 2)
        x0 = ar.panel.mkt[i, col]
        var = s2 * (1 + 1 / len(x) + (x0 - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
        ar0 = ar.panel.ret[i, col] - a - b * x0
        rejected += 2 * stats.t.sf(abs(ar0 / math.sqrt(var)), len(y) - 2) < 0.05
        # Gelbach-Helland-Klick SQ: the day-0 AR among the estimation residuals, equal tails
        resid = list(y - a - b * x)
        below = sum(r <= ar0 for r in resid)
        above = sum(r >= ar0 for r in resid)
        rejected_sq += min(1.0, 2 * (1 + min(below, above)) / (len(resid) + 1)) < 0.05
    assert rate["single_t", 0.0] == pytest.approx(rejected / 80, rel=1e-12, abs=0)
    assert rate["single_t", -0.04] > rate["single_t", 0.0]
    assert rate["single_sq", 0.0] == pytest.approx(rejected_sq / 80, rel=1e-12, abs=0)
    assert rate["single_sq", -0.04] > rate["single_sq", 0.0]


def test_all_designs_on_real_data_kp_holds_where_bmp_does_not() -> None:
    """Events clustered on one date: BMP ignores the cross-correlation, KP's event-time r-bar
    corrects it; on independent dates KP equals BMP (r-bar ~ 0)."""
    table = sim.brown_warner(n_samples=400, n_events=30, pool_size=2500, shifts=(0.0,),
                             variance_ratios=(1.0,), tests=["bmp", "kp", "t"], seed=7)
    assert set(table["design"]) == set(pseudo.DESIGNS)
    rate = table.set_index(["design", "test"])["rejection_rate"]
    assert rate["clustered", "kp"] < rate["clustered", "bmp"]
    # r-bar ~ 0 on independent dates: KP and BMP differ by a few of the 400 samples at most
    assert abs(rate["independent", "kp"] - rate["independent", "bmp"]) <= 0.02
    assert table.attrs["pool"]["clustered"] >= 5 * 3
    assert sim.summary(table).index.names == ["design", "test"]
