"""The rank tests computed a block of events at a time (``ranks.u_column_sums``,
``significance.grank_rows``) against scipy's ranks summed event by event in plain loops, on
seeded synthetic matrices with NaN, ties and infinities and on the real 190-stock HK panel
(more events than one block), and bit for bit against the one-matrix computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from eventstudy import event_study
from eventstudy.engine.crosssection import select_rows
from eventstudy.engine.grank import GRANK_ROWS
from eventstudy.engine.prepare import base, event_time_z, prepare
from eventstudy.engine.ranks import ROWS, rank_rows, u_column_sums
from eventstudy.engine.significance import compute
from tests.helpers import MemoryLoader, hk190_events


def literal_u_sums(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the sum over ``rows`` (in order) of U = rank / (M + 1) - 1/2, ranks by
    scipy over each row's non-NaN cells (M: its finite cells), and how many U were summed."""
    usum = np.zeros(x.shape[1])
    cnt = np.zeros(x.shape[1], dtype=int)
    for i in rows:
        keep = ~np.isnan(x[i])
        m = int(np.isfinite(x[i]).sum())
        ranks = stats.rankdata(x[i][keep])
        for k, rank in zip(np.flatnonzero(keep), ranks, strict=True):
            usum[k] += rank / (m + 1.0) - 0.5
            cnt[k] += 1
    return usum, cnt


@pytest.mark.parametrize("case", ["continuous", "ties", "infinite", "empty rows"])
def test_u_column_sums_equal_scipy_ranks_summed_row_by_row(case: str) -> None:
    rng = np.random.default_rng(7)
    shape = (2 * ROWS + 300, 43)  # three blocks of rows, the last one short
    x = (rng.standard_normal(shape) if case == "continuous"
         else rng.integers(0, 5, shape).astype(float))
    x[rng.random(shape) < 0.1] = np.nan
    if case == "infinite":
        x[::9, 2], x[::9, 40], x[::13, 7] = np.inf, np.inf, -np.inf
    if case == "empty rows":
        x[::6] = np.nan
    rows = np.flatnonzero(rng.random(shape[0]) < 0.8)
    usum, cnt = u_column_sums(x[:, :40], x[:, 40:], rows)
    expected, counted = literal_u_sums(x, rows)
    np.testing.assert_array_equal(cnt, counted)
    np.testing.assert_array_equal(usum, expected)  # exact: halves / (M + 1), same order


def test_rank_rows_into_float32_is_exact() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 50, (700, 241)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    narrow = rank_rows(x, np.empty(x.shape, np.float32))
    np.testing.assert_array_equal(narrow.astype(float),
                                  stats.rankdata(x, axis=1, nan_policy="omit"))


def test_event_time_z_by_blocks_matches_a_loop() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((ROWS + 77, 30))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[4] = 1.0  # constant row: all 0
    z, ok = event_time_z(x)
    for i in range(len(x)):
        have = x[i][np.isfinite(x[i])]
        dev = have - have.mean()
        norm = math.sqrt((dev**2).sum())
        expected = np.zeros(x.shape[1])
        if norm > 0:
            expected[np.isfinite(x[i])] = dev / norm
        np.testing.assert_allclose(z[i], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ok, np.isfinite(x))


def literal_corrado(x: np.ndarray, rows: np.ndarray, window: range) -> float:
    usum, cnt = literal_u_sums(x, rows)
    days = [k for k in range(x.shape[1]) if cnt[k] > 0]
    s_u = math.sqrt(sum(usum[k] ** 2 / cnt[k] for k in days) / len(days))
    top = sum(usum[k] / math.sqrt(cnt[k]) for k in window if cnt[k] > 0)
    return top / (math.sqrt(len(window)) * s_u)


def literal_grank(scar: np.ndarray, est_sar: np.ndarray) -> float:
    """Kolari & Pynnonen (2011) GRANK-T, event by event with scipy's ranks."""
    n = len(scar)
    g = scar / np.std(scar, ddof=1)
    sums, counts, u0 = np.zeros(est_sar.shape[1]), np.zeros(est_sar.shape[1]), []
    for i in range(n):
        keys = np.flatnonzero(np.isfinite(est_sar[i]))
        ranks = stats.rankdata([*est_sar[i][keys], g[i]])
        size = len(ranks)
        for k, rank in zip(keys, ranks[:-1], strict=True):
            sums[k] += rank / (size + 1) - 0.5
            counts[k] += 1
        u0.append(ranks[-1] / (size + 1) - 0.5)
    ubar0 = sum(u0) / n
    days = [k for k in range(len(sums)) if counts[k] > 0]
    big_t = len(days) + 1
    s2 = (sum(counts[k] / n * (sums[k] / counts[k]) ** 2 for k in days) + ubar0**2) / big_t
    z = ubar0 / math.sqrt(s2)
    return z * math.sqrt((big_t - 2) / (big_t - 1 - z**2))


@pytest.fixture(scope="module")
def hk_study():  # type: ignore[no-untyped-def]
    frames, events = hk190_events(step=150)
    return event_study(events, loader=MemoryLoader(frames), market="^HSI", window=(-10, 10),
                       estimation=(-250, -11), car_windows=((-10, 10), (-1, 1), (0, 0)))


@pytest.mark.parametrize("window", [(-10, 10), (-1, 1), (0, 0)])
def test_rank_tests_on_the_real_hk_panel_match_scipy_loops(hk_study, window) -> None:  # type: ignore[no-untyped-def]
    """Real HK stocks (Yahoo's dirt: missing days, zero volumes, tied log volumes), more
    events than one block: Corrado, the volume rank test and GRANK against scipy's ranks
    event by event, and bit for bit against the one-matrix computation (2-D selection)."""
    ar = hk_study.ar
    prep = prepare(ar, window, base(ar))
    rows, _ = select_rows(ar)
    assert len(rows) > 2 * max(ROWS, GRANK_ROWS)
    width = prep.est_ar.shape[1]
    tau = window[1] - window[0] + 1
    span = range(width, width + tau)
    car_rows = rows[prep.usable("car")[rows]]
    vol_rows = rows[prep.usable("volume")[rows]]
    cases = {"corrado": (car_rows, literal_corrado(
                 np.hstack([prep.est_ar, prep.window_ar]), car_rows, span)),
             "volume_rank": (vol_rows, literal_corrado(
                 np.hstack([prep.av_est, prep.window_av]), vol_rows, span)),
             "grank": (car_rows, literal_grank(prep.scar[car_rows], prep.est_sar[car_rows]))}
    for test, (sel, expected) in cases.items():
        got = compute(prep, test, sel)
        assert float(got.statistic) == pytest.approx(expected, rel=1e-10, abs=0), test
        whole = compute(prep, test, sel[None, :])  # the (samples, n) path: one U matrix
        assert float(got.statistic) == float(whole.statistic[0]), test
        assert float(got.p_value) == pytest.approx(float(whole.p_value[0]), rel=1e-15, abs=0), test


def test_abnormal_log_volume_of_a_window_view_equals_the_formula(hk_study) -> None:  # type: ignore[no-untyped-def]
    """Campbell & Wasley (1996) on real HK volume: log(1 + V) less the index's log(1 + V_m)
    (rows where the index has volume on half the days), less the estimation-window mean; the
    estimation part is shared by a panel and its window view, the numbers are the formula's."""
    from eventstudy.engine.volume import abnormal_log_volume

    ar = hk_study.ar
    view = ar.window_view((-1, 1))
    assert ar.market_volume is not None
    m_est, m_event = ar.market_volume
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(ar.panel.est_vol > 0, np.log1p(ar.panel.est_vol), np.nan)
        event = np.where(ar.panel.vol > 0, np.log1p(ar.panel.vol), np.nan)
        lm_est = np.where(m_est > 0, np.log1p(m_est), np.nan)
        lm_event = np.where(m_event > 0, np.log1p(m_event), np.nan)
        have = (np.isfinite(est) & np.isfinite(lm_est)).sum(axis=1)
        adjust = (have >= 0.5 * np.isfinite(est).sum(axis=1))[:, None]
        est = np.where(adjust, est - lm_est, est)
        event = np.where(adjust, event - lm_event, event)
        mean = np.nanmean(est, axis=1)[:, None]
    assert adjust.any()
    full_est, full_event = abnormal_log_volume(ar.panel, ar.market_volume)
    view_est, view_event = abnormal_log_volume(view.panel, view.market_volume)
    np.testing.assert_allclose(full_est, est - mean, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(full_event, event - mean, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(view_est, full_est)
    np.testing.assert_array_equal(view_event, full_event[:, ar.cols((-1, 1))])
