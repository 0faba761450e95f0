"""The real panel of the Brown-Warner simulation (issue 22): 190 Hong Kong stocks derived from
``../shared/data/prices_hk_panel`` (``data/panel/hk_panel_190.parquet``, provenance in
``data/PROVENANCE.md``) plus the bundled stocks, and the pools of its designs that need more than
random sessions: young listings (6 and 12 months after a listing, estimated as a lock-up is)
and thin trading (the stocks with the most no-trade days)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event
from eventstudy.data.files import DATA_DIR
from eventstudy.engine.arrays import Ints, Objects
from eventstudy.engine.panel import (
    LOCKUP_ESTIMATION,
    LOCKUP_MAX_ESTIMATION,
    STABILISATION,
    Panel,
    build_panel,
)
from eventstudy.engine.series import Series, align
from eventstudy.errors import BadInput, DataUnavailable

HK_PANEL = DATA_DIR / "panel" / "hk_panel_190.parquet"


PANELS = ("bundled", "hk190")


DOWNLOAD_START = pd.Timestamp("2009-01-02")  # the first row of a file that is not a listing


def panel_series(name: str = "hk190") -> dict[str, Series]:
    """Aligned returns of a simulation panel: ``bundled`` (the bundled stocks) or ``hk190`` (the
    190 real HK stocks of ``HK_PANEL`` and the bundled ones), each against the bundled ^HSI."""
    from eventstudy.data.loader import PriceLoader
    from eventstudy.engine.pseudo import bundled_series

    if name not in PANELS:
        raise BadInput(f"unknown panel {name!r} (use {', '.join(PANELS)})")
    bundled = bundled_series()
    if name == "bundled":
        return bundled
    if not HK_PANEL.is_file():
        raise DataUnavailable(f"the simulation panel {HK_PANEL.name} is not installed")
    market = PriceLoader(offline=True).load("^HSI")
    table = pd.read_parquet(HK_PANEL)
    out: dict[str, Series] = {}
    for ticker, rows in table.groupby("ticker", observed=True, sort=True):
        frame = rows.set_index(pd.DatetimeIndex(rows["date"]))[["close", "volume"]]
        frame = frame[~frame.index.duplicated()].astype(float)
        frame.attrs["ticker"] = str(ticker)
        try:
            out[str(ticker)] = align(frame, market)
        except (DataUnavailable, BadInput):
            continue  # a stock that shares too few dates with the index
    return {**out, **bundled}


def listing_dates(series: Mapping[str, Series]) -> dict[str, pd.Timestamp]:
    """The first date of each series that starts after the download start (2009-01-02): its
    listing day for most (see ``data/PROVENANCE.md``; Tencent 0700 starts at the download)."""
    out = {}
    for ticker, s in series.items():
        first = pd.Timestamp(s.dates[0])
        if first > DOWNLOAD_START + pd.Timedelta(days=7):
            out[ticker] = first
    return out


YOUNG_OFFSETS = (25, 60)  # day 0: this many sessions after the anniversary (its expiry)


YOUNG_PER_LISTING = 10


def young_panel(series: Mapping[str, Series], months: int, rng: np.random.Generator,
                block: tuple[int, int] = (-10, 10), per_listing: int = YOUNG_PER_LISTING
                ) -> Panel:
    """Pseudo-events of listings ``months`` old: ``per_listing`` distinct random sessions 25 to
    60 sessions after each listing's ``months`` anniversary (so that the event window misses the
    anniversary, a real lock-up expiry in Hong Kong), estimated by the lock-up rule: from
    listing day + ``STABILISATION`` to day -21, at most 250 sessions. Several days per listing
    keep the samples from being most of a small population (a sample of n from a pool of N
    has a variance of the mean (1 - n/N) times the t test's)."""
    events = []
    for ticker, listing in listing_dates(series).items():
        dates = pd.DatetimeIndex(series[ticker].dates)
        anniversary = int(dates.searchsorted(listing + pd.DateOffset(months=months)))
        lo, hi = anniversary + YOUNG_OFFSETS[0], anniversary + YOUNG_OFFSETS[1]
        hi = min(hi, len(dates) - 1 - block[1])
        if hi < lo:
            continue
        picks = rng.choice(np.arange(lo, hi + 1), size=min(per_listing, hi - lo + 1),
                           replace=False)
        events += [Event(ticker=ticker, session=dates[p], tranche=f"young_{months}m",
                         group="young", date=dates[p], listing_date=listing)
                   for p in np.sort(picks)]
    if not events:
        raise BadInput(f"no listing of the panel has {months} months of data after it")
    panel = build_panel(events, series.__getitem__, window=block, estimation=LOCKUP_ESTIMATION,
                        max_estimation=LOCKUP_MAX_ESTIMATION, stabilisation=STABILISATION)
    return panel


THIN_SHARE = 0.2  # thin trading: the fifth of the stocks with the most no-trade days


def thin_series(series: Mapping[str, Series], share: float = THIN_SHARE) -> dict[str, Series]:
    """The ``share`` of the series with the highest fraction of no-trade (placeholder) rows."""
    frac = {t: len(s.placeholders) / (len(s.dates) + len(s.placeholders))
            for t, s in series.items()}
    ranked = sorted(frac, key=lambda t: -frac[t])
    keep = ranked[:max(3, int(round(share * len(ranked))))]
    return {t: series[t] for t in keep}


def thin_fraction(series: Mapping[str, Series]) -> float:
    """The mean fraction of no-trade rows of ``series`` (for the simulation's notes)."""
    return float(np.mean([len(s.placeholders) / (len(s.dates) + len(s.placeholders))
                          for s in series.values()]))


def one_per_firm_samples(tickers: Objects, rows: Ints, n_samples: int, size: int,
                         rng: np.random.Generator) -> Ints:
    """(n_samples, size) rows of ``rows``: ``size`` distinct firms per sample, one random row
    (pseudo-event) of each, so that no sample holds two overlapping days of one firm."""
    firms, group = np.unique(tickers[rows], return_inverse=True)
    if size > len(firms):
        raise BadInput(f"samples of {size} firms need at least that many (the pool has "
                       f"{len(firms)})")
    order = np.argsort(group, kind="stable")
    count = np.bincount(group)
    start = np.r_[0, np.cumsum(count)[:-1]]
    keys = rng.random((n_samples, len(firms)))
    chosen = np.argpartition(keys, size - 1, axis=1)[:, :size]
    local = np.floor(rng.random(chosen.shape) * count[chosen]).astype(np.int64)
    samples: Ints = rows[order[start[chosen] + local]]
    return samples
