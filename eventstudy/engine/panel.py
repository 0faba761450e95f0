"""The events x days panel: every event's returns aligned on event time, with NaN for missing.

A single-firm study is the N = 1 case. Time is the stock's own trading days shared with its
market index (a suspension shows as one longer return, matched by the market return over the same
dates). Two blocks per event:

* estimation block ``(N, L)``: the estimation window, right-aligned so that the last column is the
  latest possible estimation day of every event; shorter windows are NaN on the left;
* event block ``(N, W)``: days ``window[0]..window[1]``; days after the end of the data are NaN."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.calendar.sessions import is_session
from eventstudy.data.clean import drop_placeholder_rows
from eventstudy.data.tickers import calendar_code
from eventstudy.engine.placeholders import move_off_placeholder
from eventstudy.errors import BadInput, DataUnavailable, EstimationError

DEFAULT_WINDOW = (-10, 20)


DEFAULT_ESTIMATION = (-260, -11)


LOCKUP_ESTIMATION = (-260, -11)


LOCKUP_MAX_ESTIMATION = 250


LISTING_GAP = 5  # lock-ups: estimation starts at listing day + 5


MAX_DAY0_SHIFT_DAYS = 14  # day 0 missing from the data moves at most this many calendar days


@dataclass
class Panel:
    """Aligned arrays for N events. ``events`` is a DataFrame indexed by event id."""

    events: pd.DataFrame
    days: np.ndarray  # (W,) relative days of the event block
    ret: np.ndarray  # (N, W) stock simple returns
    mkt: np.ndarray  # (N, W) market simple returns
    vol: np.ndarray  # (N, W) volume
    dates: np.ndarray  # (N, W) datetime64[ns], NaT where missing
    est_ret: np.ndarray  # (N, L)
    est_mkt: np.ndarray  # (N, L)
    est_vol: np.ndarray  # (N, L)
    est_dates: np.ndarray  # (N, L)
    close: np.ndarray | None = None  # (N, W) closing price, for plots
    skipped: list[Skip] = field(default_factory=list)

    @property
    def n_events(self) -> int:
        return len(self.events)

    def column(self, day: int) -> int:
        """Index of relative ``day`` in the event block."""
        if not self.days[0] <= day <= self.days[-1]:
            raise BadInput(f"day {day} is outside the event window "
                           f"[{self.days[0]}, {self.days[-1]}]")
        return int(day - self.days[0])

    def subset(self, rows: np.ndarray) -> Panel:
        """The panel restricted to boolean or integer ``rows``."""
        pick = np.asarray(rows)
        arrays = {name: getattr(self, name)[pick] for name in ARRAY_FIELDS}
        close = None if self.close is None else self.close[pick]
        return Panel(events=self.events.iloc[pick], days=self.days, close=close,
                     skipped=list(self.skipped), **arrays)

    def window_view(self, window: tuple[int, int]) -> Panel:
        """The panel with its event block cut to ``window`` (estimation block unchanged)."""
        cols = slice(self.column(window[0]), self.column(window[1]) + 1)
        cut = {name: getattr(self, name)[:, cols] for name in EVENT_FIELDS}
        close = None if self.close is None else self.close[:, cols]
        rest = {name: getattr(self, name) for name in ARRAY_FIELDS if name not in EVENT_FIELDS}
        return Panel(events=self.events, days=self.days[cols], close=close,
                     skipped=list(self.skipped), **cut, **rest)


ARRAY_FIELDS = ("ret", "mkt", "vol", "dates", "est_ret", "est_mkt", "est_vol", "est_dates")


EVENT_FIELDS = ("ret", "mkt", "vol", "dates")


@dataclass(frozen=True)
class Series:
    """One ticker's returns on the dates it shares with its market, as numpy arrays."""

    dates: np.ndarray
    close: np.ndarray
    ret: np.ndarray
    mkt: np.ndarray
    vol: np.ndarray
    placeholders: np.ndarray = field(  # dates of the stock's dropped placeholder rows
        default_factory=lambda: np.array([], dtype="datetime64[ns]"))


def align(stock: pd.DataFrame, market: pd.DataFrame) -> Series:
    """Stock and market on their common dates; returns over the same intervals.

    The stock's placeholder rows (zero volume, unchanged close: no trading) are dropped first, so
    the next session's return spans them (``eventstudy.data.clean.placeholder_rows``)."""
    stock, placeholders = drop_placeholder_rows(stock)
    joint = stock[["close", "volume"]].join(market["close"].rename("mclose"), how="inner")
    if len(joint) < 2:
        raise DataUnavailable(
            f"{stock.attrs.get('ticker')} and its market {market.attrs.get('ticker')} share "
            f"{len(joint)} dates: the series do not overlap")
    close = joint["close"].to_numpy(float)
    mclose = joint["mclose"].to_numpy(float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ret = np.r_[np.nan, close[1:] / close[:-1] - 1.0]
        mkt = np.r_[np.nan, mclose[1:] / mclose[:-1] - 1.0]
    for frame, values, prices in ((stock, ret, close), (market, mkt, mclose)):
        bad = np.flatnonzero(~np.isfinite(values[1:]))
        if len(bad):  # e.g. a price ratio that overflows
            at = int(bad[0]) + 1
            raise BadInput(f"{frame.attrs.get('ticker')}: non-finite return on "
                           f"{joint.index[at].date()} (close {prices[at - 1]:g} -> "
                           f"{prices[at]:g}): check the price data")
    return Series(joint.index.to_numpy("datetime64[ns]"), close, ret, mkt,
                  joint["volume"].to_numpy(float), placeholders)


@dataclass(frozen=True)
class Windows:
    """Where an event's estimation and event windows fall, in positions of its Series."""

    day0: int
    est_start: int
    est_end: int
    note: str = ""  # why day 0 is not the event's session (moved to the next date in the data)


def locate(series: Series, event: Event, window: tuple[int, int],
           estimation: tuple[int, int], max_estimation: int | None,
           min_start: int = 1) -> Windows:
    """Positions of day 0 and the estimation window; one-line errors when they do not fit.

    The estimation window lies before the event window, or (listing-day studies) after it.
    ``min_start`` is the first position the event window may start at (1: it needs a return).
    """
    dates = series.dates
    day = np.datetime64(event.session, "ns")
    first, last = pd.Timestamp(dates[0]).date(), pd.Timestamp(dates[-1]).date()
    if day > dates[-1]:
        raise DataUnavailable(f"event day 0 {event.session.date()} is after the data "
                              f"({event.ticker} ends {last})")
    if day < dates[0]:
        raise DataUnavailable(f"event day 0 {event.session.date()} is before the data "
                              f"({event.ticker} starts {first})")
    pos = int(np.searchsorted(dates, day))
    note = ""
    if dates[pos] != day:
        moved, code = pd.Timestamp(dates[pos]), calendar_code(event.ticker)
        if not is_session(code, event.session):
            raise BadInput(f"{event.ticker} has no price on event day 0 {event.session.date()}"
                           f": not a {code} session (see configs/closures.yaml)")
        if (moved - event.session).days > MAX_DAY0_SHIFT_DAYS:
            raise DataUnavailable(f"{event.ticker} has no price on event day 0 "
                                  f"{event.session.date()} nor in the "
                                  f"{MAX_DAY0_SHIFT_DAYS} days after (suspended or missing; "
                                  f"data {first}..{last})")
        note = (f"day 0 moved from {event.session.date()} to {moved.date()}, the next session "
                f"in the data: no price on {event.session.date()} (exchange closure or "
                "suspension)")
    if pos + window[0] < min_start:
        raise DataUnavailable(f"the event window of {event.event_id} (from day {window[0]}) "
                              f"starts before the data "
                              f"({event.ticker} from {first})")
    floor = 1
    if event.listing_date is not None:
        listing_pos = int(np.searchsorted(dates, np.datetime64(event.listing_date, "ns")))
        floor = max(floor, listing_pos + LISTING_GAP)
    if estimation[0] > window[1]:  # after the event: clip to the end of the data
        start, end = pos + estimation[0], min(pos + estimation[1], len(dates) - 1)
        where = f"after day {estimation[0]} ({event.ticker} data to {last})"
    else:
        start, end = max(pos + estimation[0], floor), pos + estimation[1]
        where = f"before day {estimation[1]} ({event.ticker} data from {first})"
    if max_estimation is not None:
        start = max(start, end - max_estimation + 1)
    if end < start:
        raise EstimationError(f"{event.event_id}: no estimation window {where}")
    return Windows(pos, start, end, note)


def _fill(row: np.ndarray, values: np.ndarray, at: int) -> None:
    """Copy ``values`` into ``row`` starting at column ``at`` (clipped to the row)."""
    lo, hi = max(at, 0), min(at + len(values), len(row))
    if hi > lo:
        row[lo:hi] = values[lo - at:hi - at]


def build_panel(events: Sequence[Event], load: Callable[[str], Series], *,
                window: tuple[int, int] = DEFAULT_WINDOW,
                estimation: tuple[int, int] = DEFAULT_ESTIMATION,
                max_estimation: int | None = None, min_start: int = 1,
                progress: Callable[[int], None] | None = None) -> Panel:
    """Align ``events`` into a Panel; an event that cannot be placed becomes a Skip with reason.

    ``load(ticker)`` returns the ticker's aligned Series (it should memoise). For lock-ups, each
    event's estimation window also starts no earlier than listing day + 5. A day 0 on a
    placeholder row, or on a session the data do not have (a closure exchange-calendars misses, a
    suspension: at most ``MAX_DAY0_SHIFT_DAYS`` later), moves to the next session in the data
    (column ``day0_note`` says so).
    """
    if window[0] > 0 or window[1] < 0:
        raise BadInput(f"event window [{window[0]}, {window[1]}] must contain day 0")
    if estimation[0] > estimation[1] or window[0] <= estimation[1] and estimation[0] <= window[1]:
        raise BadInput(f"estimation window [{estimation[0]}, {estimation[1]}] must end before "
                       f"the event window [{window[0]}, {window[1]}] starts or begin after it ends")
    placed: list[tuple[Event, Series, Windows]] = []
    skipped: list[Skip] = []
    seen: set[str] = set()
    notes: dict[str, str] = {}  # event id -> why day 0 moved
    for i, event in enumerate(events):
        try:
            if event.event_id in seen:  # one id, one row: results are keyed by event id
                raise BadInput("duplicate event: the same ticker, tranche and day 0 appear "
                               "earlier in the events")
            seen.add(event.event_id)
            series = load(event.ticker)
            event, note = move_off_placeholder(event, series.dates, series.placeholders)
            if note:
                if event.event_id in seen:
                    raise BadInput(f"duplicate event: {note}, where another event is")
                seen.add(event.event_id)
                notes[event.event_id] = note
            where = locate(series, event, window, estimation, max_estimation, min_start)
            if where.note:  # day 0 a session the data do not have: moved to the next date
                notes[event.event_id] = "; ".join(filter(None, (notes.get(event.event_id),
                                                                where.note)))
            placed.append((event, series, where))
        except (DataUnavailable, BadInput) as exc:
            skipped.append(Skip.from_error(event.event_id, event.ticker, exc))
        if progress is not None:
            progress(i + 1)
    panel = _assemble(placed, skipped, window, estimation)
    panel.events["day0_note"] = [notes.get(i, "") for i in panel.events.index]
    return panel


def _assemble(placed: list[tuple[Event, Series, Windows]], skipped: list[Skip],
              window: tuple[int, int], estimation: tuple[int, int]) -> Panel:
    n, width = len(placed), window[1] - window[0] + 1
    length = max([w.est_end - w.est_start + 1 for _, _, w in placed], default=1)
    out = {name: np.full((n, width), np.nan) for name in ("ret", "mkt", "vol", "close")}
    est = {name: np.full((n, length), np.nan) for name in ("ret", "mkt", "vol")}
    dates = np.full((n, width), np.datetime64("NaT"), dtype="datetime64[ns]")
    est_dates = np.full((n, length), np.datetime64("NaT"), dtype="datetime64[ns]")
    rows = []
    for i, (event, s, w) in enumerate(placed):
        lo, hi = w.day0 + window[0], min(w.day0 + window[1] + 1, len(s.dates))
        for name in ("ret", "mkt", "vol", "close"):
            _fill(out[name][i], getattr(s, name)[lo:hi], 0)
        _fill(dates[i], s.dates[lo:hi], 0)
        n_est = w.est_end - w.est_start + 1
        for name in ("ret", "mkt", "vol"):
            _fill(est[name][i], getattr(s, name)[w.est_start:w.est_end + 1], length - n_est)
        _fill(est_dates[i], s.dates[w.est_start:w.est_end + 1], length - n_est)
        rows.append({**event.to_dict(), "day0": pd.Timestamp(s.dates[w.day0]),
                     "estimation_start": pd.Timestamp(s.dates[w.est_start]),
                     "estimation_end": pd.Timestamp(s.dates[w.est_end]),
                     "estimation_days": n_est, "data_end": pd.Timestamp(s.dates[-1])})
    extra = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in _EVENT_COLUMNS]
    frame = pd.DataFrame(rows, columns=[*_EVENT_COLUMNS, *extra])
    frame.index = pd.Index(frame["event_id"].tolist(), name="event_id")
    return Panel(events=frame, days=np.arange(window[0], window[1] + 1), ret=out["ret"],
                 mkt=out["mkt"], vol=out["vol"], close=out["close"], dates=dates,
                 est_ret=est["ret"], est_mkt=est["mkt"], est_vol=est["vol"],
                 est_dates=est_dates, skipped=skipped)


_EVENT_COLUMNS = ["event_id", "ticker", "tranche", "group", "session", "date", "listing_date",
                  "listing_inferred", "day0", "estimation_start", "estimation_end",
                  "estimation_days", "data_end"]
