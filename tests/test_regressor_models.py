"""Factor, Dimson and Scholes-Williams models against statsmodels OLS and literal formulas on
the real SenseTime panel; the Ken French file reader against a plain pandas parse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import DATA, read_raw_prices

from eventstudy.data.factors import read_factors
from eventstudy.engine.models import fit_model
from eventstudy.engine.regressors import DimsonModel, FactorModel, ScholesWilliamsModel
from eventstudy.errors import BadInput

FRENCH = DATA / "factors" / "F-F_Research_Data_Factors_daily.CSV"


@pytest.fixture(scope="module")
def panel():
    from eventstudy.studies.lockup import lockup_study

    return lockup_study("0020.HK", offline=True, volatility=False).ar.panel


def _est_frame(panel, i: int, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"y": panel.est_ret[i], "m": panel.est_mkt[i]},
                         index=pd.DatetimeIndex(panel.est_dates[i]))
    return frame if extra is None else frame.join(extra, how="left")


def _tencent_returns() -> pd.Series:
    close = read_raw_prices("0700.HK")["Close"].astype(float)
    return close.pct_change().rename("tencent")


def test_factor_model_matches_statsmodels_prediction_errors(panel) -> None:
    # Two real regressors for the test: the HSI return and Tencent's return on the same dates.
    hsi = pd.Series(np.r_[panel.est_mkt.ravel(), panel.mkt.ravel()],
                    index=pd.DatetimeIndex(np.r_[panel.est_dates.ravel(), panel.dates.ravel()]))
    hsi = hsi[~hsi.index.isna()].groupby(level=0).first().rename("hsi")
    factors = pd.concat([hsi, _tencent_returns()], axis=1, sort=True).dropna()
    ar = fit_model(panel, "factors", regressors=FactorModel(factors, ["hsi", "tencent"]))
    for i in (0, 3):
        est = _est_frame(panel, i).join(factors).dropna()
        fit = sm.OLS(est["y"], sm.add_constant(est[["hsi", "tencent"]])).fit()
        assert ar.n_est[i] == len(est)
        np.testing.assert_allclose([ar.alpha[i], ar.params["beta_hsi"][i],
                                    ar.params["beta_tencent"][i]], fit.params, rtol=1e-9)
        assert ar.sigma2[i] == pytest.approx(fit.scale, rel=1e-10, abs=0)
        days = pd.DatetimeIndex(panel.dates[i])
        x = sm.add_constant(factors.reindex(days).to_numpy(), has_constant="add")
        c0 = panel.column(0)
        cols = slice(c0 - 1, c0 + 2)  # CAR[-1,+1]
        xs = x[cols]
        pred = xs @ fit.params.to_numpy()
        np.testing.assert_allclose(ar.ar[i, cols], panel.ret[i, cols] - pred, rtol=1e-9)
        cov = fit.cov_params().to_numpy() / fit.scale  # (X'X)^-1
        one = np.ones(3)
        var_car = fit.scale * (3 + one @ xs @ cov @ xs.T @ one)
        car, var = ar.car((-1, 1))
        assert car[i] == pytest.approx((panel.ret[i, cols] - pred).sum(), rel=1e-9, abs=0)
        assert var[i] == pytest.approx(var_car, rel=1e-9, abs=0)
        var_ar = fit.scale * (1 + np.einsum("ij,jk,ik->i", xs, cov, xs))
        np.testing.assert_allclose(ar.ar_var[i, cols], var_ar, rtol=1e-9)


def test_factor_model_subtracts_the_risk_free_rate(panel) -> None:
    dates = pd.DatetimeIndex(np.r_[panel.est_dates.ravel(), panel.dates.ravel()]).dropna()
    mkt = pd.Series(np.r_[panel.est_mkt.ravel(), panel.mkt.ravel()][:len(dates)], index=dates)
    factors = pd.DataFrame({"MKT": mkt, "RF": 0.0001}).groupby(level=0).first()
    ar = fit_model(panel, "factors", regressors=FactorModel(factors, ["MKT"], rf="RF"))
    est = _est_frame(panel, 0).join(factors).dropna()
    fit = sm.OLS(est["y"] - 0.0001, sm.add_constant(est["MKT"])).fit()
    assert ar.alpha[0] == pytest.approx(fit.params["const"], rel=1e-9, abs=0)
    c0 = panel.column(0)
    expected = panel.ret[0, c0] - 0.0001 - fit.params["const"] - fit.params["MKT"] * (
        factors["MKT"].reindex([pd.Timestamp(panel.dates[0, c0])]).iloc[0])
    assert ar.ar[0, c0] == pytest.approx(expected, rel=1e-9, abs=0)


def test_factor_model_names_missing_columns() -> None:
    with pytest.raises(BadInput, match="not in the factor file"):
        FactorModel(pd.DataFrame({"a": [0.1]}), ["SMB"])


def _hsi_on_sensetime_dates() -> pd.Series:
    """The ^HSI return on the sessions 0020.HK shares with it, the whole series (plain pandas)."""
    from conftest import read_raw_hsi

    joint = pd.concat([read_raw_prices("0020.HK")["Close"].rename("r"),
                       read_raw_hsi().rename("m")], axis=1, join="inner")
    return joint["m"].pct_change()


def _lead_lag_frame(panel, i: int) -> pd.DataFrame:
    """Estimation days of event i with the market's lag and lead from the WHOLE series: the
    first and last estimation days keep theirs."""
    m = _hsi_on_sensetime_dates()
    frame = pd.DataFrame({"y": panel.est_ret[i], "m": panel.est_mkt[i]},
                         index=pd.DatetimeIndex(panel.est_dates[i]))
    frame = frame[frame.index.notna()]
    frame["lag"] = m.shift(1).reindex(frame.index).to_numpy()
    frame["lead"] = m.shift(-1).reindex(frame.index).to_numpy()
    return frame.dropna()


def test_dimson_matches_statsmodels_with_lagged_and_leading_market(panel) -> None:
    ar = fit_model(panel, "dimson", regressors=DimsonModel(lags=1, leads=1))
    for i in (0, 3):
        est = _lead_lag_frame(panel, i)
        assert ar.n_est[i] == len(est) == np.isfinite(panel.est_ret[i]).sum()  # none dropped
        fit = sm.OLS(est["y"], sm.add_constant(est[["lag", "m", "lead"]])).fit()
        assert ar.params["beta_dimson"][i] == pytest.approx(fit.params.iloc[1:].sum(), rel=1e-9,
                                                            abs=0)
        c0 = panel.column(0)
        x = np.array([[1.0, panel.mkt[i, c0 - 1], panel.mkt[i, c0], panel.mkt[i, c0 + 1]]])
        pred = fit.get_prediction(x)
        assert ar.ar[i, c0] == pytest.approx(panel.ret[i, c0] - pred.predicted_mean[0],
                                             rel=1e-9, abs=0)
        assert ar.ar_var[i, c0] == pytest.approx(pred.var_pred_mean[0] + fit.scale, rel=1e-9, abs=0)
        # the first day of the event block has its lag too: CAR[-20,-1] exists under Dimson
        m = _hsi_on_sensetime_dates()
        days = pd.DatetimeIndex(panel.dates[i])
        first = np.array([[1.0, m.shift(1).loc[days[0]], m.loc[days[0]], m.shift(-1).loc[days[0]]]])
        assert ar.ar[i, 0] == pytest.approx(panel.ret[i, 0] - fit.predict(first)[0], rel=1e-9,
                                            abs=0)
    assert np.isfinite(ar.car((-20, -1))[0]).all()


def test_scholes_williams_beta_is_the_published_formula(panel) -> None:
    ar = fit_model(panel, "scholes_williams", regressors=ScholesWilliamsModel())
    i = 3
    frame = _lead_lag_frame(panel, i)  # lags and leads from the whole series
    slopes = [np.polyfit(frame[c], frame["y"], 1)[0] for c in ("lag", "m", "lead")]
    rho = np.corrcoef(frame["m"], frame["lag"])[0, 1]
    beta = sum(slopes) / (1 + 2 * rho)
    alpha = frame["y"].mean() - beta * frame["m"].mean()
    assert ar.beta[i] == pytest.approx(beta, rel=1e-9, abs=0)
    assert ar.alpha[i] == pytest.approx(alpha, rel=1e-9, abs=0)
    resid = frame["y"] - alpha - beta * frame["m"]
    assert ar.sigma2[i] == pytest.approx((resid**2).sum() / (len(frame) - 2), rel=1e-9, abs=0)


def test_read_ken_french_daily_file_matches_a_plain_parse() -> None:
    got = read_factors(FRENCH)
    lines = FRENCH.read_text().splitlines()
    rows = [line.split(",") for line in lines if line[:8].isdigit() and len(line) > 9]
    assert len(got) == len(rows) == 24768
    assert got.columns.tolist() == ["Mkt-RF", "SMB", "HML", "RF"]
    first = [float(v) / 100 for v in rows[0][1:]]
    np.testing.assert_allclose(got.iloc[0].to_numpy(), first, rtol=1e-12)
    assert got.index[-1] == pd.Timestamp(rows[-1][0])


def test_plain_factor_file_and_bad_units(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("date,MKT,RF\n2024-01-02,0.5,0.01\n2024-01-03,-1.2,0.01\n")
    big = tmp_path / "g.csv"
    big.write_text("date,MKT\n2024-01-02,150\n")
    with pytest.raises(BadInput, match="percent"):
        read_factors(big)
    got = read_factors(path, percent=True)
    assert got.loc["2024-01-03", "MKT"] == pytest.approx(-0.012, rel=1e-6, abs=0)
    path.write_text("date,MKT\n2024-01-02,0.01\n2024-01-02,0.02\n")
    with pytest.raises(BadInput, match="duplicate date"):
        read_factors(path)
    path.write_text("date,MKT\n2024-01-02,abc\n")
    with pytest.raises(BadInput, match="non-numeric"):
        read_factors(path)


def test_parameter_table_matches_statsmodels_market_model(panel) -> None:
    from eventstudy.engine.models import parameter_table

    table = parameter_table(fit_model(panel, "market"))
    for i in (0, 3):
        est = _est_frame(panel, i).dropna()
        fit = sm.OLS(est["y"], sm.add_constant(est["m"])).fit()
        row = table.iloc[i]
        assert row["alpha"] == pytest.approx(fit.params["const"], rel=1e-9, abs=0)
        assert row["beta"] == pytest.approx(fit.params["m"], rel=1e-9, abs=0)
        assert row["r2"] == pytest.approx(fit.rsquared, rel=1e-9, abs=0)
        assert row["sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-9, abs=0)
        assert row["n"] == fit.nobs
    dimson = parameter_table(fit_model(panel, "dimson", regressors=DimsonModel(1, 1)))
    assert {"beta_m-1", "beta_m", "beta_m+1", "beta_dimson"} <= set(dimson.columns)


def test_fetch_french_converts_a_recorded_datareader_answer(monkeypatch) -> None:
    import pandas_datareader.famafrench as ff

    from eventstudy.data.factors import fetch_french

    recorded = read_factors(FRENCH).tail(30) * 100.0  # the reader answers in percent

    class FakeReader:
        def __init__(self, name: str, **kwargs: object) -> None:
            assert name == "F-F_Research_Data_Factors_daily"

        def read(self) -> dict[object, object]:
            return {0: recorded, "DESCR": "recorded"}

    monkeypatch.setattr(ff, "FamaFrenchReader", FakeReader)
    got = fetch_french()
    np.testing.assert_allclose(got.to_numpy(), read_factors(FRENCH).tail(30).to_numpy(),
                               rtol=1e-12)

    class Offline(FakeReader):
        def read(self) -> dict[object, object]:
            raise ConnectionError("no network")

    monkeypatch.setattr(ff, "FamaFrenchReader", Offline)
    from eventstudy.errors import DataUnavailable

    with pytest.raises(DataUnavailable, match="unreachable"):
        fetch_french()


@pytest.mark.parametrize("model", ["dimson", "scholes_williams"])
def test_simulate_runs_the_thin_trading_models(model: str) -> None:
    import json

    from conftest import run_cli

    def rows(name: str) -> dict[str, float]:
        code, out, err = run_cli("-q", "simulate", "--model", name, "--samples", "20",
                                 "--events", "5", "--pool", "200", "--designs", "single",
                                 "--json", "--out", f"{name}.csv")
        assert code == 0, err
        return {(r["test"], r["shift"], r["variance_ratio"]): r["mean_statistic"]
                for r in json.loads(out)}

    market, other = rows("market"), rows(model)
    assert market.keys() == other.keys()
    assert any(abs(market[k] - other[k]) > 1e-6 for k in market)  # the model was used

