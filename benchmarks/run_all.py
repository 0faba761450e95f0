"""Run every benchmark in this folder, one after the other (ratios measured within each run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_engine.py", "bench_garch.py", "bench_load.py"]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / name), *sys.argv[1:2]])
    return failed


if __name__ == "__main__":
    sys.exit(main())
