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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from eventstudy.calendar.events import Event, Skip
from eventstudy.engine.daynumbers import NO_DAY as NO_DAY
from eventstudy.engine.daynumbers import DateBlock, midnights
from eventstudy.engine.daynumbers import as_dates as as_dates
from eventstudy.engine.daynumbers import day_numbers as day_numbers
from eventstudy.engine.locate import STABILISATION as STABILISATION
from eventstudy.engine.locate import Windows as Windows
from eventstudy.engine.locate import correct_day0 as correct_day0
from eventstudy.engine.locate import locate as locate
from eventstudy.engine.locate import locate_many as locate_many
from eventstudy.engine.locate import same_day as same_day
from eventstudy.engine.locate import traded_day0 as traded_day0
from eventstudy.engine.placeholders import move_off_placeholder
from eventstudy.engine.series import Series
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.screens import MAX_DAY0_SHIFT_DAYS as MAX_DAY0_SHIFT_DAYS

DEFAULT_WINDOW = (-10, 20)


DEFAULT_ESTIMATION = (-270, -21)  # 250 sessions, ending before the pre-event windows


LOCKUP_ESTIMATION = (-270, -21)


LOCKUP_MAX_ESTIMATION = 250


# Lock-ups and listings: market-adjusted returns (Field & Hanka 2001; Brav & Gompers 2003), no
# intercept estimated on a young listing's post-IPO drift and carried into every CAR
LOCKUP_MODEL = "market_adjusted"


LISTING_GAP = 5  # fewest sessions between a listing and any estimation window (simulations)




@dataclass
class Panel:
    """Aligned arrays for N events. ``events`` is a DataFrame indexed by event id. The dates
    blocks are held as int32 day numbers (``held``) and read as datetime64[ns]."""

    events: pd.DataFrame
    days: np.ndarray  # (W,) relative days of the event block
    ret: np.ndarray  # (N, W) stock simple returns
    mkt: np.ndarray  # (N, W) market simple returns
    vol: np.ndarray  # (N, W) volume
    if TYPE_CHECKING:  # read as datetime64[ns] (N, W), NaT where missing
        dates: np.ndarray
    else:
        dates: np.ndarray = DateBlock()
    est_ret: np.ndarray  # (N, L)
    est_mkt: np.ndarray  # (N, L)
    est_vol: np.ndarray  # (N, L)
    if TYPE_CHECKING:  # (N, L)
        est_dates: np.ndarray
    else:
        est_dates: np.ndarray = DateBlock()
    close: np.ndarray | None = None  # (N, W) closing price, for plots
    skipped: list[Skip] = field(default_factory=list)
    # (N, 4) positions in each event's Series: day 0, estimation start and end, last row
    positions: np.ndarray | None = None
    # the market returns of each block with ``MARGIN`` more sessions on each side, from the
    # whole series (leads and lags of Dimson and Scholes-Williams): (N, L + 2M), (N, W + 2M)
    est_mkt_wide: np.ndarray | None = None
    mkt_wide: np.ndarray | None = None

    def market_shift(self, k: int, estimation: bool) -> np.ndarray | None:
        """The market return k sessions after each cell of the estimation (or event) block,
        from the whole series; None when the panel has no wide blocks or |k| > MARGIN."""
        wide = self.est_mkt_wide if estimation else self.mkt_wide
        if wide is None or abs(k) > MARGIN:
            return None
        width = (self.est_mkt if estimation else self.mkt).shape[1]
        return wide[:, MARGIN + k:MARGIN + k + width]

    @property
    def n_events(self) -> int:
        return len(self.events)

    def column(self, day: int) -> int:
        """Index of relative ``day`` in the event block."""
        if not self.days[0] <= day <= self.days[-1]:
            raise BadInput(f"day {day} is outside the event window "
                           f"[{self.days[0]}, {self.days[-1]}]")
        return int(day - self.days[0])

    def held(self, name: str) -> np.ndarray:
        """The array of field ``name`` as the panel holds it (``dates``, ``est_dates``: int32
        day numbers, ``NO_DAY`` where missing, or datetime64[ns]; see ``as_dates``)."""
        held: np.ndarray = (self.__dict__["_" + name] if name in DATE_FIELDS
                            else getattr(self, name))
        return held

    def dates_of(self, row: int, estimation: bool = False) -> np.ndarray:
        """The datetime64[ns] dates of one row of the event (or estimation) block."""
        return as_dates(self.held("est_dates" if estimation else "dates")[row])

    def subset(self, rows: np.ndarray) -> Panel:
        """The panel restricted to boolean or integer ``rows``."""
        pick = np.asarray(rows)
        arrays = {name: self.held(name)[pick] for name in ARRAY_FIELDS}
        close = None if self.close is None else self.close[pick]
        at = None if self.positions is None else self.positions[pick]
        est_wide = None if self.est_mkt_wide is None else self.est_mkt_wide[pick]
        evt_wide = None if self.mkt_wide is None else self.mkt_wide[pick]
        return Panel(events=self.events.iloc[pick], days=self.days, close=close,
                     skipped=list(self.skipped), positions=at, **arrays,
                     est_mkt_wide=est_wide, mkt_wide=evt_wide)

    def outside_data(self, window: tuple[int, int]) -> np.ndarray:
        """Per event: does ``window`` run past the end (or start) of its data? Such a window is
        null in every table and left out of the pooled tests (docs/quality.md)."""
        cols = slice(self.column(window[0]), self.column(window[1]) + 1)
        held = self.held("dates")[:, cols]
        past: np.ndarray = ((held == NO_DAY) if held.dtype == np.int32
                            else np.isnat(held)).any(axis=1)
        return past

    def window_view(self, window: tuple[int, int]) -> Panel:
        """The panel with its event block cut to ``window`` (estimation block unchanged):
        views of this panel's arrays, no copy."""
        cols = slice(self.column(window[0]), self.column(window[1]) + 1)
        cut = {name: self.held(name)[:, cols] for name in EVENT_FIELDS}
        close = None if self.close is None else self.close[:, cols]
        rest = {name: self.held(name) for name in ARRAY_FIELDS if name not in EVENT_FIELDS}
        wide = (None if self.mkt_wide is None
                else self.mkt_wide[:, cols.start:cols.stop + 2 * MARGIN])
        return Panel(events=self.events, days=self.days[cols], close=close,
                     skipped=list(self.skipped), positions=self.positions, **cut, **rest,
                     est_mkt_wide=self.est_mkt_wide, mkt_wide=wide)


ARRAY_FIELDS = ("ret", "mkt", "vol", "dates", "est_ret", "est_mkt", "est_vol", "est_dates")


EVENT_FIELDS = ("ret", "mkt", "vol", "dates")


DATE_FIELDS = ("dates", "est_dates")


MARGIN = 5  # sessions of market returns beyond each block (the most Dimson lags/leads)



def build_panel(events: Sequence[Event], load: Callable[[str], Series], *,
                window: tuple[int, int] = DEFAULT_WINDOW,
                estimation: tuple[int, int] = DEFAULT_ESTIMATION,
                max_estimation: int | None = None, min_start: int = 1,
                stabilisation: int = STABILISATION,
                notes: dict[str, str] | None = None, wide: bool = True) -> Panel:
    """Align ``events`` into a Panel; an event that cannot be placed becomes a Skip with reason.

    ``load(ticker)`` returns the ticker's aligned Series (it should memoise). For lock-ups, each
    event's estimation window also starts no earlier than listing day + ``stabilisation``
    (default 30 sessions: after the price-stabilisation period). A day 0 on a
    placeholder row, or on a session the data do not have (a closure exchange-calendars misses, a
    suspension: at most ``MAX_DAY0_SHIFT_DAYS`` later), moves to the next session in the data
    (column ``day0_note`` says so). ``wide``: carry the market returns ``MARGIN`` sessions
    beyond each block (``Panel.market_shift``: the lead/lag models read them; a panel without
    them gives those models other numbers, so a study's panel always has them).
    """
    if window[0] > 0 or window[1] < 0:
        raise BadInput(f"event window [{window[0]}, {window[1]}] must contain day 0")
    if estimation[0] > estimation[1] or window[0] <= estimation[1] and estimation[0] <= window[1]:
        raise BadInput(f"estimation window [{estimation[0]}, {estimation[1]}] must end before "
                       f"the event window [{window[0]}, {window[1]}] starts or begin after it ends")
    placed: list[tuple[Event, Series]] = []
    at: list[int] = []  # each placed event's place in ``events``
    skips: list[tuple[int, Skip]] = []
    seen: set[str] = set()
    notes = dict(notes or {})  # event id -> why day 0 moved
    same = same_day(events)
    for i, event in enumerate(events):
        try:
            if event.event_id in seen:  # one id, one row: results are keyed by event id
                raise BadInput("duplicate event: the same ticker, tranche and day 0 appear "
                               "earlier in the events")
            seen.add(event.event_id)
            series = load(event.ticker)
            event = _moved(event, series, same[i], seen, notes)
            placed.append((event, series))
            at.append(i)
        except (DataUnavailable, BadInput) as exc:
            skips.append((i, Skip.from_error(event.event_id, event.ticker, exc)))
    spots, failed = locate_many(placed, window, estimation, max_estimation, min_start,
                                stabilisation)
    for j, where in failed.items():
        event = placed[j][0]
        if isinstance(where, Windows):  # day 0 a session the data do not have: moved
            notes[event.event_id] = "; ".join(filter(None, (notes.get(event.event_id),
                                                            where.note)))
        else:
            skips.append((at[j], Skip.from_error(event.event_id, event.ticker, where)))
    keep = np.array([not isinstance(failed.get(j), Exception) for j in range(len(placed))],
                    dtype=bool)
    skips.sort(key=lambda pair: pair[0])  # in the order of the events, as one pass gives
    panel = _assemble([placed[j] for j in np.flatnonzero(keep).tolist()], spots[keep],
                      [skip for _, skip in skips], window, estimation, wide)
    panel.events["day0_note"] = [notes.get(i, "") for i in panel.events.index]
    return panel


def _moved(event: Event, series: Series, same: bool, seen: set[str],
           notes: dict[str, str]) -> Event:
    """``event`` with day 0 moved as ``traded_day0`` (unless ``same``: nothing to do) and
    ``move_off_placeholder`` say, each move noted; BadInput if it lands on another event."""
    moves = () if same else (traded_day0,)
    for move in (*moves, move_off_placeholder):
        if move is move_off_placeholder and not len(series.placeholders):
            break
        event, note = (traded_day0(event, series.dates) if move is traded_day0
                       else move_off_placeholder(event, series.dates, series.placeholders))
        if note:
            if event.event_id in seen:
                raise BadInput(f"duplicate event: {note}, where another event is")
            seen.add(event.event_id)
            notes[event.event_id] = note
    return event


class _NotDaily(Exception):
    """Some dates are not midnights: the panel holds datetime64[ns], not day numbers."""


def _fill(dtype: np.dtype) -> Any:
    """The missing value of a block of ``dtype``."""
    return NO_DAY if dtype == np.int32 else np.datetime64("NaT") if dtype.kind == "M" \
        else np.nan


def _day_numbers(dates: list[np.ndarray], known: dict[int, tuple[np.ndarray, np.ndarray | None]]
                 ) -> np.ndarray | None:
    """``midnights`` of ``dates`` end to end (datetime64[ns] arrays), or None. When they are all
    views of one array of 8-byte items (the market's dates, which ``align_many`` gives every
    stock on a run of its sessions), that array is converted once (kept in ``known`` by id) and
    each one's day numbers are a slice of it: the same numbers (``midnights`` is elementwise,
    and all of them midnights in range when all of the array are)."""
    base = dates[0].base if dates else None
    if isinstance(base, np.ndarray) and base.ndim == 1 and base.itemsize == 8 \
            and base.flags.c_contiguous and all(d.base is base and d.strides == (8,)
                                                and d.dtype == dates[0].dtype for d in dates):
        if id(base) not in known:  # the array itself kept with it: its id stays its own
            known[id(base)] = (base, midnights(base.view(np.int64)))
        days = known[id(base)][1]
        origin = base.ctypes.data
        at = np.array([d.ctypes.data - origin for d in dates], dtype=np.int64)
        if days is not None and not (at % 8).any():
            at //= 8
            return np.concatenate([days[a:a + len(d)] for a, d in zip(at.tolist(), dates,
                                                                       strict=True)])
    return midnights(np.concatenate(dates).view(np.int64))


class _Flat:
    """The distinct series of some placed events end to end, with a NaN/NaT at the end, so that
    a block of the panel is one fancy index (no loop over events): a copy of the ``names``
    arrays of those series (dates as int32 day numbers when ``daily``), made for
    ``CHUNK_ROWS`` rows of series at a time."""

    def __init__(self, placed: Sequence[tuple[Event, Series]], names: Sequence[str],
                 daily: bool, known: dict[int, tuple[np.ndarray, np.ndarray | None]]):
        ids: dict[int, int] = {}
        series: list[Series] = []
        for _, s in placed:
            if id(s) not in ids:
                ids[id(s)] = len(series)
                series.append(s)
        which = np.array([ids[id(s)] for _, s in placed], dtype=np.int64)
        lengths = np.array([len(s.dates) for s in series], dtype=np.int64)
        self.lengths = lengths[which]
        self.offsets = (np.cumsum(lengths) - lengths)[which]
        self.total = int(lengths.sum())
        self.arrays = {name: np.concatenate([*(getattr(s, name) for s in series), [np.nan]])
                       for name in names if name != "dates"}
        if daily:
            days = _day_numbers([s.dates for s in series], known)
            if days is None:
                raise _NotDaily
            self.arrays["dates"] = np.append(days, np.int32(NO_DAY))
        else:
            nat = np.array(["NaT"], dtype="datetime64[ns]")
            self.arrays["dates"] = np.concatenate([*(s.dates for s in series), nat])

    def gather(self, into: dict[str, np.ndarray], rows: slice, pos: np.ndarray,
               valid: np.ndarray) -> None:
        """``into[name][rows]`` = the values at positions ``pos`` of each event's series,
        missing where not ``valid``."""
        flat = np.where(valid, self.offsets[:, None] + pos, self.total)
        for name, out in into.items():
            np.take(self.arrays[name], flat, out=out[rows])

    def run(self, into: dict[str, np.ndarray], rows: slice, first: np.ndarray,
            lo: np.ndarray, hi: np.ndarray) -> None:
        """``into[name][rows]`` = each event's values at the positions ``first`` .. ``first`` +
        width - 1 of its series (one run per event: a strided row copy, no index array),
        missing at positions outside [``lo``, ``hi``]."""
        width = next(iter(into.values())).shape[1]
        start = self.offsets + first
        if len(start) and (start.min() < 0 or start.max() + width > self.total + 1):
            pos = first[:, None] + np.arange(width)  # a run off the ends: index the hard way
            self.gather(into, rows, pos, (pos >= lo[:, None]) & (pos <= hi[:, None]))
            return
        cols = np.arange(width)
        need = np.flatnonzero((lo > first) | (hi < first + width - 1))
        bad = (cols < (lo - first)[need, None]) | (cols > (hi - first)[need, None])
        for name, out in into.items():
            block = out[rows]
            block[...] = sliding_window_view(self.arrays[name], width)[start]
            if len(need):
                part = block[need]
                part[bad] = _fill(out.dtype)
                block[need] = part


CHUNK_ROWS = 1 << 18  # series rows per gather: bounds their concatenated copy (~10 MiB)


def _chunks(placed: Sequence[tuple[Event, Series]]) -> list[slice]:
    """Consecutive slices of ``placed`` whose series hold about ``CHUNK_ROWS`` rows (at least
    one event each)."""
    out, lo, rows = [], 0, 0
    for i, (_, series) in enumerate(placed):
        if rows and rows + len(series.dates) > CHUNK_ROWS:
            out.append(slice(lo, i))
            lo, rows = i, 0
        rows += len(series.dates)
    if lo < len(placed):
        out.append(slice(lo, len(placed)))
    return out


def _blocks(n: int, width: int, names: Sequence[str], daily: bool) -> dict[str, np.ndarray]:
    dates = np.int32 if daily else "datetime64[ns]"
    return {name: np.empty((n, width), dtype=dates if name == "dates" else float)
            for name in names}


def _assemble(placed: list[tuple[Event, Series]], spots: np.ndarray, skipped: list[Skip],
              window: tuple[int, int], estimation: tuple[int, int], wide: bool) -> Panel:
    """The Panel of the placed events: numpy gathers of O(N (W + L)) values, ``CHUNK_ROWS``
    rows of series at a time, and O(N) light Python. Dates are gathered as int32 day
    numbers (as datetime64[ns] if some are not midnights); the wide market blocks only if
    ``wide``."""
    try:
        return _gather(placed, spots, skipped, window, wide, daily=True)
    except _NotDaily:
        return _gather(placed, spots, skipped, window, wide, daily=False)


def _gather(placed: list[tuple[Event, Series]], spots: np.ndarray, skipped: list[Skip],
            window: tuple[int, int], wide: bool, daily: bool) -> Panel:
    n, width = len(placed), window[1] - window[0] + 1
    day0, est_start, est_end = spots.reshape(n, 3).T
    n_est = est_end - est_start + 1
    length = int(n_est.max()) if n else 1
    out = _blocks(n, width, ("ret", "vol", "close", "dates") if wide else
                  ("ret", "mkt", "vol", "close", "dates"), daily)
    # every estimation window full: its market returns are those of the wide block, a view
    est_view = wide and bool((n_est == length).all())
    est = _blocks(n, length, ("ret", "vol", "dates") if est_view else
                  ("ret", "mkt", "vol", "dates"), daily)
    ends = _blocks(n, 4, ("dates",), daily)
    margins = ((_blocks(n, length + 2 * MARGIN, ("mkt",), daily),
                _blocks(n, width + 2 * MARGIN, ("mkt",), daily)) if wide else None)
    last = np.empty(n, dtype=np.int64)
    names = ("ret", "mkt", "vol", "close", "dates")
    known: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}  # day numbers of shared dates
    for rows in _chunks(placed):
        flat = _Flat(placed[rows], names, daily, known)
        flat.run(out, rows, day0[rows] + window[0], np.zeros(len(flat.lengths), np.int64),
                 flat.lengths - 1)
        flat.run(est, rows, est_end[rows] - (length - 1), est_start[rows], est_end[rows])
        if margins is not None:
            whole = np.zeros(len(flat.lengths), np.int64), flat.lengths - 1
            flat.run(margins[0], rows, est_end[rows] - (length - 1) - MARGIN, *whole)
            flat.run(margins[1], rows, day0[rows] + window[0] - MARGIN, *whole)
        pos = np.stack([day0[rows], est_start[rows], est_end[rows], flat.lengths - 1], axis=1)
        flat.gather(ends, rows, pos, np.ones(pos.shape, dtype=bool))
        last[rows] = flat.lengths - 1
        del flat
    if margins is not None:  # the event block's market returns: a view of the wide block
        out["mkt"] = margins[1]["mkt"][:, MARGIN:MARGIN + width]
        if est_view:  # no short window: no NaN to the left of any estimation start
            est["mkt"] = margins[0]["mkt"][:, MARGIN:MARGIN + length]
    frame = _event_frame([e for e, _ in placed], as_dates(ends["dates"]), n_est)
    return Panel(events=frame, days=np.arange(window[0], window[1] + 1), ret=out["ret"],
                 mkt=out["mkt"], vol=out["vol"], close=out["close"], dates=out["dates"],
                 est_ret=est["ret"], est_mkt=est["mkt"], est_vol=est["vol"],
                 est_dates=est["dates"], skipped=skipped,
                 positions=np.column_stack([day0, est_start, est_end, last]),
                 est_mkt_wide=None if margins is None else margins[0]["mkt"],
                 mkt_wide=None if margins is None else margins[1]["mkt"])


def _iso(values: list[pd.Timestamp | None]) -> list[str | None]:
    return [None if v is None else str(v.date()) for v in values]


def _event_frame(events: list[Event], ends: np.ndarray, n_est: np.ndarray) -> pd.DataFrame:
    """One row per event (``Event.to_dict`` plus where its windows fell), built by column."""
    columns: dict[str, object] = {
        "event_id": [e.event_id for e in events], "ticker": [e.ticker for e in events],
        "tranche": [e.tranche for e in events], "group": [e.group for e in events],
        "session": _iso([e.session for e in events]), "date": _iso([e.date for e in events]),
        "listing_date": _iso([e.listing_date for e in events]),
        "listing_inferred": [e.listing_inferred for e in events],
        "day0": ends[:, 0], "estimation_start": ends[:, 1], "estimation_end": ends[:, 2],
        "estimation_days": n_est, "data_end": ends[:, 3]}
    extra = list(dict.fromkeys(k for e in events for k, _ in e.attrs if k not in _EVENT_COLUMNS))
    frame = pd.DataFrame(columns, columns=_EVENT_COLUMNS)
    for key in {k for e in events for k, _ in e.attrs} & _ATTR_OVERRIDES:  # as to_dict does
        frame[key] = [e.to_dict()[key] for e in events]
    if extra:
        attrs = pd.DataFrame([dict(e.attrs) for e in events], columns=extra)
        frame = pd.concat([frame, attrs], axis=1)
    frame.index = pd.Index(frame["event_id"].tolist(), name="event_id")
    return frame


_ATTR_OVERRIDES = {"ticker", "tranche", "group", "listing_inferred"}


_EVENT_COLUMNS = ["event_id", "ticker", "tranche", "group", "session", "date", "listing_date",
                  "listing_inferred", "day0", "estimation_start", "estimation_end",
                  "estimation_days", "data_end"]
