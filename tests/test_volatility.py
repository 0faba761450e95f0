"""Tests of eventstudy.volatility (GARCH around an event) against independent computations.

Anchors: the published FCP (1996) GARCH(1,1) benchmark, literal EWMA / GARCH recursions, a
literal per-event GARCH-standardised BMP loop, bare arch fits, and the bundled real Hong Kong
prices.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.univariate import GARCH
from scipy import stats

from eventstudy.data.loader import load_prices
from eventstudy.errors import BadInput, EstimationError
from eventstudy.plotting.volatility import plot_conditional_volatility, plot_std_resid_diagnostics
from eventstudy.report.figures import save_volatility_plots
from eventstudy.volatility.base import arch_backcast, ewma_variance
from eventstudy.volatility.dummy import EventDummyGARCH, variance_dummy_test
from eventstudy.volatility.event import volatility_study
from eventstudy.volatility.executors import GarchTask, fit_many
from eventstudy.volatility.garch import fit_garch
from eventstudy.volatility.garch_bmp import garch_bmp_test, sar_matrix
from eventstudy.volatility.selection import select_model

ROOT = Path(__file__).resolve().parent.parent
GARCH_DATA = ROOT / "data" / "garch"
SENSETIME_DAY0 = "2022-06-30"


def _returns(ticker: str, cache: Path | None = None) -> pd.Series:
    """Simple returns of the bundled real prices (offline)."""
    return load_prices(ticker, offline=True, cache_dir=cache)["close"].pct_change().dropna()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Module-scoped fixtures load before the per-test isolated cache: give them their own."""
    return tmp_path_factory.mktemp("volatility_cache")


@pytest.fixture(scope="module")
def sensetime(cache: Path) -> pd.Series:
    return _returns("0020.HK", cache)


@pytest.fixture(scope="module")
def hsi(cache: Path) -> pd.Series:
    return _returns("^HSI", cache)


@pytest.fixture(scope="module")
def kuaishou(cache: Path) -> pd.Series:
    return _returns("1024.HK", cache)


@pytest.fixture(scope="module")
def study_market(sensetime: pd.Series, hsi: pd.Series):
    """GARCH asked for explicitly on ~110 returns (< MIN_GARCH_ESTIMATION): fitted, flagged."""
    return volatility_study(sensetime, SENSETIME_DAY0, market=hsi, label="0020.HK",
                            min_garch=None)


@pytest.fixture(scope="module")
def study_garch(sensetime: pd.Series):
    """A plain GARCH(1,1)-normal constant-mean study (checked against literal recursions)."""
    return volatility_study(sensetime, SENSETIME_DAY0, vols=("GARCH",), dists=("normal",),
                            label="0020.HK", dummy_test=False, min_garch=None)


@pytest.fixture(scope="module")
def study_fallback(kuaishou: pd.Series):
    """Day 0 at position 70: the estimation window is Kuaishou's first 60 returns."""
    return volatility_study(kuaishou, 70, label="1024.HK", estimation_end=-11, min_garch=None)


# --------------------------------------------------------------------------- FCP anchor


def _four_digits(values) -> list[str]:
    return [f"{v:.3e}" for v in values]


def test_fcp_1996_benchmark_garch11_dmbp() -> None:
    """fit_garch reproduces Fiorentini, Calzolari & Panattoni (1996) to 4 significant digits."""
    rate = pd.read_csv(GARCH_DATA / "dmbp.csv")["rate"]
    published = json.loads((GARCH_DATA / "fcp_benchmark_garch11_dmbp.json").read_text())
    assert published["params"] == ["mu", "omega", "alpha1", "beta1"]
    fit = fit_garch(rate, scale=1.0, backcast="sample", cov_type="classic", tol=1e-12)
    coef = list(fit.params.values())
    se = list(fit.std_err.values())
    assert fit.converged and fit.usable and fit.nobs == 1974
    assert _four_digits(coef) == _four_digits(published["coefficient"])
    assert _four_digits(se) == _four_digits(published["std_error_hessian"])
    np.testing.assert_allclose(coef, published["coefficient"], rtol=1e-4)
    np.testing.assert_allclose(se, published["std_error_hessian"], rtol=1e-4)
    # h0 is the mean squared residual at the estimate (FCP's initialisation)
    assert fit.backcast == pytest.approx(np.mean((rate - coef[0]) ** 2), rel=1e-12, abs=0)


def test_fcp_robust_standard_errors_close_to_published_qmle() -> None:
    rate = pd.read_csv(GARCH_DATA / "dmbp.csv")["rate"]
    published = json.loads((GARCH_DATA / "fcp_benchmark_garch11_dmbp.json").read_text())
    fit = fit_garch(rate, scale=1.0, backcast="sample", cov_type="robust", tol=1e-12)
    np.testing.assert_allclose(list(fit.std_err.values()), published["std_error_qmle"],
                               rtol=5e-3)


# --------------------------------------------------------------------------- arch and literal


def test_fit_garch_equals_bare_arch(sensetime: pd.Series) -> None:
    y = sensetime.iloc[:400]
    fit = fit_garch(y)
    bare = arch_model(100 * y, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(
        disp="off")
    np.testing.assert_array_equal(list(fit.params.values()), bare.params.to_numpy())
    assert fit.loglik == bare.loglikelihood and fit.bic == bare.bic
    assert fit.backcast == bare.model._backcast
    np.testing.assert_array_equal(fit.conditional_volatility, bare.conditional_volatility)
    gjr = fit_garch(y, vol="GJR", dist="t")
    bare_gjr = arch_model(100 * y, vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False).fit(
        disp="off")
    np.testing.assert_array_equal(list(gjr.params.values()), bare_gjr.params.to_numpy())


def test_market_model_mean_is_arch_ls(sensetime: pd.Series, hsi: pd.Series) -> None:
    both = pd.concat([sensetime, hsi], axis=1, join="inner").dropna().iloc[:300]
    fit = fit_garch(both.iloc[:, 0], market=both.iloc[:, 1], dist="t")
    bare = arch_model(100 * both.iloc[:, 0].to_numpy(), x=100 * both.iloc[:, 1].to_numpy(),
                      mean="LS", dist="t", rescale=False).fit(disp="off")
    assert list(fit.params)[:2] == ["Const", "market"]
    assert fit.loglik == pytest.approx(bare.loglikelihood, abs=1e-6)
    assert fit.params["market"] == pytest.approx(bare.params.iloc[1], rel=1e-4, abs=0)


def test_ewma_matches_literal_recursion(sensetime: pd.Series) -> None:
    e = 100 * (sensetime.iloc[:200] - sensetime.iloc[:200].mean()).to_numpy()
    weights = [0.94**i for i in range(75)]
    start = sum(w * x * x for w, x in zip(weights, e[:75], strict=True)) / sum(weights)
    literal = [start]
    for t in range(1, len(e)):
        literal.append(0.94 * literal[-1] + 0.06 * e[t - 1] ** 2)
    assert arch_backcast(e) == pytest.approx(start, rel=1e-12, abs=0)
    np.testing.assert_allclose(ewma_variance(e), literal, rtol=1e-12)


def test_filtering_is_the_literal_garch_recursion(study_garch) -> None:
    fit = study_garch.fit
    assert fit is not None and fit.spec.vol == "GARCH"
    p = fit.params
    path = study_garch.path
    e = path["ret"].to_numpy() - p["mu"]
    sigma2 = [p["omega"] + (p["alpha[1]"] + p["beta[1]"]) * fit.backcast]
    for t in range(1, len(e)):
        sigma2.append(p["omega"] + p["alpha[1]"] * e[t - 1] ** 2 + p["beta[1]"] * sigma2[-1])
    np.testing.assert_allclose(path["resid"], e, rtol=1e-12)
    np.testing.assert_allclose(path["sigma"] ** 2, sigma2, rtol=1e-9)
    in_sample = path[path["estimation"]]
    np.testing.assert_allclose(in_sample["sigma"], fit.conditional_volatility, rtol=1e-9)
    # ex-ante: f_1 = omega + alpha e_T^2 + beta s2_T, then f_h = omega + (alpha+beta) f_{h-1}
    n = len(in_sample)
    f = [p["omega"] + p["alpha[1]"] * e[n - 1] ** 2 + p["beta[1]"] * sigma2[n - 1]]
    while len(f) < len(e) - n:
        f.append(p["omega"] + (p["alpha[1]"] + p["beta[1]"]) * f[-1])
    np.testing.assert_allclose(path["sigma_ex_ante"].iloc[n:] ** 2, f, rtol=1e-9)


def test_sar_is_prediction_error_adjusted(study_garch) -> None:
    fit = study_garch.fit
    var_mu = float(fit.result.param_cov.loc["mu", "mu"])
    window = study_garch.path[study_garch.path["sar"].notna()]
    assert list(window["day"]) == list(range(-10, 21))
    expected = window["resid"] / np.sqrt(window["sigma"] ** 2 + var_mu)
    np.testing.assert_allclose(window["sar"], expected, rtol=1e-12)
    sar = study_garch.sar
    assert study_garch.scar((0, 2)) == pytest.approx(sar.loc[0:2].sum() / math.sqrt(3), rel=1e-6,
                                                     abs=0)


# --------------------------------------------------------------------------- the event study


def test_sensetime_lockup_study(study_market, sensetime: pd.Series) -> None:
    res = study_market
    path = res.path
    assert res.event_date == pd.Timestamp(SENSETIME_DAY0)
    assert path.loc[path["day"] == 0, "ret"].iloc[0] == pytest.approx(-46.77, abs=0.01)
    est = path[path["estimation"]]
    assert est.index[0] == sensetime.index[0] and est["day"].iloc[-1] == -11
    # the choice is the lowest BIC among unflagged candidates
    table = res.selection.table
    assert len(table) == 9 and table["chosen"].sum() == (0 if res.fit is None else 1)
    clean = table[table["flags"] == ""]
    if res.fit is not None:
        assert clean.iloc[0]["chosen"] and clean["bic"].min() == pytest.approx(res.fit.bic,
                                                                               rel=1e-6, abs=0)
    assert res.sar.loc[0] < -3
    # ratio and permutation test recomputed from the path (independent Monte Carlo)
    pre = path[(path["day"] >= -20) & (path["day"] <= -1)]
    post = path[(path["day"] >= 1) & (path["day"] <= 20)]
    assert res.ratio.ratio == pytest.approx(post["sigma"].mean() / pre["sigma"].mean(), rel=1e-6,
                                            abs=0)
    f = np.mean(post["z"] ** 2) / np.mean(pre["z"] ** 2)
    assert res.ratio.z2_ratio == pytest.approx(f, rel=1e-6, abs=0)
    assert (res.ratio.n_pre, res.ratio.n_post) == (20, 20)
    p = _literal_permutation_p(list(pre["z"]), list(post["z"]), draws=4000)
    assert res.ratio.perm_pvalue == pytest.approx(p, abs=0.03)
    realised = res.windows[2]
    assert realised.name == "post"
    assert realised.realised == pytest.approx(np.mean(post["resid"] ** 2), rel=1e-6, abs=0)
    text = res.summary()
    for needle in ("0020.HK", "Chosen:", "ratio", "Permutation test", "x100",
                   "Realised vs forecast"):
        assert needle in text
    blob = json.dumps(res.to_dict(), allow_nan=False)
    assert '"event_date": "2022-06-30"' in blob


def _literal_permutation_p(pre: list[float], post: list[float], draws: int,
                           seed: int = 11) -> float:
    """Equal-tailed permutation p of mean(post^2) / mean(pre^2), plain random.shuffle."""
    import random

    rng = random.Random(seed)
    ratio = (sum(z * z for z in post) / len(post)) / (sum(z * z for z in pre) / len(pre))
    pooled = [z * z for z in post + pre]
    high = low = 1
    for _ in range(draws):
        rng.shuffle(pooled)
        star = (sum(pooled[:len(post)]) / len(post)) / (sum(pooled[len(post):]) / len(pre))
        high += star >= ratio
        low += star <= ratio
    return min(1.0, 2 * min(high, low) / (draws + 1))


def test_permutation_test_exact_on_small_samples() -> None:
    """Every split of 4 + 5 values enumerated: the Monte Carlo p is within its error."""
    from itertools import combinations

    from eventstudy.volatility.ratio import permutation_variance_test

    pre, post = [0.3, -1.2, 0.8, 0.1, -0.5], [2.1, -1.7, 0.9, 1.4]
    values = [z * z for z in post + pre]
    ratio = (sum(values[:4]) / 4) / (sum(values[4:]) / 5)
    stars = []
    for pick in combinations(range(9), 4):
        a = [values[i] for i in pick]
        b = [values[i] for i in range(9) if i not in pick]
        stars.append((sum(a) / 4) / (sum(b) / 5))
    high = sum(s >= ratio - 1e-12 for s in stars) / len(stars)
    low = sum(s <= ratio + 1e-12 for s in stars) / len(stars)
    exact = min(1.0, 2 * min(high, low))
    got_ratio, p = permutation_variance_test(np.array(pre), np.array(post))
    assert got_ratio == pytest.approx(ratio, rel=1e-6, abs=0)
    assert p == pytest.approx(exact, abs=0.01)


def test_variance_dummy_robust_qlr_in_study(study_market, sensetime, hsi) -> None:
    """Robust QLR = 2 LR / (kappa - 1): LR from the two fits (the restricted one matching a bare
    arch GARCH(1,1)-normal fit of returns up to day +20, x100, market-model mean), kappa from a
    bare arch fit of the chosen model on the estimation window."""
    test = study_market.ratio.dummy_test
    if study_market.fit is None:
        assert test is None
        return
    assert test is not None and test.n_dummy == 20 and test.dist == "normal"
    lr = max(0.0, 2 * (test.loglik_unrestricted - test.loglik_restricted))
    assert test.lr_stat == pytest.approx(lr, rel=1e-6, abs=0)
    assert test.lr_pvalue == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-6, abs=0)
    path = study_market.path
    sample = path[path["day"] <= 20].index
    y = sensetime.loc[sample] * 100
    x = pd.DataFrame({"market": hsi.reindex(sample).to_numpy() * 100}, index=sample)
    bare = arch_model(y, x=x, mean="LS", vol="GARCH", p=1, q=1, dist="normal").fit(disp="off")
    assert bare.loglikelihood == pytest.approx(test.loglik_restricted, rel=1e-4, abs=0)
    # kurtosis of the chosen pre-event model's standardised residuals over the estimation window
    z = path.loc[path["estimation"], "resid"] / path.loc[path["estimation"], "sigma"]
    kappa = float(np.mean(z**4) / np.mean(z**2) ** 2)
    assert test.kurtosis == pytest.approx(kappa, rel=1e-2, abs=0)
    assert test.robust_lr == pytest.approx(2 * lr / (test.kurtosis - 1), rel=1e-6, abs=0)
    if any(not f.startswith("LR ") for f in test.flags):  # irregular fit: no chi2 p-value
        assert math.isnan(test.p_value) and "p-value not reported" in test.flags[-1]
    else:
        assert test.p_value == pytest.approx(stats.chi2.sf(test.robust_lr, 1), rel=1e-6, abs=0)
    assert test.wald_z == pytest.approx(test.delta / test.delta_se, rel=1e-6, abs=0)


def test_fallback_to_ewma_on_short_real_history(kuaishou: pd.Series, study_fallback) -> None:
    """Kuaishou's first 60 returns: every GARCH candidate is flagged (real trigger)."""
    selection = select_model(kuaishou.iloc[:60])
    assert selection.best is None
    assert len(selection.candidates) == 9 and all(f.flags for f in selection.candidates)
    assert "EWMA" in selection.fallback_reason and "alpha ~ 0" in selection.fallback_reason
    res = study_fallback
    assert res.fit is None and res.model.startswith("EWMA")
    assert "EWMA" in res.fallback_reason and "Fallback:" in res.summary()
    path = res.path
    n_est = int(path["estimation"].sum())
    assert n_est == 60
    e = path["ret"].to_numpy() - path["ret"].iloc[:n_est].mean()
    weights = 0.94 ** np.arange(min(75, n_est))
    s2 = [float(np.sum(weights * e[: weights.size] ** 2) / weights.sum())]
    for t in range(1, len(e)):
        s2.append(0.94 * s2[-1] + 0.06 * e[t - 1] ** 2)
    np.testing.assert_allclose(path["sigma"] ** 2, s2, rtol=1e-10)
    # SAR: AR / sqrt(sigma2 + Var(mu_hat)), Var(mu_hat) = s^2 / n with s^2 on n - 1 dof
    var_mu = float(np.sum(e[:n_est] ** 2) / (n_est - 1)) / n_est
    window = path[path["sar"].notna()]
    assert list(window["day"]) == list(range(-10, 21))
    expected = e[window.index.map(path.index.get_loc)] / np.sqrt(window["sigma"] ** 2 + var_mu)
    np.testing.assert_allclose(window["sar"], expected, rtol=1e-10)
    assert res.ratio.dummy_test is None and "skipped" in res.ratio.note
    json.dumps(res.to_dict(), allow_nan=False)


def test_min_obs_rule(kuaishou: pd.Series) -> None:
    selection = select_model(kuaishou.iloc[:40], min_obs=50)
    assert selection.best is None and not selection.candidates
    assert "min_obs=50" in selection.fallback_reason


def test_event_dummy_garch_nests_arch_garch() -> None:
    rng = np.random.default_rng(7)
    e = rng.standard_normal(300)
    bounds = GARCH().variance_bounds(e)
    params = np.array([0.05, 0.1, 0.85])
    dummy = (np.arange(300) >= 250).astype(float)
    plain, with_dummy = np.zeros(300), np.zeros(300)
    GARCH().compute_variance(params, e, plain, 1.3, bounds)
    EventDummyGARCH(dummy).compute_variance(np.append(params, 0.0), e, with_dummy, 1.3, bounds)
    np.testing.assert_allclose(with_dummy, plain, rtol=1e-12)
    EventDummyGARCH(dummy).compute_variance(np.append(params, 0.7), e, with_dummy, 1.3, bounds)
    literal = [0.05 + 0.95 * 1.3]
    for t in range(1, 300):
        literal.append(0.05 * math.exp(0.7 * dummy[t]) + 0.1 * e[t - 1] ** 2 + 0.85 * literal[-1])
    np.testing.assert_allclose(with_dummy, literal, rtol=1e-10)


def _simulate_shift(seed: int, factor: float) -> np.ndarray:
    """GARCH(1,1) percent returns whose intercept is x``factor`` over the last 60 days."""
    z = np.random.default_rng(seed).standard_normal(560)
    s2, eps, out = 1.0, 0.0, []
    for t in range(560):
        omega = 0.1 * (factor if t >= 500 else 1.0)
        s2 = omega + 0.1 * eps**2 + 0.8 * s2
        eps = math.sqrt(s2) * z[t]
        out.append(eps)
    return np.array(out) / 100


def test_variance_dummy_test_detects_a_shift() -> None:
    dummy = (np.arange(560) >= 500).astype(float)
    shifted = variance_dummy_test(_simulate_shift(3, 6.0), dummy)
    assert shifted.delta > 0 and shifted.p_value < 0.01
    assert shifted.omega_multiplier == pytest.approx(math.exp(shifted.delta), rel=1e-6, abs=0)
    calm = variance_dummy_test(_simulate_shift(3, 1.0), dummy)
    assert calm.p_value > shifted.p_value and calm.lr_stat >= 0


# ------------------------------------------------------------- GARCH-standardised BMP


def _garch_bmp_literal(sar: np.ndarray, days: list[int], lo: int, hi: int) -> tuple[float, float]:
    scars = []
    for row in sar:
        values = [v for d, v in zip(days, row, strict=True) if lo <= d <= hi and not np.isnan(v)]
        if values:
            scars.append(sum(values) / math.sqrt(len(values)))
    n = len(scars)
    mean = sum(scars) / n
    sd = math.sqrt(sum((s - mean) ** 2 for s in scars) / (n - 1))
    t = mean / (sd / math.sqrt(n))
    return t, 2 * stats.t.sf(abs(t), n - 1)


def test_garch_bmp_matches_literal_loop() -> None:
    rng = np.random.default_rng(2003)
    sar = rng.standard_normal((25, 11)) + 0.3
    sar[rng.random(sar.shape) < 0.2] = np.nan
    sar[4, :] = np.nan  # an event with no data is dropped
    days = list(range(-5, 6))
    for lo, hi in ((0, 0), (-1, 2), (-5, 5)):
        result = garch_bmp_test(sar, window=(lo, hi), days=days)
        t, p = _garch_bmp_literal(sar, days, lo, hi)
        assert result.t_stat == pytest.approx(t, rel=1e-12, abs=0)
        assert result.p_value == pytest.approx(p, rel=1e-9, abs=0)
    assert garch_bmp_test(sar, days=days).n_events == 24
    json.dumps(result.to_dict(), allow_nan=False)


def test_garch_bmp_rejects_bad_input() -> None:
    with pytest.raises(BadInput):
        garch_bmp_test(np.ones(5))
    with pytest.raises(BadInput):
        garch_bmp_test(np.array([[1.0, np.nan], [np.nan, np.nan]]), window=(1, 1))
    with pytest.raises(BadInput):
        garch_bmp_test(np.ones((3, 4)), days=[0, 1])


def test_sar_matrix_aligns_days(study_market, study_fallback) -> None:
    matrix, days = sar_matrix([study_market, study_fallback])
    assert days == list(range(-10, 21)) and matrix.shape == (2, 31)
    np.testing.assert_allclose(matrix[0], study_market.sar.to_numpy())
    assert garch_bmp_test(matrix, window=(0, 0), days=days).n_events == 2


# --------------------------------------------------------------------------- errors


def test_bad_inputs_raise_actionable_errors(sensetime: pd.Series) -> None:
    with pytest.raises(BadInput, match="after the last return"):
        volatility_study(sensetime, "2030-01-01")
    with pytest.raises(BadInput, match="unknown volatility model"):
        fit_garch(sensetime, vol="FIGARCH")
    with pytest.raises(BadInput, match="GARCH and GJR only"):
        fit_garch(sensetime, vol="EGARCH", backcast="sample")
    with pytest.raises(BadInput, match="estimation must end before"):
        volatility_study(sensetime, SENSETIME_DAY0, estimation_end=-5, event_window=(-5, 5))
    with pytest.raises(BadInput, match="no returns after day 0"):
        volatility_study(sensetime, len(sensetime) - 1)
    with pytest.raises(EstimationError, match="constant"):
        fit_garch(np.zeros(100))
    with pytest.raises(EstimationError, match="at least"):
        fit_garch(sensetime.iloc[:5])


# --------------------------------------------------------------------------- parallel


def _tasks() -> list[GarchTask]:
    tencent = _returns("0700.HK")
    return [GarchTask(tencent.iloc[i * 250:(i + 1) * 250], label=str(i)) for i in range(4)]


def _params(results) -> np.ndarray:
    return np.array([list(r.params.values()) for r in results])


def test_fit_many_local_and_dask_match_serial() -> None:
    distributed = pytest.importorskip("distributed")
    tasks = _tasks()
    serial = fit_many(tasks, "serial", progress=False)
    local = fit_many(tasks, "local", progress=True, max_workers=2)
    np.testing.assert_array_equal(_params(local), _params(serial))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        remote = fit_many(tasks, f"dask://{address}", progress=True)
    # dask's nanny runs workers with one BLAS thread: rounding differs, SLSQP stops within its
    # tolerance elsewhere on flat likelihoods (task 0 has alpha = 0), hence the tolerance.
    np.testing.assert_allclose(_params(remote), _params(serial), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose([r.loglik for r in remote], [r.loglik for r in serial],
                               rtol=0, atol=1e-5)
    assert [r.spec.label for r in remote] == ["GARCH(1,1) normal"] * 4


def test_fit_many_returns_or_raises_errors() -> None:
    tasks = [*_tasks()[:1], GarchTask(np.zeros(50))]
    mixed = fit_many(tasks, "serial", progress=False, return_exceptions=True)
    assert isinstance(mixed[1], EstimationError) and mixed[0].nobs == 250
    with pytest.raises(EstimationError):
        fit_many(tasks, "local", progress=False)
    with pytest.raises(BadInput, match="unknown executor"):
        fit_many(tasks, "threads")


# --------------------------------------------------------------------------- plots


def test_plots_are_written(study_market, study_fallback, tmp_path: Path) -> None:
    fig = plot_conditional_volatility(study_market)
    assert len(fig.axes) == 2
    assert len(plot_std_resid_diagnostics(study_market).axes) == 3
    labels = [t.get_text() for t in plot_conditional_volatility(study_fallback).axes[0]
              .get_legend().get_texts()]
    assert any("EWMA" in label for label in labels)
    paths = save_volatility_plots(study_market, tmp_path / "plots")
    assert study_market.fit is not None and study_market.fit.spec.vol == "EGARCH"
    assert [p.name for p in paths] == ["0020.HK_2022-06-30_egarch_volatility.png",
                                       "0020.HK_2022-06-30_egarch_diagnostics.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(BadInput, match="exists"):  # never replaces a file
        save_volatility_plots(study_market, tmp_path / "plots")
    # after the EWMA fallback the files say so, not *_garch_*
    names = [p.name for p in save_volatility_plots(study_fallback, tmp_path / "fallback")]
    assert all("_ewma_" in n and "garch" not in n for n in names) and len(names) == 2


def test_sample_is_the_aligned_scaled_returns_with_the_ols_mean(sensetime: pd.Series,
                                                                hsi: pd.Series) -> None:
    """``Sample.of``: the stock and ^HSI returns on their common dates, x100, and residuals of
    the OLS market model, against an inner join and numpy's least squares."""
    from eventstudy.volatility.base import Sample

    sample = Sample.of(sensetime, hsi)
    both = pd.concat({"y": sensetime, "m": hsi}, axis=1, join="inner").dropna()
    assert list(sample.index) == list(both.index) and sample.mean == "market"
    np.testing.assert_array_equal(sample.y, both["y"].to_numpy() * 100.0)
    x = np.column_stack([np.ones(len(both)), both["m"].to_numpy() * 100.0])
    y = both["y"].to_numpy() * 100.0
    coef = np.linalg.lstsq(x[:80], y[:80], rcond=None)[0]
    resid, _ = sample.ols_residuals(80)
    np.testing.assert_allclose(resid, y - x @ coef, rtol=1e-10, atol=1e-12)


def test_returns_and_sample_reach_arch_by_the_same_route(sensetime: pd.Series,
                                                         hsi: pd.Series) -> None:
    """fit_garch on returns and on their Sample: the same fit (one route to arch's optimiser);
    a Sample keeps its own market and scale."""
    from eventstudy.volatility.base import Sample

    sample = Sample.of(sensetime, hsi)
    by_returns = fit_garch(sensetime, market=hsi, vol="GJR", dist="t")
    by_sample = fit_garch(sample, vol="GJR", dist="t")
    assert by_returns.params == by_sample.params and by_returns.loglik == by_sample.loglik
    with pytest.raises(BadInput, match="carries its market and scale"):
        fit_garch(sample, scale=10.0)
    with pytest.raises(BadInput, match="carries its market and scale"):
        select_model(sample, hsi)
    with pytest.raises(BadInput, match="one value per row"):
        variance_dummy_test(sample, np.ones(len(sample) - 1))


def test_volatility_results_are_immutable(study_market) -> None:
    """The result objects are frozen, as statsmodels' and arch's results are read-only: a
    reported number cannot be changed after the study."""
    import dataclasses

    for obj, name in ((study_market, "fit"), (study_market.selection, "best"),
                      (study_market.ratio, "z2_ratio"), (study_market.windows[0], "realised"),
                      (study_market.fit, "persistence")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
