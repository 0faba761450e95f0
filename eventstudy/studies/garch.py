"""GARCH volatility as part of a study: the volatility section of a lock-up study, the
GARCH-standardised BMP test of a batch, and ``garch_study`` (``eventstudy garch``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.events import lockup_events, outside_calendar
from eventstudy.calendar.listings import (
    load_listings,
    with_tranches,
)
from eventstudy.calendar.sessions import to_timestamp
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import index_ticker, normalise_ticker
from eventstudy.engine.series import align
from eventstudy.engine.windows import Window, window_label, with_windows
from eventstudy.errors import BadInput, EventStudyError
from eventstudy.studies.core import listing_for, make_loader
from eventstudy.studies.result import EventStudyResult


def return_series(loader: PriceLoader, ticker: str, market: str | None = None,
                  listing_date: pd.Timestamp | None = None) -> tuple[pd.Series, pd.Series]:
    """Stock and market simple returns on their common dates; for a listing, from day +5 on."""
    s = align(loader.load(ticker), loader.load(index_ticker(market, ticker)))
    index = pd.DatetimeIndex(s.dates)
    first = 1
    if listing_date is not None:
        first = max(first, int(index.searchsorted(listing_date)) + 5)
    return (pd.Series(s.ret, index=index).iloc[first:],
            pd.Series(s.mkt, index=index).iloc[first:])


def add_volatility(result: EventStudyResult, loader: PriceLoader, *, executor: str = "serial",
                   progress: bool = False) -> None:
    """GARCH volatility study of every firm-day (``extras['volatility']``, keyed by the first
    event id of the firm-day) and, across firm-days, the GARCH-standardised BMP test in
    ``tests``."""
    from eventstudy.volatility.executors import StudyTask, fit_many

    firsts = result.events.drop_duplicates(["ticker", "day0"])
    tasks = []
    for _, row in firsts.iterrows():
        listing = row["listing_date"]
        stock, market = return_series(loader, row["ticker"], result.options.market,
                                      pd.Timestamp(listing) if listing else None)
        tasks.append(StudyTask(stock, row["day0"], market,
                               label=f"{row['ticker']} {row['tranche']}"))
    fits = fit_many(tasks, executor=executor, progress=progress and len(tasks) > 1,
                    return_exceptions=True)
    done = {}
    for event_id, fit in zip(firsts["event_id"], fits, strict=True):
        if isinstance(fit, EventStudyError):
            result.notes.append(f"no GARCH volatility for {event_id}: {fit}")
        else:
            done[str(event_id)] = fit
    result.extras["volatility"] = done
    if len(done) >= 2 and not result.tests.empty:
        result.tests = with_windows(pd.concat(
            [result.tests, garch_bmp_rows(list(done.values()), result.options.car_windows)],
            ignore_index=True))


GARCH_BMP_REFERENCE = ("BMP (Boehmer, Musumeci & Poulsen 1991) on ARs standardised by the "
                       "out-of-sample GARCH volatility (not Savickas 2003's in-sample event dummy)")


def garch_bmp_rows(fits: list[Any], windows: Sequence[Window]) -> pd.DataFrame:
    """GARCH-standardised BMP test per window, as rows of the tests table."""
    from eventstudy.volatility.garch_bmp import garch_bmp_test, sar_matrix

    sar, days = sar_matrix(fits)
    rows = []
    for window in windows:
        if window[0] < days[0] or window[1] > days[-1]:
            continue
        test = garch_bmp_test(sar, window, days)
        rows.append({"group": "all", "window": window_label(window),
                     "start": window[0], "end": window[1], "test": "garch_bmp",
                     "estimate": test.mean_scar, "effect": test.mean_scar,
                     "statistic": test.t_stat, "p_value": test.p_value, "n": test.n_events,
                     "merged": 0, "reference": GARCH_BMP_REFERENCE})
    return pd.DataFrame(rows)


def garch_study(ticker: str, *, date: Any = None, tranche: str = "cornerstone",
                market: str | None = None, offline: bool = False,
                data: str | Path | None = None, cache_dir: str | Path | None = None,
                listings: str | Path | None = None, **options: Any) -> Any:
    """GARCH volatility around one event of ``ticker``: ``date`` if given, else the expiry of
    ``tranche`` of its listing. Returns ``eventstudy.volatility.event.EventVolatility``."""
    from eventstudy.volatility.event import volatility_study
    from eventstudy.volatility.threads import isolated

    ticker = normalise_ticker(ticker)
    loader = make_loader(offline=offline, data=data, cache_dir=cache_dir, data_ticker=ticker)
    listing = listing_for(ticker, load_listings(listings), loader)
    if date is not None and (outside := outside_calendar(ticker, date)):
        raise BadInput(outside)
    day0 = (to_timestamp(date, "--date") if date is not None
            else lockup_events(with_tranches(listing, [tranche]))[0].session)
    stock, index = return_series(loader, ticker, market, listing.listing_date)
    # one BLAS thread: the numbers of every executor, never the caller's (volatility.threads)
    result = isolated(volatility_study, stock, day0, index, label=ticker, **options)
    result.notes.extend(loader.notes)
    return result
