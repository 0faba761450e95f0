"""The chunked path at scale (issue 25): ``chunked_study`` over N synthetic events, blocks of
whole tickers, in one process; time (CPU and wall), peak RSS and the pooled tests table.

    python benchmarks/bench_chunked.py [--events 1000000] [--chunk 20000] [--seed 0]

Prices are synthetic (seeded; not market data): ``SyntheticPrices`` makes each ticker's series
when a block first asks for it (a seeded function of the ticker number: market-model returns,
beta in [0.5, 1.5], t(5) noise, a common non-market factor) on business days 1995-2023, so
memory holds one block's prices, not the universe's. Each ticker has ``PER_TICKER`` events of
-3% on day 0, ``SPACING`` sessions apart (the firm's other events fall in some estimation
windows and are left out, as in a real study). Estimation [-250, -11], window [-10, +10], CAR
windows [-10, +10], [-1, +1], [0, 0], the default BHAR windows; every reported test.
Not a unit test; the issue's target is within 24 GiB of memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    CAR_WINDOWS,
    ESTIMATION,
    MARKET,
    WINDOW,
    ensure_importable,
    load_average,
    peak_rss_mb,
)

ensure_importable()
import pandas as pd  # noqa: E402

from eventstudy import PriceLoader, chunked_study, make_event  # noqa: E402

PER_TICKER = 25
SPACING = 280
FIRST = 300  # day 0 of a ticker's first event (row in its series)
TARGET_GIB = 24.0


def synthetic_days() -> pd.DatetimeIndex:
    return pd.bdate_range("1995-01-02", "2023-12-29", name="date")


class SyntheticPrices(PriceLoader):
    """Seeded synthetic prices (``synthetic_frame``) made on demand, ``^SYN`` the market."""

    def __init__(self, seed: int) -> None:
        super().__init__(offline=True)
        self.seed = seed
        days = synthetic_days()
        rng = np.random.default_rng([seed, 0])
        self.mret = rng.normal(3e-4, 0.01, len(days))
        self.factor = rng.normal(0.0, 0.004, len(days))
        self.market = pd.DataFrame({"close": 1000.0 * np.cumprod(1.0 + self.mret),
                                    "volume": np.exp(rng.normal(20.0, 0.3, len(days)))},
                                   index=days)

    def load(self, ticker: str) -> pd.DataFrame:
        if ticker == MARKET:
            return self.market
        return synthetic_frame(self, int(ticker[1:]))


def synthetic_frame(prices: SyntheticPrices, i: int) -> pd.DataFrame:
    """Ticker ``i``'s synthetic series: a function of (seed, i) only."""
    rng = np.random.default_rng([prices.seed, i + 1])
    days = prices.market.index
    ret = (2e-4 + rng.uniform(0.5, 1.5) * prices.mret + prices.factor
           + rng.standard_t(5, len(days)) * 0.012)
    ret[FIRST + SPACING * np.arange(PER_TICKER)] -= 0.03
    return pd.DataFrame({"close": rng.uniform(5, 50) * np.cumprod(1.0 + ret),
                         "volume": np.exp(rng.normal(13.0, 0.6, len(days)))}, index=days)


def synthetic_events(n: int) -> list:
    days = synthetic_days()
    rows = FIRST + SPACING * np.arange(PER_TICKER)
    out = []
    for k in range(n):
        ticker, j = divmod(k, PER_TICKER)
        out.append(make_event(f"S{ticker:06d}", days[rows[j]]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the figures and the tests table here")
    args = ap.parse_args()
    print(f"load average at start: {load_average()}", flush=True)
    c0 = time.process_time()
    events = synthetic_events(args.events)
    t1, c1 = time.perf_counter(), time.process_time()
    result = chunked_study(events, chunk_size=args.chunk, loader=SyntheticPrices(args.seed),
                           market=MARKET, window=WINDOW, estimation=ESTIMATION,
                           car_windows=CAR_WINDOWS)
    t2, c2 = time.perf_counter(), time.process_time()
    peak = peak_rss_mb()
    figures = {"events": args.events, "chunk": args.chunk, "studied": len(result.events),
               "skipped": len(result.skipped), "make_events_cpu_s": c1 - c0,
               "study_cpu_s": c2 - c1, "study_wall_s": t2 - t1, "peak_rss_mib": peak,
               "load_average_end": load_average(), "pid": os.getpid()}
    print(json.dumps(figures, indent=1))
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.tests[["group", "window", "test", "estimate", "statistic", "p_value", "n"]]
              .to_string(index=False))
    ok = peak / 1024 <= TARGET_GIB
    print(f"peak RSS {peak / 1024:.2f} GiB (target <= {TARGET_GIB:.0f} GiB): "
          f"{'PASS' if ok else 'FAIL'}; {figures['study_cpu_s']:.0f} s CPU, "
          f"{figures['study_wall_s']:.0f} s wall for {args.events:,} events")
    if args.json:
        args.json.write_text(json.dumps({**figures, "tests": json.loads(
            result.tests.to_json(orient="records"))}, indent=1))


if __name__ == "__main__":
    main()
