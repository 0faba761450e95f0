"""The headline (issue 25): a cold study of N synthetic events against three baselines, one run.

    python benchmarks/bench_headline.py [--events 10000] [--seed 0] [--quick]

Every tool runs in a fresh process ("cold": its first study), on the same seeded synthetic
events (``_common.synthetic_universe``: real NYSE sessions, synthetic prices, one -3% event per
ticker, estimation [-250, -11], window [-10, +10]). Each process reads the CSVs first (not
timed in the headline), then times one study in wall time and CPU time (``time.process_time``:
every thread of the process) and reports its peak RSS. eventstudy's memory per event is the
study's peak RSS (the high-water mark reset after the folder is read, Linux ``clear_refs``) less
the RSS holding the loaded prices:

* ``eventstudy``: ``event_study(events, loader=...)``, the full default output (CARs, BHARs,
  abnormal volume, every cross-event test and CAAR, read inside the timing);
* ``eventstudy_car``: the same call reading only ``result.car`` (CAR and t: the cross-event
  tests, computed when first read, are not);
* ``loop``: a competent plain per-event statsmodels OLS loop on positional windows (returns
  computed once per ticker, CAR and t only);
* ``lemaire``: Lemaire's PyPI package ``eventstudy`` 0.1a12 (``Single`` per event on the
  positional windows, ``Multiple`` over them), run by ``--lemaire-python`` (a separate venv,
  made on first use in the benchmark folder: the package clashes with ours);
* ``floor``: about 40 lines of numpy (windows gathered, market model, CAR and t).

The CARs of all four and the t of eventstudy, the loop and the floor (the prediction-error
variance of Campbell, Lo & MacKinlay 1997, eq. 4.4.16) must agree to 1e-10. Ratios are
baseline / eventstudy (``x faster``) and eventstudy / floor (``x the floor``).
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    BENCH_DIR,
    CAR_WINDOWS,
    ESTIMATION,
    MARKET,
    ROOT,
    WINDOW,
    ensure_importable,
    fmt,
    load_average,
    peak_rss_mb,
    reset_peak_rss,
    synthetic_universe,
    table,
)

LEMAIRE = "eventstudy==0.1a12"
TOLERANCE = 1e-10
KIB_PER_EVENT = 15.0


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def read_frames(folder: Path, tickers: list[str]) -> dict:
    import pandas as pd

    return {t: pd.read_csv(folder / f"{t}.csv", index_col="date", parse_dates=True)
            for t in (*tickers, MARKET)}


def positional(frames: dict, pairs: list[tuple[str, str]]) -> tuple[list, list, np.ndarray]:
    """Per ticker: simple returns of the stock and of the market on the same sessions (the
    ticker's rows are consecutive sessions of the market file), and each event's row."""
    import pandas as pd

    market = frames[MARKET]
    mdates = market.index.to_numpy()
    mclose = market["close"].to_numpy(float)
    rets, mrets, pos = [], [], np.empty(len(pairs), dtype=np.int64)
    for i, (ticker, day) in enumerate(pairs):
        frame = frames[ticker]
        close = frame["close"].to_numpy(float)
        start = int(np.searchsorted(mdates, frame.index[0].to_datetime64()))
        mc = mclose[start:start + len(close)]
        rets.append(np.r_[np.nan, close[1:] / close[:-1] - 1.0])
        mrets.append(np.r_[np.nan, mc[1:] / mc[:-1] - 1.0])
        pos[i] = int(np.searchsorted(frame.index.to_numpy(), pd.Timestamp(day).to_datetime64()))
    return rets, mrets, pos


def car_t(ar: np.ndarray, mwin: np.ndarray, mbar: float, sxx: float, s2: float, n: int,
          a: int, b: int) -> tuple[float, float]:
    """CAR over event days [a, b] and t with the prediction-error variance (CLM eq. 4.4.16)."""
    lo, hi = a - WINDOW[0], b - WINDOW[0] + 1
    tau = hi - lo
    var = s2 * (tau + tau**2 / n + (mwin[lo:hi] - mbar).sum() ** 2 / sxx)
    car = ar[lo:hi].sum()
    return car, car / np.sqrt(var)


def loop(rets: list, mrets: list, pos: np.ndarray) -> np.ndarray:
    """The plain per-event statsmodels loop: OLS on the estimation window, ARs, CARs and t."""
    import statsmodels.api as sm

    out = np.empty((len(pos), len(CAR_WINDOWS), 2))
    for i, p in enumerate(pos):
        r, m = rets[i], mrets[i]
        est = slice(p + ESTIMATION[0], p + ESTIMATION[1] + 1)
        win = slice(p + WINDOW[0], p + WINDOW[1] + 1)
        fit = sm.OLS(r[est], sm.add_constant(m[est])).fit()
        alpha, beta = fit.params
        ar = r[win] - alpha - beta * m[win]
        mest = m[est]
        mbar = mest.mean()
        sxx = ((mest - mbar) ** 2).sum()
        for j, (a, b) in enumerate(CAR_WINDOWS):
            out[i, j] = car_t(ar, m[win], mbar, sxx, fit.scale, len(mest), a, b)
    return out


def floor(rets: list, mrets: list, pos: np.ndarray) -> np.ndarray:
    """The numpy floor: every window gathered into (N, days) arrays, then vectorised."""
    lo, hi = ESTIMATION[0], WINDOW[1] + 1
    r = np.stack([x[p + lo:p + hi] for x, p in zip(rets, pos, strict=True)])
    m = np.stack([x[p + lo:p + hi] for x, p in zip(mrets, pos, strict=True)])
    n = ESTIMATION[1] - ESTIMATION[0] + 1
    re, me = r[:, :n], m[:, :n]
    mbar, rbar = me.mean(axis=1), re.mean(axis=1)
    dm = me - mbar[:, None]
    sxx = np.einsum("ij,ij->i", dm, dm)
    beta = np.einsum("ij,ij->i", dm, re - rbar[:, None]) / sxx
    alpha = rbar - beta * mbar
    resid = re - alpha[:, None] - beta[:, None] * me
    s2 = np.einsum("ij,ij->i", resid, resid) / (n - 2)
    w0 = WINDOW[0] - ESTIMATION[0]
    ar = r[:, w0:] - alpha[:, None] - beta[:, None] * m[:, w0:]
    dw = m[:, w0:] - mbar[:, None]
    out = np.empty((len(pos), len(CAR_WINDOWS), 2))
    for j, (a, b) in enumerate(CAR_WINDOWS):
        cols = slice(a - WINDOW[0], b - WINDOW[0] + 1)
        tau = cols.stop - cols.start
        car = ar[:, cols].sum(axis=1)
        var = s2 * (tau + tau**2 / n + dw[:, cols].sum(axis=1) ** 2 / sxx)
        out[:, j, 0], out[:, j, 1] = car, car / np.sqrt(var)
    return out


def lemaire(rets: list, mrets: list, pos: np.ndarray) -> np.ndarray:
    """Lemaire's package: one ``Single`` per event on its positional windows, ``Multiple``."""
    import importlib  # Lemaire's package is also called eventstudy (its own venv, not ours)

    package = importlib.import_module("eventstudy")
    Single, Multiple = package.Single, package.Multiple  # noqa: N806
    market_model = importlib.import_module("eventstudy.models").market_model

    lo, hi = ESTIMATION[0], WINDOW[1] + 1
    sample = [Single(market_model, {"security_returns": r[p + lo:p + hi],
                                    "market_returns": m[p + lo:p + hi]},
                     event_window=WINDOW, estimation_size=ESTIMATION[1] - ESTIMATION[0] + 1,
                     buffer_size=WINDOW[0] - ESTIMATION[1] - 1)
              for r, m, p in zip(rets, mrets, pos, strict=True)]
    Multiple(sample)
    out = np.full((len(pos), len(CAR_WINDOWS), 2), np.nan)
    out[:, 0, 0] = [s.CAR[-1] for s in sample]  # CAR over the whole window (-10, +10)
    return out


def eventstudy_run(folder: Path, pairs: list[tuple[str, str]], info: dict, full: bool
                   ) -> np.ndarray:
    """``full``: read every table (what the CLI does); else only ``result.car`` (CAR and t:
    the cross-event tests are computed when first read, so they are not)."""
    ensure_importable()
    from eventstudy import PriceLoader, event_study, make_event

    cache = tempfile.mkdtemp(prefix="es_cache_")
    loader = PriceLoader(offline=True, data=folder, cache_dir=Path(cache))
    loader.prefetch([*(t for t, _ in pairs), MARKET])  # the folder read at once, as columns
    events = [make_event(t, d) for t, d in pairs]
    info["rss_loaded_mb"] = rss_now_mb()
    info["load_peak_mb"] = peak_rss_mb()  # reading the folder: not the study's memory
    info["peak_reset"] = reset_peak_rss()
    w0, c0 = clock()
    result = event_study(events, loader=loader, market=MARKET, window=WINDOW,
                         estimation=ESTIMATION, car_windows=CAR_WINDOWS)
    if full:
        info["n_tests"] = len(result.tests) + len(result.caar)
    car = result.car.set_index(["event_id", "start", "end"])
    w1, c1 = clock()
    info["wall_s"], info["cpu_s"] = w1 - w0, c1 - c0
    ids = [f"{t}:event:{d}" for t, d in pairs]
    out = np.empty((len(pairs), len(CAR_WINDOWS), 2))
    for j, (a, b) in enumerate(CAR_WINDOWS):
        rows = car.xs((a, b), level=("start", "end")).reindex(ids)
        out[:, j, 0], out[:, j, 1] = rows["car"].to_numpy(), rows["t"].to_numpy()
    return out


def worker(mode: str, n: int, seed: int, out: str) -> dict:
    folder, pairs = synthetic_universe(n, seed)
    info: dict = {"mode": mode}
    if mode.startswith("eventstudy"):
        result = eventstudy_run(folder, pairs, info, full=mode == "eventstudy")
    else:
        w0, c0 = clock()
        frames = read_frames(folder, [t for t, _ in pairs])
        info["load_s"] = time.perf_counter() - w0
        rets, mrets, pos = positional(frames, pairs)
        del frames
        info["rss_loaded_mb"] = rss_now_mb()
        run = {"loop": loop, "floor": floor, "lemaire": lemaire}[mode]
        w0, c0 = clock()
        result = run(rets, mrets, pos)
        w1, c1 = clock()
        info["wall_s"], info["cpu_s"] = w1 - w0, c1 - c0
    np.save(out, result)
    info["peak_rss_mb"] = peak_rss_mb()
    return info


def lemaire_python() -> Path:
    """The Python of a venv holding Lemaire's package (made once in the benchmark folder)."""
    venv = BENCH_DIR / "lemaire_venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", LEMAIRE, "statsmodels"],
                       check=True)
    return python


def run(python: Path | str, mode: str, n: int, seed: int, out: Path) -> dict:
    """One worker in a fresh process; eventstudy's own checkout only for the eventstudy mode."""
    env = dict(os.environ)
    env.setdefault("EVENTSTUDY_CACHE_DIR", str(BENCH_DIR / "cache"))
    env.pop("PYTHONPATH", None)
    if mode.startswith("eventstudy"):
        env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([str(python), __file__, "--worker", mode, str(n), str(seed), str(out)],
                          env=env, capture_output=True, text=True, check=False,
                          cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rows_for(n: int, res: dict, diffs: dict) -> list[dict]:
    es = res["eventstudy"]
    rows = []
    for base, goal in (("loop", 10.0), ("lemaire", 3.0)):
        for what in ("cpu_s", "wall_s"):
            ratio = res[base][what] / es[what]
            rows.append({"what": f"{n}: eventstudy full output vs {base} ({what[:-2]}, cold)",
                         "measured": fmt(es[what]), "baseline": f"{base} {fmt(res[base][what])}",
                         "ratio": f"{ratio:.2f}x faster", "target": f">= {goal:g}x",
                         "ok": ratio >= goal})
    for what in ("cpu_s", "wall_s"):
        ratio = es[what] / res["floor"][what]
        rows.append({"what": f"{n}: eventstudy full output vs numpy floor ({what[:-2]})",
                     "measured": fmt(es[what]), "baseline": f"floor {fmt(res['floor'][what])}",
                     "ratio": f"{ratio:.1f}x the floor", "target": "<= 10x",
                     "ok": ratio <= 10.0})
    for what in ("cpu_s", "wall_s"):
        ratio = res["eventstudy_car"][what] / res["floor"][what]
        rows.append({"what": f"{n}: eventstudy CAR-and-t-only call vs numpy floor "
                             f"({what[:-2]})",
                     "measured": fmt(res["eventstudy_car"][what]),
                     "baseline": f"floor {fmt(res['floor'][what])}",
                     "ratio": f"{ratio:.1f}x the floor", "target": "<= 2x", "ok": ratio <= 2.0})
    kib = (es["peak_rss_mb"] - es["rss_loaded_mb"]) * 1024 / n
    since = "the study's peak" if es.get("peak_reset") else "the process's peak (reset refused)"
    rows.append({"what": f"{n}: eventstudy memory per event on top of the loaded prices",
                 "measured": f"{kib:.0f} KiB", "baseline":
                 f"{since} {fmt(es['peak_rss_mb'], 'MiB')}, loaded "
                 f"{fmt(es['rss_loaded_mb'], 'MiB')}",
                 "ratio": "-", "target": f"<= {KIB_PER_EVENT:g} KiB", "ok": kib <= KIB_PER_EVENT})
    rows.append({"what": f"{n}: peak RSS eventstudy (whole process)", "measured":
                 fmt(max(es["peak_rss_mb"], es.get("load_peak_mb", 0.0)), "MiB"),
                 "baseline": "-", "ratio": "-", "target": "-", "ok": None})
    for mode in ("loop", "lemaire", "floor"):
        rows.append({"what": f"{n}: peak RSS {mode}", "measured":
                     fmt(res[mode]["peak_rss_mb"], "MiB"), "baseline": "-", "ratio": "-",
                     "target": "-", "ok": None})
    for name, diff in diffs.items():
        rows.append({"what": f"{n}: max |{name}|", "measured": f"{diff:.1e}", "baseline": "-",
                     "ratio": "-", "target": f"<= {TOLERANCE:.0e}", "ok": diff <= TOLERANCE})
    return rows


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    if not (np.isnan(a) == np.isnan(b)).all():
        return float("inf")
    return float(np.nanmax(np.abs(a - b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1,000 events")
    parser.add_argument("--lemaire-python", help="a Python with eventstudy==0.1a12 installed")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, n, seed, out = args.worker
        print(json.dumps(worker(mode, int(n), int(seed), out)))
        return 0
    n = 1000 if args.quick else args.events
    print(f"load average at start: {load_average()}", flush=True)
    synthetic_universe(n, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench_headline_"))
    pythons = {"eventstudy": sys.executable, "eventstudy_car": sys.executable,
               "loop": sys.executable, "floor": sys.executable,
               "lemaire": args.lemaire_python or lemaire_python()}
    res, arrays = {}, {}
    for mode, python in pythons.items():
        res[mode] = run(python, mode, n, args.seed, tmp / f"{mode}.npy")
        arrays[mode] = np.load(tmp / f"{mode}.npy")
        print(f"  {mode}: wall {res[mode]['wall_s']:.3f} s, cpu {res[mode]['cpu_s']:.3f} s, "
              f"peak RSS {res[mode]['peak_rss_mb']:.0f} MiB (load {load_average()})",
              flush=True)
    es = arrays["eventstudy"]
    diffs = {"CAR, t eventstudy - loop": max_diff(es, arrays["loop"]),
             "CAR, t eventstudy CAR-only call - loop": max_diff(arrays["eventstudy_car"],
                                                                arrays["loop"]),
             "CAR, t floor - loop": max_diff(arrays["floor"], arrays["loop"]),
             "CAR(-10,10) lemaire - loop": max_diff(arrays["lemaire"][:, 0, 0],
                                                    arrays["loop"][:, 0, 0])}
    print()
    ok = table(rows_for(n, res, diffs))
    print(f"load average at end: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
