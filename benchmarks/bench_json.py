"""JSON output of a batch vs the batch itself: ``to_dict()`` and ``to_json()`` of 2,000 events.

    python benchmarks/bench_json.py [--events 2000] [--seed 0] [--quick]

Synthetic events (``_common.synthetic_universe``), a loader warmed once (each file read alone with
``load_prices``, stored in a fresh cache, served from it), then ``batch_study(events,
loader=...)`` with every cross-event test (timed), then ``result.to_dict()`` and
``result.to_json()`` (what ``--json`` prints and the report's summary.json holds) on the same
result. Target (issue 12): ``to_json`` no slower than the study (ratio <= 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    CAR_WINDOWS,
    ESTIMATION,
    MARKET,
    WINDOW,
    ensure_importable,
    fmt,
    load_average,
    synthetic_universe,
    table,
)

ensure_importable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="--events 500")
    args = parser.parse_args()
    if args.quick:
        args.events = 500
    from eventstudy import PriceLoader, batch_study, load_prices, make_event

    print(f"load average {load_average()}")
    folder, pairs = synthetic_universe(args.events, args.seed)
    cache = Path(tempfile.mkdtemp(prefix="es_cache_"))
    loader = PriceLoader(offline=True, cache_dir=cache)
    for t in (MARKET, *(t for t, _ in pairs)):
        loader.store(load_prices(t, data=folder / f"{t}.csv", cache_dir=cache))
        loader.load(t)
    events = [make_event(t, d) for t, d in pairs]

    start = time.perf_counter()
    result = batch_study(events, loader=loader, market=MARKET, window=WINDOW,
                         estimation=ESTIMATION, car_windows=CAR_WINDOWS)
    study_s = time.perf_counter() - start
    start = time.perf_counter()
    result.to_dict()
    dict_s = time.perf_counter() - start
    start = time.perf_counter()
    size = len(result.to_json())
    json_s = time.perf_counter() - start
    print(f"{result.n_events} events studied in {study_s:.2f} s; JSON {size / 2**20:.1f} MiB")
    rows = [
        {"what": f"batch_study, {result.n_events} events (every test)", "measured": fmt(study_s),
         "baseline": "-", "ratio": "-", "target": "-", "ok": None},
        {"what": "result.to_dict()", "measured": fmt(dict_s), "baseline": f"study {fmt(study_s)}",
         "ratio": f"{dict_s / study_s:.2f}", "target": "<= 1", "ok": dict_s <= study_s},
        {"what": "result.to_json()", "measured": fmt(json_s), "baseline": f"study {fmt(study_s)}",
         "ratio": f"{json_s / study_s:.2f}", "target": "<= 1", "ok": json_s <= study_s},
    ]
    print()
    return 0 if table(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
