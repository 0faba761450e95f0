"""Brown & Warner (1985) specification check: size and power of the tests on pseudo-events.

Pseudo-events are (ticker, session) pairs drawn from real data (``eventstudy.engine.pseudo``),
each with a full estimation window, in three designs: ``independent`` (dates drawn
independently), ``clustered`` (every event of a sample on one calendar date) and ``single``
(N = 1, for the single-event tests of ``SINGLE_TESTS``). A pool is built and fitted once per
design; ``n_samples`` samples are drawn from it and every test runs on all samples at once
(batched numpy). Size is the rejection rate at ``alpha`` with nothing added; power is the rate
with ``shift`` added to the day-0 abnormal return. An event-induced variance increase multiplies
the day-0 AR by ``sqrt(variance_ratio)`` before the shift (Brown & Warner 1985, sec. 5;
Boehmer et al. 1991)."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Floats, Ints
from eventstudy.engine.models import AbnormalReturns, Regressors, fit_model
from eventstudy.engine.panel import Panel
from eventstudy.engine.prepare import Base, Prepared, base, check_window, prepare
from eventstudy.engine.pseudo import (
    DESIGNS,
    bundled_market_volume,
    bundled_series,
    cluster_samples,
    clustered_panel,
    draw_samples,
    pseudo_panel,
    single_samples,
    synthetic_factors,
)
from eventstudy.engine.realpanel import (
    one_per_firm_samples,
    panel_series,
    thin_series,
    young_panel,
)
from eventstudy.engine.series import Series
from eventstudy.engine.significance import (
    REFERENCES,
    SINGLE_REFERENCES,
    SINGLE_TESTS,
    SingleTest,
    check_tests,
    compute,
    kind_of,
)
from eventstudy.engine.volume import market_volume
from eventstudy.errors import BadInput

__all__ = ["DESIGNS", "brown_warner", "bundled_series", "draw_samples", "inject",
           "pseudo_panel", "sample_statistics", "scenario", "summary"]

DEFAULT_SHIFTS = (0.0, -0.01, -0.02, -0.05)


DEFAULT_VARIANCE_RATIOS = (1.0, 2.0)


SIZE_BAND = (0.03, 0.07)


ALL_DESIGNS = (*DESIGNS, "young6", "young12", "thin")


CLUSTER_SIZE = 5  # stocks of the bundled data with a full estimation window on one date


Progress = Callable[[int, int], None]

def inject(ar: AbnormalReturns, shift: float, variance_ratio: float = 1.0) -> AbnormalReturns:
    """``ar`` with day-0 AR replaced by sqrt(variance_ratio) * AR_0 + shift (returns too)."""
    col = ar.panel.column(0)
    new = ar.ar.copy()
    new[:, col] = math.sqrt(variance_ratio) * ar.ar[:, col] + shift
    ret = ar.panel.ret.copy()
    ret[:, col] += new[:, col] - ar.ar[:, col]
    return dataclasses.replace(ar, panel=dataclasses.replace(ar.panel, ret=ret), ar=new)


def _reporter(progress: Progress | bool, total: int) -> tuple[Progress | None, Callable[[], None]]:
    if progress is True:
        from eventstudy.progress import progress_bar

        bar = progress_bar(total, "Brown-Warner", "batch")

        def step(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return step, bar.close
    return (progress or None), (lambda: None)


def sample_statistics(prep: Prepared, tests: Sequence[str], samples: Ints,
                      chunk: int = 100, tick: Callable[[], None] | None = None
                      ) -> dict[str, tuple[Floats, Floats]]:
    """(statistic, p_value) arrays of each test over the rows of ``samples`` (samples x n row
    numbers of ``prep``), computed ``chunk`` samples at a time."""
    out: dict[str, tuple[list[Floats], list[Floats]]] = {t: ([], []) for t in tests}
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
    """Ingredients with day-0 ARs injected (the window-independent part is unchanged)."""
    return prepare(inject(ar, shift, ratio), window, common)


def _rates(stat: Floats, p: Floats, alpha: float) -> dict[str, float]:
    reject = p < alpha
    return {"rejection_rate": float(reject.mean()),
            "reject_negative": float((reject & (stat < 0)).mean()),
            "reject_positive": float((reject & (stat > 0)).mean()),
            "mean_statistic": float(np.nanmean(stat)), "sd_statistic": float(np.nanstd(stat))}


def pool_rows(ar: AbnormalReturns, prep: Prepared) -> Ints:
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
    if not len(variance_ratios):
        raise BadInput("no variance ratio given (e.g. 1,2)")
    if any(v <= 0 for v in variance_ratios):
        raise BadInput(f"variance ratios must be positive, got {list(variance_ratios)}")


def _table(rows: list[dict[str, object]], attrs: dict[str, object]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    rate = out["rejection_rate"]
    out["size_flag"] = (out["kind"] == "size") & ((rate < SIZE_BAND[0]) | (rate > SIZE_BAND[1]))
    out["reference"] = out["test"].map({**REFERENCES, **SINGLE_REFERENCES})
    out.attrs.update(attrs)
    return out


@dataclass
class Design:
    """One design's fitted pool and its samples (2-D rows, or 1-D for ``single``)."""

    name: str
    ar: AbnormalReturns
    common: Base
    null: Prepared
    samples: Ints
    pool: int


def _spec(name: str, n_events: int, cluster_size: int) -> tuple[str, int]:
    """(design, events per sample) of ``name`` or ``name:N``."""
    base_name, _, size = name.partition(":")
    default = cluster_size if base_name == "clustered" else n_events
    try:
        n = int(size) if size else default
    except ValueError:
        raise BadInput(f"design {name!r}: events per sample must be a number") from None
    if n < 3 and base_name != "single":
        raise BadInput(f"design {name!r}: at least 3 events per sample")
    return base_name, n


def _series(panel: Panel | None, tickers: Iterable[str] | None, source: str
            ) -> dict[str, Series]:
    if panel is not None:
        return {}
    if tickers is not None:
        return bundled_series(tickers)
    return panel_series(source)


def _designs(names: Sequence[str], panel: Panel | None, tickers: Iterable[str] | None,
             pool_size: int, cluster_size: int, n_samples: int, n_events: int, model: str,
             window: tuple[int, int], rng: np.random.Generator,
             regressors: Regressors | None = None, source: str = "bundled") -> list[Design]:
    """Fit each design's pool once: ``independent`` and ``single`` share one pool of random
    sessions, ``clustered`` has its own (every stock on random dates) unless ``panel`` is
    given, in which case its samples are events of ``panel`` sharing a day 0; ``young6`` and
    ``young12`` draw from the listings' 6- and 12-month anniversaries (lock-up estimation rule),
    ``thin`` from random sessions of the stocks with the most no-trade days. ``name:N`` sets
    the events per sample of a design."""
    series = _series(panel, tickers, source)
    out: list[Design] = []
    shared: tuple[AbnormalReturns, Base, Prepared, Ints] | None = None
    for label in names:
        name, size = _spec(label, n_events, cluster_size)
        if name == "clustered" and panel is None:
            pool = clustered_panel(series, max(pool_size // size, 1), size, rng)
            fitted = _fit(pool, model, window, True, regressors)
        elif name in YOUNG:
            fitted = _fit(young_panel(series, YOUNG[name], rng), model, window, True,
                          regressors)
        elif name == "thin":
            fitted = _fit(pseudo_panel(thin_series(series), pool_size, rng), model, window, True,
                          regressors)
        else:
            if shared is None:
                pool = panel if panel is not None else pseudo_panel(series, pool_size, rng)
                shared = _fit(pool, model, window, panel is None, regressors)
            fitted = shared
        ar, common, null, rows = fitted
        if name == "clustered":
            size = size if panel is None else min(size, n_events)
            day0 = ar.panel.events["day0"].to_numpy()
            samples = cluster_samples(day0, rows, n_samples, size, rng)
        elif name == "single":
            samples = rows[single_samples(len(rows), n_samples, rng)]
        elif name in YOUNG:
            tickers = ar.panel.events["ticker"].to_numpy()
            samples = one_per_firm_samples(tickers, rows, n_samples, size, rng)
        else:
            samples = rows[draw_samples(len(rows), n_samples, size, rng)]
        out.append(Design(label, ar, common, null, samples, len(rows)))
    return out


YOUNG = {"young6": 6, "young12": 12}


def _fit(pool: Panel, model: str, window: tuple[int, int], bundled: bool,
         regressors: Regressors | None = None
         ) -> tuple[AbnormalReturns, Base, Prepared, Ints]:
    """Fit the pool; bundled pools get the index volume for the market-adjusted volume."""
    ar = fit_model(pool, model, regressors=regressors)
    if bundled:
        ar = dataclasses.replace(ar, market_volume=market_volume(pool, bundled_market_volume))
    window = check_window(ar, window)
    common = base(ar)
    null = prepare(ar, window, common)
    return ar, common, null, pool_rows(ar, null)


def _check_designs(designs: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(designs))
    for name in chosen:
        if name.partition(":")[0] not in ALL_DESIGNS:
            raise BadInput(f"unknown design {name!r} (use {', '.join(ALL_DESIGNS)}, each "
                           "optionally :N events per sample)")
    if not chosen:
        raise BadInput(f"no design chosen (use {', '.join(DESIGNS)})")
    return chosen


def _single_statistics(prep: Prepared, tests: Mapping[str, SingleTest], rows: Ints
                       ) -> dict[str, tuple[Floats, Floats]]:
    """(statistic, p) per row of each single-event test."""
    out: dict[str, tuple[Floats, Floats]] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, fn in tests.items():
            stat, p = fn(prep, rows)
            out[name] = (np.asarray(stat, float), np.asarray(p, float))
    return out


def brown_warner(*, n_samples: int = 1000, n_events: int = 50,
                 shifts: Sequence[float] = DEFAULT_SHIFTS,
                 variance_ratios: Sequence[float] = DEFAULT_VARIANCE_RATIOS,
                 window: tuple[int, int] = (0, 0), tests: Iterable[str] | None = None,
                 model: str = "market", panel: Panel | None = None,
                 tickers: Iterable[str] | None = None, pool_size: int = 5000, seed: int = 0,
                 alpha: float = 0.05, chunk: int = 100, designs: Iterable[str] | None = None,
                 cluster_size: int = CLUSTER_SIZE,
                 single_tests: Mapping[str, SingleTest] | None = None,
                 factors: pd.DataFrame | None = None, source: str = "bundled",
                 progress: Progress | bool = False) -> pd.DataFrame:
    """Rejection rates of every test on random samples of pseudo-events (Brown & Warner 1985),
    per design (``independent``, ``clustered``, ``single``; see ``eventstudy.engine.pseudo``).

    ``panel`` is a user's pool of distinct pseudo-events (default: ``pool_size`` random sessions
    of the bundled stocks, or of ``tickers``; the clustered pool then has every stock on
    ``pool_size // cluster_size`` random dates, samples of ``cluster_size`` stocks on one date).
    ``designs``: default all three, or ``independent`` and ``single`` for a user's ``panel``
    (whose clustered samples would be its events sharing a day 0, if asked for).
    ``single_tests`` (default ``SINGLE_TESTS``): per-event tests for the ``single`` design, each a
    function (prepared window, rows) -> (statistic, p), one per row. ``progress``: a callback
    (done, total) or True for a tqdm bar on stderr. Volume tests run only in the scenario without
    shift or variance change (the injection touches returns only). Columns: design, test, shift,
    variance_ratio, kind (size or power), rejection_rate, reject_negative, reject_positive,
    mean_statistic, sd_statistic, samples, n_events, size_flag (a size outside [3%, 7%]),
    reference; ``attrs`` has the pool sizes and the run time.
    ``model="factors"``: the factor model on ``factors`` (a date-indexed frame, every column a
    regressor), by default ``synthetic_factors(seed)``: the real ^HSI return plus two SYNTHETIC
    seeded factors (column ``factor_data`` of the table says so). ``source``: the real panel
    the pools are drawn from, ``bundled`` (10 stocks) or ``hk190`` (``eventstudy.engine.
    realpanel``: 190 more HK stocks); designs ``young6``, ``young12`` and ``thin`` and
    ``name:N`` (N events per sample) as in ``_designs``.
    """
    chosen = check_tests(tests)
    default = DESIGNS if panel is None else ("independent", "single")
    names = _check_designs(default if designs is None else designs)
    _check(n_samples, n_events, alpha, chunk, variance_ratios)
    if not len(shifts):
        raise BadInput("no shift given (e.g. 0,-0.01)")
    if cluster_size < 3:
        raise BadInput(f"cluster size must be at least 3, got {cluster_size}")
    singles = dict(SINGLE_TESTS if single_tests is None else single_tests)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    regressors, factor_data = _factor_model(model, factors, seed)
    plans = _designs(names, panel, tickers, pool_size, cluster_size, n_samples, n_events, model,
                     window, rng, regressors, source)
    window = plans[0].null.window
    scenarios = [(float(s), float(v)) for v in variance_ratios for s in shifts]
    per = sum(1 if d.name == "single" else -(-n_samples // chunk) for d in plans)
    total = len(scenarios) * per
    report, close = _reporter(progress, total)
    count = iter(range(1, total + 1))

    def tick() -> None:
        if report is not None:
            report(next(count), total)

    table: list[dict[str, object]] = []
    try:
        for shift, ratio in scenarios:
            null = (shift, ratio) == (0.0, 1.0)
            for d in plans:
                prep = d.null if null else scenario(d.ar, d.common, window, shift, ratio)
                if d.name == "single":
                    stats_ = _single_statistics(prep, singles, d.samples)
                    tick()
                else:
                    names_ = [t for t in chosen if null or kind_of(t) != "volume"]
                    stats_ = sample_statistics(prep, names_, d.samples, chunk, tick)
                size = 1 if d.samples.ndim == 1 else d.samples.shape[1]
                for test, (stat, p) in stats_.items():
                    table.append({"design": d.name, "test": test, "shift": shift,
                                  "variance_ratio": ratio,
                                  "kind": "size" if shift == 0 else "power",
                                  **_rates(stat, p, alpha), "samples": n_samples,
                                  "n_events": size})
    finally:
        close()
    out = _table(table, {"pool": {d.name: d.pool for d in plans}, "source": source,
                         "seconds": time.perf_counter() - started, "alpha": alpha,
                         "window": window, "model": model, "seed": seed})
    if factor_data:
        out["factor_data"] = out.attrs["factor_data"] = factor_data
    return out


def _factor_model(model: str, factors: pd.DataFrame | None, seed: int
                  ) -> tuple[Regressors | None, str]:
    """The fitter of ``model="factors"`` and what its factor data are (synthetic by default)."""
    if model != "factors":
        if factors is not None:
            raise BadInput("factors are for model='factors'")
        return None, ""
    from eventstudy.engine.regressors import FactorModel

    table = synthetic_factors(seed) if factors is None else factors
    what = table.attrs.get("synthetic") or "user-supplied factor returns"
    if factors is None:
        what = f"SYNTHETIC: {what}"
    return FactorModel(table, [str(c) for c in table.columns]), what


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Rejection rates as a (design, test) x (variance_ratio, shift) grid, for printing."""
    return table.pivot_table(index=["design", "test"], columns=["variance_ratio", "shift"],
                             values="rejection_rate", sort=False)
