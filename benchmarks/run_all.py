"""Run every benchmark in this folder, one after the other (ratios measured within each run).

    python benchmarks/run_all.py [--quick]

``--quick`` passes ``--quick`` to the public-API benchmarks (smaller sizes, about 2 minutes in
all) and small sizes to the engine benchmarks. The exit status is 1 if any target was missed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name, arguments of a full run, arguments of a quick run
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("bench_headline.py", [], ["--quick"]),
    ("bench_engine.py", [], ["--events", "2000", "--loop-events", "200", "--repeat", "1"]),
    ("bench_engine.py", ["--events", "100000", "--loop-events", "100", "--repeat", "1"], []),
    ("bench_garch.py", [], ["--n", "20"]),
    ("bench_parallel.py", [], ["--events", "500", "--rounds", "1"]),
    ("bench_load.py", [], ["--events", "300", "--singles", "10"]),
    ("bench_loader.py", [], ["--quick"]),
    ("bench_startup.py", [], ["--quick"]),
    ("bench_json.py", [], ["--quick"]),
]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    print(f"machine load (1/5/15 min) at start: {_load()}", flush=True)
    only = [a for a in sys.argv[1:] if a.startswith("bench_")]
    failed = 0
    for name, full, small in BENCHMARKS:
        if only and name not in only or quick and not small and full:
            continue  # a full-size-only run (100,000 events) is not part of --quick
        print(f"\n=== {name} ===", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / name), *(small if quick else full)])
    print(f"\nmachine load (1/5/15 min) at end: {_load()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
