"""Benchmark: the vectorised engine against a per-event statsmodels OLS loop, on synthetic data.

    python benchmarks/bench_engine.py [--events 10000] [--loop-events 500] [--repeat 3]

``make bench`` also runs it at 100,000 events (``--repeat 1``): every test must run within the
machine's 24 GiB (issue 12); its max RSS is printed against that target.

Synthetic (seeded) market-model returns: ``--events`` events x 271 days (250 estimation + 21
event days, window -10..+10) on a business-day calendar, with a common non-market factor so that
residuals of events with overlapping estimation windows are cross-correlated. The engine fits the
market model (``fit_model``) and runs every test of ``eventstudy.significance`` on two windows plus
the AAR and volume tables. The loop fits statsmodels OLS event by event on the first
``--loop-events`` events; its time is scaled linearly to all events (said in the output). CARs
of the two must agree to 1e-10.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

try:
    import eventstudy  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventstudy.engine.crosssection import aar_table, run_tests, volume_table
from eventstudy.engine.models import AbnormalReturns, fit_model
from eventstudy.engine.panel import Panel
from eventstudy.engine.significance import TESTS

ESTIMATION, WINDOW = 250, (-10, 10)
BIG_RSS_TARGET_MB = 24 * 1024.0
TEST_WINDOWS = [(0, 0), (-1, 1)]


def synthetic_panel(n: int, seed: int = 0) -> Panel:
    """Seeded synthetic market-model panel, named synthetic (tickers ``S00000.SYN``...)."""
    rng = np.random.default_rng(seed)
    calendar = pd.bdate_range("1990-01-01", periods=9000).to_numpy().astype("datetime64[ns]")
    mkt = rng.normal(3e-4, 0.01, len(calendar))
    factor = rng.normal(0.0, 0.005, len(calendar))
    width = WINDOW[1] - WINDOW[0] + 1
    start = rng.integers(0, len(calendar) - ESTIMATION - width, n)
    idx = start[:, None] + np.arange(ESTIMATION + width)
    beta = rng.uniform(0.5, 1.5, (n, 1))
    ret = 2e-4 + beta * mkt[idx] + factor[idx] + rng.standard_t(5, idx.shape) * 0.015
    vol = np.exp(rng.normal(14.0, 0.6, idx.shape))
    dates = calendar[idx]
    ids = [f"S{i:05d}.SYN:event:{pd.Timestamp(d).date()}" for i, d in
           enumerate(dates[:, ESTIMATION - WINDOW[0]])]
    events = pd.DataFrame({"ticker": [i.split(":")[0] for i in ids], "tranche": "event",
                           "group": "synthetic", "day0": dates[:, ESTIMATION - WINDOW[0]]},
                          index=pd.Index(ids, name="event_id"))
    e, w = slice(0, ESTIMATION), slice(ESTIMATION, None)
    return Panel(events=events, days=np.arange(WINDOW[0], WINDOW[1] + 1), ret=ret[:, w],
                 mkt=mkt[idx][:, w], vol=vol[:, w], dates=dates[:, w], est_ret=ret[:, e],
                 est_mkt=mkt[idx][:, e], est_vol=vol[:, e], est_dates=dates[:, e])


def engine_fit(panel: Panel) -> tuple[AbnormalReturns, list[np.ndarray]]:
    ar = fit_model(panel)
    return ar, [ar.car(w)[0] for w in TEST_WINDOWS]


def engine_all(panel: Panel) -> pd.DataFrame:
    ar = fit_model(panel)
    table = run_tests(ar, TEST_WINDOWS, dedupe=False)
    aar_table(ar, dedupe=False)
    volume_table(ar, dedupe=False)
    return table


def ols_loop(panel: Panel, rows: int) -> list[np.ndarray]:
    """The straightforward way: one statsmodels OLS per event, then its CARs and variances."""
    cars = [np.empty(rows) for _ in TEST_WINDOWS]
    for i in range(rows):
        y, x = panel.est_ret[i], panel.est_mkt[i]
        ok = np.isfinite(y) & np.isfinite(x)
        X = sm.add_constant(x[ok])
        fit = sm.OLS(y[ok], X).fit()
        ar = panel.ret[i] - fit.params[0] - fit.params[1] * panel.mkt[i]
        inv = np.linalg.inv(X.T @ X)
        for k, (a, b) in enumerate(TEST_WINDOWS):
            cols = slice(a - WINDOW[0], b - WINDOW[0] + 1)
            x0 = np.column_stack([np.ones(b - a + 1), panel.mkt[i, cols]]).sum(axis=0)
            cars[k][i] = ar[cols].sum()
            _ = fit.scale * (b - a + 1 + x0 @ inv @ x0)  # Var(CAR), MacKinlay (1997)
    return cars


def best_time(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first run, best of ``repeat`` runs) in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--loop-events", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    panel = synthetic_panel(args.events, args.seed)
    n, m = args.events, min(args.loop_events, args.events)
    print(f"synthetic panel: {n} events x {ESTIMATION + panel.ret.shape[1]} days "
          f"({ESTIMATION} estimation + {panel.ret.shape[1]} event), seed {args.seed}")

    _, fit_best = best_time(lambda: engine_fit(panel), args.repeat)
    all_first, all_best = best_time(lambda: engine_all(panel), args.repeat)
    loop_cars = ols_loop(panel, m)
    loop = best_time(lambda: ols_loop(panel, m), args.repeat)[1] * n / m
    _, cars = engine_fit(panel)
    diff = max(float(np.max(np.abs(c[:m] - lc))) for c, lc in zip(cars, loop_cars, strict=True))
    assert diff < 1e-10, f"CARs differ by {diff:.3g}"

    tracemalloc.start()
    engine_all(panel)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"per-event statsmodels loop timed on {m} events (best of {args.repeat}), "
          f"scaled x{n / m:g} to {n}; engine times are best of {args.repeat} too")
    print(f"max |CAR engine - CAR loop| = {diff:.2e} (< 1e-10)")
    rows = [("market model + CARs", fit_best, loop),
            (f"market model + all {len(TESTS)} tests x {len(TEST_WINDOWS)} windows"
             " + AAR/volume tables", all_best, loop)]
    print(f"\n{'stage':<66}{'engine s':>10}{'loop s':>10}{'ratio':>9}")
    for name, engine, base in rows:
        print(f"{name:<66}{engine:>10.3f}{base:>10.2f}{base / engine:>8.0f}x")
    target = "target <= 1 s" if n <= 10_000 else f"{n / all_best:,.0f} events/s"
    print(f"\nfull engine, first run {all_first:.3f} s, best of {args.repeat} {all_best:.3f} s "
          f"({target})")
    print(f"peak memory: engine {peak / 2**20:.0f} MiB (tracemalloc), "
          f"process {rss:.0f} MiB (max RSS)")
    if n >= 100_000:  # issue 12: 100,000 events with every test in the machine's 24 GiB
        ok = rss <= BIG_RSS_TARGET_MB
        print(f"{n:,} events with every test: max RSS {rss:.0f} MiB vs target "
              f"<= {BIG_RSS_TARGET_MB:.0f} MiB: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
