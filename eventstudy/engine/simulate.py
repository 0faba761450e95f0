"""Brown & Warner (1985) specification check: size and power of the tests on pseudo-events.

Pseudo-events are random (ticker, session) pairs drawn from real data (by default the bundled Hong
Kong stocks against ^HSI), each with a full estimation window. One panel of all pseudo-events is
built and fitted once; ``n_samples`` samples of ``n_events`` rows are drawn from it (without
replacement within a sample) and every test runs on all samples at once (batched numpy). Size is
the rejection rate at ``alpha`` with nothing added; power is the rate with ``shift`` added to the
day-0 abnormal return. An event-induced variance increase multiplies the day-0 AR by
``sqrt(variance_ratio)`` before the shift (Brown & Warner 1985, sec. 5; Boehmer et al. 1991)."""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.models import AbnormalReturns, fit_model
from eventstudy.engine.panel import LISTING_GAP, Panel, Series, align
from eventstudy.engine.prepare import Base, Prepared, base, check_window, prepare
from eventstudy.engine.ranks import rank_u
from eventstudy.engine.significance import REFERENCES, check_tests, compute, kind_of
from eventstudy.errors import BadInput

DEFAULT_SHIFTS = (0.0, -0.01, -0.02, -0.05)


DEFAULT_VARIANCE_RATIOS = (1.0, 2.0)


SIZE_BAND = (0.03, 0.07)


Progress = Callable[[int, int], None]


def bundled_series(tickers: Iterable[str] | None = None) -> dict[str, Series]:
    """Aligned returns of the bundled stocks (all of them by default) and their market."""
    from eventstudy.data.files import bundled_source
    from eventstudy.data.loader import PriceLoader
    from eventstudy.data.tickers import market_for

    loader = PriceLoader(offline=True)
    names = tickers or [t for t in bundled_source().tickers() if not t.startswith("^")]
    return {t: align(loader.load(t), loader.load(market_for(t))) for t in names}


def _eligible(series: Mapping[str, Series], block: tuple[int, int],
              estimation: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ticker number, day-0 position) of every session with a full estimation window."""
    which, where = [], []
    for k, s in enumerate(series.values()):
        first = max(1, LISTING_GAP) - estimation[0]
        pos = np.arange(first, len(s.dates) - block[1])
        which.append(np.full(len(pos), k))
        where.append(pos)
    return np.concatenate(which), np.concatenate(where)


def pseudo_panel(series: Mapping[str, Series], n_events: int, rng: np.random.Generator, *,
                 block: tuple[int, int] = (-10, 10),
                 estimation: tuple[int, int] = (-260, -11)) -> Panel:
    """A Panel of ``n_events`` distinct random (ticker, session) pseudo-events (all eligible ones
    if fewer) with event block ``block`` and a full ``estimation`` window."""
    if not block[0] <= 0 <= block[1] or estimation[1] >= block[0]:
        raise BadInput(f"event block {block} must contain day 0 and follow estimation {estimation}")
    which, where = _eligible(series, block, estimation)
    if len(where) == 0:
        raise BadInput("no session of these tickers has a full estimation window")
    pick = np.sort(rng.choice(len(where), size=min(n_events, len(where)), replace=False))
    which, where = which[pick], where[pick]
    days, est_days = np.arange(block[0], block[1] + 1), np.arange(estimation[0], estimation[1] + 1)
    names = list(series)
    arrays: dict[str, list[np.ndarray]] = {k: [] for k in
                                           ("ret", "mkt", "vol", "dates", "est_ret", "est_mkt",
                                            "est_vol", "est_dates")}
    for k, name in enumerate(names):
        s, pos = series[name], where[which == k]
        for prefix, offsets in (("", days), ("est_", est_days)):
            idx = pos[:, None] + offsets
            for field in ("ret", "mkt", "vol", "dates"):
                arrays[prefix + field].append(getattr(s, field)[idx])
    order = np.argsort(np.concatenate([np.flatnonzero(which == k) for k in range(len(names))]))
    data = {k: np.concatenate(v)[order] for k, v in arrays.items()}
    day0 = pd.to_datetime(data["dates"][:, int(-block[0])])
    tickers = np.array(names)[which]
    ids = [f"{t}:pseudo:{d.date()}" for t, d in zip(tickers, day0, strict=True)]
    events = pd.DataFrame({"event_id": ids, "ticker": tickers, "tranche": "pseudo",
                           "group": "pseudo", "day0": day0,
                           "estimation_days": len(est_days)}, index=pd.Index(ids, name="event_id"))
    return Panel(events=events, days=days, ret=data["ret"], mkt=data["mkt"], vol=data["vol"],
                 dates=data["dates"], est_ret=data["est_ret"], est_mkt=data["est_mkt"],
                 est_vol=data["est_vol"], est_dates=data["est_dates"])


def inject(ar: AbnormalReturns, shift: float, variance_ratio: float = 1.0) -> AbnormalReturns:
    """``ar`` with day-0 AR replaced by sqrt(variance_ratio) * AR_0 + shift (returns too)."""
    col = ar.panel.column(0)
    new = ar.ar.copy()
    new[:, col] = math.sqrt(variance_ratio) * ar.ar[:, col] + shift
    ret = ar.panel.ret.copy()
    ret[:, col] += new[:, col] - ar.ar[:, col]
    return dataclasses.replace(ar, panel=dataclasses.replace(ar.panel, ret=ret), ar=new)


def draw_samples(n_pool: int, n_samples: int, n_events: int,
                 rng: np.random.Generator) -> np.ndarray:
    """(n_samples, n_events) row numbers, distinct within each sample."""
    if n_events > n_pool:
        raise BadInput(f"samples of {n_events} events need at least that many pseudo-events "
                       f"(the pool has {n_pool})")
    keys = rng.random((n_samples, n_pool))
    return np.argpartition(keys, n_events - 1, axis=1)[:, :n_events]


def _reporter(progress: Progress | bool, total: int) -> tuple[Progress | None, Callable[[], None]]:
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=total, file=sys.stderr, desc="Brown-Warner", unit="batch")

        def step(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return step, bar.close
    return (progress or None), (lambda: None)


def sample_statistics(prep: Prepared, tests: Sequence[str], samples: np.ndarray,
                      chunk: int = 100, tick: Callable[[], None] | None = None
                      ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(statistic, p_value) arrays of each test over the rows of ``samples`` (samples x n row
    numbers of ``prep``), computed ``chunk`` samples at a time."""
    out: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {t: ([], []) for t in tests}
    for lo in range(0, len(samples), chunk):
        sel = samples[lo:lo + chunk]
        for test in tests:
            res = compute(prep, test, sel)
            out[test][0].append(np.asarray(res.statistic))
            out[test][1].append(np.asarray(res.p_value))
        if tick is not None:
            tick()
    return {t: (np.concatenate(s), np.concatenate(p)) for t, (s, p) in out.items()}


def scenario(ar: AbnormalReturns, common: Base, window: tuple[int, int], shift: float,
             ratio: float) -> Prepared:
    """Ingredients with day-0 ARs injected; only the return ranks change with the injection."""
    moved = inject(ar, shift, ratio)
    ranks = rank_u(np.hstack([moved.est_ar, moved.ar]))
    return prepare(moved, window, dataclasses.replace(common, ret_u=ranks))


def _rates(stat: np.ndarray, p: np.ndarray, alpha: float) -> dict[str, float]:
    reject = p < alpha
    return {"rejection_rate": float(reject.mean()),
            "reject_negative": float((reject & (stat < 0)).mean()),
            "reject_positive": float((reject & (stat > 0)).mean()),
            "mean_statistic": float(np.nanmean(stat)), "sd_statistic": float(np.nanstd(stat))}


def _pool(panel: Panel | None, tickers: Iterable[str] | None, pool_size: int,
          rng: np.random.Generator) -> Panel:
    if panel is not None:
        return panel
    return pseudo_panel(bundled_series(tickers), pool_size, rng)


def pool_rows(ar: AbnormalReturns, prep: Prepared) -> np.ndarray:
    """Rows of the pool usable by every test (fitted, complete window, some volume)."""
    ok = np.ones(ar.panel.n_events, dtype=bool)
    ok[list(ar.problems)] = False
    for kind in ("car", "bhar", "volume"):
        ok &= prep.usable(kind)
    return np.flatnonzero(ok)


def _check(n_samples: int, n_events: int, alpha: float, chunk: int,
           variance_ratios: Sequence[float]) -> None:
    if n_samples < 1 or n_events < 3 or not 0 < alpha < 1 or chunk < 1:
        raise BadInput("need n_samples >= 1, n_events >= 3, 0 < alpha < 1 and chunk >= 1")
    if any(v <= 0 for v in variance_ratios):
        raise BadInput(f"variance ratios must be positive, got {list(variance_ratios)}")


def _table(rows: list[dict[str, object]], attrs: dict[str, object]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    rate = out["rejection_rate"]
    out["size_flag"] = (out["kind"] == "size") & ((rate < SIZE_BAND[0]) | (rate > SIZE_BAND[1]))
    out["reference"] = out["test"].map(REFERENCES)
    out.attrs.update(attrs)
    return out


def brown_warner(*, n_samples: int = 1000, n_events: int = 50,
                 shifts: Sequence[float] = DEFAULT_SHIFTS,
                 variance_ratios: Sequence[float] = DEFAULT_VARIANCE_RATIOS,
                 window: tuple[int, int] = (0, 0), tests: Iterable[str] | None = None,
                 model: str = "market", panel: Panel | None = None,
                 tickers: Iterable[str] | None = None, pool_size: int = 5000, seed: int = 0,
                 alpha: float = 0.05, chunk: int = 100,
                 progress: Progress | bool = False) -> pd.DataFrame:
    """Rejection rates of every test on random samples of pseudo-events (Brown & Warner 1985).

    ``panel`` is a user's pool of distinct pseudo-events (default: ``pool_size`` random sessions
    of the bundled stocks, or of ``tickers``). ``progress``: a callback (done, total) or True for
    a tqdm bar on stderr. Volume tests run only in the scenario without shift or variance change
    (the injection touches returns only). Columns: test, shift, variance_ratio, kind (size or
    power), rejection_rate, reject_negative, reject_positive, mean_statistic, sd_statistic,
    samples, n_events, size_flag (a size outside [3%, 7%]), reference; ``attrs`` has the pool
    size and the run time.
    """
    chosen = check_tests(tests)
    _check(n_samples, n_events, alpha, chunk, variance_ratios)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    ar = fit_model(_pool(panel, tickers, pool_size, rng), model)
    window = check_window(ar, window)
    common = base(ar)
    null_prep = prepare(ar, window, common)
    rows = pool_rows(ar, null_prep)
    samples = rows[draw_samples(len(rows), n_samples, n_events, rng)]
    scenarios = [(float(s), float(v)) for v in variance_ratios for s in shifts]
    total = len(scenarios) * -(-n_samples // chunk)
    report, close = _reporter(progress, total)
    count = iter(range(1, total + 1))

    def tick() -> None:
        if report is not None:
            report(next(count), total)

    table: list[dict[str, object]] = []
    try:
        for shift, ratio in scenarios:
            null = (shift, ratio) == (0.0, 1.0)
            prep = null_prep if null else scenario(ar, common, window, shift, ratio)
            names = [t for t in chosen if null or kind_of(t) != "volume"]
            for test, (stat, p) in sample_statistics(prep, names, samples, chunk, tick).items():
                table.append({"test": test, "shift": shift, "variance_ratio": ratio,
                              "kind": "size" if shift == 0 else "power", **_rates(stat, p, alpha),
                              "samples": n_samples, "n_events": n_events})
    finally:
        close()
    return _table(table, {"pool": len(rows), "seconds": time.perf_counter() - started,
                          "alpha": alpha, "window": window, "model": model, "seed": seed})


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Rejection rates as a test x (variance_ratio, shift) grid, for printing."""
    return table.pivot_table(index="test", columns=["variance_ratio", "shift"],
                             values="rejection_rate", sort=False)
