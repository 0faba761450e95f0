"""The screens applied to each event of a study: before the panel (day 0 in a suspension, the
market index without a price on day 0) and after it (impossible returns in the estimation or
event window, half-day volume, windows past the end of the data)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.data.clean import placeholder_mask
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.finding import Finding
from eventstudy.quality.screens import (
    MAX_DAY0_SHIFT_DAYS,
    SeriesArrays,
    SeriesScreen,
    early_closes,
    screen_arrays,
    screen_series,
)
from eventstudy.quality.stacked import Stacked

Frames = Callable[[str], pd.DataFrame]
Arrays = Callable[[str], SeriesArrays | None]  # None: no arrays, read the frame

Bools = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]  # datetime64[ns], NaT where missing
Ints = npt.NDArray[np.int64]


def no_arrays(ticker: str) -> SeriesArrays | None:
    return None


def loader_arrays(loader: object) -> Arrays:
    """The arrays of the price files ``loader`` read as columns (``PriceLoader.columns``: the
    very arrays of its frames); None for the others (and for a loader without columns)."""
    columns = getattr(loader, "columns", None)
    if columns is None:
        return no_arrays

    def arrays(ticker: str) -> SeriesArrays | None:
        got = columns(ticker)
        if got is None:
            return None
        return SeriesArrays.of_columns(got.dates.view(f"datetime64[{got.unit}]"), got.columns)
    return arrays


def loader_stack(loader: object, tickers: Iterable[str]) -> Stacked:
    """``Stacked.of(tickers, loader_arrays(loader))``, read straight from the loader's
    columns (``PriceLoader.columns``)."""
    columns = getattr(loader, "columns", None)
    if columns is None:
        return Stacked.of(tickers, no_arrays)

    def of(ticker: str) -> Mapping[str, npt.NDArray[np.float64]] | None:
        got = columns(ticker)
        return None if got is None else got.columns
    return Stacked.of_columns(tickers, of)


class Screens:
    """ticker -> its ``SeriesScreen`` (memoised), from the arrays ``arrays(ticker)`` gives,
    else from the frame ``load(ticker)`` gives. ``stack``: those arrays end to end; its
    ``quiet`` tickers (whose screens can find nothing) are known without screening them."""

    def __init__(self, load: Frames, code_of: Callable[[str], str | None] = lambda t: None,
                 arrays: Arrays = no_arrays, stack: Stacked | None = None):
        self.load, self.code_of, self.arrays = load, code_of, arrays
        self.quiet: set[str] = stack.quiet() if stack is not None else set()
        self._memo: dict[str, SeriesScreen | None] = {}
        self._early: dict[str, npt.NDArray[np.datetime64]] = {}  # code -> its early closes

    def __call__(self, ticker: str) -> SeriesScreen | None:
        if ticker not in self._memo:
            try:
                self._memo[ticker] = self._screen(ticker)
            except (BadInput, DataUnavailable):  # the panel skips it with the reason
                self._memo[ticker] = None
        return self._memo[ticker]

    def _screen(self, ticker: str) -> SeriesScreen:
        if ticker in self.quiet:
            return SeriesScreen(ticker)
        code = self.code_of(ticker)
        series = self.arrays(ticker)
        if series is None:
            return screen_series(self.load(ticker), ticker, code)
        if code is not None and code not in self._early:
            self._early[code] = early_closes(code)
        return screen_arrays(series, ticker, code, self._early.get(code) if code else None)

    def series_findings(self) -> list[Finding]:
        return [f for s in self._memo.values() if s is not None for f in s.findings]


def _frame(load: Frames, ticker: str) -> pd.DataFrame | None:
    try:
        return load(ticker)
    except (BadInput, DataUnavailable):
        return None


def _trading(stock: pd.DataFrame) -> tuple[Dates, Bools]:
    """A stock's dates and its placeholder rows (volume 0, close unchanged)."""
    close = stock["close"].to_numpy(float)
    volume = stock["volume"].to_numpy(float) if "volume" in stock else np.full(len(close), np.nan)
    return _dates(stock.index), placeholder_mask(close, volume)


def _dates(index: pd.Index | Dates) -> Dates:
    """Dates as datetime64[ns] (a frame's index or a price file's column)."""
    return np.asarray(index, dtype="datetime64[ns]")


def _trading_of(ticker: str, load: Frames, arrays: Arrays) -> tuple[Dates, Bools] | None:
    """``_trading`` from the ticker's arrays if there are, else from its frame (None: none)."""
    try:
        series = arrays(ticker)
    except (BadInput, DataUnavailable):
        return None
    if series is not None:
        return _dates(series.dates), placeholder_mask(series.close, series.volume)
    frame = _frame(load, ticker)
    return None if frame is None else _trading(frame)


def _iso(day: np.datetime64) -> str:
    return str(day.astype("datetime64[D]"))


def day0_problem(event: Event, index: pd.DatetimeIndex | Dates, holes: Bools,
                 market: pd.DatetimeIndex | Dates | None, market_name: str | None,
                 trade_to_trade: bool = True) -> Finding | None:
    """Why ``event`` cannot be studied at its day 0 (None if it can): day 0 in a suspension
    whose next trade is more than ``MAX_DAY0_SHIFT_DAYS`` later, or the market index (dates
    ``market``) without a price on a day 0 the stock traded (an event never moves because of
    its benchmark). ``index``, ``holes``: the stock's dates and placeholder rows."""
    dates = _dates(index)
    day = np.datetime64(event.session, "ns")
    at = int(dates.searchsorted(day))
    if at >= len(dates) or dates[at] != day:
        return None  # not in the data: the panel moves it (at most 14 days) or skips it
    if holes[at] and trade_to_trade:
        after = np.flatnonzero(~holes[at:])
        nxt = dates[at + int(after[0])] if len(after) else None
        if nxt is None or (nxt - day) // np.timedelta64(1, "D") > MAX_DAY0_SHIFT_DAYS:
            resumed = f"the next trade is {_iso(nxt)}" if nxt is not None else "no trade follows"
            return Finding(event.ticker, "placeholder_day0", _iso(day),
                           f"day 0 is a placeholder row (zero volume, unchanged close) of a "
                           f"suspension and {resumed}: more than {MAX_DAY0_SHIFT_DAYS} days "
                           "after day 0", "skipped", event.event_id)
        return None
    if market is None:
        return None
    mdates = _dates(market)
    if len(mdates) and mdates[0] <= day <= mdates[-1]:
        found = int(mdates.searchsorted(day))
        if mdates[found] != day:
            return Finding(event.ticker, "index_no_price", _iso(day),
                           f"the market index {market_name} has no price on day 0 while "
                           f"{event.ticker} traded; the event is not moved because of the "
                           "benchmark (give the index's price or another --market)",
                           "skipped", event.event_id)
    return None


def before_panel(events: Sequence[Event], load: Frames, market_of: Callable[[str], str | None],
                 trade_to_trade: bool = True, arrays: Arrays = no_arrays,
                 stack: Stacked | None = None) -> tuple[list[Event], list[Skip], list[Finding]]:
    """The events whose day 0 can be studied; the others as skips and findings. ``arrays``: the
    tickers' arrays where there are (``loader_arrays``), read instead of their frames;
    ``stack``: those arrays end to end (``Stacked.of``, made here if not given). The events of
    its tickers are checked all at once, ``day0_problem`` runs only on those that may have
    one; the events of the other tickers one by one (O(rows) per ticker, O(log rows) per
    event)."""
    if stack is None:
        stack = Stacked.of(dict.fromkeys(e.ticker for e in events), arrays)
    stocks: dict[str, tuple[Dates, Bools] | None] = {}
    markets: dict[str, Dates | None] = {}
    name_of: dict[str, str | None] = {}
    for ticker in dict.fromkeys(e.ticker for e in events):  # the frames in the order of old
        if ticker not in stack.tickers:
            stocks[ticker] = _trading_of(ticker, load, arrays)
        name = name_of[ticker] = market_of(ticker)
        if name and name not in markets:
            frame = _frame(load, name)
            markets[name] = None if frame is None else _dates(frame.index)
    maybe = _maybe_day0(events, stack, markets, name_of, trade_to_trade)
    problems: dict[int, Finding] = {}
    for i in np.flatnonzero(maybe).tolist():
        event = events[i]
        if event.ticker not in stocks:
            stocks[event.ticker] = _trading_of(event.ticker, load, arrays)
        stock, name = stocks[event.ticker], name_of[event.ticker]
        problem = None if stock is None else day0_problem(
            event, *stock, markets.get(name) if name else None, name, trade_to_trade)
        if problem is not None:
            problems[i] = problem
    if not problems:
        return list(events), [], []
    kept = [e for i, e in enumerate(events) if i not in problems]
    skips = [Skip(events[i].event_id, events[i].ticker, f"{p.found} ({p.where})",
                  DataUnavailable.exit_code) for i, p in problems.items()]
    return kept, skips, list(problems.values())


def _ns(day: object) -> int:
    """A day 0 as int64 nanoseconds (``day0_problem``'s ``np.datetime64(day, "ns")``)."""
    if isinstance(day, pd.Timestamp):
        return int(day.value)
    return int(np.datetime64(day, "ns").astype(np.int64))  # type: ignore[call-overload]


def _maybe_day0(events: Sequence[Event], stack: Stacked, markets: dict[str, Dates | None],
                name_of: dict[str, str | None], trade_to_trade: bool) -> Bools:
    """Per event, whether ``day0_problem`` may find something: a ticker not on ``stack``, a
    ticker with a placeholder row (``trade_to_trade``), or a day 0 within its market index's
    dates that the index has no price on. All events at once."""
    holes = stack.with_holes() if trade_to_trade else set()
    out = np.fromiter((e.ticker not in stack.tickers or e.ticker in holes for e in events),
                      bool, len(events))
    days = np.fromiter((_ns(e.session) for e in events), np.int64,
                       len(events)).view("datetime64[ns]")
    names = np.array([name_of[e.ticker] or "" for e in events], dtype=object)
    for name, mdates in markets.items():
        if mdates is None or not len(mdates):
            continue
        rows = np.flatnonzero(names == name)
        day = days[rows]
        at = np.minimum(mdates.searchsorted(day), len(mdates) - 1)
        out[rows[(mdates[0] <= day) & (day <= mdates[-1]) & (mdates[at] != day)]] = True
    return out


SUSPECT_HINT = "keep it: --keep-suspect, keep_suspect=True"


def after_panel(events: pd.DataFrame, dates: Dates, days: Ints,
                screens: Callable[[str], SeriesScreen | None], span: tuple[int, int],
                car_windows: Sequence[tuple[int, int]], keep_suspect: bool = False
                ) -> tuple[Bools, list[Skip], list[Finding]]:
    """Per event of a panel (``events`` with ``ticker``, ``estimation_start``; ``dates`` its
    event-block dates, columns ``days``): which to keep, the skips and the findings."""
    keep = np.ones(len(events), dtype=bool)
    skips: list[Skip] = []
    found: list[Finding] = []
    cols = (days >= span[0]) & (days <= span[1])
    ids = events.index.to_numpy()
    tickers = events["ticker"].to_numpy()
    est_start = pd.DatetimeIndex(events["estimation_start"])
    est_end = pd.DatetimeIndex(events["estimation_end"])
    past = _may_run_past_data(dates, days, car_windows)
    quiet = screens.quiet if isinstance(screens, Screens) else set()
    loud = np.fromiter((t not in quiet for t in tickers), bool, len(tickers))
    for i in np.flatnonzero(past | loud).tolist():  # the others have nothing to report
        event_id, ticker = ids[i], tickers[i]
        row = dates[i]
        if past[i]:
            found += _past_data(str(event_id), str(ticker), row, days, car_windows)
        screen = screens(str(ticker)) if loud[i] else None
        if screen is None or not (screen.suspect or screen.unknown_volume):
            continue  # nothing this ticker's screen could report for any span
        have = row[cols][~np.isnat(row[cols])]
        first, last = ((pd.Timestamp(have.min()), pd.Timestamp(have.max())) if len(have)
                       else (est_end[i], est_end[i]))
        found += [Finding(str(ticker), "half_day_volume", str(d.date()),
                          "volume 0 on a half-day session: volume unknown",
                          "volume missing, return kept", str(event_id))
                  for d in screen.half_days_within(first, last)]
        # the estimation window lies before the event window, or after it (listing day)
        reason, suspect = screen_span(screen, min(est_start[i], first), max(est_end[i], last),
                                      str(event_id), keep_suspect)
        found += suspect
        if reason is not None:
            keep[i] = False
            skips.append(Skip(str(event_id), str(ticker), reason))
    return keep, skips, found


def screen_span(screen: SeriesScreen, start: pd.Timestamp, end: pd.Timestamp, event_id: str,
                keep_suspect: bool = False) -> tuple[str | None, list[Finding]]:
    """The impossible returns of one event's returns from ``start`` to ``end``, as every study
    treats them: (why the event cannot be studied, or None when it can; the findings, each
    'skipped', or 'flagged, kept' with ``keep_suspect``)."""
    suspect = screen.suspect_within(start, end)
    if not suspect:
        return None, []
    if keep_suspect:
        return None, [f.for_event(event_id, "flagged, kept (--keep-suspect)") for f in suspect]
    worst = suspect[0]
    return (f"suspect return in the estimation or event window: {worst.found} ({worst.where}) "
            f"({SUSPECT_HINT})", [f.for_event(event_id, "skipped") for f in suspect])


def _may_run_past_data(dates: Dates, days: Ints, windows: Sequence[tuple[int, int]]) -> Bools:
    """Per event row: does its last dated day come before the end of some window (the only rows
    for which ``_past_data`` can find anything)? One pass over the panel's dates."""
    real = ~np.isnat(dates)
    if not windows or dates.size == 0:
        return np.zeros(len(dates), dtype=bool)
    last_col = dates.shape[1] - 1 - np.argmax(real[:, ::-1], axis=1)
    out: Bools = real.any(axis=1) & (days[last_col] < max(w[1] for w in windows))
    return out


def _past_data(event_id: str, ticker: str, row: Dates, days: Ints,
               windows: Sequence[tuple[int, int]]) -> list[Finding]:
    """A finding per window that runs past the last date of the data (null everywhere)."""
    real = np.flatnonzero(~np.isnat(row))
    if not len(real):
        return []
    last_day = int(days[real[-1]])
    cut = [w for w in windows if w[1] > last_day and w[0] <= days[-1]]
    if not cut:
        return []
    labels = ", ".join(f"[{a:+d},{b:+d}]" for a, b in cut)
    return [Finding(ticker, "window_past_data", f"after day {last_day:+d}",
                    f"window(s) {labels} run past the end of the data",
                    "CAR, BHAR and volume null; left out of the pooled tests", event_id)]
