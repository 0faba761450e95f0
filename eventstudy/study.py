"""The public entry points: ``lockup_study()`` and ``event_study()`` -> ``EventStudyResult``.

Each is data -> events -> panel -> model -> statistics, for one event or ten thousand; the CLI
only parses options, calls one of these and formats the result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.calendar import HolidayPolicy
from eventstudy.errors import BadInput, DataUnavailable, EventStudyError
from eventstudy.events import Event, Skip, lockup_events, read_events
from eventstudy.listings import (
    Listing,
    inferred_listing,
    load_listings,
    read_listings_file,
    with_tranches,
)
from eventstudy.models import MODEL_NAMES, AbnormalReturns, fit_model
from eventstudy.panel import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOW,
    LOCKUP_ESTIMATION,
    LOCKUP_MAX_ESTIMATION,
    Series,
    align,
    build_panel,
)
from eventstudy.sources import PriceLoader, market_for, normalise_ticker
from eventstudy.statistics import (
    DEFAULT_CAR_WINDOWS,
    abnormal_return_table,
    bhar_table,
    car_table,
    event_window_volume_ratio,
    volume_table,
    window_label,
)

Window = tuple[int, int]
DEFAULT_BHAR_WINDOWS: tuple[Window, ...] = ((0, 20), (0, 60), (0, 120))
PROGRESS_MIN = 20  # show a progress bar from this many events on


@dataclass
class StudyOptions:
    """Everything that shapes a study besides its events and data."""

    model: str = "market"
    market: str | None = None
    window: Window = DEFAULT_WINDOW
    estimation: Window | None = None
    car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS
    min_estimation: int = 60
    bhar_windows: tuple[Window, ...] = DEFAULT_BHAR_WINDOWS
    group_by: str | None = "group"

    @property
    def panel_window(self) -> Window:
        """The event block the engine builds: the event window and every CAR/BHAR window."""
        spans = (self.window, *self.car_windows, *self.bhar_windows)
        return min(w[0] for w in spans), max(w[1] for w in spans)

    def __post_init__(self) -> None:
        if self.model not in MODEL_NAMES:
            raise BadInput(f"unknown model {self.model!r} (use {', '.join(MODEL_NAMES)})")
        if self.market:
            self.market = normalise_ticker(self.market)
        for w in (self.window, *self.car_windows, *self.bhar_windows):
            if w[0] > w[1]:
                raise BadInput(f"window [{w[0]}, {w[1]}] ends before it starts")
        if self.window[0] > 0 or self.window[1] < 0:
            raise BadInput(f"event window [{self.window[0]}, {self.window[1]}] must contain "
                           "day 0")
        if self.min_estimation < 3:
            raise BadInput("the minimum estimation window must be at least 3 sessions")


@dataclass
class EventStudyResult:
    """What a study found: DataFrames to analyse, ``summary()`` to read, ``to_dict()`` for JSON.

    ``events``: one row per studied event (day 0, model, estimation window, AR(0), volume ratio);
    ``abnormal_returns``: one row per event and day of the event window; ``car``: per event and
    window; ``bhar``: per event and window; ``volume``: per event and window; ``skipped``: events
    not studied and why. Across events (when there are several firm-days): ``caar`` per day and
    ``tests`` (every test statistic per window and group; see ``eventstudy.significance``).
    ``ar``: the engine's arrays (events x days) for further statistics.
    """

    kind: str
    options: StudyOptions
    events: pd.DataFrame
    abnormal_returns: pd.DataFrame
    car: pd.DataFrame
    bhar: pd.DataFrame
    volume: pd.DataFrame
    skipped: pd.DataFrame
    ar: AbnormalReturns
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    caar: pd.DataFrame = field(default_factory=pd.DataFrame)
    overlaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    listings: dict[str, Listing] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return len(self.events)

    def event_ids(self) -> list[str]:
        return self.events.index.tolist()

    def car_of(self, event_id: str, window: Window) -> pd.Series:
        rows = self.car[(self.car.event_id == event_id) & (self.car.window == window_label(window))]
        if rows.empty:
            raise BadInput(f"no CAR for {event_id} over {window_label(window)}")
        return rows.iloc[0]

    def summary(self) -> str:
        from eventstudy.report import summary_text

        return summary_text(self)

    def to_dict(self) -> dict[str, Any]:
        from eventstudy.report import result_to_dict

        return result_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __repr__(self) -> str:
        return (f"EventStudyResult({self.kind}, {self.n_events} events, "
                f"{len(self.skipped)} skipped)")


# --------------------------------------------------------------------------------------------


def _series_loader(loader: PriceLoader, market: str | None) -> Callable[[str], Series]:
    memo: dict[str, Series] = {}

    def load(ticker: str) -> Series:
        if ticker not in memo:
            stock = loader.load(ticker)
            index = loader.load(market or market_for(ticker))
            memo[ticker] = align(stock, index)
        return memo[ticker]

    return load


def _skip_frame(skips: Iterable[Skip]) -> pd.DataFrame:
    return pd.DataFrame([vars(s) for s in skips],
                        columns=["event_id", "ticker", "reason", "exit_code"])


def _event_rows(ar: AbnormalReturns, view: AbnormalReturns,
                listings: dict[str, Listing]) -> pd.DataFrame:
    panel = ar.panel
    frame = panel.events.copy()
    c0 = panel.column(0)
    frame["name"] = [listings[t].name if t in listings else t for t in frame["ticker"]]
    frame["model"] = [MODEL_NAMES[m] for m in ar.model]
    frame["alpha"], frame["beta"] = ar.alpha, ar.beta
    frame["sigma"] = np.sqrt(ar.sigma2)
    frame["close_0"] = panel.close[:, c0] if panel.close is not None else np.nan
    frame["return_0"], frame["market_return_0"] = panel.ret[:, c0], panel.mkt[:, c0]
    frame["ar_0"] = ar.ar[:, c0]
    with np.errstate(invalid="ignore"):
        frame["t_0"] = ar.ar_t[:, c0]
    frame["volume_ratio"] = event_window_volume_ratio(view)
    frame["note"] = [ar.notes.get(i, "") for i in range(len(frame))]
    return frame


def _drop_problems(ar: AbnormalReturns) -> tuple[AbnormalReturns, list[Skip]]:
    if not ar.problems:
        return ar, []
    ids = ar.panel.events.index
    skips = [Skip(ids[i], ar.panel.events["ticker"].iloc[i], reason)
             for i, reason in sorted(ar.problems.items())]
    keep = np.ones(len(ids), dtype=bool)
    keep[list(ar.problems)] = False
    return ar.subset(keep), skips


def run_panel_study(kind: str, events: Sequence[Event], loader: PriceLoader,
                    options: StudyOptions, *, estimation: Window, max_estimation: int | None,
                    listings: dict[str, Listing] | None = None,
                    skipped: Sequence[Skip] = (), progress: bool = False,
                    min_start: int = 1, cross_section: bool = False) -> EventStudyResult:
    """Events -> panel -> model -> statistics: the one engine behind every study."""
    bar = _progress_bar(len(events), progress, "aligning events")
    panel = build_panel(events, _series_loader(loader, options.market),
                        window=options.panel_window, estimation=estimation,
                        max_estimation=max_estimation, min_start=min_start,
                        progress=bar.update_to if bar else None)
    if bar:
        bar.close()
    ar = fit_model(panel, options.model, min_estimation=options.min_estimation)
    ar, problem_skips = _drop_problems(ar)
    view = ar.window_view(options.window)
    listings = listings or {}
    result = EventStudyResult(
        kind=kind, options=options, events=_event_rows(ar, view, listings),
        abnormal_returns=abnormal_return_table(view), car=car_table(ar, options.car_windows),
        bhar=bhar_table(ar, options.bhar_windows), volume=volume_table(ar, options.car_windows),
        skipped=_skip_frame([*skipped, *panel.skipped, *problem_skips]), ar=ar,
        notes=list(dict.fromkeys(loader.notes)), listings=listings)
    result.sources = {t: str(loader.load(t).attrs.get("source")) for t in _tickers_loaded(
        result, options)}
    result.extras["adjustment"] = {t: str(loader.load(t).attrs.get("adjustment"))
                                   for t in result.sources}
    if cross_section or result.events["ticker"].nunique() > 1:
        add_cross_section(result)
    return result


def add_cross_section(result: EventStudyResult) -> None:
    """CAAR per day, every test per window (pooled and per group), overlapping windows."""
    from eventstudy import significance as sig

    ar, opts = result.ar, result.options
    car_tests = (*sig.CAR_TESTS, *sig.VOLUME_TESTS)
    frames = [sig.run_tests(ar, opts.car_windows, car_tests),
              sig.run_tests(ar, opts.bhar_windows, sig.BHAR_TESTS)]
    groups = result.events.get(opts.group_by) if opts.group_by else None
    if groups is not None and groups.nunique() > 1:
        frames += [sig.run_tests(ar, opts.car_windows, car_tests, by=opts.group_by),
                   sig.run_tests(ar, opts.bhar_windows, sig.BHAR_TESTS, by=opts.group_by)]
    tests = pd.concat(frames, ignore_index=True)
    if "group" not in tests:
        tests.insert(0, "group", "all")
    tests["group"] = tests["group"].fillna("all")
    result.tests = tests.drop(columns=[c for c in ("by",) if c in tests])
    result.caar = sig.aar_table(ar, opts.window)
    result.overlaps = sig.overlapping_windows(ar.window_view(opts.window))
    same = int(result.overlaps["same_firm_day"].sum()) if len(result.overlaps) else 0
    if len(result.overlaps) > same:
        result.notes.append(f"{len(result.overlaps) - same} pair(s) of events of the same firm "
                            "have overlapping event windows (see overlaps)")


def _tickers_loaded(result: EventStudyResult, options: StudyOptions) -> list[str]:
    tickers = list(dict.fromkeys(result.events["ticker"]))
    markets = [options.market or market_for(t) for t in tickers]
    return list(dict.fromkeys([*tickers, *markets]))


class _Bar:
    def __init__(self, total: int, desc: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="event", leave=False)

    def update_to(self, n: int) -> None:
        self.bar.update(n - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(total: int, enabled: bool, desc: str) -> _Bar | None:
    return _Bar(total, desc) if enabled and total >= PROGRESS_MIN else None


def make_loader(*, offline: bool = False, data: str | Path | None = None,
                data_ticker: str | None = None, cache_dir: str | Path | None = None
                ) -> PriceLoader:
    return PriceLoader(offline=offline, data=Path(data) if data else None,
                       data_ticker=data_ticker, cache_dir=Path(cache_dir) if cache_dir else None)


def listing_for(ticker: str, calendar: dict[str, Listing], loader: PriceLoader) -> Listing:
    """The calendar's listing of ``ticker``, or one inferred from its first trading day."""
    if ticker in calendar:
        return calendar[ticker]
    frame = loader.load(ticker)
    return inferred_listing(ticker, pd.Timestamp(frame.index[0]))


def lockup_study(tickers: str | Sequence[str], *, tranches: Sequence[str] | None = None,
                 model: str = "market", market: str | None = None,
                 window: Window = DEFAULT_WINDOW, estimation: Window | None = None,
                 car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS,
                 min_estimation: int = 60, offline: bool = False,
                 data: str | Path | None = None, cache_dir: str | Path | None = None,
                 listings: str | Path | None = None, loader: PriceLoader | None = None,
                 volatility: bool | None = None, executor: str = "serial",
                 progress: bool = False) -> EventStudyResult:
    """Lock-up expiry study of one or more tickers: one event per lock-up tranche.

    Day 0 is the first exchange session on or after listing date + N months. The market model is
    estimated on the sessions from listing day +5 to day -11 (at most 250; ``estimation`` overrides
    the relative window), falling back to market-adjusted returns below ``min_estimation``.
    ``volatility`` adds the GARCH study of each firm-day (default: for a single ticker).
    """
    names = [tickers] if isinstance(tickers, str) else list(tickers)
    if not names:
        raise BadInput("no ticker given")
    options = StudyOptions(model=model, market=market, window=window, estimation=estimation,
                           car_windows=car_windows, min_estimation=min_estimation)
    single = data if len(names) == 1 else None
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir,
                                   data_ticker=normalise_ticker(names[0]) if single else None)
    calendar = load_listings(listings)
    events, skips, used = [], [], {}
    for name in names:
        ticker = normalise_ticker(name)
        try:
            listing = with_tranches(listing_for(ticker, calendar, loader), list(tranches or []))
        except (DataUnavailable, BadInput) as exc:
            if len(names) == 1:
                raise
            skips.append(Skip.from_error(f"{ticker}:*", ticker, exc))
            continue
        used[ticker] = listing
        events.extend(lockup_events(listing))
    result = run_panel_study("lockup", events, loader, options,
                             estimation=estimation or LOCKUP_ESTIMATION,
                             max_estimation=LOCKUP_MAX_ESTIMATION, listings=used,
                             skipped=skips, progress=progress)
    for ticker, listing in used.items():
        if listing.inferred:
            result.notes.append(f"{ticker} is not in the listings calendar: its listing date "
                                f"{listing.listing_date.date()} was inferred from the first "
                                "trading day of its price history")
    _raise_if_nothing(result)
    if volatility if volatility is not None else len(names) == 1:
        add_volatility(result, loader, executor=executor, progress=progress)
    return result


def event_study(events: Sequence[Event], *, model: str = "market", market: str | None = None,
                window: Window = DEFAULT_WINDOW, estimation: Window = DEFAULT_ESTIMATION,
                car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS, min_estimation: int = 60,
                offline: bool = False, data: str | Path | None = None,
                cache_dir: str | Path | None = None, loader: PriceLoader | None = None,
                skipped: Sequence[Skip] = (), progress: bool = False) -> EventStudyResult:
    """Event study of arbitrary events (ticker, session) with a fixed relative estimation window."""
    options = StudyOptions(model=model, market=market, window=window, estimation=estimation,
                           car_windows=car_windows, min_estimation=min_estimation)
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir)
    result = run_panel_study("events", events, loader, options, estimation=estimation,
                             max_estimation=None, skipped=skipped, progress=progress)
    _raise_if_nothing(result)
    return result


def listing_events(listings: dict[str, Listing], tranches: Sequence[str] | None = None
                   ) -> tuple[list[Event], list[Skip]]:
    """Every lock-up event of every listed (not expected) listing, optionally some tranches."""
    events: list[Event] = []
    skips: list[Skip] = []
    for listing in listings.values():
        if listing.status != "listed":
            continue
        names = [t.name for t in listing.tranches]
        wanted = [n for n in names if not tranches or n in tranches]
        if wanted:
            events.extend(lockup_events(with_tranches(listing, wanted)))
        elif tranches:
            skips.append(Skip(f"{listing.ticker}:*", listing.ticker,
                              f"no tranche {', '.join(tranches)} (has: {', '.join(names)})"))
    return events, skips


def batch_study(events: str | Path | Sequence[Event] | None = None, *,
                listings: str | Path | None = None, tranches: Sequence[str] | None = None,
                group_by: str = "group", model: str = "market", market: str | None = None,
                window: Window = DEFAULT_WINDOW, estimation: Window | None = None,
                car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS,
                min_estimation: int = 60, holiday_policy: HolidayPolicy = "next",
                offline: bool = False, data: str | Path | None = None,
                cache_dir: str | Path | None = None, loader: PriceLoader | None = None,
                volatility: bool = False, executor: str = "local",
                progress: bool = False) -> EventStudyResult:
    """Many events at once, with CAAR, BHAR and every cross-event test, pooled and by group.

    ``events`` is an events file (CSV/YAML: ticker, date[, tranche, group, any column]) or a list
    of Events; without it, every lock-up of every listing in ``listings`` (a calendar file; the
    bundled calendar by default), restricted to ``tranches`` if given. Lock-up events estimate
    from listing day +5 to day -11; file events on ``estimation`` (default -260..-11). Events that
    cannot be studied are skipped with their reason and the batch goes on. ``volatility`` adds
    the GARCH study of every firm-day (run by ``executor``: serial, local processes or
    ``dask://HOST:PORT``) and the Savickas (2003) test.
    """
    options = StudyOptions(model=model, market=market, window=window, estimation=estimation,
                           car_windows=car_windows, min_estimation=min_estimation,
                           group_by=group_by)
    loader = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir)
    used: dict[str, Listing] = {}
    if events is None:
        calendar = ({x.ticker: x for x in read_listings_file(Path(listings))} if listings
                    else load_listings())
        chosen, skips = listing_events(calendar, tranches)
        used = {e.ticker: calendar[e.ticker] for e in chosen}
        est, max_est = estimation or LOCKUP_ESTIMATION, LOCKUP_MAX_ESTIMATION
    else:
        chosen, skips = (read_events(events, holiday_policy) if isinstance(events, str | Path)
                         else (list(events), []))
        est, max_est = estimation or DEFAULT_ESTIMATION, None
    if not chosen and not skips:
        raise BadInput("no events to study")
    result = run_panel_study("batch", chosen, loader, options, estimation=est,
                             max_estimation=max_est, listings=used, skipped=skips,
                             progress=progress, cross_section=True)
    _raise_if_nothing(result)
    if volatility:
        add_volatility(result, loader, executor=executor, progress=progress)
    return result


def _raise_if_nothing(result: EventStudyResult) -> None:
    """A study in which no event could be studied is an error carrying the first reason."""
    if result.n_events:
        return
    if result.skipped.empty:
        raise BadInput("no events to study")
    reason = result.skipped["reason"].iloc[0]
    code = int(result.skipped["exit_code"].iloc[0])
    cls: type[EventStudyError] = DataUnavailable if code == DataUnavailable.exit_code else BadInput
    more = f" (and {len(result.skipped) - 1} more skipped)" if len(result.skipped) > 1 else ""
    raise cls(f"{reason}{more}")



def finite_or_none(value: Any) -> Any:
    """JSON-safe scalar: numpy -> python, NaN/inf -> None, timestamps -> ISO date."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else str(stamp.date())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------------------------
# Volatility: GARCH around each firm-day (eventstudy.volatility), and the Savickas test


def return_series(loader: PriceLoader, ticker: str, market: str | None = None,
                  listing_date: pd.Timestamp | None = None) -> tuple[pd.Series, pd.Series]:
    """Stock and market simple returns on their common dates; for a listing, from day +5 on."""
    s = align(loader.load(ticker), loader.load(market or market_for(ticker)))
    index = pd.DatetimeIndex(s.dates)
    first = 1
    if listing_date is not None:
        first = max(first, int(index.searchsorted(listing_date)) + 5)
    return (pd.Series(s.ret, index=index).iloc[first:],
            pd.Series(s.mkt, index=index).iloc[first:])


def add_volatility(result: EventStudyResult, loader: PriceLoader, *, executor: str = "serial",
                   progress: bool = False) -> None:
    """GARCH volatility study of every firm-day (``extras['volatility']``, keyed by the first
    event id of the firm-day) and, across firm-days, the Savickas (2003) test in ``tests``."""
    from eventstudy.volatility import StudyTask, fit_many

    firsts = result.events.drop_duplicates(["ticker", "day0"])
    tasks = []
    for _, row in firsts.iterrows():
        listing = row["listing_date"]
        stock, market = return_series(loader, row["ticker"], result.options.market,
                                      pd.Timestamp(listing) if listing else None)
        tasks.append(StudyTask(stock, row["day0"], market,
                               label=f"{row['ticker']} {row['tranche']}"))
    fits = fit_many(tasks, executor=executor, progress=progress and len(tasks) >= PROGRESS_MIN,
                    return_exceptions=True)
    done = {}
    for event_id, fit in zip(firsts.index, fits, strict=True):
        if isinstance(fit, EventStudyError):
            result.notes.append(f"no GARCH volatility for {event_id}: {fit}")
        else:
            done[str(event_id)] = fit
    result.extras["volatility"] = done
    if len(done) >= 2 and not result.tests.empty:
        result.tests = pd.concat([result.tests, savickas_rows(list(done.values()),
                                                               result.options.car_windows)],
                                 ignore_index=True)


def savickas_rows(fits: list[Any], windows: Sequence[Window]) -> pd.DataFrame:
    """Savickas (2003) GARCH-standardised test per window, as rows of the tests table."""
    from eventstudy.volatility import sar_matrix, savickas_test

    sar, days = sar_matrix(fits)
    rows = []
    for window in windows:
        if window[0] < days[0] or window[1] > days[-1]:
            continue
        test = savickas_test(sar, window, days)
        rows.append({"group": "all", "window": f"[{window[0]}, {window[1]}]",
                     "start": window[0], "end": window[1], "test": "savickas",
                     "estimate": test.mean_scar, "effect": test.mean_scar,
                     "statistic": test.t_stat, "p_value": test.p_value, "n": test.n_events,
                     "merged": 0, "reference": "Savickas (2003) GARCH-standardised test"})
    return pd.DataFrame(rows)


def garch_study(ticker: str, *, date: Any = None, tranche: str = "cornerstone",
                market: str | None = None, offline: bool = False,
                data: str | Path | None = None, cache_dir: str | Path | None = None,
                listings: str | Path | None = None, **options: Any) -> Any:
    """GARCH volatility around one event of ``ticker``: ``date`` if given, else the expiry of
    ``tranche`` of its listing. Returns ``eventstudy.volatility.EventVolatility``."""
    from eventstudy.volatility import volatility_study

    ticker = normalise_ticker(ticker)
    loader = make_loader(offline=offline, data=data, cache_dir=cache_dir, data_ticker=ticker)
    listing = listing_for(ticker, load_listings(listings), loader)
    day0 = (pd.Timestamp(date) if date is not None
            else lockup_events(with_tranches(listing, [tranche]))[0].session)
    stock, index = return_series(loader, ticker, market, listing.listing_date)
    result = volatility_study(stock, day0, index, label=ticker, **options)
    result.notes.extend(loader.notes)
    return result
