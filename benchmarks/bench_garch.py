"""Benchmark GARCH(1,1) fits of seeded synthetic series (one run, ratios printed).

1. Overhead of the project's wrapper ``fit_garch`` over bare ``arch_model(...).fit()`` on the
   same series (interleaved per series, alternating order; target <= 10%).
2. ``fit_many`` serial vs a parallel executor (local processes by default, or dask://HOST:PORT).

    python benchmarks/bench_garch.py [--n 500] [--nobs 250] [--executor local] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common

from arch import arch_model  # noqa: E402

from eventstudy.volatility.executors import GarchTask, fit_many
from eventstudy.volatility.garch import fit_garch

# GARCH(1,1) in percent: mu, omega, alpha, beta (persistence 0.98, daily sigma ~1%)
TRUE_PARAMS = (0.05, 0.02, 0.08, 0.90)


def synthetic(seed: int, nobs: int = 250, params: tuple[float, ...] = TRUE_PARAMS,
              burn: int = 500) -> np.ndarray:
    """Simple daily returns (decimals) from a Gaussian GARCH(1,1), numpy default_rng(seed)."""
    mu, omega, alpha, beta = params
    shocks = np.random.default_rng(seed).standard_normal(nobs + burn)
    sigma2, eps = omega / (1.0 - alpha - beta), 0.0
    out = np.empty(nobs + burn)
    for t in range(nobs + burn):
        sigma2 = omega + alpha * eps**2 + beta * sigma2
        eps = np.sqrt(sigma2) * shocks[t]
        out[t] = mu + eps
    return out[burn:] / 100.0


def bare_fit(y: np.ndarray) -> np.ndarray:
    """The same fit with arch directly (percent, constant mean, normal errors)."""
    res = arch_model(100.0 * y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal",
                     rescale=False).fit(disp="off")
    return np.asarray(res.params)


def wrapper_fit(y: np.ndarray) -> np.ndarray:
    """The project's wrapper."""
    return np.array(list(fit_garch(y).params.values()))


def overhead(series: list[np.ndarray]) -> tuple[float, float, float]:
    """Total seconds (bare, wrapper) interleaved per series, and max |param difference|."""
    bare = wrap = diff = 0.0
    for i, y in enumerate(series):
        order = (bare_fit, wrapper_fit) if i % 2 == 0 else (wrapper_fit, bare_fit)
        took, params = {}, {}
        for fn in order:
            start = time.perf_counter()
            params[fn.__name__] = fn(y)
            took[fn.__name__] = time.perf_counter() - start
        bare += took["bare_fit"]
        wrap += took["wrapper_fit"]
        diff = max(diff, float(np.max(np.abs(params["bare_fit"] - params["wrapper_fit"]))))
    return bare, wrap, diff


def _timed(tasks: list[GarchTask], executor: str, workers: int
           ) -> tuple[float, float, list]:
    """Wall seconds, CPU seconds (this process and its worker processes) and the fits."""
    from _common import TreeCpu

    start, cpu = time.perf_counter(), time.process_time()
    with TreeCpu() as tree:
        results = fit_many(tasks, executor, progress=False, max_workers=workers)
    return time.perf_counter() - start, time.process_time() - cpu + tree.seconds, results


def parallel(series: list[np.ndarray], executor: str, workers: int, blocks: int = 5
             ) -> tuple[tuple[float, float], tuple[float, float], float]:
    """(wall, CPU) seconds for fit_many serial (one worker process: the one-BLAS-thread limit
    never reaches this one) and on ``executor``, and max |param difference|.

    The series are split in ``blocks``; each block runs serial and parallel back to back
    (alternating which goes first), so drifting machine load hits both alike. Each parallel
    call pays its own pool start-up.
    """
    t_serial = t_other = c_serial = c_other = diff = 0.0
    for i, chunk in enumerate(np.array_split(np.arange(len(series)), blocks)):
        tasks = [GarchTask(series[j]) for j in chunk]
        order = ("serial", executor) if i % 2 == 0 else (executor, "serial")
        runs = {name: _timed(tasks, name, workers) for name in order}
        t_serial += runs["serial"][0]
        t_other += runs[executor][0]
        c_serial += runs["serial"][1]
        c_other += runs[executor][1]
        for a, b in zip(runs["serial"][2], runs[executor][2], strict=True):
            diff = max(diff, float(np.max(np.abs(np.array(list(a.params.values()))
                                                 - np.array(list(b.params.values()))))))
    return (t_serial, c_serial), (t_other, c_other), diff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="number of series (default 500)")
    parser.add_argument("--nobs", type=int, default=250, help="observations per series")
    parser.add_argument("--executor", default="local", help="local or dask://HOST:PORT")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: the CPUs this process may use)")
    args = parser.parse_args(argv)
    if args.workers is None:
        from eventstudy.parallel import usable_cpus

        args.workers = usable_cpus()
    series = [synthetic(seed, args.nobs) for seed in range(args.n)]
    load_before = os.getloadavg()[0]
    bare, wrap, diff_w = overhead(series)
    (t_serial, c_serial), (t_par, c_par), diff_p = parallel(series, args.executor, args.workers)
    rows = [
        ("bare arch_model().fit(), serial", f"{bare:8.2f} s", f"{1e3 * bare / args.n:6.1f} ms/fit"),
        ("fit_garch wrapper, serial", f"{wrap:8.2f} s", f"{1e3 * wrap / args.n:6.1f} ms/fit"),
        ("wrapper overhead (target <= 10%)", f"{100 * (wrap / bare - 1):+7.1f} %",
         f"max |dparam| {diff_w:.1e}"),
        ("fit_many serial", f"{t_serial:8.2f} s", f"CPU {c_serial:.2f} s"),
        (f"fit_many {args.executor} ({args.workers} workers)", f"{t_par:8.2f} s",
         f"CPU {c_par:.2f} s; max |dparam| {diff_p:.1e}"),
        ("speed-up serial / parallel (wall)", f"{t_serial / t_par:8.2f} x",
         f"{1 - t_par / t_serial:+.0%} wall saved (a parallel default needs >= 20%)"),
    ]
    print(f"GARCH(1,1) fits: {args.n} synthetic series x {args.nobs} obs "
          f"(true mu, omega, alpha, beta = {TRUE_PARAMS}, percent); {os.cpu_count()} CPUs, "
          f"load average {load_before:.2f} before / {os.getloadavg()[0]:.2f} after")
    for name, value, extra in rows:
        print(f"  {name:<38}{value:>12}   {extra}")


if __name__ == "__main__":
    main()
