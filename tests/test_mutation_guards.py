"""Guards against the small, realistic bugs that survived the suite (issue 26).

Each test recomputes a reported number independently (plain pandas / numpy / scipy /
statsmodels / arch written here) so that a flipped sign, a one-tailed p, a lag rule or a
threshold changed in the product makes it fail. ``make mutate`` (scripts/mutate.py) injects
those bugs one at a time and checks that these tests catch them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, read_raw_hsi, read_raw_prices
from scipy import stats


@pytest.fixture(scope="module")
def sensetime():
    from eventstudy import lockup_study

    return lockup_study("0020.HK", offline=True)


def _buy_and_hold(closes: pd.Series, day0: pd.Timestamp, end: int) -> float:
    """Compounded return from the close before day 0 to the close of day ``end``."""
    dates = closes.index
    at = dates.get_loc(day0)
    return float(closes.iloc[at + end] / closes.iloc[at - 1] - 1.0)


def test_bhar_table_is_stock_less_market_from_raw_prices(sensetime) -> None:
    """BHAR = prod(1 + R_i) - prod(1 + R_m) (Barber & Lyon 1997), from the raw CSVs."""
    stock = read_raw_prices("0020.HK")["Close"].astype(float)
    hsi = read_raw_hsi()
    common = stock.index.intersection(hsi.index)
    stock, hsi = stock.loc[common], hsi.loc[common]
    rows = sensetime.bhar.merge(sensetime.events[["event_id", "day0"]], on="event_id")
    assert len(rows) >= 6
    for row in rows.itertuples():
        day0 = pd.Timestamp(row.day0)
        if common.get_loc(day0) + int(row.end) >= len(common):
            continue
        ours = _buy_and_hold(stock, day0, int(row.end))
        mkt = _buy_and_hold(hsi, day0, int(row.end))
        assert row.bhar == pytest.approx(ours - mkt, rel=1e-9, abs=1e-12)
        assert row.market_return == pytest.approx(mkt, rel=1e-9, abs=1e-12)


def test_newey_west_automatic_lags_follow_newey_west_1994() -> None:
    """Without ``lags``, the HAC lag is floor(4 (T/100)^(2/9)) and the SE is statsmodels' HAC
    with that lag."""
    import statsmodels.api as sm

    from eventstudy.engine.calendar_time import calendar_time_portfolio

    rng = np.random.default_rng(26)  # synthetic returns, seeded
    dates = pd.bdate_range("2021-01-04", periods=900)
    rows = []
    for firm in range(12):
        start = int(rng.integers(0, 600))
        for day in range(0, 21):
            rows.append({"ticker": f"S{firm}", "day": day, "date": dates[start + day],
                         "return": rng.normal(0, 0.02), "market_return": 0.0})
    frame = pd.DataFrame(rows)
    market = pd.Series(rng.normal(0, 0.01, len(dates)), index=dates)
    frame["market_return"] = market.loc[frame["date"]].to_numpy()
    result = calendar_time_portfolio(frame, (0, 20))
    t_obs = result.nobs
    expected_lags = int(math.floor(4 * (t_obs / 100.0) ** (2.0 / 9.0)))
    assert result.lags == expected_lags
    daily = frame.groupby("date").agg(ret=("return", "mean"), mkt=("market_return", "first"))
    fit = sm.OLS(daily["ret"].to_numpy(), sm.add_constant(daily["mkt"].to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": expected_lags})
    assert result.bse["const"] == pytest.approx(fit.bse[0], rel=1e-9, abs=0)
    assert result.pvalues["const"] == pytest.approx(fit.pvalues[0], rel=1e-9, abs=0)


@pytest.mark.parametrize("nobs", [1, 50, 99, 100, 250, 1000, 2520, 10000])
def test_newey_west_lag_rule(nobs: int) -> None:
    """floor(4 (T/100)^(2/9)) (Newey & West 1994), e.g. 6 lags at T = 1000, 8 at T = 2520."""
    from eventstudy.engine.calendar_time import newey_west_lags

    assert newey_west_lags(nobs) == math.floor(4 * (nobs / 100) ** (2 / 9))


def test_sign_test_counts_zero_cars_as_not_positive() -> None:
    """Cowan (1992): w = #{CAR_i > 0}; a CAR of exactly zero is not a success."""
    from eventstudy.engine.significance import sign_test

    car = np.array([0.0, 0.0, 0.01, -0.02, 0.03, 0.0, -0.01, 0.02])
    p_hat = np.full(car.size, 0.5)
    got = sign_test(car, p_hat)
    n, w, p = car.size, 3, 0.5
    z = (w - n * p) / math.sqrt(n * p * (1 - p))
    assert float(got.statistic) == pytest.approx(z, rel=1e-12, abs=0)
    assert float(got.p_value) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9, abs=0)


@pytest.fixture(scope="module")
def dmbp() -> pd.Series:
    frame = pd.read_csv(DATA / "garch" / "dmbp.csv")
    return frame["rate"].iloc[:600] / 100.0  # percent -> decimal (fit_garch scales by 100)


def test_gjr_persistence_counts_half_of_gamma(dmbp: pd.Series) -> None:
    """GJR (Glosten, Jagannathan & Runkle 1993) with symmetric errors: persistence =
    alpha + gamma / 2 + beta, from arch's own estimates."""
    from eventstudy.volatility.garch import fit_garch

    fit = fit_garch(dmbp, vol="GJR")
    p = fit.params
    assert abs(p["gamma[1]"]) > 1e-4  # gamma/2 vs gamma makes a visible difference
    expected = p["alpha[1]"] + 0.5 * p["gamma[1]"] + p["beta[1]"]
    assert fit.persistence == pytest.approx(expected, rel=1e-12, abs=0)


def test_persistence_threshold_is_0999() -> None:
    """A fit with persistence between 0.99 and 0.999 is usable; at or above 0.999 it is flagged
    (the integrated-GARCH boundary used throughout the volatility docs)."""
    from eventstudy.volatility import base

    assert pytest.approx(0.999, rel=0, abs=0) == base.MAX_PERSISTENCE


def test_variance_dummy_wald_p_is_two_sided(dmbp: pd.Series) -> None:
    """The Wald z of the variance dummy is delta / se(delta), p = 2 (1 - Phi(|z|)); the robust
    QLR p is chi2(1) of the reported statistic."""
    from eventstudy.volatility.dummy import variance_dummy_test

    dummy = np.zeros(len(dmbp))
    dummy[400:420] = 1.0
    test = variance_dummy_test(dmbp, dummy)
    z = test.delta / test.delta_se
    assert test.wald_z == pytest.approx(z, rel=1e-12, abs=0)
    assert test.wald_pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9, abs=0)
    assert test.lr_pvalue == pytest.approx(stats.chi2.sf(test.lr_stat, 1), rel=1e-9, abs=0)
    if math.isfinite(test.p_value):
        assert test.p_value == pytest.approx(stats.chi2.sf(test.robust_lr, 1), rel=1e-9, abs=0)


def test_every_min_estimation_default_is_the_one_constant() -> None:
    """MIN_ESTIMATION is defined once; every entry point and CLI option defaults to it."""
    import inspect

    from eventstudy import batch_study, listing_study, lockup_study
    from eventstudy.cli import main
    from eventstudy.engine.models import fit_model
    from eventstudy.engine.windows import MIN_ESTIMATION
    from eventstudy.results.result import StudyOptions

    for func in (lockup_study, batch_study, listing_study, fit_model):
        assert inspect.signature(func).parameters["min_estimation"].default is MIN_ESTIMATION
    assert StudyOptions().min_estimation == MIN_ESTIMATION
    for name in ("lockup", "batch", "listing"):
        command = main.get_command(None, name)  # type: ignore[arg-type]
        option = next(p for p in command.params if p.name == "min_estimation")
        assert option.default == MIN_ESTIMATION, name


def test_volume_table_matches_campbell_wasley_from_raw_csv(sensetime) -> None:
    """Abnormal log volume (Campbell & Wasley 1996): log(1 + V) less the index's log(1 + V_m),
    less its estimation-window mean; window t = mean / (s / sqrt(k)), s with ddof 1, k days with
    a volume; ratio = mean window volume / mean estimation volume. From the raw CSVs."""
    ev = sensetime.events.iloc[0]
    stock = read_raw_prices("0020.HK")
    old = pd.read_csv(DATA / "prices" / "^HSI_1986-12-31_2023-10-20.csv", na_values="null")
    old = old.dropna(subset=["Close"]).set_index(pd.to_datetime(old.dropna(
        subset=["Close"])["Date"]))
    new = read_raw_prices("^HSI_2021-06-24_2026-06-23")
    index_volume = pd.concat([old["Volume"][~old.index.isin(new.index)],
                              new["Volume"]]).sort_index().astype(float)
    volume = stock["Volume"].astype(float).where(lambda v: v > 0)
    abnormal = np.log1p(volume) - np.log1p(index_volume.where(index_volume > 0)
                                           ).reindex(volume.index)
    est = abnormal.loc[ev.estimation_start:ev.estimation_end]
    mean, sd = est.mean(), est.std(ddof=1)
    at = stock.index.get_loc(pd.Timestamp(ev.day0))
    est_volume = volume.loc[ev.estimation_start:ev.estimation_end].mean()
    rows = sensetime.volume[sensetime.volume.event_id == ev.event_id]
    checked = 0
    for row in rows.itertuples():
        window = abnormal.iloc[at + int(row.start): at + int(row.end) + 1] - mean
        k = int(window.notna().sum())
        assert row.abnormal_log_volume == pytest.approx(window.mean(), rel=1e-9, abs=0)
        assert row.t == pytest.approx(window.mean() / (sd / math.sqrt(k)), rel=1e-9, abs=0)
        ratio = volume.iloc[at + int(row.start): at + int(row.end) + 1].mean() / est_volume
        assert row.volume_ratio == pytest.approx(ratio, rel=1e-9, abs=0)
        checked += k > 1
    assert checked >= 5  # multi-day windows, where sqrt(k) matters


def test_market_adjustment_needs_index_volume_on_half_the_days() -> None:
    """An event is market-adjusted when its index has volume on at least half of the stock's
    estimation days with volume (``MIN_MARKET_SHARE``), not otherwise."""
    from eventstudy.engine.volume import market_adjusted_rows

    est = np.log1p(np.full((3, 10), 1000.0))
    market = np.full((3, 10), np.nan)
    market[0, :5] = 500.0  # exactly half: adjusted
    market[1, :4] = 500.0  # fewer than half: not adjusted
    market[2, :] = 500.0
    rows = market_adjusted_rows(est, market)
    assert rows.tolist() == [True, False, True]


def _long_history_listing(tmp_path) -> str:
    """Kuaishou's real listing day with an 18-month tranche made up FOR THIS TEST ONLY, so that
    the lock-up estimation window (listing + 5 to day -21) is longer than its 250-session cap."""
    path = tmp_path / "listings.yaml"
    path.write_text(
        "listings:\n"
        "  - ticker: 1024.HK\n"
        "    name: Kuaishou Technology (test-only tranche)\n"
        "    listing_date: 2021-02-05\n"
        "    board: Main Board\n"
        "    issuer_type: red_chip\n"
        "    issuer_type_source: test\n"
        "    status: listed\n"
        "    source: test\n"
        "    tranches:\n"
        "      - name: test_18m\n"
        "        months: 18\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("estimation", [None, (-400, -21)])
def test_lockup_estimation_cap_is_250_sessions_ending_at_day_minus_21(tmp_path, estimation
                                                                       ) -> None:
    """Lock-up estimation: at most 250 sessions ending at day -21, also when a longer window is
    asked for (the cap, not the window, binds)."""
    from eventstudy import lockup_study

    result = lockup_study("1024.HK", offline=True, listings=_long_history_listing(tmp_path),
                          model="market", estimation=estimation)
    ev = result.events.iloc[0]
    dates = read_raw_prices("1024.HK").index
    day0 = dates.get_loc(pd.Timestamp(ev.day0))
    assert pd.Timestamp(ev.estimation_end) == dates[day0 - 21]
    assert pd.Timestamp(ev.estimation_start) == dates[day0 - 21 - 249]
    assert int(ev.estimation_days) == 250
    # per-event CAR p from t(L - 2) for the market model (MacKinlay 1997)
    car = result.car[result.car.event_id == ev.event_id]
    for row in car.itertuples():
        p = 2 * stats.t.sf(abs(row.t), 250 - 2)
        assert row.p == pytest.approx(p, rel=1e-9, abs=0)


def test_default_windows_drop_only_what_the_estimation_window_reaches() -> None:
    """A default CAR window is kept iff it starts after the estimation window's last day."""
    from eventstudy.engine.windows import default_car_windows

    assert (-10, -1) in default_car_windows(-11)
    assert (-10, -1) not in default_car_windows(-10)
    assert (-20, -1) in default_car_windows(-21)
    assert (-20, -1) not in default_car_windows(-20)


@pytest.mark.parametrize(("dates", "warned"), [(9, True), (10, False)])
def test_few_cluster_note_below_ten_dates(dates: int, warned: bool) -> None:
    """Clustered errors with fewer than 10 date clusters are flagged (Cameron & Miller 2015)."""
    from eventstudy.engine.regression import cross_sectional_regression

    rng = np.random.default_rng(dates)  # synthetic cross-section, seeded
    n = 40
    data = pd.DataFrame({"car": rng.normal(0, 0.05, n), "x": rng.normal(0, 1, n),
                         "day0": pd.to_datetime("2022-01-03")
                         + pd.to_timedelta(np.arange(n) % dates, unit="D")})
    result = cross_sectional_regression(data, "car ~ x", cluster="day0")
    assert result.clusters == dates
    assert any("cluster" in note for note in result.notes) is warned
