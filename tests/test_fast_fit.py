"""The panel-wide model fit (``engine.models``) against an OLS per event written here (numpy
``lstsq`` on each event's estimation days with both returns), on real bundled prices, on the
real HK panel with Yahoo's dirt and extra holes, and on seeded synthetic events: the rows
without a missing estimation day take the unmasked fast path, the others the masked one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine import models
from eventstudy.engine.panel import Panel
from eventstudy.errors import BadInput
from eventstudy.studies.batch import batch_study
from eventstudy.studies.lockup import event_study
from tests.helpers import PANEL_FOLDER, panel_folder_sample

PANEL = PANEL_FOLDER
EVENTS = pd.DataFrame({  # real bundled prices
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-12-30", "2021-08-05"],
})
MODELS = ("market", "constant_mean", "market_adjusted")


def ols_per_event(panel: Panel, model: str) -> dict[str, np.ndarray]:
    """alpha, beta, s^2, dof, AR and estimation residuals, one event at a time: least squares
    of R on [1, Rm] (market model; MacKinlay 1997, eq. 5-8), on a constant (constant mean), or
    R - Rm with s^2 its sample variance (market-adjusted; Brown & Warner 1985)."""
    n_rows = panel.n_events
    out = {k: np.full(n_rows, np.nan) for k in ("alpha", "beta", "sigma2", "dof", "n")}
    out["ar"], out["d"] = np.full(panel.ret.shape, np.nan), np.zeros(panel.ret.shape)
    out["est_ar"] = np.full(panel.est_ret.shape, np.nan)
    for i in range(n_rows):
        y, x = panel.est_ret[i], panel.est_mkt[i]
        keep = np.isfinite(y) & np.isfinite(x)
        n = int(keep.sum())
        if n < 3:
            continue
        if model == "market":
            design = np.column_stack([np.ones(n), x[keep]])
            (alpha, beta), *_ = np.linalg.lstsq(design, y[keep], rcond=None)
            k = 2
            centred = x[keep] - x[keep].mean()
            out["d"][i] = (panel.mkt[i] - x[keep].mean()) / np.sqrt(centred @ centred)
        elif model == "constant_mean":
            alpha, beta, k = y[keep].mean(), 0.0, 1
        else:
            alpha, beta, k = 0.0, 1.0, 1
        resid = y[keep] - alpha - beta * x[keep]
        ssr = ((resid - resid.mean()) ** 2).sum() if model == "market_adjusted" else resid @ resid
        out["alpha"][i], out["beta"][i] = alpha, beta
        out["sigma2"][i], out["dof"][i], out["n"][i] = ssr / (n - k), n - k, n
        out["ar"][i] = panel.ret[i] - alpha - beta * panel.mkt[i]
        out["est_ar"][i, keep] = resid
    return out


def check_fit(panel: Panel, model: str) -> int:
    """Every field of ``fit_model`` against ``ols_per_event``; returns the rows checked."""
    fit = models.fit_model(panel, model, fallback=None)
    want = ols_per_event(panel, model)
    rows = np.isfinite(want["sigma2"]) & (want["sigma2"] > 1e-14)
    assert rows.sum() > 0
    for name, got in (("alpha", fit.alpha), ("beta", fit.beta), ("sigma2", fit.sigma2),
                      ("dof", fit.dof), ("n", fit.n_est), ("ar", fit.ar), ("d", fit.d),
                      ("est_ar", fit.est_ar)):
        expected = want[name][rows]
        seen = got[rows]
        assert np.array_equal(np.isnan(seen), np.isnan(expected)), name
        ok = np.isfinite(expected)
        np.testing.assert_allclose(seen[ok], expected[ok], rtol=1e-9, atol=1e-14, err_msg=name)
    return int(rows.sum())


def with_holes(panel: Panel, seed: int) -> Panel:
    """``panel`` with a few estimation days of some events missing (suspensions, bad rows)."""
    rng = np.random.default_rng(seed)
    y = panel.est_ret.copy()
    holed = rng.random(len(y)) < 0.5
    y[holed] = np.where(rng.random(y[holed].shape) < 0.05, np.nan, y[holed])
    return dataclasses.replace(panel, est_ret=y)


def trimmed(panel: Panel) -> Panel:
    """``panel`` with its estimation block cut to the days on which every event has both
    returns: real returns without a hole (the unmasked path)."""
    keep = (np.isfinite(panel.est_ret) & np.isfinite(panel.est_mkt)).all(axis=0)
    assert keep.sum() >= 60
    cut = {k: np.ascontiguousarray(getattr(panel, k)[:, keep])
           for k in ("est_ret", "est_mkt", "est_vol", "est_dates")}
    return dataclasses.replace(panel, **cut)


def synthetic_panel(n: int, length: int, width: int, seed: int) -> Panel:
    """Seeded synthetic returns (a market factor plus noise), half the events with holes."""
    rng = np.random.default_rng(seed)
    mkt = rng.normal(0.0003, 0.01, (n, length + width))
    beta = rng.uniform(0.2, 1.8, (n, 1))
    ret = 0.0002 + beta * mkt + rng.normal(0, 0.02, mkt.shape)
    ret[rng.random(mkt.shape) < 0.02] = np.nan
    ret[::2, length:] = np.where(np.isnan(ret[::2, length:]), 0.001, ret[::2, length:])
    ret[1::2, :length] = np.where(np.isnan(ret[1::2, :length]), 0.001, ret[1::2, :length])
    dates = np.full((n, width), np.datetime64("2020-01-02", "ns"))
    events = pd.DataFrame({"ticker": [f"SYN{i}" for i in range(n)]},
                          index=pd.Index([f"SYN{i}:e" for i in range(n)], name="event_id"))
    return Panel(events=events, days=np.arange(-(width // 2), width - width // 2),
                 ret=ret[:, length:], mkt=mkt[:, length:], vol=np.ones((n, width)),
                 dates=dates, est_ret=ret[:, :length], est_mkt=mkt[:, :length],
                 est_vol=np.ones((n, length)), est_dates=np.full((n, length), dates[0, 0]))


@pytest.fixture(scope="module")
def bundled() -> Panel:
    panel = batch_study(EVENTS, offline=True).ar.panel
    assert np.isnan(panel.est_ret).any(axis=1).any()  # real gaps
    return panel


@pytest.mark.parametrize("model", MODELS)
def test_fit_equals_ols_per_event_on_real_prices(bundled: Panel, model: str) -> None:
    assert check_fit(bundled, model) == bundled.n_events  # every event has a hole
    assert check_fit(with_holes(bundled, 3), model) == bundled.n_events
    assert check_fit(trimmed(bundled), model) == bundled.n_events  # none has one


@pytest.mark.parametrize("model", MODELS)
def test_fit_equals_ols_per_event_on_synthetic_events(model: str) -> None:
    panel = synthetic_panel(300, 120, 21, seed=11)
    full = np.isfinite(panel.est_ret).all(axis=1)
    assert 0 < full.sum() < len(full)  # both paths
    assert check_fit(panel, model) == 300


@pytest.mark.skipif(not PANEL.is_dir(), reason="the real HK panel of ../shared/data is absent")
@pytest.mark.parametrize("model", MODELS)
def test_fit_equals_ols_per_event_on_the_dirty_hk_panel(tmp_path: Path, model: str) -> None:
    rng = np.random.default_rng(25)
    loader, found = panel_folder_sample(tmp_path / "cache", rng, 30)
    events = []
    for ticker, index in found:
        events += [(ticker, index[at]) for at in rng.integers(300, len(index) - 30, 4).tolist()]
    from eventstudy.calendar.events import make_event

    made = [make_event(t, d, tranche=f"t{k}") for k, (t, d) in enumerate(events)]
    result = event_study([e for e in made if e is not None], loader=loader, market="^HSI")
    panel = result.ar.panel
    full = np.isfinite(panel.est_ret).all(axis=1) & np.isfinite(panel.est_mkt).all(axis=1)
    assert full.any() and not full.all()  # Yahoo's dirt: both paths on real prices
    assert check_fit(panel, model) > 50


@pytest.mark.parametrize("model", MODELS)
def test_the_unmasked_path_equals_the_masked_one_bit_for_bit(bundled: Panel,
                                                             model: str) -> None:
    """On rows without a missing day the fast path does the masked path's operations on the
    same numbers: identical results, so a study's output does not depend on which ran."""
    panel = synthetic_panel(200, 90, 21, seed=5)
    for source in (panel, trimmed(bundled), with_holes(trimmed(bundled), 1)):
        y, x = source.est_ret, source.est_mkt
        full = np.isfinite(y).all(axis=1) & np.isfinite(x).all(axis=1)
        y, x, ret, mkt = y[full], x[full], source.ret[full], source.mkt[full]
        assert len(y) > 0
        fast = models._fit_full(model, y, x, ret, mkt, (y.sum(axis=1), x.sum(axis=1)))
        slow = models._fit_masked(model, y, x, ret, mkt)
        assert fast.keys() == slow.keys()
        for key in fast:
            assert np.array_equal(fast[key], slow[key], equal_nan=True), key
        # and a mixed panel gives each row what the row alone would get
        whole = models._fit_arrays(model, source)
        alone = models._fit_masked(model, source.est_ret, source.est_mkt, source.ret, source.mkt)
        for key in whole:
            assert np.array_equal(whole[key], alone[key], equal_nan=True), key


def test_constant_stock_rows_found_on_both_paths() -> None:
    panel = synthetic_panel(40, 60, 11, seed=2)
    y = panel.est_ret.copy()
    y[[0, 1]] = 0.002  # constant, no hole
    y[2, :] = 0.002
    y[2, 7] = np.nan  # constant with a hole
    flagged = models._constant_stock(dataclasses.replace(panel, est_ret=y))
    assert flagged[:3].all() and not flagged[3:].any()
    full = np.isfinite(y).all(axis=1)
    flagged_full = models._constant_stock(dataclasses.replace(panel, est_ret=y[full]))
    assert flagged_full.tolist() == flagged[full].tolist()


def test_an_unknown_model_is_bad_input(bundled: Panel) -> None:
    with pytest.raises(BadInput, match="unknown model"):
        models.fit_model(bundled, "capm2")


@pytest.mark.parametrize("model", ["market", "constant_mean"])
def test_parameter_r2_equals_one_minus_ssr_over_sst(bundled: Panel, model: str) -> None:
    """R^2 = 1 - SSR / SST over each event's fitted days, on rows with and without holes."""
    for panel in (trimmed(bundled), bundled, synthetic_panel(300, 120, 21, seed=8)):
        table = models.parameter_table(models.fit_model(panel, model, fallback=None))
        want = ols_per_event(panel, model)
        for i in range(panel.n_events):
            keep = np.isfinite(want["est_ar"][i])
            y = panel.est_ret[i, keep]
            r2 = 1.0 - (want["est_ar"][i, keep] ** 2).sum() / ((y - y.mean()) ** 2).sum()
            assert table["r2"].iloc[i] == pytest.approx(r2, rel=1e-9, abs=1e-12)
    adjusted = models.parameter_table(models.fit_model(bundled, "market_adjusted"))
    assert adjusted["r2"].isna().all()


@pytest.mark.parametrize("model", MODELS)
def test_the_fit_does_not_depend_on_the_memory_layout(bundled: Panel, model: str) -> None:
    """A panel held column-major (Fortran order) or as a view fits to the same bits as the
    C-ordered one: rows are summed in one order whatever the layout."""
    for panel in (synthetic_panel(300, 120, 21, seed=4), bundled, trimmed(bundled)):
        fortran = dataclasses.replace(panel, **{k: np.asfortranarray(getattr(panel, k)) for k in
                                                ("est_ret", "est_mkt", "ret", "mkt")})
        a, b = models.fit_model(panel, model), models.fit_model(fortran, model)
        for name in ("alpha", "beta", "sigma2", "dof", "d", "ar", "est_ar"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
        assert a.problems == b.problems and a.notes == b.notes
        pd.testing.assert_frame_equal(models.parameter_table(a), models.parameter_table(b),
                                      check_exact=True)
