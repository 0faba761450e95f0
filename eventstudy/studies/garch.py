"""GARCH volatility as part of a study: the volatility section of a lock-up study, the
GARCH-standardised BMP test of a batch, and ``garch_study`` (``eventstudy garch``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from eventstudy.calendar.events import lockup_events, outside_calendar
from eventstudy.calendar.listings import (
    load_listings,
    with_tranches,
)
from eventstudy.calendar.sessions import to_timestamp
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import calendar_code, index_ticker, normalise_ticker
from eventstudy.engine.series import align
from eventstudy.engine.windows import Window, window_label, with_windows
from eventstudy.errors import BadInput, EventStudyError
from eventstudy.quality.events import screen_span
from eventstudy.quality.finding import Finding, findings_frame
from eventstudy.quality.sample import garch_sample, sample_finding
from eventstudy.quality.screens import screen_series
from eventstudy.results.data import CrossSection, StudyData
from eventstudy.studies.core import listing_for, make_loader

R = TypeVar("R", bound=StudyData)

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


def add_volatility(result: R, loader: PriceLoader, *, executor: str = "serial",
                   progress: bool = False, workers: int | None = None) -> R:
    """``result`` with the GARCH volatility study of every firm-day (``extras['volatility']``,
    keyed by the first event id of the firm-day) and, across firm-days, the
    GARCH-standardised BMP test in ``tests``. ``workers``: processes of the ``local`` executor
    (default: the usable CPUs)."""
    from eventstudy.volatility.executors import StudyTask, fit_many

    firsts = result.events.drop_duplicates(["ticker", "day0"])
    tasks, found = [], []
    for _, row in firsts.iterrows():
        listing = row["listing_date"]
        stock, market = return_series(loader, row["ticker"], result.options.market,
                                      pd.Timestamp(listing) if listing else None)
        stock, market, options, finding = _same_sample(result, row, stock, market)
        found += finding
        tasks.append(StudyTask(stock, row["day0"], market, options=options,
                               label=f"{row['ticker']} {row['tranche']}"))
    quality = (findings_frame([*_findings_of(result.quality), *found]) if found
               else result.quality)
    fits = fit_many(tasks, executor=executor, progress=progress and len(tasks) > 1,
                    return_exceptions=True, max_workers=workers)
    done, notes = {}, list(result.notes)
    for event_id, fit in zip(firsts["event_id"], fits, strict=True):
        if isinstance(fit, EventStudyError):
            notes.append(f"no GARCH volatility for {event_id}: {fit}")
        else:
            done[str(event_id)] = fit
    result = replace(result, quality=quality, notes=tuple(notes),
                     extras={**result.extras, "volatility": done})
    if len(done) >= 2 and not result.tests.empty:
        return _add_garch_bmp(result, list(done.values()))
    return result


def _add_garch_bmp(result: R, done: list[Any]) -> R:
    """The GARCH-standardised BMP rows; a firm-day with too short a sample for GARCH
    (``MIN_GARCH_ESTIMATION``: no fit) is left out, with a note."""
    fitted = [v for v in done if v.fit is not None or not v.short_sample]
    if len(fitted) < len(done):
        result = replace(result, notes=(
            *result.notes, f"GARCH-standardised BMP: {len(done) - len(fitted)} firm-day(s) "
            "without a GARCH fit (estimation sample too short) left out"
            + ("" if len(fitted) >= 2 else "; fewer than 2 left: not run")))
    if len(fitted) >= 2:
        tests = with_windows(pd.concat(
            [result.tests, garch_bmp_rows(fitted, result.options.car_windows)],
            ignore_index=True))
        result = replace(result, cross_section=CrossSection(tests, result.caar))
    return result


def _same_sample(result: StudyData, row: pd.Series, stock: pd.Series, market: pd.Series
                 ) -> tuple[pd.Series, pd.Series, dict[str, Any], list[Finding]]:
    """The returns and ``volatility_study`` options that fit GARCH on the event's market-model
    estimation sample (``quality.sample``: the stretch without other events' windows), and the
    finding when the samples differ."""
    from eventstudy.volatility.base import MIN_OBS

    panel = result.ar.panel
    i = int(np.flatnonzero(panel.events.index == row["event_id"])[0])
    first, last, text, action = garch_sample(panel.dates_of(i, True), panel.est_ret[i], MIN_OBS)
    index = pd.DatetimeIndex(stock.index)
    start, end = int(index.searchsorted(first)), int(index.searchsorted(last))
    day0 = int(index.searchsorted(pd.Timestamp(row["day0"])))
    options = {"estimation_end": end - day0}
    found = ([] if text is None else
             [sample_finding(str(row["event_id"]), str(row["ticker"]), first, last, text,
                             action)])
    return stock.iloc[start:], market.iloc[start:], options, found


def _findings_of(quality: pd.DataFrame) -> list[Finding]:
    return [Finding(*(str(r[c]) for c in ("ticker", "check", "where", "found", "action",
                                          "event_id")))
            for _, r in quality.iterrows()]


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
                listings: str | Path | None = None, listing_date: Any = None,
                keep_suspect: bool = False, **options: Any) -> Any:
    """GARCH volatility around one event of ``ticker``: ``date`` if given, else the expiry of
    ``tranche`` of its listing. Returns ``eventstudy.volatility.event.EventVolatility``.
    The returns are screened (docs/quality.md): an impossible return among them is an error
    unless ``keep_suspect``; ``listing_date`` dates a listing the calendar does not know.
    GARCH was asked for explicitly, so it is fitted even on fewer than ``MIN_GARCH_ESTIMATION``
    estimation returns (``min_garch=None``), with the warning in ``short_sample`` and the
    summary; pass ``min_garch=MIN_GARCH_ESTIMATION`` for the lock-up study's fallback."""
    from eventstudy.parallel.threads import isolated
    from eventstudy.volatility.event import volatility_study

    ticker = normalise_ticker(ticker)
    loader = make_loader(offline=offline, data=data, cache_dir=cache_dir, data_ticker=ticker)
    given = to_timestamp(listing_date, "--listing-date") if listing_date is not None else None
    listing = listing_for(ticker, load_listings(listings), loader, given)
    if date is not None and (outside := outside_calendar(ticker, date)):
        raise BadInput(outside)
    day0 = (to_timestamp(date, "--date") if date is not None
            else lockup_events(with_tranches(listing, [tranche]))[0].session)
    stock, index = return_series(loader, ticker, market, listing.listing_date)
    found = _screen(loader, ticker, stock, day0, keep_suspect)
    # one BLAS thread: the numbers of every executor, never the caller's (parallel.threads)
    options.setdefault("min_garch", None)
    result = isolated(volatility_study, stock, day0, index, label=ticker, **options)
    result.notes.extend(loader.notes)
    result.notes.extend(f"quality: {f.line()}" for f in found)
    return result


def _screen(loader: PriceLoader, ticker: str, stock: pd.Series, day0: pd.Timestamp,
            keep_suspect: bool) -> list[Finding]:
    """The quality screen of every study (``quality.events.screen_span``) over the returns of
    the fit, from the first to day +20: an impossible return is ``BadInput`` (the study's skip
    reason) unless ``keep_suspect``, which keeps it with a finding."""
    last = min(len(stock) - 1, int(stock.index.searchsorted(day0)) + 20)  # day +20
    screen = screen_series(loader.load(ticker), ticker, calendar_code(ticker))
    reason, found = screen_span(screen, pd.Timestamp(stock.index[0]),
                                pd.Timestamp(stock.index[last]),
                                f"{ticker}:{pd.Timestamp(day0).date()}", keep_suspect)
    if reason is not None:
        raise BadInput(f"{ticker}: {reason}")
    return found
