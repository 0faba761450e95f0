"""Loading a folder of N ticker CSVs (``--data DIR``) against plain ``pandas.read_csv``, and end to
end (load + study + JSON) against ``read_csv`` plus the plain statsmodels loop.

    python benchmarks/bench_loader.py [--n 10000] [--small 100] [--budget 30] [--quick]

The folder is ``_common.synthetic_universe(n)`` (N ticker CSVs of 393 rows + the market index).
Each measurement runs in a fresh process (a cold import, an empty memo) on a warm page cache
(every file read once before), and is given in CPU time (``time.process_time``, every thread)
and wall time:

* **cold**: ``PriceLoader(data=folder).prefetch(tickers)`` with an empty cache dir: pyarrow's
  CSV reader on threads, and the folder's columnar cache written (issue 25: <= 1x read_csv);
* **cached**: the same in a second process with that cache dir: the columnar cache is read,
  nothing parsed;
* **file by file**: ``loader.load(t)`` per ticker, the pandas path every non-plain file takes
  (stopped after ``--budget`` s and extrapolated, said so);
* **read_csv**: ``pandas.read_csv(file, index_col=0, parse_dates=True)`` over the same files;
* **end to end**: one process each: the cached load + ``event_study`` (full default output) +
  ``to_json()``, against ``read_csv`` + the plain per-event statsmodels loop of
  ``bench_headline.py`` (CAR and t only). Target (issue 25): >= 3x faster.

Per-ticker time in an N=``--small`` folder vs the N folder exposes an O(N^2) loader.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    CAR_WINDOWS,
    ESTIMATION,
    MARKET,
    ROOT,
    WINDOW,
    ensure_importable,
    fmt,
    load_average,
    peak_rss_mb,
    synthetic_universe,
    table,
)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = clock()
    return {"wall_s": wall - start[0], "cpu_s": cpu - start[1]}


def worker(mode: str, n: int, seed: int, cache: str, budget: float) -> dict:
    folder, pairs = synthetic_universe(n, seed)
    tickers = [MARKET, *(t for t, _ in pairs)]
    for ticker in tickers:  # a warm page cache for every mode
        (folder / f"{ticker}.csv").read_bytes()
    info: dict = {"mode": mode, "files": len(tickers)}
    if mode in ("cold", "cached", "file_by_file", "e2e"):
        ensure_importable()
        from eventstudy import PriceLoader

        loader = PriceLoader(offline=True, data=folder, cache_dir=Path(cache))
    if mode == "read_csv":
        import pandas as pd

        start = clock()
        for ticker in tickers:
            pd.read_csv(folder / f"{ticker}.csv", index_col=0, parse_dates=True)
        info.update(since(start))
    elif mode in ("cold", "cached"):
        start = clock()
        loader.prefetch(tickers)
        info.update(since(start))
        info["loaded"] = sum(loader.columns(t) is not None for t in tickers)
    elif mode == "file_by_file":
        start, done = clock(), 0
        for ticker in tickers:
            loader.load(ticker)
            done += 1
            if time.perf_counter() - start[0] > budget:
                break
        took = since(start)
        info.update({k: v * len(tickers) / done for k, v in took.items()}, loaded=done)
    elif mode == "e2e":
        from eventstudy import event_study, make_event

        start = clock()
        loader.prefetch(tickers)
        events = [make_event(t, d) for t, d in pairs]
        result = event_study(events, loader=loader, market=MARKET, window=WINDOW,
                             estimation=ESTIMATION, car_windows=CAR_WINDOWS)
        size = len(result.to_json())
        info.update(since(start), json_mb=size / 2**20)
    elif mode == "e2e_loop":
        import bench_headline as head

        start = clock()
        frames = head.read_frames(folder, [t for t, _ in pairs])
        rets, mrets, pos = head.positional(frames, pairs)
        del frames
        head.loop(rets, mrets, pos)
        info.update(since(start))
    info["peak_rss_mb"] = peak_rss_mb()
    return info


def run(mode: str, n: int, seed: int, cache: Path, budget: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, "--worker", mode, str(n), str(seed),
                           str(cache), str(budget)], env=env, capture_output=True, text=True,
                          check=False, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} worker failed:\n{proc.stderr[-3000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  N={n} {mode}: cpu {info['cpu_s']:.2f} s, wall {info['wall_s']:.2f} s, peak RSS "
          f"{info['peak_rss_mb']:.0f} MiB (load {load_average()})", flush=True)
    return info


def ratio_row(what: str, mine: dict, base: dict, name: str, goal: float | None, faster: bool
              ) -> list[dict]:
    rows = []
    for key in ("cpu_s", "wall_s"):
        ratio = base[key] / mine[key] if faster else mine[key] / base[key]
        target = "-" if goal is None else (f">= {goal:g}x faster" if faster else f"<= {goal:g}x")
        ok = None if goal is None else (ratio >= goal if faster else ratio <= goal)
        rows.append({"what": f"{what} ({key[:-2]})", "measured": fmt(mine[key]),
                     "baseline": f"{name} {fmt(base[key])}",
                     "ratio": f"{ratio:.2f}x{' faster' if faster else ''}", "target": target,
                     "ok": ok})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of file-by-file loading at most; the rest extrapolated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="--n 1000 --budget 10")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, n, seed, cache, budget = args.worker
        print(json.dumps(worker(mode, int(n), int(seed), cache, float(budget))))
        return 0
    if args.quick:
        args.n, args.budget = 1000, 10.0
    print(f"load average at start: {load_average()}", flush=True)
    rows: list[dict] = []
    per: dict[int, float] = {}
    for n in (args.small, args.n):
        synthetic_universe(n, args.seed)
        cache = Path(tempfile.mkdtemp(prefix="es_loader_cache_"))
        res = {mode: run(mode, n, args.seed, cache, args.budget)
               for mode in ("read_csv", "cold", "cached", "file_by_file")}
        per[n] = res["cold"]["cpu_s"] / res["cold"]["files"]
        rows += ratio_row(f"N={n}: prefetch, cold (pyarrow, cache written)", res["cold"],
                          res["read_csv"], "read_csv", 1.0, faster=False)
        rows += ratio_row(f"N={n}: prefetch, second run (columnar cache)", res["cached"],
                          res["read_csv"], "read_csv", None, faster=False)
        how = ("" if res["file_by_file"]["loaded"] == res["file_by_file"]["files"]
               else f", extrapolated from {res['file_by_file']['loaded']}")
        rows += ratio_row(f"N={n}: load() file by file (pandas path{how})",
                          res["file_by_file"], res["read_csv"], "read_csv", None, faster=False)
        if n == args.n:
            e2e = {mode: run(mode, n, args.seed, cache, args.budget)
                   for mode in ("e2e", "e2e_loop")}
            rows += ratio_row(f"N={n}: end to end, cached load + study + JSON",
                              e2e["e2e"], e2e["e2e_loop"], "read_csv + loop", 3.0, faster=True)
    growth = per[args.n] / per[args.small]
    rows.append({"what": f"cold CPU per file, N={args.n} vs N={args.small}",
                 "measured": f"{1000 * per[args.n]:.3f} ms",
                 "baseline": f"{1000 * per[args.small]:.3f} ms", "ratio": f"{growth:.1f}x",
                 "target": "<= 1.5x (O(files))", "ok": growth <= 1.5})
    print()
    ok = table(rows)
    print(f"load average at end: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
