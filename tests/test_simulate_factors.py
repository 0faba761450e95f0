"""``simulate --model factors``: the factor model's size and power on the bundled pseudo-events
with SYNTHETIC seeded factors beside the real ^HSI return (no Hong Kong factor data are shipped);
the output says the factors are synthetic, and the fit is statsmodels OLS on those columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import read_raw_hsi, run_cli

from eventstudy.engine import simulate as sim
from eventstudy.engine.models import fit_model
from eventstudy.engine.pseudo import bundled_series, pseudo_panel, synthetic_factors
from eventstudy.errors import BadInput


def test_synthetic_factors_are_seeded_and_the_market_column_is_the_real_hsi() -> None:
    a, b, c = synthetic_factors(0), synthetic_factors(0), synthetic_factors(1)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["synthetic_1"], c["synthetic_1"])
    assert list(a.columns) == ["hsi", "synthetic_1", "synthetic_2"]
    assert "not real factor data" in a.attrs["synthetic"]
    hsi = read_raw_hsi().pct_change()
    common = a.index.intersection(hsi.index)[-500:]
    np.testing.assert_allclose(a.loc[common, "hsi"], hsi[common], rtol=1e-12)
    assert a["synthetic_1"].std() == pytest.approx(0.01, rel=0.05, abs=0)
    assert abs(np.corrcoef(a["synthetic_1"], a["synthetic_2"])[0, 1]) < 0.05


def test_the_simulated_factor_model_is_ols_on_the_factor_columns() -> None:
    model, what = sim._factor_model("factors", None, seed=3)
    assert what.startswith("SYNTHETIC")
    series = bundled_series(["0700.HK", "3690.HK"])
    panel = pseudo_panel(series, 4, np.random.default_rng(5))
    ar = fit_model(panel, "factors", regressors=model)
    factors = synthetic_factors(3)
    for i in range(panel.n_events):
        dates = pd.DatetimeIndex(panel.est_dates[i])
        x = factors.reindex(dates)
        y = pd.Series(panel.est_ret[i], index=dates)
        keep = x.notna().all(axis=1) & y.notna()
        fit = sm.OLS(y[keep].to_numpy(), sm.add_constant(x[keep].to_numpy())).fit()
        assert ar.params["beta_synthetic_2"][i] == pytest.approx(fit.params[3], rel=1e-8, abs=0)
        assert ar.sigma2[i] == pytest.approx(fit.scale, rel=1e-10, abs=0)
        assert ar.dof[i] == fit.df_resid


def test_simulate_cli_factor_model_says_synthetic_and_uses_the_model() -> None:
    def rows(model: str) -> list[dict[str, object]]:
        code, out, err = run_cli("simulate", "--model", model, "--samples", "20", "--events",
                                 "5", "--pool", "200", "--designs", "independent,single",
                                 "--json", "--out", f"{model}.csv")
        assert code == 0, err
        if model == "factors":
            assert "SYNTHETIC" in err
        return json.loads(out)

    market, factors = rows("market"), rows("factors")
    assert all("SYNTHETIC" in str(r["factor_data"]) for r in factors)
    assert "factor_data" not in market[0]
    key = [(r["design"], r["test"], r["shift"], r["variance_ratio"]) for r in market]
    assert key == [(r["design"], r["test"], r["shift"], r["variance_ratio"]) for r in factors]
    assert any(abs(m["mean_statistic"] - f["mean_statistic"]) > 1e-6  # type: ignore[operator]
               for m, f in zip(market, factors, strict=True))
    assert "SYNTHETIC" in pd.read_csv("factors.csv")["factor_data"].iloc[0]


def test_factors_only_for_the_factor_model() -> None:
    with pytest.raises(BadInput, match="factors are for"):
        sim.brown_warner(model="market", factors=synthetic_factors(0), n_samples=2,
                         designs=["single"])
