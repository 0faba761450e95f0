"""Pseudo-event pools and samples for the Brown & Warner (1985) specification check.

A pool is a Panel of (ticker, session) pseudo-events drawn from real data (by default the
bundled Hong Kong stocks against ^HSI), each with a full estimation window. Three designs draw
samples from a pool (rows of its fitted panel):

* ``independent``: n events on dates drawn independently (Brown & Warner 1985);
* ``clustered``: n events of different stocks on ONE calendar date, the design in which
  cross-sectional correlation of abnormal returns biases the BMP test (Kolari & Pynnonen 2010);
* ``single``: one event per sample, for single-firm tests (N = 1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Array, Dates, Ints
from eventstudy.engine.panel import LISTING_GAP, Panel
from eventstudy.engine.series import Series, align
from eventstudy.errors import BadInput

DESIGNS = ("independent", "clustered", "single")


def bundled_series(tickers: Iterable[str] | None = None) -> dict[str, Series]:
    """Aligned returns of the bundled stocks (all of them by default) and their market."""
    from eventstudy.data.files import bundled_source
    from eventstudy.data.loader import PriceLoader
    from eventstudy.data.tickers import market_for

    loader = PriceLoader(offline=True)
    names = tickers or [t for t in bundled_source().tickers() if t.endswith(".HK")]
    return {t: align(loader.load(t), loader.load(market_for(t))) for t in names}


def bundled_market_volume(ticker: str) -> pd.Series | None:
    """The volume series of the bundled market index of ``ticker`` (None if it has none)."""
    from eventstudy.data.loader import PriceLoader
    from eventstudy.data.tickers import market_for

    frame = PriceLoader(offline=True).load(market_for(ticker))
    volume: pd.Series | None = frame.get("volume")
    return volume


SYNTHETIC_FACTOR_SD = 0.01  # daily sd of each synthetic factor


def synthetic_factors(seed: int, k: int = 2, sd: float = SYNTHETIC_FACTOR_SD) -> pd.DataFrame:
    """SYNTHETIC factor returns for the ``simulate --model factors`` check: on every session of
    the bundled ^HSI, the real ^HSI return (column ``hsi``) and ``k`` independent N(0, sd^2)
    draws of a generator seeded by ``seed`` (columns ``synthetic_1``..``synthetic_k``). No
    factor data are shipped for Hong Kong; these columns test the K-regressor machinery (its
    prediction-error variance and degrees of freedom) and are never real factor returns."""
    from eventstudy.data.loader import PriceLoader

    close = PriceLoader(offline=True).load("^HSI")["close"].astype(float)
    rng = np.random.default_rng([seed, 13])  # its own stream: the pseudo-events do not move
    draws = rng.normal(0.0, sd, size=(len(close), k))
    frame = pd.DataFrame(draws, index=close.index,
                         columns=[f"synthetic_{j + 1}" for j in range(k)])
    frame.insert(0, "hsi", close.pct_change().to_numpy())
    frame.attrs["synthetic"] = (f"hsi = real ^HSI returns; synthetic_1..{k}: seeded N(0, "
                                f"{sd:g}^2) draws (seed {seed}), not real factor data")
    return frame.iloc[1:]


def _eligible(series: Mapping[str, Series], block: tuple[int, int],
              estimation: tuple[int, int]) -> tuple[Ints, Ints]:
    """(ticker number, day-0 position) of every session with a full estimation window."""
    which, where = [], []
    for k, s in enumerate(series.values()):
        first = max(1, LISTING_GAP) - estimation[0]
        pos = np.arange(first, len(s.dates) - block[1])
        which.append(np.full(len(pos), k))
        where.append(pos)
    return np.concatenate(which), np.concatenate(where)


def _check_block(block: tuple[int, int], estimation: tuple[int, int]) -> None:
    if not block[0] <= 0 <= block[1] or estimation[1] >= block[0]:
        raise BadInput(f"event block {block} must contain day 0 and follow estimation {estimation}")


def pseudo_panel(series: Mapping[str, Series], n_events: int, rng: np.random.Generator, *,
                 block: tuple[int, int] = (-10, 10),
                 estimation: tuple[int, int] = (-260, -11)) -> Panel:
    """A Panel of ``n_events`` distinct random (ticker, session) pseudo-events (all eligible ones
    if fewer) with event block ``block`` and a full ``estimation`` window."""
    _check_block(block, estimation)
    which, where = _eligible(series, block, estimation)
    if len(where) == 0:
        raise BadInput("no session of these tickers has a full estimation window")
    pick = np.sort(rng.choice(len(where), size=min(n_events, len(where)), replace=False))
    return panel_at(series, which[pick], where[pick], block, estimation)


def clustered_panel(series: Mapping[str, Series], n_dates: int, size: int,
                    rng: np.random.Generator, *, block: tuple[int, int] = (-10, 10),
                    estimation: tuple[int, int] = (-260, -11)) -> Panel:
    """A Panel of every eligible stock on ``n_dates`` random calendar dates (all qualifying
    dates if fewer) on which at least ``size`` stocks have a full estimation window."""
    _check_block(block, estimation)
    which, where = _eligible(series, block, estimation)
    dates = np.concatenate([s.dates for s in series.values()])
    offset = np.cumsum([0] + [len(s.dates) for s in series.values()])[:-1]
    day = dates[offset[which] + where]
    unique, inverse, count = np.unique(day, return_inverse=True, return_counts=True)
    good = np.flatnonzero(count >= size)
    if len(good) == 0:
        raise BadInput(f"no calendar date has {size} stocks with a full estimation window "
                       f"(at most {int(count.max(initial=0))})")
    chosen = rng.choice(good, size=min(n_dates, len(good)), replace=False)
    keep = np.isin(inverse, chosen)
    return panel_at(series, which[keep], where[keep], block, estimation, tag="cluster")


def panel_at(series: Mapping[str, Series], which: Ints, where: Ints,
             block: tuple[int, int], estimation: tuple[int, int], tag: str = "pseudo") -> Panel:
    """The Panel of pseudo-events at positions ``where`` of the series numbered ``which``."""
    days, est_days = np.arange(block[0], block[1] + 1), np.arange(estimation[0], estimation[1] + 1)
    names = list(series)
    arrays: dict[str, list[Array]] = {k: [] for k in
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
    ids = [f"{t}:{tag}:{d.date()}" for t, d in zip(tickers, day0, strict=True)]
    events = pd.DataFrame({"event_id": ids, "ticker": tickers, "tranche": tag,
                           "group": tag, "day0": day0,
                           "estimation_days": len(est_days)}, index=pd.Index(ids, name="event_id"))
    return Panel(events=events, days=days, ret=data["ret"], mkt=data["mkt"], vol=data["vol"],
                 dates=data["dates"], est_ret=data["est_ret"], est_mkt=data["est_mkt"],
                 est_vol=data["est_vol"], est_dates=data["est_dates"])


def draw_samples(n_pool: int, n_samples: int, n_events: int,
                 rng: np.random.Generator) -> Ints:
    """(n_samples, n_events) row numbers, distinct within each sample."""
    if n_events > n_pool:
        raise BadInput(f"samples of {n_events} events need at least that many pseudo-events "
                       f"(the pool has {n_pool})")
    keys = rng.random((n_samples, n_pool))
    return np.argpartition(keys, n_events - 1, axis=1)[:, :n_events]


def cluster_samples(day0: Dates, rows: Ints, n_samples: int, size: int,
                    rng: np.random.Generator) -> Ints:
    """(n_samples, size) rows of ``rows`` sharing one day 0 within each sample: a random date
    among those with at least ``size`` rows, then ``size`` of its rows without replacement."""
    _, group = np.unique(day0[rows], return_inverse=True)
    order = np.argsort(group, kind="stable")
    count = np.bincount(group)
    start = np.r_[0, np.cumsum(count)[:-1]]
    good = np.flatnonzero(count >= size)
    if len(good) == 0:
        raise BadInput(f"the clustered design needs {size} pseudo-events on one date; the pool "
                       f"has at most {int(count.max(initial=0))}")
    pick = good[rng.integers(0, len(good), n_samples)]
    keys = rng.random((n_samples, int(count.max())))
    keys[np.arange(keys.shape[1]) >= count[pick][:, None]] = np.inf  # beyond the date's rows
    local = np.argpartition(keys, size - 1, axis=1)[:, :size]
    samples: Ints = rows[order[start[pick][:, None] + local]]
    return samples


def single_samples(n_pool: int, n_samples: int, rng: np.random.Generator) -> Ints:
    """(n_samples,) row numbers, distinct while the pool allows."""
    return rng.choice(n_pool, size=n_samples, replace=n_pool < n_samples)
