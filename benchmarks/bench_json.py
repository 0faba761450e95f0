"""JSON output of a 10,000-event study: ``to_json()`` against the records path it replaced.

    python benchmarks/bench_json.py [--events 10000] [--seed 0] [--quick]

Synthetic events (``_common.synthetic_universe``), the folder prefetched as ``bench_headline``'s
``eventstudy_run`` does, ``event_study`` with the full default output (every cross-event test
read), then on that result, in CPU time (``time.process_time``) and wall time, each twice,
interleaved, the faster run shown:

* ``result.to_json()`` (what ``--json`` prints): the big tables written column by column
  (``serialize.result_to_json``);
* the records path it replaced: ``json_text(result_to_dict(result))`` (a dict per row, then
  the text), the same text (checked here, byte for byte apart from "generated");
* ``result.to_dict()``.

Targets: ``to_json`` at least 3x cheaper in CPU than the records path at 10,000 events (issue
25; smaller runs print the ratio only), and no slower than the study (issue 12).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
GENERATED = re.compile(r'"generated": "[^"]*"')


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """``call()``, its CPU and wall seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="--events 500")
    args = parser.parse_args()
    if args.quick:
        args.events = 500
    from eventstudy import PriceLoader, event_study, make_event
    from eventstudy.formatting import json_text
    from eventstudy.results.serialize import result_to_dict

    print(f"load average {load_average()}")
    folder, pairs = synthetic_universe(args.events, args.seed)
    loader = PriceLoader(offline=True, data=folder, cache_dir=Path(tempfile.mkdtemp(
        prefix="es_cache_")))
    loader.prefetch([*(t for t, _ in pairs), MARKET])
    events = [make_event(t, d) for t, d in pairs]

    def study() -> Any:
        result = event_study(events, loader=loader, market=MARKET, window=WINDOW,
                             estimation=ESTIMATION, car_windows=CAR_WINDOWS)
        result.tests, result.caar  # noqa: B018 (every cross-event test, computed on first read)
        return result

    result, study_cpu, study_wall = timed(study)
    runs: dict[str, list[tuple[Any, float, float]]] = {"json": [], "records": [], "dict": []}
    for _ in range(2):
        runs["json"].append(timed(result.to_json))
        runs["records"].append(timed(lambda: json_text(result_to_dict(result))))
        runs["dict"].append(timed(result.to_dict))
    best = {k: min(v, key=lambda r: r[1]) for k, v in runs.items()}
    text, records = best["json"][0], best["records"][0]
    if GENERATED.sub("", text) != GENERATED.sub("", records):
        print("to_json() and the records path wrote different text")
        return 1
    print(f"{result.n_events} events studied in {study_cpu:.2f} s CPU ({study_wall:.2f} s "
          f"wall); JSON {len(text) / 2**20:.1f} MiB, the same text both ways")
    (_, json_cpu, json_wall), (_, rec_cpu, rec_wall) = best["json"], best["records"]
    _, dict_cpu, dict_wall = best["dict"]
    full = args.events >= 10000
    rows = [
        {"what": f"event_study, {result.n_events} events (every test)",
         "measured": f"{fmt(study_cpu)} CPU, {fmt(study_wall)} wall", "baseline": "-",
         "ratio": "-", "target": "-", "ok": None},
        {"what": "result.to_json() vs the records path (CPU)", "measured": fmt(json_cpu),
         "baseline": f"records {fmt(rec_cpu)}", "ratio": f"{rec_cpu / json_cpu:.2f}x faster",
         "target": ">= 3x at 10,000 events", "ok": rec_cpu >= 3 * json_cpu if full else None},
        {"what": "result.to_json() vs the records path (wall)", "measured": fmt(json_wall),
         "baseline": f"records {fmt(rec_wall)}", "ratio": f"{rec_wall / json_wall:.2f}x faster",
         "target": "-", "ok": None},
        {"what": "result.to_json() vs the study (CPU)", "measured": fmt(json_cpu),
         "baseline": f"study {fmt(study_cpu)}", "ratio": f"{json_cpu / study_cpu:.2f}",
         "target": "<= 1", "ok": json_cpu <= study_cpu},
        {"what": "result.to_dict() (CPU; wall)", "measured": f"{fmt(dict_cpu)}; {fmt(dict_wall)}",
         "baseline": f"study {fmt(study_cpu)}", "ratio": f"{dict_cpu / study_cpu:.2f}",
         "target": "<= 1", "ok": dict_cpu <= study_cpu},
    ]
    print()
    return 0 if table(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
