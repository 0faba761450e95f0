"""Loading a folder of N ticker CSVs through the project's loader vs plain ``pandas.read_csv``.

    python benchmarks/bench_loader.py [--n 10000] [--small 100] [--budget 60] [--quick]

The folder is ``_common.synthetic_universe(n)`` (N ticker CSVs of 393 rows + the market index).
The project's folder loader is the public ``PriceLoader(data=folder)``: ``loader.load(ticker)``
for every ticker (and the market), which is what ``event_study(events, data=folder)`` does. The
baseline is ``pandas.read_csv(file, index_col=0, parse_dates=True)`` over the same files.

If loading every ticker would take longer than ``--budget`` seconds, the loader stops there and
its total is extrapolated from the tickers loaded (each load costs the same within one folder;
said in the output). Per-ticker time in an N=``--small`` folder vs the N folder exposes an
O(N^2) loader: an O(files) loader has the same per-ticker time in both.
Targets (issue 12): loader total <= 2x read_csv; per-ticker time at N vs at small <= 1.5x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    MARKET,
    ensure_importable,
    fmt,
    load_average,
    synthetic_universe,
    table,
)

ensure_importable()


def project_load(folder: Path, tickers: list[str], budget: float) -> tuple[float, int]:
    """Seconds to load ``tickers`` (stopping after ``budget`` s) and how many were loaded."""
    from eventstudy import PriceLoader

    loader = PriceLoader(data=folder, cache_dir=Path(tempfile.mkdtemp(prefix="es_cache_")))
    start = time.perf_counter()
    done = 0
    for ticker in tickers:
        loader.load(ticker)
        done += 1
        if time.perf_counter() - start > budget:
            break
    return time.perf_counter() - start, done


def pandas_load(folder: Path, tickers: list[str]) -> float:
    import pandas as pd

    start = time.perf_counter()
    for ticker in tickers:
        pd.read_csv(folder / f"{ticker}.csv", index_col=0, parse_dates=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds of project loading at most; the rest is extrapolated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="--n 1000 --budget 20")
    args = parser.parse_args()
    if args.quick:
        args.n, args.budget = 1000, 20.0
    print(f"load average {load_average()}")

    rows = []
    per: dict[int, float] = {}
    for n in (args.small, args.n):
        folder, pairs = synthetic_universe(n, args.seed)
        tickers = [MARKET, *(t for t, _ in pairs)]
        for ticker in tickers:  # both timed on a warm page cache: whoever went first paid I/O
            (folder / f"{ticker}.csv").read_bytes()
        pandas_load(folder, tickers[:20])  # warm pandas' first-call paths
        project_load(folder, tickers[:20], args.budget)  # and the loader's (lazy imports)
        took, done = project_load(folder, tickers, args.budget)
        per[n] = took / done
        total = per[n] * len(tickers)
        base = pandas_load(folder, tickers)
        how = "measured" if done == len(tickers) else f"extrapolated from {done}"
        rows.append({"what": f"N={n}: PriceLoader(data=folder) all ({how})",
                     "measured": fmt(total), "baseline": f"read_csv {fmt(base)}",
                     "ratio": f"{total / base:.1f}x", "target": "<= 2x",
                     "ok": total <= 2 * base})
        rows.append({"what": f"N={n}: per ticker, loader",
                     "measured": f"{1000 * per[n]:.2f} ms",
                     "baseline": f"read_csv {1000 * base / len(tickers):.2f} ms",
                     "ratio": f"{per[n] * len(tickers) / base:.1f}x", "target": "-",
                     "ok": None})
        print(f"N={n}: loader {done} tickers in {took:.1f} s; read_csv {len(tickers)} files in "
              f"{base:.1f} s", flush=True)
    growth = per[args.n] / per[args.small]
    rows.append({"what": f"per-ticker time, N={args.n} vs N={args.small}",
                 "measured": f"{1000 * per[args.n]:.2f} ms",
                 "baseline": f"{1000 * per[args.small]:.2f} ms", "ratio": f"{growth:.1f}x",
                 "target": "<= 1.5x (O(files))", "ok": growth <= 1.5})
    print()
    return 0 if table(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
