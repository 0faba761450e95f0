"""Calendar-time portfolios, cross-sectional regressions and the wild bootstrap, each against an
independent computation written here (loops over dates, normal equations, a literal bootstrap
loop with the same seed), on the real bundled prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import read_raw_hsi, read_raw_prices

from eventstudy.engine.bootstrap import wild_bootstrap_caar
from eventstudy.engine.calendar_time import calendar_time_portfolio, daily_portfolio
from eventstudy.engine.regression import cross_sectional_regression
from eventstudy.errors import BadInput

# (ticker, an event session present in its data); two firms share 2022-06-30 on purpose.
EVENTS = [("0020.HK", "2022-06-30"), ("0020.HK", "2022-12-30"), ("1024.HK", "2021-08-05"),
          ("9660.HK", "2025-04-24"), ("3690.HK", "2022-06-30"), ("9880.HK", "2024-06-28")]


def _rows() -> pd.DataFrame:
    """An abnormal-returns-shaped table built from the raw CSVs: days -5..+30 of each event."""
    hsi = read_raw_hsi().pct_change()
    out = []
    for i, (ticker, day0) in enumerate(EVENTS):
        close = read_raw_prices(ticker)["Close"].astype(float)
        ret = close.pct_change()
        k0 = close.index.get_loc(pd.Timestamp(day0))
        for day in range(-5, 31):
            k = k0 + day
            if 0 < k < len(close):
                date = close.index[k]
                out.append({"event_id": f"e{i}", "ticker": ticker, "day": day, "date": date,
                            "return": ret.iloc[k], "market_return": hsi.get(date, np.nan)})
    # The same firm-day twice (two tranches): it must count once.
    dup = [r | {"event_id": "e0b"} for r in out if r["event_id"] == "e0"]
    return pd.DataFrame(out + dup).dropna(subset=["market_return"])


def _literal_portfolio(rows: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    live = rows[(rows.day >= lo) & (rows.day <= hi)]
    out = []
    for date in sorted(live.date.unique()):
        on = live[live.date == date]
        firms = {}
        for _, r in on.iterrows():
            firms.setdefault(r.ticker, r["return"])
        out.append((date, np.mean(list(firms.values())), on.market_return.iloc[0], len(firms)))
    return pd.DataFrame(out, columns=["date", "return", "market_return", "n_firms"])


def _newey_west(x: np.ndarray, y: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.column_stack([np.ones(len(y)), x])
    b = np.linalg.solve(X.T @ X, X.T @ y)
    u = X * (y - X @ b)[:, None]
    s = u.T @ u
    for lag in range(1, lags + 1):
        g = u[lag:].T @ u[:-lag]
        s += (1 - lag / (lags + 1)) * (g + g.T)
    inv = np.linalg.inv(X.T @ X)
    return b, np.sqrt(np.diag(inv @ s @ inv))


def test_calendar_time_portfolio_matches_a_loop_over_dates_and_hand_newey_west() -> None:
    rows = _rows()
    expected = _literal_portfolio(rows, 0, 20)
    got = daily_portfolio(rows, (0, 20))
    assert got["n_firms"].tolist() == expected["n_firms"].tolist()
    assert got["n_firms"].max() == 2  # 0020 and 3690 on 2022-06-30, 0020 counted once
    np.testing.assert_allclose(got["return"], expected["return"], rtol=1e-13)
    res = calendar_time_portfolio(rows, (0, 20), lags=3)
    b, se = _newey_west(expected["market_return"].to_numpy(), expected["return"].to_numpy(), 3)
    np.testing.assert_allclose(res.params.to_numpy(), b, rtol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), se, rtol=1e-10)
    assert res.alpha == pytest.approx(b[0], rel=1e-6, abs=0)
    assert res.nobs == len(expected)


def test_calendar_time_with_factors_subtracts_the_risk_free_rate() -> None:
    rows = _rows()
    port = _literal_portfolio(rows, 0, 10)
    dates = pd.DatetimeIndex(port["date"])
    # A factor table for the test only: the HSI return as the factor, a constant rf.
    factors = pd.DataFrame({"MKT": port["market_return"].to_numpy() - 1e-4, "RF": 1e-4},
                           index=dates)
    res = calendar_time_portfolio(rows, (0, 10), factors=factors, factor_cols=["MKT"],
                                  rf_col="RF", lags=2)
    b, se = _newey_west(factors["MKT"].to_numpy(), port["return"].to_numpy() - 1e-4, 2)
    np.testing.assert_allclose(res.params.to_numpy(), b, rtol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), se, rtol=1e-10)


def test_calendar_time_value_weights() -> None:
    rows = _rows()
    w = pd.Series({"0020.HK": 3.0, "3690.HK": 1.0, "1024.HK": 2.0, "9660.HK": 1.0,
                   "9880.HK": 1.0})
    got = daily_portfolio(rows, (0, 0), weights=w)
    day = got[got.date == pd.Timestamp("2022-06-30")].iloc[0]
    r = rows[(rows.day == 0) & (rows.date == pd.Timestamp("2022-06-30"))]
    r20 = r[r.ticker == "0020.HK"]["return"].iloc[0]
    r3690 = r[r.ticker == "3690.HK"]["return"].iloc[0]
    assert day["return"] == pytest.approx((3 * r20 + r3690) / 4, rel=1e-13, abs=0)
    with pytest.raises(BadInput, match="no positive weight"):
        daily_portfolio(rows, (0, 0), weights=w.drop("9880.HK"))


def _events_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)  # synthetic characteristics for the regression test
    n = 40
    return pd.DataFrame({
        "car": rng.normal(0, 0.05, n) - 0.02 * np.repeat([0, 1], n // 2),
        "runup": rng.normal(0.1, 0.3, n), "tranche": np.tile(["cornerstone", "pre_ipo"], n // 2),
        "day0": np.repeat(pd.date_range("2024-01-01", periods=n // 2), 2)})


def test_cross_sectional_regression_matches_normal_equations_hc3_and_clusters() -> None:
    data = _events_frame()
    data.loc[3, "runup"] = np.nan  # one missing value: dropped, said in the notes
    res = cross_sectional_regression(data, "car ~ runup + C(tranche)")
    d = data.dropna()
    X = np.column_stack([np.ones(len(d)), (d.tranche == "pre_ipo").astype(float), d.runup])
    y = d.car.to_numpy()
    inv = np.linalg.inv(X.T @ X)
    b = inv @ X.T @ y
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, inv, X)
    hc3 = inv @ (X.T * (e / (1 - h)) ** 2) @ X @ inv
    groups = pd.factorize(d.day0)[0]
    meat = sum(np.outer(X[groups == g].T @ e[groups == g], X[groups == g].T @ e[groups == g])
               for g in np.unique(groups))
    n, k, g = len(y), X.shape[1], len(np.unique(groups))
    cl = inv @ meat @ inv * g / (g - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(res.coef["coef"], b, rtol=1e-10)
    np.testing.assert_allclose(res.coef["se_hc3"], np.sqrt(np.diag(hc3)), rtol=1e-10)
    np.testing.assert_allclose(res.coef["se_cluster"], np.sqrt(np.diag(cl)), rtol=1e-10)
    assert res.nobs == 39 and res.clusters == 20
    assert any("missing" in note for note in res.notes)


@pytest.mark.parametrize("formula,match", [
    ("car ~ nosuchcolumn", "nosuchcolumn"), ("car ~ ", "bad regression formula"),
    ("runup", "outcome ~ terms")])
def test_regression_bad_formula_is_bad_input(formula: str, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        cross_sectional_regression(_events_frame(), formula)


def test_wild_bootstrap_matches_a_literal_loop_with_the_same_seed() -> None:
    close = read_raw_prices("0020.HK")["Close"].astype(float)
    car = close.pct_change().dropna().to_numpy()[:60]  # real returns as the CARs of 60 events
    got = wild_bootstrap_caar(car, n_boot=499, seed=11)
    rng = np.random.default_rng(11)
    v = rng.integers(0, 2, size=(499, len(car)), dtype=np.int8) * 2 - 1
    t = car.mean() / (car.std(ddof=1) / np.sqrt(len(car)))
    e = car - car.mean()
    hits = 0
    for b in range(499):
        s = v[b] * e
        hits += abs(s.mean() / (s.std(ddof=1) / np.sqrt(len(s)))) >= abs(t)
    assert got["t"] == pytest.approx(t, rel=1e-12, abs=0)
    assert got["p_boot"] == pytest.approx((hits + 1) / 500, rel=1e-6, abs=0)
    assert wild_bootstrap_caar(car, n_boot=499, seed=11) == got  # reproducible


def test_wild_bootstrap_rejects_a_real_shift_and_not_its_absence() -> None:
    rng = np.random.default_rng(3)  # synthetic CARs
    assert wild_bootstrap_caar(rng.normal(-0.05, 0.05, 80), n_boot=999)["p_boot"] < 0.01
    assert wild_bootstrap_caar(rng.normal(0.0, 0.05, 80), n_boot=999)["p_boot"] > 0.01
    with pytest.raises(BadInput):
        wild_bootstrap_caar(np.array([0.1]))


def test_regression_refuses_collinear_terms() -> None:
    data = _events_frame().assign(runup2=lambda d: 2 * d.runup)
    with pytest.raises(BadInput, match="collinear"):
        cross_sectional_regression(data, "car ~ runup + runup2")


@pytest.fixture(scope="module")
def two_firms():
    from eventstudy.studies.lockup import lockup_study

    return lockup_study(["0020.HK", "9880.HK"], offline=True)


def test_designs_on_a_real_study_use_its_own_numbers(two_firms) -> None:
    res = two_firms
    chars = res.characteristics((0, 1))
    assert len(chars) == res.n_events
    ids = res.events[["event_id", "ticker"]].reset_index(drop=True)
    ar = res.abnormal_returns.merge(ids, on="event_id")
    for _, row in chars.iterrows():
        days = ar[(ar.event_id == row.event_id) & ar.day.between(0, 1)]
        assert row.car == pytest.approx(days.ar.sum(), rel=1e-12, abs=0)
    ct = res.calendar_time((0, 20))
    live = ar[ar.day.between(0, 20)].drop_duplicates(["ticker", "date"])
    assert ct.nobs == live.date.nunique()
    assert ct.portfolio["n_firms"].sum() == len(live)
    boot = res.wild_bootstrap(((0, 0),), n_boot=199, seed=1)
    firm_days = res.events.drop_duplicates(["ticker", "day0"])
    assert int(boot["n"].iloc[0]) == len(firm_days)
    with pytest.raises(BadInput, match="outside the study"):
        res.calendar_time((0, 500))


def test_batch_cli_designs_in_json_and_bad_formula_exit_2() -> None:
    import json

    from conftest import run_cli

    code, out, err = run_cli("batch", "--offline", "--no-report", "--json", "--regress",
                             "car ~ runup", "--calendar-time", "0,10", "--bootstrap", "199")
    assert code == 0, err
    doc = json.loads(out)
    designs = doc["designs"]
    assert designs["regression_1"]["formula"] == "car ~ runup"
    assert [t["term"] for t in designs["regression_1"]["terms"]] == ["Intercept", "runup"]
    assert designs["calendar_time"]["horizon"] == [0, 10]
    assert {r["n_boot"] for r in designs["wild_bootstrap"]} == {199}
    assert len(doc["parameters"]) == len(doc["events"])
    code, _, err = run_cli("batch", "--offline", "--no-report", "--regress", "car ~ nosuch")
    assert code == 2 and "nosuch" in err and "Traceback" not in err


def test_batch_text_summary_prints_every_design() -> None:
    """Without --json the designs are printed too (they were only in JSON and the report)."""
    from conftest import run_cli

    code, out, err = run_cli("batch", "--offline", "--no-report", "--regress",
                             "abnormal_volume ~ runup", "--calendar-time", "0,10",
                             "--bootstrap", "99")
    assert code == 0, err
    lines = out.splitlines()
    for heading in ("Regression 1:", "Calendar time:", "Wild bootstrap:"):
        assert heading in lines, heading
    at = lines.index("Regression 1:")
    assert lines[at + 1].startswith("OLS abnormal_volume ~ runup: N = ")
    assert any(line.split()[:1] == ["runup"] for line in lines[at + 2:at + 6])


def test_cli_factor_model_needs_a_file_and_reads_one(tmp_path) -> None:
    from conftest import run_cli

    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--model",
                           "factors")
    assert code == 2 and "--factors" in err
    code, out, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--no-garch",
                             "--model", "dimson", "--dimson", "2,1", "--json")
    assert code == 0, err
    import json

    params = json.loads(out)["parameters"][0]
    assert {"beta_m-2", "beta_m-1", "beta_m", "beta_m+1", "beta_dimson"} <= set(params)


def test_calendar_time_keeps_one_market() -> None:
    from eventstudy.studies.lockup import lockup_study

    res = lockup_study(["0020.HK", "ZM"], offline=True, volatility=False)
    ct = res.calendar_time((0, 5))
    assert any("^GSPC" in note and "left out" in note for note in ct.notes)
    hk = res.events[res.events.ticker == "0020.HK"].drop_duplicates("day0")
    assert ct.portfolio["n_firms"].sum() == 6 * len(hk)
    us = res.calendar_time((0, 5), market="^GSPC")
    assert us.portfolio["n_firms"].sum() == 6
    with pytest.raises(BadInput, match="no event"):
        res.calendar_time((0, 5), market="^N225")


def test_report_shows_parameters_and_designs(tmp_path) -> None:
    import html5lib
    from conftest import run_cli

    out = tmp_path / "rep"
    code, _, err = run_cli("-q", "batch", "--offline", "--regress", "car ~ runup",
                           "--calendar-time", "0,20", "--bootstrap", "199", "--out", str(out))
    assert code == 0, err
    md = (out / "report.md").read_text()
    for heading in ("## Model parameters", "## Designs", "### Regression: car \\~ runup",
                    "### Calendar-time portfolio", "### Wild bootstrap of CAAR"):
        assert heading in md
    assert (out / "calendar_time.png").stat().st_size > 0
    html5lib.HTMLParser(strict=True).parse((out / "report.html").read_text())
