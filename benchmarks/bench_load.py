"""Load: a batch of many events over the bundled data, its memory, and the same numbers as the
events run one by one.

    python benchmarks/bench_load.py [--events 2000] [--singles 50] [--seed 2024] [--max-mb 1024]
                                    [--no-json]

Events are random real sessions of the bundled tickers (numpy ``default_rng(seed)``), offline.
The batch runs through ``batch_study`` (every cross-event test included) under ``tracemalloc``;
the output gives its time, the peak traced Python memory and the peak RSS of the process, then
the time of ``to_json()`` (the JSON document ``--json`` prints and the report writes). Then
``--singles`` events picked at random from the studied ones are run alone with ``event_study``:
AR(0), every CAR and its standard error must equal the batch's to 1e-12 (absolute). Exit status 1
if they do not, or if the traced peak exceeds ``--max-mb``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import eventstudy  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventstudy.calendar.events import Event
from eventstudy.data.files import bundled_source
from eventstudy.data.loader import PriceLoader
from eventstudy.studies.batch import batch_study
from eventstudy.studies.lockup import event_study

BUNDLED_TICKERS = ("0020.HK", "0700.HK", "1024.HK", "2432.HK", "2533.HK", "3690.HK", "6682.HK",
                   "9660.HK", "9880.HK", "9988.HK")
TOLERANCE = 1e-12


def random_events(count: int, seed: int) -> list[Event]:
    """``count`` distinct events on random real sessions of the bundled tickers."""
    rng = np.random.default_rng(seed)
    dates = {t: bundled_source().load(t).index for t in BUNDLED_TICKERS}
    events: dict[str, Event] = {}
    while len(events) < count:
        ticker = BUNDLED_TICKERS[int(rng.integers(len(BUNDLED_TICKERS)))]
        day = dates[ticker][int(rng.integers(len(dates[ticker])))]
        event = Event(ticker, pd.Timestamp(day))
        events[event.event_id] = event
    return list(events.values())


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def max_differences(batch: pd.DataFrame, batch_car: pd.DataFrame, events: list[Event],
                    loader: PriceLoader) -> tuple[float, float, float]:
    """Largest |single - batch| of AR(0), CAR and CAR standard error over ``events``."""
    ar0 = car = se = 0.0
    for event in events:
        single = event_study([event], loader=loader)
        theirs = batch.set_index("event_id").loc[event.event_id, "ar_0"]
        ar0 = max(ar0, abs(single.events["ar_0"].iloc[0] - theirs))
        mine = batch_car[batch_car.event_id == event.event_id].set_index("window")
        alone = single.car.set_index("window").loc[mine.index]
        car = max(car, float(np.nanmax(np.abs(alone["car"] - mine["car"]), initial=0.0)))
        se = max(se, float(np.nanmax(np.abs(alone["se"] - mine["se"]), initial=0.0)))
        if not (np.isnan(alone["car"]) == np.isnan(mine["car"])).all():
            car = float("inf")  # a CAR missing in one run but not in the other
    return float(ar0), car, se


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--singles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--max-mb", type=float, default=1024.0,
                        help="fail if the traced peak exceeds this many MiB")
    parser.add_argument("--no-json", action="store_true", help="skip timing to_json()")
    args = parser.parse_args()

    loader = PriceLoader(offline=True)
    events = random_events(args.events, args.seed)
    for ticker in (*BUNDLED_TICKERS, "^HSI"):  # load the data first: measure the study itself
        loader.load(ticker)
    rss_before = peak_rss_mb()

    tracemalloc.start()
    start = time.perf_counter()
    result = batch_study(events, loader=loader, keep_other_events=True)  # singles have none
    took = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    traced_mb = traced_peak / 2**20

    print(f"batch: {len(events)} events ({result.n_events} studied, {len(result.skipped)} "
          f"skipped) in {took:.2f} s under tracemalloc "
          f"({1000 * took / len(events):.2f} ms per event)")
    reasons = result.skipped["reason"].str.replace(r"\S*\d\S*", "#", regex=True)
    for reason, count in reasons.value_counts().items():
        print(f"  skipped {count:4d}: {reason}")
    finite = np.isfinite(result.events["ar_0"].to_numpy(float)).all()
    print(f"memory: traced peak {traced_mb:.1f} MiB ({1024 * traced_mb / len(events):.1f} KiB "
          f"per event); peak RSS {peak_rss_mb():.0f} MiB (after loading the data: "
          f"{rss_before:.0f} MiB)")

    if not args.no_json:
        start = time.perf_counter()
        size = len(result.to_json())
        took_json = time.perf_counter() - start
        print(f"json: to_json (what --json prints and the report's summary.json holds) "
              f"{size / 2**20:.1f} MiB in {took_json:.2f} s "
              f"({1000 * took_json / max(result.n_events, 1):.1f} ms per event)")

    rng = np.random.default_rng(args.seed + 1)
    by_id = {e.event_id: e for e in events}
    picked = rng.choice(result.events["event_id"].to_numpy(),
                        size=min(args.singles, result.n_events), replace=False)
    start = time.perf_counter()
    ar0, car, se = max_differences(result.events, result.car, [by_id[i] for i in picked], loader)
    print(f"singles: {len(picked)} events run alone in {time.perf_counter() - start:.2f} s; "
          f"max |single - batch|: AR(0) {ar0:.1e}, CAR {car:.1e}, SE {se:.1e} "
          f"(tolerance {TOLERANCE:.0e})")

    ok = finite and max(ar0, car, se) <= TOLERANCE and traced_mb <= args.max_mb
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
