"""Start-up and the main command, wall time of fresh processes (the CLI as a user runs it).

    python benchmarks/bench_startup.py [--repeat 5] [--lockup-repeat 3] [--quick]

* ``eventstudy --help`` and ``eventstudy lockup --help``: median of ``--repeat`` runs as a ratio
  to ``python -c "import click"`` measured in the same run (target <= 3x, i.e. ~0.3 s);
* ``eventstudy lockup 0020.HK --offline --no-report`` with a warm cache (an isolated cache
  folder through ``EVENTSTUDY_CACHE_DIR``, filled first by ``eventstudy fetch 0020.HK ^HSI
  --offline``; one untimed run warms the OS file cache): target < 2 s; with the report (``--out``
  a fresh folder per run): target < 4 s. Both also as ratios to ``python -c "import pandas"``
  measured in the same run, which is what the absolute targets are worth on a slower machine,
  and as CPU seconds (user + system, median), which a busy machine inflates less.
The command is the installed console script beside the interpreter (``eventstudy``), else the
same entry point through ``python -c``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt, load_average, table  # noqa: E402

HELP_TARGET = 3.0
LOCKUP_TARGET_S = 2.0
REPORT_TARGET_S = 4.0


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "eventstudy"
    if script.exists():
        return [sys.executable, str(script)]  # same interpreter, whatever the shebang says
    found = shutil.which("eventstudy")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from eventstudy.cli import main; sys.exit(main())"]


def environment(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["EVENTSTUDY_CACHE_DIR"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def wall(cmd: list[str], env: dict[str, str], repeat: int, cwd: Path,
         vary: list[str] | None = None) -> float:
    """Median wall time of ``repeat`` runs (``vary``: appended with a run number)."""
    return timed(cmd, env, repeat, cwd, vary)[0]


def timed(cmd: list[str], env: dict[str, str], repeat: int, cwd: Path,
          vary: list[str] | None = None) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``repeat`` runs; CPU is user + system of the process and
    its children (``os.times`` of this process's waited-for children), which a busy machine
    inflates less than wall time."""
    walls, cpus = [], []
    for i in range(repeat):
        extra = [a.format(i=i) for a in vary] if vary else []
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.run([*cmd, *extra], env=env, cwd=cwd, capture_output=True, text=True,
                              check=False)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user - before.children_user
                    + after.children_system - before.children_system)
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd + extra} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lockup-repeat", type=int, default=3)
    parser.add_argument("--ticker", default="0020.HK")
    parser.add_argument("--quick", action="store_true", help="--repeat 3 --lockup-repeat 1")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.lockup_repeat = 3, 1
    work = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    env = environment(work / "cache")
    es = cli_command()
    py = [sys.executable]
    print(f"load average {load_average()}; command: {' '.join(es)}")

    click_s = wall([*py, "-c", "import click"], env, args.repeat, work)
    pandas_s = wall([*py, "-c", "import pandas"], env, args.repeat, work)
    help_s = wall([*es, "--help"], env, args.repeat, work)
    lhelp_s = wall([*es, "lockup", "--help"], env, args.repeat, work)

    wall([*es, "fetch", args.ticker, "^HSI", "--offline"], env, 1, work)
    lockup = [*es, "lockup", args.ticker, "--offline"]
    wall([*lockup, "--no-report"], env, 1, work)  # warm: OS file cache, __pycache__
    run_s, run_cpu = timed([*lockup, "--no-report"], env, args.lockup_repeat, work)
    report_s, report_cpu = timed(lockup, env, args.lockup_repeat, work,
                                 vary=["--out", str(work / "r{i}")])

    rows = [
        {"what": "python -c 'import click'", "measured": fmt(click_s), "baseline": "-",
         "ratio": "-", "target": "-", "ok": None},
        {"what": "python -c 'import pandas'", "measured": fmt(pandas_s), "baseline": "-",
         "ratio": "-", "target": "-", "ok": None},
    ]
    for what, value in (("eventstudy --help", help_s), ("eventstudy lockup --help", lhelp_s)):
        rows.append({"what": what, "measured": fmt(value), "baseline": f"click {fmt(click_s)}",
                     "ratio": f"{value / click_s:.1f}x", "target": f"<= {HELP_TARGET:g}x",
                     "ok": value / click_s <= HELP_TARGET})
    for what, value, target in (
            (f"lockup {args.ticker} --offline --no-report (cached)", run_s, LOCKUP_TARGET_S),
            (f"lockup {args.ticker} --offline, report (cached)", report_s, REPORT_TARGET_S)):
        rows.append({"what": what, "measured": fmt(value), "baseline": f"< {target:g} s",
                     "ratio": f"{value / target:.2f}", "target": "<= 1", "ok": value < target})
        rows.append({"what": "  same / import pandas", "measured": fmt(value),
                     "baseline": f"pandas {fmt(pandas_s)}", "ratio": f"{value / pandas_s:.1f}x",
                     "target": f"<= {target / 0.5:.0f}x at 0.5 s pandas", "ok": None})
    for what, cpu in (("lockup --no-report, CPU (user+sys)", run_cpu),
                      ("lockup, report, CPU (user+sys)", report_cpu),
                      ("  the report alone, CPU", report_cpu - run_cpu)):
        rows.append({"what": what, "measured": fmt(cpu), "baseline": "-", "ratio": "-",
                     "target": "-", "ok": None})
    print()
    ok = table(rows)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
