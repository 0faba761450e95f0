"""Cross-event tests against literal per-event implementations of the published formulas.

Every expected value here is computed event by event with plain Python loops, statsmodels OLS and
scipy.stats on the raw panel arrays, independently of ``eventstudy.models`` and
``eventstudy.significance``. Panels: small seeded synthetic ones (named synthetic), and the real
bundled lock-up panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from eventstudy.engine.crosssection import (
    aar_table,
    event_table,
    overlapping_windows,
    run_tests,
    volume_table,
)
from eventstudy.engine.models import AbnormalReturns, fit_model
from eventstudy.engine.panel import Panel
from eventstudy.engine.prepare import prepare
from eventstudy.engine.ranks import _ranks, rank_rows, split_ranks
from eventstudy.engine.significance import TESTS, compute, kp_rbar
from eventstudy.errors import BadInput

CALENDAR = pd.bdate_range("2012-01-02", periods=900).to_numpy().astype("datetime64[ns]")
RTOL = 1e-8


# ---------------------------------------------------------------------------------------------
# Synthetic panels


def synthetic_panel(seed: int, *, n_firms: int = 10, per_firm: int = 1, duplicates: int = 0,
                    clustered: bool = False, length: int = 120, days: tuple[int, int] = (-5, 5),
                    ragged: bool = True, stagger: int = 1) -> Panel:
    """Synthetic market-model returns of ``n_firms`` firms on a business-day calendar.

    ``per_firm`` events per firm on random sessions; ``duplicates`` extra tranches repeating an
    existing firm-day; ``clustered``: event k on session day0 + k % ``stagger`` and a common
    factor outside the market (cross-correlated residuals). ``ragged``: shorter estimation
    windows, missing days, zero volumes and an event window cut by the end of the data.
    """
    rng = np.random.default_rng(seed)
    size = len(CALENDAR)
    mkt = rng.normal(3e-4, 0.01, size)
    common = rng.normal(0.0, 0.012, size)
    series = {}
    for f in range(n_firms):
        load = rng.uniform(0.6, 1.4) if clustered else 0.0
        ret = 2e-4 + rng.uniform(0.5, 1.5) * mkt + load * common + 0.015 * rng.standard_t(5, size)
        vol = np.exp(rng.normal(14.0, 0.6, size))
        vol[rng.random(size) < 0.01] = 0.0
        series[f"{f + 1:04d}.SYN"] = (ret, vol)
    lo, hi = length - days[0] + 5, size - days[1] - 1
    day0 = int(rng.integers(lo, hi))
    rows = []
    for ticker in series:
        stagger_k = len(rows) % stagger
        chosen = ([day0 + stagger_k] if clustered
                  else rng.choice(np.arange(lo, hi), per_firm, replace=False))
        rows += [(ticker, "event", int(p)) for p in chosen]
    arrays = _arrays(rows, series, mkt, length, days)
    if ragged:
        _ragged(arrays, rng)
    copies = [k % len(rows) for k in range(duplicates)]  # same firm-day, other tranche
    rows += [(rows[c][0], f"extra{k}", rows[c][2]) for k, c in enumerate(copies)]
    arrays = {k: np.concatenate([v, v[copies]]) for k, v in arrays.items()}
    ids = [f"{t}:{tr}:{pd.Timestamp(CALENDAR[p]).date()}" for t, tr, p in rows]
    events = pd.DataFrame({"ticker": [r[0] for r in rows], "tranche": [r[1] for r in rows],
                           "group": ["a" if i % 2 else "b" for i in range(len(rows))],
                           "day0": [pd.Timestamp(CALENDAR[r[2]]) for r in rows]},
                          index=pd.Index(ids, name="event_id"))
    return Panel(events=events, days=np.arange(days[0], days[1] + 1), **arrays)


def _arrays(rows: list[tuple[str, str, int]], series: dict, mkt: np.ndarray, length: int,
            days: tuple[int, int]) -> dict[str, np.ndarray]:
    rel, est_rel = np.arange(days[0], days[1] + 1), np.arange(days[0] - length, days[0])
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("ret", "mkt", "vol", "dates", "est_ret",
                                                        "est_mkt", "est_vol", "est_dates")}
    for ticker, _, pos in rows:
        ret, vol = series[ticker]
        for prefix, offsets in (("", rel), ("est_", est_rel)):
            idx = pos + offsets
            for name, values in (("ret", ret), ("mkt", mkt), ("vol", vol), ("dates", CALENDAR)):
                out[prefix + name].append(values[idx].copy())
    return {k: np.array(v) for k, v in out.items()}


def _ragged(a: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Shorter estimation windows (NaN on the left), missing estimation days, and one event
    window cut by the end of the data. Identical firm-days stay identical."""
    n = len(a["ret"])
    for i in range(0, n, 3):
        cut = int(rng.integers(10, 40))
        for name in ("est_ret", "est_mkt", "est_vol"):
            a[name][i, :cut] = np.nan
        a["est_dates"][i, :cut] = np.datetime64("NaT")
    a["est_ret"][1, [50, 51, 70]] = np.nan
    for name in ("ret", "mkt", "vol"):
        a[name][2, -2:] = np.nan
    a["dates"][2, -2:] = np.datetime64("NaT")


# ---------------------------------------------------------------------------------------------
# Literal per-event implementation of the market model and the tests


@dataclass
class Literal:
    """Per-event results of a statsmodels OLS loop for one window."""

    car: np.ndarray
    scar: np.ndarray
    patell_var: np.ndarray
    resid: list[pd.Series]  # estimation residuals indexed by date
    sar_est: list[np.ndarray]  # residual / s at each estimation column (NaN if missing)
    ar: np.ndarray  # (N, W) event-window ARs
    est_ar: np.ndarray  # (N, L)
    pos_frac: np.ndarray


def literal_market_model(panel: Panel, window: tuple[int, int]) -> Literal:
    n, length = panel.est_ret.shape
    cols = list(range(window[0] - panel.days[0], window[1] - panel.days[0] + 1))
    tau = len(cols)
    out = {k: [] for k in ("car", "scar", "pv", "resid", "sar", "ar", "est_ar", "pos")}
    for i in range(n):
        y, x = panel.est_ret[i], panel.est_mkt[i]
        ok = np.isfinite(y) & np.isfinite(x)
        X = sm.add_constant(x[ok])
        fit = sm.OLS(y[ok], X).fit()
        a, b = fit.params
        s2 = fit.ssr / (ok.sum() - 2)
        ar = panel.ret[i] - a - b * panel.mkt[i]
        x0 = np.column_stack([np.ones(tau), panel.mkt[i, cols]])
        ones = np.ones(tau)
        var = s2 * (tau + ones @ x0 @ np.linalg.inv(X.T @ X) @ x0.T @ ones)  # MacKinlay (1997)
        car = sum(ar[c] for c in cols)
        est_ar = np.full(length, np.nan)
        est_ar[ok] = fit.resid
        out["car"].append(car)
        out["scar"].append(car / math.sqrt(var))
        big_l = ok.sum()
        out["pv"].append((big_l - 2) / (big_l - 4))
        dated = ok & ~np.isnat(panel.est_dates[i])
        out["resid"].append(pd.Series(est_ar[dated], index=panel.est_dates[i][dated]))
        out["sar"].append(est_ar / math.sqrt(s2))
        out["ar"].append(ar)
        out["est_ar"].append(est_ar)
        out["pos"].append(sum(1 for v in fit.resid if v > 0) / len(fit.resid))
    return Literal(np.array(out["car"]), np.array(out["scar"]), np.array(out["pv"]),
                   out["resid"], out["sar"], np.array(out["ar"]), np.array(out["est_ar"]),
                   np.array(out["pos"]))


def literal_rows(panel: Panel, dedupe: bool) -> list[int]:
    seen, rows = set(), []
    for i, (ticker, day0) in enumerate(zip(panel.events["ticker"], panel.events["day0"],
                                           strict=True)):
        if dedupe and (ticker, day0) in seen:
            continue
        seen.add((ticker, day0))
        rows.append(i)
    return rows


def literal_rbar(resid: list[pd.Series]) -> float:
    """Average of r_ij = sum over common dates of z_i z_j, z demeaned and unit-norm per event."""
    z = []
    for r in resid:
        d = r - r.mean()
        z.append(d / math.sqrt((d**2).sum()))
    total, pairs = 0.0, 0
    for i in range(len(z)):
        for j in range(len(z)):
            if i != j:
                common = z[i].index.intersection(z[j].index)
                total += float((z[i][common] * z[j][common]).sum())
                pairs += 1
    return total / pairs


def literal_rbar_overlap(resid: list[pd.Series], window_dates: list[set]) -> float:
    """Average of r_ij * (shared event-window days) / tau over ordered pairs i != j."""
    z = []
    for r in resid:
        d = r - r.mean()
        z.append(d / math.sqrt((d**2).sum()))
    tau = len(window_dates[0])
    total = 0.0
    for i in range(len(z)):
        for j in range(len(z)):
            shared = len(window_dates[i] & window_dates[j])
            if i != j and shared:
                common = z[i].index.intersection(z[j].index)
                total += float((z[i][common] * z[j][common]).sum()) * shared / tau
    return total / (len(z) * (len(z) - 1))


def literal_rank_test(series: list[np.ndarray], window_keys: list[int]) -> float:
    """Corrado-Zivney rank statistic; ``series`` rows aligned by column, NaN = missing."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for row in series:
        keys = [k for k in range(len(row)) if np.isfinite(row[k])]
        ranks = stats.rankdata([row[k] for k in keys])
        for k, rank in zip(keys, ranks, strict=True):
            sums[k] = sums.get(k, 0.0) + rank / (len(keys) + 1) - 0.5
            counts[k] = counts.get(k, 0) + 1
    s_u = math.sqrt(sum(sums[k] ** 2 / counts[k] for k in sums) / len(sums))
    top = sum(sums[k] / math.sqrt(counts[k]) for k in window_keys)
    return top / (math.sqrt(len(window_keys)) * s_u)


def literal_grank(scar: np.ndarray, sar_est: list[np.ndarray]) -> tuple[float, float]:
    n = len(scar)
    scar_star = scar / np.std(scar, ddof=1)
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    u0 = []
    for i in range(n):
        keys = [k for k in range(len(sar_est[i])) if np.isfinite(sar_est[i][k])]
        values = [sar_est[i][k] for k in keys] + [scar_star[i]]
        ranks = stats.rankdata(values)
        big_t = len(values)
        for k, rank in zip(keys, ranks[:-1], strict=True):
            sums[k] = sums.get(k, 0.0) + rank / (big_t + 1) - 0.5
            counts[k] = counts.get(k, 0) + 1
        u0.append(ranks[-1] / (big_t + 1) - 0.5)
    ubar0 = sum(u0) / n
    big_t = len(sums) + 1
    s2 = (sum(counts[k] / n * (sums[k] / counts[k]) ** 2 for k in sums) + ubar0**2) / big_t
    z = ubar0 / math.sqrt(s2)
    t = z * math.sqrt((big_t - 2) / (big_t - 1 - z**2))
    return t, 2 * stats.t.sf(abs(t), big_t - 2)


def literal_wilcoxon_z(x: np.ndarray) -> float:
    x = np.array([v for v in x if v != 0])
    n = len(x)
    ranks = stats.rankdata(np.abs(x))
    w_plus = sum(r for r, v in zip(ranks, x, strict=True) if v > 0)
    _, tie_counts = np.unique(np.abs(x), return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in tie_counts) / 48
    return (w_plus - n * (n + 1) / 4) / math.sqrt(var)


def literal_volume(panel: Panel, window: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per event: mean abnormal log(1 + V) over the window's available days (zero volume is
    missing), and the abnormal log volume series (estimation then event days)."""
    cols = range(window[0] - panel.days[0], window[1] - panel.days[0] + 1)
    mav, series = [], []
    for i in range(panel.n_events):
        est = [math.log1p(v) for v in panel.est_vol[i] if np.isfinite(v) and v > 0]
        mean = sum(est) / len(est)

        def ab(v: float, m: float = mean) -> float:
            return math.log1p(v) - m if np.isfinite(v) and v > 0 else np.nan

        window_av = [ab(panel.vol[i, c]) for c in cols]
        seen = [v for v in window_av if np.isfinite(v)]
        mav.append(sum(seen) / len(seen))
        series.append(np.array([ab(v) for v in panel.est_vol[i]] + [ab(v) for v in panel.vol[i]]))
    return np.array(mav), series


def literal_tests(panel: Panel, window: tuple[int, int], dedupe: bool = True) -> dict[str, tuple]:
    """(statistic, p_value, n) of every test, event by event."""
    lit = literal_market_model(panel, window)
    rows = [i for i in literal_rows(panel, dedupe) if np.isfinite(lit.car[i])]
    n = len(rows)
    car, scar = lit.car[rows], lit.scar[rows]
    out: dict[str, tuple] = {}
    res = stats.ttest_1samp(car, 0.0)
    out["t"] = (res.statistic, res.pvalue, n)
    z = scar.sum() / math.sqrt(lit.patell_var[rows].sum())
    out["patell"] = (z, 2 * stats.norm.sf(abs(z)), n)
    res = stats.ttest_1samp(scar, 0.0)
    out["bmp"] = (res.statistic, res.pvalue, n)
    rbar = literal_rbar([lit.resid[i] for i in rows])
    t_kp = res.statistic * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    out["kp"] = (t_kp, 2 * stats.t.sf(abs(t_kp), n - 1), n)
    cols = range(window[0] - panel.days[0], window[1] + 1 - panel.days[0])
    dates = [{panel.dates[i, c] for c in cols} for i in rows]
    rbar = literal_rbar_overlap([lit.resid[i] for i in rows], dates)
    t_kp = res.statistic * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    out["kp_overlap"] = (t_kp, 2 * stats.t.sf(abs(t_kp), n - 1), n)
    combined = [np.concatenate([lit.est_ar[i], lit.ar[i]]) for i in rows]
    length = panel.est_ret.shape[1]
    keys = [length + d - panel.days[0] for d in range(window[0], window[1] + 1)]
    z = literal_rank_test(combined, keys)
    out["corrado"] = (z, 2 * stats.norm.sf(abs(z)), n)
    p_hat = sum(lit.pos_frac[i] for i in rows) / n
    w = sum(1 for i in rows if lit.car[i] > 0)
    z = (w - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
    out["sign"] = (z, 2 * stats.norm.sf(abs(z)), n)
    out["grank"] = (*literal_grank(scar, [lit.sar_est[i] for i in rows]), n)
    out["wilcoxon"] = (literal_wilcoxon_z(car), stats.wilcoxon(car).pvalue, n)
    cols = range(window[0] - panel.days[0], window[1] + 1 - panel.days[0])
    bh = np.array([math.prod(1 + panel.ret[i, c] for c in cols)
                   - math.prod(1 + panel.mkt[i, c] for c in cols) for i in rows])
    res = stats.ttest_1samp(bh, 0.0)
    out["bhar_t"] = (res.statistic, res.pvalue, n)
    mean, sd = bh.mean(), bh.std(ddof=1)
    gamma = sum((v - mean) ** 3 for v in bh) / (n * sd**3)
    s = mean / sd
    t_sa = math.sqrt(n) * (s + gamma * s**2 / 3 + gamma / (6 * n))
    out["bhar_skew_t"] = (t_sa, 2 * stats.t.sf(abs(t_sa), n - 1), n)
    mav, av = literal_volume(panel, window)
    vrows = [i for i in literal_rows(panel, dedupe) if np.isfinite(mav[i])]
    res = stats.ttest_1samp(mav[vrows], 0.0)
    out["volume_t"] = (res.statistic, res.pvalue, len(vrows))
    z = literal_rank_test([av[i] for i in vrows], keys)
    out["volume_rank"] = (z, 2 * stats.norm.sf(abs(z)), len(vrows))
    return out


def assert_matches(table: pd.DataFrame, expected: dict[str, tuple]) -> None:
    for test, (stat, p, n) in expected.items():
        row = table.set_index("test").loc[test]
        assert row["n"] == n, test
        assert row["statistic"] == pytest.approx(stat, rel=RTOL, abs=1e-12), test
        assert row["p_value"] == pytest.approx(p, rel=1e-6, abs=1e-12), test


# ---------------------------------------------------------------------------------------------
# Synthetic panels


@pytest.fixture(scope="module")
def synthetic() -> AbnormalReturns:
    return fit_model(synthetic_panel(11, n_firms=14))


@pytest.mark.parametrize("window", [(0, 0), (-1, 2), (0, 5)])
def test_every_test_matches_literal_formula_synthetic(synthetic: AbnormalReturns,
                                                      window: tuple[int, int]) -> None:
    table = run_tests(synthetic, [window])
    assert set(table["test"]) == set(TESTS)
    expected = literal_tests(synthetic.panel, window)
    assert_matches(table, expected)
    if window == (0, 5):  # the event cut by the end of the data has no CAR
        assert expected["t"][2] == synthetic.panel.n_events - 1


def test_car_and_variance_match_statsmodels(synthetic: AbnormalReturns) -> None:
    lit = literal_market_model(synthetic.panel, (-1, 2))
    prep = prepare(synthetic, (-1, 2))
    np.testing.assert_allclose(prep.car, lit.car, rtol=1e-10)
    np.testing.assert_allclose(prep.scar, lit.scar, rtol=1e-9)


def test_aar_table_matches_daily_t_tests(synthetic: AbnormalReturns) -> None:
    table = aar_table(synthetic, (-2, 4))
    lit = literal_market_model(synthetic.panel, (0, 0))
    for _, row in table.iterrows():
        col = int(row["day"]) - synthetic.panel.days[0]
        x = np.array([v for v in lit.ar[:, col] if np.isfinite(v)])
        res = stats.ttest_1samp(x, 0.0)
        assert row["n"] == len(x)
        assert row["aar"] == pytest.approx(x.mean(), rel=1e-10)
        assert row["t"] == pytest.approx(res.statistic, rel=1e-8)
        assert row["p_value"] == pytest.approx(res.pvalue, rel=1e-6)
        cum = [sum(lit.ar[i, -2 - synthetic.panel.days[0]:col + 1]) for i in range(len(lit.ar))]
        cum = np.array([c for c in cum if np.isfinite(c)])
        assert row["caar"] == pytest.approx(cum.mean(), rel=1e-10)
        assert row["caar_t"] == pytest.approx(stats.ttest_1samp(cum, 0.0).statistic, rel=1e-8)


def test_volume_table_and_effect(synthetic: AbnormalReturns) -> None:
    table = volume_table(synthetic, (0, 0))
    mav, _ = literal_volume(synthetic.panel, (0, 0))
    assert table["mean_abnormal_log_volume"].iloc[0] == pytest.approx(mav.mean(), rel=1e-10)
    tests = run_tests(synthetic, [(0, 0)], ["volume_t"]).iloc[0]
    assert tests["effect"] == pytest.approx(math.exp(mav.mean()) - 1, rel=1e-10)


def test_volume_spike_is_measured() -> None:
    """+40% volume on day 0 gives a mean abnormal log volume near log(1.4)."""
    panel = synthetic_panel(5, n_firms=40, ragged=False)
    est = np.where(panel.est_vol > 0, np.log1p(panel.est_vol), np.nan)
    panel.vol[:, panel.column(0)] = np.expm1(np.nanmean(est, axis=1) + math.log(1.4))
    row = run_tests(fit_model(panel), [(0, 0)], ["volume_t"]).iloc[0]
    assert row["effect"] == pytest.approx(0.4, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Several events per firm, clustering


def test_several_events_per_firm_and_identical_firm_days() -> None:
    panel = synthetic_panel(3, n_firms=6, per_firm=3, duplicates=4)
    ar = fit_model(panel)
    deduped = run_tests(ar, [(-1, 1)])
    assert (deduped["merged"] == 4).all()
    assert_matches(deduped, literal_tests(panel, (-1, 1), dedupe=True))
    pooled = run_tests(ar, [(-1, 1)], dedupe=False)
    assert (pooled["merged"] == 0).all()
    assert_matches(pooled, literal_tests(panel, (-1, 1), dedupe=False))
    unique = fit_model(panel.subset(np.arange(panel.n_events - 4)))
    same = run_tests(unique, [(-1, 1)])
    np.testing.assert_allclose(same["statistic"], deduped["statistic"], rtol=1e-12)
    table = event_table(ar, (-1, 1))
    assert list(table.index) == list(panel.events.index)
    extra = table.loc[table.index.str.contains(":extra")]
    assert (extra["firm_day"] != extra.index).all()
    np.testing.assert_allclose(extra["car"], table.loc[extra["firm_day"], "car"], rtol=1e-12)


def test_overlapping_windows_lists_same_firm_pairs() -> None:
    panel = synthetic_panel(4, n_firms=3, per_firm=12, duplicates=2, ragged=False)
    found = overlapping_windows(panel)
    expected = set()
    for a in range(panel.n_events):
        for b in range(a + 1, panel.n_events):
            if panel.events["ticker"].iloc[a] != panel.events["ticker"].iloc[b]:
                continue
            shared = len(set(panel.dates[a]) & set(panel.dates[b]))
            if shared:
                expected.add((panel.events.index[a], panel.events.index[b], shared))
    got = set(zip(found["event_id"], found["other_event_id"], found["shared_days"], strict=True))
    assert got == expected
    assert found["same_firm_day"].sum() == 2


def test_clustered_events_kp_differs_from_bmp_and_equals_n_by_n() -> None:
    panel = synthetic_panel(7, n_firms=25, clustered=True, ragged=False)
    ar = fit_model(panel)
    table = run_tests(ar, [(0, 1)], ["bmp", "kp", "kp_overlap"]).set_index("test")
    lit = literal_market_model(panel, (0, 1))
    resid = np.array([r.to_numpy() for r in lit.resid])  # identical dates: plain correlation
    corr = np.corrcoef(resid)
    n = len(corr)
    rbar = (corr.sum() - n) / (n * (n - 1))
    assert rbar > 0.2
    assert rbar == pytest.approx(literal_rbar(lit.resid), rel=1e-10)
    t_bmp = stats.ttest_1samp(lit.scar, 0.0).statistic
    t_kp = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    assert table.loc["bmp", "statistic"] == pytest.approx(t_bmp, rel=1e-9)
    assert table.loc["kp", "statistic"] == pytest.approx(t_kp, rel=1e-9)
    assert abs(t_kp) < 0.6 * abs(t_bmp)
    assert table.loc["kp_overlap", "statistic"] == pytest.approx(t_kp, rel=1e-9)


def test_staggered_clustering_partial_window_overlap() -> None:
    """Events one to three sessions apart share part of their (0, 3) windows: kp_overlap lies
    between BMP and KP and equals its literal n x n form."""
    panel = synthetic_panel(9, n_firms=16, clustered=True, ragged=True, stagger=4)
    table = run_tests(fit_model(panel), [(0, 3)]).set_index("test")
    expected = literal_tests(panel, (0, 3))
    assert_matches(table.reset_index(), expected)
    bmp, kp, mid = (abs(table.loc[k, "statistic"]) for k in ("bmp", "kp", "kp_overlap"))
    assert kp < mid < bmp


def test_partially_overlapping_estimation_windows_rbar() -> None:
    panel = synthetic_panel(8, n_firms=12, per_firm=2, ragged=True)
    ar = fit_model(panel)
    prep = prepare(ar, (0, 0))
    rows = np.arange(panel.n_events)
    got = kp_rbar(prep.z[rows], prep.zday[rows], prep.n_days)
    lit = literal_market_model(panel, (0, 0))
    assert got == pytest.approx(literal_rbar(lit.resid), rel=1e-9, abs=1e-14)


def test_grouping_by_an_event_column(synthetic: AbnormalReturns) -> None:
    table = run_tests(synthetic, [(0, 0), (-1, 1)], ["t", "grank"], by="group")
    assert list(table.columns[:2]) == ["by", "group"]
    assert set(table["group"]) == {"a", "b"}
    for group in ("a", "b"):
        mask = (synthetic.panel.events["group"] == group).to_numpy()
        sub = synthetic.panel.subset(mask)
        expected = literal_tests(sub, (-1, 1))
        got = table[(table["group"] == group) & (table["window"] == "[-1, 1]")]
        assert_matches(got, {k: expected[k] for k in ("t", "grank")})


def test_batched_samples_equal_one_at_a_time(synthetic: AbnormalReturns) -> None:
    prep = prepare(synthetic, (-1, 1))
    good = np.flatnonzero(prep.usable("car") & prep.usable("volume"))
    rng = np.random.default_rng(0)
    samples = np.array([rng.choice(good, 8, replace=False) for _ in range(5)])
    for test in TESTS:
        batch = compute(prep, test, samples)
        for k, sel in enumerate(samples):
            one = compute(prep, test, sel)
            assert batch.statistic[k] == pytest.approx(float(one.statistic), rel=1e-12), test


def test_rank_rows_matches_scipy_with_ties_and_nan() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, (50, 30)).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    expected = stats.rankdata(x, axis=1, nan_policy="omit")
    np.testing.assert_allclose(rank_rows(x), expected)


def test_bad_arguments_raise_bad_input(synthetic: AbnormalReturns) -> None:
    with pytest.raises(BadInput, match="unknown test"):
        run_tests(synthetic, [(0, 0)], ["nope"])
    with pytest.raises(BadInput, match="outside the event window"):
        run_tests(synthetic, [(0, 30)])
    with pytest.raises(BadInput, match="start <= end"):
        run_tests(synthetic, [(2, 1)])
    with pytest.raises(BadInput, match="list of"):
        run_tests(synthetic, (0, 0))  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="cannot group"):
        run_tests(synthetic, [(0, 0)], by="colour")


# ---------------------------------------------------------------------------------------------
# The real bundled lock-up panel


@pytest.fixture(scope="module")
def real() -> AbnormalReturns:
    from eventstudy.calendar.events import lockup_events
    from eventstudy.calendar.listings import load_listings
    from eventstudy.data.loader import PriceLoader
    from eventstudy.data.tickers import market_for
    from eventstudy.engine.panel import align, build_panel

    loader, cache = PriceLoader(offline=True), {}

    def load(t: str):
        if t not in cache:
            cache[t] = align(loader.load(t), loader.load(market_for(t)))
        return cache[t]

    events = [e for listing in load_listings().values() for e in lockup_events(listing)]
    panel = build_panel(events, load, window=(-10, 20), estimation=(-260, -11),
                        max_estimation=250)
    return fit_model(panel)


@pytest.mark.parametrize("window,dedupe", [((0, 0), True), ((-1, 1), True), ((0, 5), False)])
def test_every_test_matches_literal_formula_real(real: AbnormalReturns, window, dedupe) -> None:
    assert not real.problems
    table = run_tests(real, [window], dedupe=dedupe)
    assert_matches(table, literal_tests(real.panel, window, dedupe=dedupe))


def test_real_panel_firm_days_and_clustering(real: AbnormalReturns) -> None:
    events = real.panel.events
    firm_days = events.groupby(["ticker", "day0"]).ngroups
    table = run_tests(real, [(0, 0)], ["bmp", "kp"]).set_index("test")
    assert table.loc["bmp", "merged"] == len(events) - firm_days
    assert table.loc["bmp", "n"] == firm_days
    assert table.loc["kp", "statistic"] != pytest.approx(table.loc["bmp", "statistic"], rel=0.05)
    overlaps = overlapping_windows(real)
    assert overlaps["same_firm_day"].sum() == sum(
        math.comb(k, 2) for k in events.groupby(["ticker", "day0"]).size())


def test_split_ranks_equal_ranks_of_the_first_columns() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 9, (40, 25)).astype(float)
    x[rng.random(x.shape) < 0.15] = np.nan
    _, flat, xs = _ranks(x)
    expected = stats.rankdata(x[:, :17], axis=1, nan_policy="omit")
    np.testing.assert_allclose(split_ranks(x, flat, xs, 17), expected)


def test_windows_given_as_one_pair_or_numpy_ints(synthetic: AbnormalReturns) -> None:
    with pytest.raises(BadInput, match="list of"):
        run_tests(synthetic, [0, 1])  # type: ignore[list-item]
    table = run_tests(synthetic, [np.array([-1, 1])], ["t"])
    assert table["window"].iloc[0] == "[-1, 1]"
