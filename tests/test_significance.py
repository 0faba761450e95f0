"""Cross-event tests against literal per-event implementations of the published formulas.

Every expected value here is computed event by event with plain Python loops, statsmodels OLS and
scipy.stats on the raw panel arrays, independently of ``eventstudy.models`` and
``eventstudy.significance``. Panels: small seeded synthetic ones (named synthetic), and the real
bundled lock-up panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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
from eventstudy.engine.ranks import rank_rows
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


def literal_rbar(est_ar: np.ndarray) -> float:
    """Kolari & Pynnonen (2010) r-bar: mean over pairs i != j of Pearson's r of the estimation
    residuals in event time (same column = same day before day 0), on the days both have."""
    total, pairs = 0.0, 0
    for i in range(len(est_ar)):
        for j in range(len(est_ar)):
            both = np.isfinite(est_ar[i]) & np.isfinite(est_ar[j])
            if i == j or both.sum() < 2:
                continue
            r = stats.pearsonr(est_ar[i][both], est_ar[j][both]).statistic
            if np.isfinite(r):
                total += float(r)
                pairs += 1
    return total / pairs


def literal_hall_t(x: np.ndarray, center: float = 0.0) -> float:
    """Hall (1992) / Lyon, Barber & Tsai (1999): sqrt(n)(S + g S^2/3 + g^2 S^3/27 + g/(6n))."""
    n = len(x)
    mean = sum(x) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    if sd == 0:  # a resample of one repeated value: no statistic
        return math.nan
    s = (mean - center) / sd
    g = sum((v - mean) ** 3 for v in x) / (n * sd**3)
    return math.sqrt(n) * (s + g * s * s / 3 + g * g * s**3 / 27 + g / (6 * n))


def literal_boot_p(x: np.ndarray, draws: int = 1000, seed: int = 0) -> float:
    """LBT (1999) bootstrap: resamples of n/4 (at least 3) centred at the sample mean, one by
    one; equal-tailed two-sided p of t_sa in the distribution of t_sa*."""
    n = len(x)
    if n < 20:  # too few events for resamples of n/4 (issue 22): no p-value
        return math.nan
    nb = max(n // 4, 3)
    idx = np.random.default_rng(seed).integers(0, n, size=(draws, nb))
    t = literal_hall_t(x)
    mean = sum(x) / n
    below = above = seen = 0
    for row in idx:
        star = literal_hall_t(np.array([x[k] for k in row]), center=mean)
        if not math.isfinite(star):
            continue
        seen += 1
        below += star <= t
        above += star >= t
    return min(1.0, 2 * min(below / seen, above / seen))


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


def literal_volume(panel: Panel, window: tuple[int, int], market: dict | None = None
                   ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per event: mean abnormal log(1 + V) over the window's available days (zero volume is
    missing; a window running past the data is null, issue 21), and the abnormal log volume
    series (estimation then event days). With ``market``
    (date -> index volume), log(1 + V) less the index's log(1 + V_m) of the same date
    (Campbell & Wasley 1996), for events whose index has volume on half their days."""
    cols = range(window[0] - panel.days[0], window[1] - panel.days[0] + 1)
    mav, series = [], []
    for i in range(panel.n_events):
        def lv(v: float, d: object, adjust: bool) -> float:
            if not (np.isfinite(v) and v > 0):
                return np.nan
            if not adjust:
                return math.log1p(v)
            m = market.get(pd.Timestamp(d), 0.0) if market else 0.0
            return math.log1p(v) - math.log1p(m) if m > 0 else np.nan

        pairs = list(zip(panel.est_vol[i], panel.est_dates[i], strict=True))
        have = sum(1 for v, d in pairs if np.isfinite(lv(v, d, True)))
        stock = sum(1 for v, d in pairs if np.isfinite(lv(v, d, False)))
        adjust = market is not None and have >= 0.5 * stock
        est = [lv(v, d, adjust) for v, d in pairs]
        est = [x for x in est if np.isfinite(x)]
        mean = sum(est) / len(est)

        def ab(v: float, d: object = None, m: float = mean, a: bool = adjust) -> float:
            return lv(v, d, a) - m

        window_av = [ab(panel.vol[i, c], panel.dates[i, c]) for c in cols]
        seen = [v for v in window_av if np.isfinite(v)]
        past = any(pd.isna(panel.dates[i, c]) for c in cols)  # window past the data: null
        mav.append(sum(seen) / len(seen) if seen and not past else np.nan)
        series.append(np.array([ab(v, d) for v, d in pairs]
                               + [ab(v, d) for v, d in zip(panel.vol[i], panel.dates[i],
                                                           strict=True)]))
    return np.array(mav), series


def literal_cw_t(mav: np.ndarray, av: list[np.ndarray], rows: list[int], length: int,
                 tau: int) -> tuple[float, float]:
    """Campbell & Wasley (1996) / Brown & Warner (1985) crude dependence t: the mean over the
    events of each estimation day's abnormal log volume, its sd over the days, t(T - 1)."""
    means = []
    for k in range(length):
        values = [av[i][k] for i in rows if np.isfinite(av[i][k])]
        if values:
            means.append(sum(values) / len(values))
    center = sum(means) / len(means)
    sd = math.sqrt(sum((m - center) ** 2 for m in means) / (len(means) - 1))
    t = (sum(mav[i] for i in rows) / len(rows)) * math.sqrt(tau) / sd
    return t, 2 * stats.t.sf(abs(t), len(means) - 1)


def literal_tests(panel: Panel, window: tuple[int, int], dedupe: bool = True,
                  market: dict | None = None) -> dict[str, tuple]:
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
    rbar = max(literal_rbar(lit.est_ar[rows]), 0.0)  # floored at 0 (issue 22)
    t_kp = res.statistic * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    out["kp"] = (t_kp, 2 * stats.t.sf(abs(t_kp), n - 1), n)
    cols = range(window[0] - panel.days[0], window[1] + 1 - panel.days[0])
    # ranks over the estimation window plus the tested window only (Corrado 1989)
    combined = [np.concatenate([lit.est_ar[i], [lit.ar[i][c] for c in cols]]) for i in rows]
    length = panel.est_ret.shape[1]
    keys = [length + k for k in range(len(cols))]
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
    t_sa = literal_hall_t(bh)
    out["bhar_skew_t"] = (t_sa, 2 * stats.t.sf(abs(t_sa), n - 1), n)
    out["bhar_boot_skew_t"] = (t_sa, literal_boot_p(bh), n)
    mav, av = literal_volume(panel, window, market)
    # a window that runs past the end of the data is null for volume as for the CAR
    # (docs/quality.md): only events whose window CAR exists
    vrows = [i for i in literal_rows(panel, dedupe) if np.isfinite(mav[i])
             and np.isfinite(lit.car[i])]
    length = panel.est_vol.shape[1]
    out["volume_t"] = (*literal_cw_t(mav, av, vrows, length, len(cols)), len(vrows))
    z = literal_rank_test([np.concatenate([av[i][:length], [av[i][length + c] for c in cols]])
                           for i in vrows], keys)
    out["volume_rank"] = (z, 2 * stats.norm.sf(abs(z)), len(vrows))
    return out


def assert_matches(table: pd.DataFrame, expected: dict[str, tuple]) -> None:
    for test, (stat, p, n) in expected.items():
        row = table.set_index("test").loc[test]
        assert row["n"] == n, test
        assert row["statistic"] == pytest.approx(stat, rel=RTOL, abs=1e-12), test
        assert row["p_value"] == pytest.approx(p, rel=1e-6, abs=0, nan_ok=True), test


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
        assert row["aar"] == pytest.approx(x.mean(), rel=1e-10, abs=0)
        assert row["t"] == pytest.approx(res.statistic, rel=1e-8, abs=0)
        assert row["p_value"] == pytest.approx(res.pvalue, rel=1e-6, abs=0)
        cum = [sum(lit.ar[i, -2 - synthetic.panel.days[0]:col + 1]) for i in range(len(lit.ar))]
        cum = np.array([c for c in cum if np.isfinite(c)])
        assert row["caar"] == pytest.approx(cum.mean(), rel=1e-10, abs=0)
        assert row["caar_t"] == pytest.approx(stats.ttest_1samp(cum, 0.0).statistic, rel=1e-8,
                                              abs=0)


def test_volume_table_and_effect(synthetic: AbnormalReturns) -> None:
    table = volume_table(synthetic, (0, 0))
    mav, _ = literal_volume(synthetic.panel, (0, 0))
    assert table["mean_abnormal_log_volume"].iloc[0] == pytest.approx(mav.mean(), rel=1e-10, abs=0)
    tests = run_tests(synthetic, [(0, 0)], ["volume_t"]).iloc[0]
    assert tests["effect"] == pytest.approx(math.exp(mav.mean()) - 1, rel=1e-10, abs=0)


def test_volume_spike_is_measured() -> None:
    """+40% volume on day 0 gives a mean abnormal log volume near log(1.4)."""
    panel = synthetic_panel(5, n_firms=40, ragged=False)
    est = np.where(panel.est_vol > 0, np.log1p(panel.est_vol), np.nan)
    panel.vol[:, panel.column(0)] = np.expm1(np.nanmean(est, axis=1) + math.log(1.4))
    row = run_tests(fit_model(panel), [(0, 0)], ["volume_t"]).iloc[0]
    assert row["effect"] == pytest.approx(0.4, rel=1e-9, abs=0)


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
    table = run_tests(ar, [(0, 1)], ["bmp", "kp"]).set_index("test")
    lit = literal_market_model(panel, (0, 1))
    corr = np.corrcoef(lit.est_ar)  # complete windows in event time: plain correlation matrix
    n = len(corr)
    rbar = (corr.sum() - n) / (n * (n - 1))
    assert rbar > 0.2
    assert rbar == pytest.approx(literal_rbar(lit.est_ar), rel=1e-10, abs=0)
    t_bmp = stats.ttest_1samp(lit.scar, 0.0).statistic
    t_kp = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    assert table.loc["bmp", "statistic"] == pytest.approx(t_bmp, rel=1e-9, abs=0)
    assert table.loc["kp", "statistic"] == pytest.approx(t_kp, rel=1e-9, abs=0)
    assert abs(t_kp) < 0.6 * abs(t_bmp)


def test_staggered_clustering_ragged_windows_match_literal() -> None:
    """Events one to three sessions apart with ragged estimation windows (the pairwise path of
    kp_rbar): every test equals its literal form, and KP shrinks BMP."""
    panel = synthetic_panel(9, n_firms=16, clustered=True, ragged=True, stagger=4)
    table = run_tests(fit_model(panel), [(0, 3)]).set_index("test")
    assert_matches(table.reset_index(), literal_tests(panel, (0, 3)))
    assert abs(table.loc["kp", "statistic"]) < abs(table.loc["bmp", "statistic"])


def test_rbar_unequal_windows_pairwise_and_batched() -> None:
    panel = synthetic_panel(8, n_firms=12, per_firm=2, ragged=True)
    ar = fit_model(panel)
    prep = prepare(ar, (0, 0))
    rows = np.arange(panel.n_events)
    lit = literal_market_model(panel, (0, 0))
    got = kp_rbar(prep.z[rows], prep.est_ok[rows])
    assert got == pytest.approx(literal_rbar(lit.est_ar), rel=1e-9, abs=1e-14)
    complete = np.flatnonzero(prep.est_ok.all(axis=1))
    samples = np.array([complete[:6], rows[:6], complete[2:8]])  # fast, pairwise, fast path
    batch = kp_rbar(prep.z[samples], prep.est_ok[samples])
    for k, sel in enumerate(samples):
        assert batch[k] == pytest.approx(literal_rbar(lit.est_ar[sel]), rel=1e-9, abs=1e-14)


def test_event_time_rbar_near_zero_on_independent_dates() -> None:
    """Events of unrelated dates: residuals aligned in event time are uncorrelated, so KP's
    r-bar is ~0 (the calendar-date alignment KP do not use gave +0.038 on such draws)."""
    panel = synthetic_panel(12, n_firms=40, per_firm=1, ragged=False)
    prep = prepare(fit_model(panel), (0, 0))
    rows = np.arange(panel.n_events)
    rbar = float(kp_rbar(prep.z[rows], prep.est_ok[rows]))
    lit = literal_market_model(panel, (0, 0))
    assert rbar == pytest.approx(literal_rbar(lit.est_ar), rel=1e-9, abs=0)
    assert abs(rbar) < 0.01  # sd of r-bar for 40 x 39 pairs of 120 iid days ~ 0.002


def test_grouping_by_an_event_column(synthetic: AbnormalReturns) -> None:
    table = run_tests(synthetic, [(0, 0), (-1, 1)], ["t", "grank"], by="group")
    assert list(table.columns[:2]) == ["by", "group"]
    assert set(table["group"]) == {"a", "b"}
    for group in ("a", "b"):
        mask = (synthetic.panel.events["group"] == group).to_numpy()
        sub = synthetic.panel.subset(mask)
        expected = literal_tests(sub, (-1, 1))
        got = table[(table["group"] == group) & (table["window"] == "[-1,+1]")]
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
            assert batch.statistic[k] == pytest.approx(float(one.statistic), rel=1e-12, abs=0), test


@pytest.mark.parametrize("case", ["ties", "continuous", "infinite", "empty rows"])
def test_rank_rows_matches_scipy_with_ties_and_nan(case: str) -> None:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2100, 30)) if case == "continuous"  # five blocks of ROWS:
         else rng.integers(0, 6, (2100, 30)).astype(float))  # two threads share them
    x[rng.random(x.shape) < 0.1] = np.nan
    if case == "infinite":  # a real +inf (and -inf) next to NaN: ranked, and tied with its like
        x[::7, 3], x[::7, 5], x[::11, 8] = np.inf, np.inf, -np.inf
    if case == "empty rows":
        x[::5] = np.nan
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


def real_panel(window: tuple[int, int]) -> Panel:
    from eventstudy.calendar.events import lockup_events
    from eventstudy.calendar.listings import load_listings
    from eventstudy.data.loader import PriceLoader
    from eventstudy.data.tickers import market_for
    from eventstudy.engine.panel import build_panel
    from eventstudy.engine.series import align

    loader, cache = PriceLoader(offline=True), {}

    def load(t: str):
        if t not in cache:
            cache[t] = align(loader.load(t), loader.load(market_for(t)))
        return cache[t]

    # The Hong Kong lock-ups: one market index (^HSI) whose volume the literal tests read.
    events = [e for listing in load_listings().values() if listing.ticker.endswith(".HK")
              for e in lockup_events(listing)]
    return build_panel(events, load, window=window, estimation=(-260, -11), max_estimation=250)


def raw_hsi_volume() -> dict:
    """Date -> ^HSI volume from both bundled files, read with plain pandas."""
    from conftest import DATA, read_raw_prices

    old = pd.read_csv(DATA / "prices" / "^HSI_1986-12-31_2023-10-20.csv", na_values="null")
    old = old.dropna(subset=["Adj Close"])
    out = dict(zip(pd.to_datetime(old["Date"]), old["Volume"].astype(float), strict=True))
    new = read_raw_prices("^HSI_2021-06-24_2026-06-23")["Volume"].astype(float)
    out.update(new.to_dict())
    return out


@pytest.fixture(scope="module")
def real() -> AbnormalReturns:
    """The real lock-up panel with the index volume attached (market-adjusted volume)."""
    return fit_with_index_volume(real_panel((-10, 20)))


def fit_with_index_volume(panel: Panel) -> AbnormalReturns:
    from eventstudy.engine.pseudo import bundled_market_volume
    from eventstudy.engine.volume import market_volume

    return replace(fit_model(panel), market_volume=market_volume(panel, bundled_market_volume))


@pytest.mark.parametrize("window,dedupe", [((0, 0), True), ((-1, 1), True), ((0, 5), False)])
def test_every_test_matches_literal_formula_real(real: AbnormalReturns, window, dedupe) -> None:
    assert not real.problems
    table = run_tests(real, [window], dedupe=dedupe)
    assert_matches(table, literal_tests(real.panel, window, dedupe=dedupe,
                                        market=raw_hsi_volume()))


def test_real_panel_firm_days_and_clustering(real: AbnormalReturns) -> None:
    events = real.panel.events
    firm_days = events.groupby(["ticker", "day0"]).ngroups
    table = run_tests(real, [(0, 0)], ["bmp", "kp"]).set_index("test")
    assert table.loc["bmp", "merged"] == len(events) - firm_days
    assert table.loc["bmp", "n"] == firm_days
    # r-bar is floored at 0 (issue 22): KP never rejects more than BMP
    assert abs(table.loc["kp", "statistic"]) <= abs(table.loc["bmp", "statistic"]) * (1 + 1e-12)
    overlaps = overlapping_windows(real)
    assert overlaps["same_firm_day"].sum() == sum(
        math.comb(k, 2) for k in events.groupby(["ticker", "day0"]).size())


def test_windows_given_as_one_pair_or_numpy_ints(synthetic: AbnormalReturns) -> None:
    with pytest.raises(BadInput, match="list of"):
        run_tests(synthetic, [0, 1])  # type: ignore[list-item]
    table = run_tests(synthetic, [np.array([-1, 1])], ["t"])
    assert table["window"].iloc[0] == "[-1,+1]"


def test_rank_tests_do_not_depend_on_other_windows(real: AbnormalReturns) -> None:
    """Corrado [0, 0] (and every rank test) ranks over the estimation window plus the tested
    window only: a panel widened for a [0, 200] CAR window gives the same statistics."""
    wide = fit_with_index_volume(real_panel((-10, 200)))
    names = ["corrado", "grank", "volume_rank"]
    narrow_t = run_tests(real, [(0, 0), (-1, 1)], names).set_index(["window", "test"])
    wide_t = run_tests(wide, [(0, 0), (-1, 1), (0, 200)], names).set_index(["window", "test"])
    for key in narrow_t.index:
        assert wide_t.loc[key, "statistic"] == pytest.approx(narrow_t.loc[key, "statistic"],
                                                             rel=1e-12, abs=0), key
    expected = literal_tests(real.panel, (0, 0))["corrado"][0]
    assert narrow_t.loc[("[0,0]", "corrado"), "statistic"] == pytest.approx(expected, rel=1e-9,
                                                                            abs=0)


def test_hall_skewness_adjusted_t_is_monotone_in_a_shift(real: AbnormalReturns) -> None:
    """Hall's transformation rises with every shift of the sample; LBT's quadratic form does
    not (it turns back for |S| > 3 / (2 |g|)), the reason it was replaced."""
    prep = prepare(real, (0, 20))
    bhar = prep.bhar[np.isfinite(prep.bhar)]
    n = len(bhar)
    sd = bhar.std(ddof=1)
    g = ((bhar - bhar.mean()) ** 3).sum() / (n * sd**3)
    turn = 3.0 / (2.0 * abs(g)) * sd  # where LBT's quadratic turns back
    shifts = np.linspace(-3 * turn, 3 * turn, 601) - bhar.mean()
    moved = bhar[None, :] + shifts[:, None]
    got = compute_bhar(moved)
    expected = np.array([literal_hall_t(row) for row in moved])
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert (np.diff(got) > 0).all()
    s = moved.mean(axis=1) / sd
    lbt = math.sqrt(n) * (s + g * s**2 / 3 + g / (6 * n))
    assert not (np.diff(lbt) > 0).all()


def compute_bhar(x: np.ndarray) -> np.ndarray:
    from eventstudy.engine.significance import skew_t

    return np.asarray(skew_t(x).statistic)


def test_bootstrap_skew_t_batch_equals_literal_loop(real: AbnormalReturns) -> None:
    from eventstudy.engine.significance import boot_skew_t

    prep = prepare(real, (0, 5))
    bhar = prep.bhar[np.isfinite(prep.bhar)]
    rng = np.random.default_rng(3)
    assert len(bhar) > 24
    samples = np.array([rng.choice(bhar, 24, replace=False) for _ in range(4)])
    res = boot_skew_t(samples, draws=300, seed=9)
    for k, x in enumerate(samples):
        assert res.p_value[k] == pytest.approx(literal_boot_p(x, draws=300, seed=9),
                                               rel=1e-12, abs=0)
        assert res.statistic[k] == pytest.approx(literal_hall_t(x), rel=1e-10, abs=0)
    other = boot_skew_t(samples, draws=300, seed=10).p_value
    assert (other != res.p_value).any()  # the seed matters


def literal_holm(p: list[float]) -> list[float]:
    """Holm (1979) step-down, written out: sort, multiply by (m - rank), running maximum."""
    m = len(p)
    order = sorted(range(m), key=lambda k: p[k])
    out, running = [0.0] * m, 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[k]))
        out[k] = running
    return out


def literal_bh(p: list[float]) -> list[float]:
    """Benjamini & Hochberg (1995) step-up, written out: p_(i) m / i, running minimum from the
    largest p down."""
    m = len(p)
    order = sorted(range(m), key=lambda k: p[k])
    out, running = [0.0] * m, 1.0
    for rank in range(m - 1, -1, -1):
        k = order[rank]
        running = min(running, p[k] * m / (rank + 1))
        out[k] = running
    return out


def test_holm_and_bh_across_windows_tests_and_groups(real: AbnormalReturns) -> None:
    from eventstudy.engine.crosssection import adjust_p_values

    pooled = run_tests(real, [(0, 0), (-1, 1), (0, 20)])
    grouped = run_tests(real, [(0, 0), (-1, 1), (0, 20)], by="tranche")
    table = pd.concat([pooled, grouped.drop(columns=["by"])], ignore_index=True)
    table.loc[3, "p_value"] = np.nan  # a test without a result is not in the family
    out = adjust_p_values(table)
    cols = list(out.columns)
    assert cols[cols.index("p_value") + 1: cols.index("p_value") + 3] == ["p_holm", "p_bh"]
    seen = out["p_value"].notna().to_numpy()
    p = out.loc[seen, "p_value"].tolist()
    assert len(p) > 100
    np.testing.assert_allclose(out.loc[seen, "p_holm"], literal_holm(p), rtol=1e-12)
    np.testing.assert_allclose(out.loc[seen, "p_bh"], literal_bh(p), rtol=1e-12)
    assert out.loc[~seen, ["p_holm", "p_bh"]].isna().all().all()
    assert (out.loc[seen, "p_holm"] >= out.loc[seen, "p_bh"] - 1e-15).all()
