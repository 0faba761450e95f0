"""Shared helpers of the public-API benchmarks (bench_headline/loader/startup/json).

Only the public top-level API of ``eventstudy`` (``from eventstudy import ...``) and the CLI
(run as a subprocess) are used, so the benchmarks survive a restructure of the package.

* :func:`synthetic_universe` writes seeded synthetic per-ticker price CSVs plus a market index
  (``^SYN``) to a folder (reused if already there) and returns the events (one per ticker);
* :func:`run_worker` runs a benchmark step in a fresh Python process (so its peak RSS is its own)
  and returns the JSON it prints;
* :func:`table` prints ``what | measured | baseline | ratio | target | pass/fail`` rows.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARKET = "^SYN"  # the synthetic market index (its file: ^SYN.csv in the universe folder)
ESTIMATION = (-250, -11)
WINDOW = (-10, 10)
CAR_WINDOWS = ((-10, 10), (-1, 1), (0, 0))
EVENT_POS = 262  # day 0's row in each ticker's file (estimation needs rows 12..251)
ROWS = EVENT_POS + 131  # enough rows after day 0 for the default BHAR windows (to +120)
SHOCK = -0.03  # the event's abnormal return on day 0
BENCH_DIR = Path(os.environ.get("EVENTSTUDY_BENCH_DIR", Path(tempfile.gettempdir()) /
                                "eventstudy_bench"))


def ensure_importable() -> None:
    """Use the checkout this file is in when eventstudy is not installed."""
    try:
        import eventstudy  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(ROOT))


def sessions() -> np.ndarray:
    """NYSE sessions 1995..2023 (synthetic tickers like ``S00001`` trade on the US calendar)."""
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start="1995-01-01", end="2023-12-29")
    return cal.sessions.tz_localize(None).to_numpy().astype("datetime64[D]")


def _write_csv(path: Path, dates: np.ndarray, close: np.ndarray, volume: np.ndarray) -> None:
    text = "\n".join(f"{d},{c!r},{v}" for d, c, v in
                     zip(dates.astype(str), close.tolist(), volume.tolist(), strict=True))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("date,close,volume\n" + text + "\n", encoding="utf-8")
    tmp.replace(path)


def synthetic_universe(n: int, seed: int = 0, folder: Path | None = None
                       ) -> tuple[Path, list[tuple[str, str]]]:
    """Seeded synthetic universe: ``n`` tickers ``S00000..`` + market index ``^SYN``.

    Each ticker has ``ROWS`` consecutive NYSE sessions starting at a random session, market-model
    returns (beta in [0.5, 1.5], t(5) noise, a common non-market factor) and one event of -3% on
    its row ``EVENT_POS`` (estimation [-250, -11], window [-10, +10] fit inside the file).
    Returns the folder and the events as (ticker, ISO date of day 0). Files are written once per
    (n, seed) and reused (a ``manifest.json`` marks a complete folder).
    """
    folder = folder or BENCH_DIR / f"universe_{n}_{seed}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder, [tuple(e) for e in json.loads(manifest.read_text())]  # type: ignore
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    days = sessions()
    mret = rng.normal(3e-4, 0.01, len(days))
    mret[0] = 0.0
    factor = rng.normal(0.0, 0.004, len(days))
    mclose = 1000.0 * np.cumprod(1.0 + mret)
    _write_csv(folder / f"{MARKET}.csv", days, mclose, np.zeros(len(days), dtype=np.int64))
    starts = rng.integers(0, len(days) - ROWS, n)
    events = []
    for i, start in enumerate(starts):
        idx = np.arange(start, start + ROWS)
        beta = rng.uniform(0.5, 1.5)
        ret = 2e-4 + beta * mret[idx] + factor[idx] + rng.standard_t(5, ROWS) * 0.012
        ret[EVENT_POS] += SHOCK
        ret[0] = 0.0
        close = rng.uniform(5, 50) * np.cumprod(1.0 + ret)
        volume = np.exp(rng.normal(13.0, 0.6, ROWS)).astype(np.int64)
        ticker = f"S{i:05d}"
        _write_csv(folder / f"{ticker}.csv", days[idx], close, volume)
        events.append((ticker, str(days[idx][EVENT_POS])))
    manifest.write_text(json.dumps(events))
    return folder, events


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0: ``clear_refs`` 5), so
    that a later ``peak_rss_mb`` is the peak of what ran since; False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def run_worker(script: Path, *args: str, timeout: float | None = None) -> dict:
    """Run ``script --worker ...`` in a fresh process; its last stdout line is JSON."""
    env = dict(os.environ)
    env.setdefault("EVENTSTUDY_CACHE_DIR", str(BENCH_DIR / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(script), "--worker", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3g}{unit}"


def table(rows: list[dict]) -> bool:
    """Print the rows (what, measured, baseline, ratio, target, ok); True if none failed."""
    head = ("what", "measured", "baseline", "ratio", "target", "pass/fail")
    cells = [[str(r.get(k, "")) for k in ("what", "measured", "baseline", "ratio", "target")]
             + [{True: "PASS", False: "FAIL", None: "info"}[r.get("ok")]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    line = " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for c in cells:
        print(" | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
    sys.stdout.flush()
    return not any(r.get("ok") is False for r in rows)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


class TreeCpu:
    """CPU seconds of this process's descendants, sampled while they run."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.wait(0.05):
            for child in self.me.children(recursive=True):
                try:
                    times = child.cpu_times()
                except Exception:  # noqa: BLE001 - it ended between the listing and the read
                    continue
                self.seen[child.pid] = times.user + times.system

    def __enter__(self) -> TreeCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())
