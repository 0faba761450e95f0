"""``engine.pvalues``: the t, normal and chi-square tails from scipy.special equal scipy.stats'
(compared with a relative tolerance, never exact bits: no test depends on a scipy version), on
the real t statistics of a study of bundled prices and on the edge cases (NaN, df <= 0,
infinite statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.engine.pvalues import chi2_upper, normal_two_sided, t_two_sided
from eventstudy.studies.batch import batch_study

EVENTS = pd.DataFrame({  # real bundled prices
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-12-30", "2021-08-05"],
})


def _same(mine: np.ndarray, theirs: np.ndarray) -> None:
    mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
    assert mine.shape == theirs.shape
    assert (np.isnan(mine) == np.isnan(theirs)).all()
    ok = ~np.isnan(theirs)
    assert mine[ok] == pytest.approx(theirs[ok], rel=1e-12, abs=0)


def test_t_two_sided_on_a_real_study() -> None:
    result = batch_study(EVENTS, offline=True)
    car = result.car.merge(pd.DataFrame({"event_id": result.ar.panel.events.index,
                                         "dof": result.ar.dof}), on="event_id")
    t, dof = car["t"].to_numpy(float), car["dof"].to_numpy(float)
    assert np.isfinite(t).sum() > 10
    _same(t_two_sided(t, dof), 2 * stats.t.sf(np.abs(t), dof))
    # the car table's p column: this p-value with each event's residual dof
    _same(car["p"].to_numpy(), 2 * stats.t.sf(np.abs(t), dof))


def test_t_two_sided_edges() -> None:
    t = np.array([0.0, 1.0, -1.0, 2.5, -40.0, 1e3, np.inf, -np.inf, np.nan, 1.0, 1.0, 1.0, 1.0,
                  0.7, 3.0])
    df = np.array([5, 5, 5, 1.5, 100, 3, 7, 7, 7, 0, -2, np.nan, np.inf, 0.3, 1e8])
    _same(t_two_sided(t, df), 2 * stats.t.sf(np.abs(t), df))
    assert t_two_sided(np.inf, 4) == 0.0 and np.isnan(t_two_sided(1.0, 0))
    scalar = t_two_sided(2.0, 10)
    assert np.ndim(scalar) == 0
    assert float(scalar) == pytest.approx(float(2 * stats.t.sf(2.0, 10)), rel=1e-12, abs=0)


def test_normal_two_sided() -> None:
    z = np.array([0.0, 0.5, -1.96, 3.0, 8.0, -38.0, np.inf, np.nan])
    _same(normal_two_sided(z), 2 * stats.norm.sf(np.abs(z)))
    assert float(normal_two_sided(1.959963984540054)) == pytest.approx(0.05, rel=1e-12, abs=0)


def test_chi2_upper() -> None:
    x = np.array([0.0, -1.0, 0.5, 3.0, 40.0, 500.0, np.inf, np.nan, 2.0, 2.0])
    df = np.array([1, 3, 2, 3, 10, 400, 5, 5, 0, np.nan])
    _same(chi2_upper(x, df), stats.chi2.sf(x, df))
    assert float(chi2_upper(3.841458820694124, 1)) == pytest.approx(0.05, rel=1e-12, abs=0)
