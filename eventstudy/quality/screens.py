"""Screens of one ticker's price series: the rows no stock trades at without a corporate action.

Run on the cleaned price frame (``close``, ``volume``, ``high``/``low`` when the source has
them), after dropping the placeholder rows (zero volume, unchanged close) as the engine does.
Each screen is general (no ticker is special); the thresholds are module constants, documented
in docs/quality.md:

* ``spike``: a one-day move of at least x``SPIKE`` (or 1/``SPIKE``) that the next session
  reverses (the price comes back to within a third of the move, in logs);
* ``split``: a one-day move of at least x``SPLIT_MIN`` matching a split or consolidation ratio
  (``RATIOS``, within ``RATIO_TOLERANCE``), that does not reverse: prices not adjusted for it;
* ``jump``: any other one-day move of at least x``JUMP`` (x``RESUMPTION_JUMP`` for the first
  trade after placeholder rows: news comes out during a suspension);
  a move (not a spike) whose day's high (a fall) or low (a rise) reaches past the geometric
  middle between the previous close and the close traded through the day: it is real (a crash,
  a surge) and not flagged; without high/low every such move is flagged;
* ``no_volume_jump``: a move of at least ``NO_VOLUME_MOVE`` on a row with volume 0 between two
  rows with volume (outside a half-day session): a price with no trade behind it;
* ``outside_range``: on a day with volume, a close more than ``RANGE_TOLERANCE`` above the day's
  high or below its low (a row whose high is below its low is not judged);
* ``half_day_volume``: volume 0 on a half-day session (an early close of the ticker's exchange
  in exchange-calendars: on HKEX 24/31 December and Lunar New Year's Eve, on NYSE the day after
  Thanksgiving...) while the close moved: the volume is unknown (missing in every volume
  statistic), the return is kept;
* ``suspension``: placeholder rows spanning more than ``MAX_DAY0_SHIFT_DAYS`` days (a
  suspension): no event day 0 moves across it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from eventstudy.calendar.sessions import is_early_close
from eventstudy.data.clean import placeholder_mask
from eventstudy.data.tickers import calendar_code
from eventstudy.errors import BadInput
from eventstudy.quality.finding import Finding

SPIKE = 2.0
SPLIT_MIN = 1.9
JUMP = 3.0
RESUMPTION_JUMP = 10.0  # the first trade after a suspension may gap this far (0241.HK 2014)
RATIOS = (2, 3, 4, 5, 8, 10, 15, 20, 25, 30, 40, 50, 100)
RATIO_TOLERANCE = 0.015
NO_VOLUME_MOVE = 0.10
RANGE_TOLERANCE = 0.05  # Yahoo's HK closes sit up to a few % outside the range of thin days
MAX_DAY0_SHIFT_DAYS = 14  # day 0 on a missing or placeholder row moves at most this many days

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass
class SeriesScreen:
    """What the screens found in one ticker's prices: ``suspect`` maps the date of each
    impossible return to its finding; ``unknown_volume`` holds the half-day rows whose volume
    is missing; ``findings`` every finding of the series (``event_id`` blank)."""

    ticker: str
    findings: list[Finding] = field(default_factory=list)
    suspect: dict[pd.Timestamp, Finding] = field(default_factory=dict)
    unknown_volume: list[pd.Timestamp] = field(default_factory=list)

    def suspect_within(self, start: pd.Timestamp, end: pd.Timestamp) -> list[Finding]:
        return [f for day, f in self.suspect.items() if start <= day <= end]

    def half_days_within(self, start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
        return [day for day in self.unknown_volume if start <= day <= end]


def _day(value: object) -> str:
    return str(pd.Timestamp(value).date())  # type: ignore[arg-type]


def is_half_day(day: pd.Timestamp, code: str | None) -> bool:
    """Whether ``day`` is a half-day session of the exchange-calendars exchange ``code``
    (``XHKG``, ``XNYS``...): one of its early closes (``calendar.sessions.early_close_index``).
    No exchange (``code`` None): no half-days."""
    return code is not None and is_early_close(code, day)


def exchange_code(ticker: str, code: str | None = None) -> str | None:
    """``code``, else the exchange-calendars code of ``ticker``'s exchange (None for a ticker
    that is not one)."""
    if code is not None:
        return code
    try:
        return calendar_code(ticker)
    except BadInput:
        return None


def _ratio_of(move: float) -> int | None:
    """The split or consolidation ratio that ``move`` (close / previous close) matches."""
    size = move if move >= 1 else 1.0 / move
    for n in RATIOS:
        if abs(size / n - 1.0) <= RATIO_TOLERANCE:
            return n
    return None


def screen_series(frame: pd.DataFrame, ticker: str, code: str | None = None) -> SeriesScreen:
    """Every screen of the module docstring on one cleaned price frame; ``code``: the
    exchange-calendars code whose early closes are the half-day sessions (default: the
    exchange of ``ticker``)."""
    out = SeriesScreen(ticker)
    if len(frame) < 2:
        return out
    close = frame["close"].to_numpy(float)
    volume = (frame["volume"].to_numpy(float) if "volume" in frame
              else np.full(len(frame), np.nan))
    dates = pd.DatetimeIndex(frame.index)
    holes = placeholder_mask(close, volume)
    _suspensions(out, dates, holes)
    _ranges(out, frame, dates, volume)
    keep = np.flatnonzero(~holes)
    _zero_volume(out, dates[keep], close[keep], volume[keep], exchange_code(ticker, code))
    high = frame["high"].to_numpy(float) if "high" in frame else np.full(len(close), np.nan)
    low = frame["low"].to_numpy(float) if "low" in frame else np.full(len(close), np.nan)
    resumed = np.r_[False, holes[:-1]][keep]  # the first trade after placeholder rows
    _moves(out, dates[keep], close[keep], high[keep], low[keep], resumed)
    return out


def _suspensions(out: SeriesScreen, dates: pd.DatetimeIndex, holes: Bools) -> None:
    edges = np.flatnonzero(np.diff(np.r_[0, holes.astype(np.int8), 0]))
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        resumed = dates[b] if b < len(dates) else None
        span = ((resumed - dates[a - 1]).days if resumed is not None
                else (dates[-1] - dates[a - 1]).days)
        if span > MAX_DAY0_SHIFT_DAYS:
            where = f"{_day(dates[a])}..{_day(dates[b - 1])}"
            found = (f"{b - a} placeholder rows (zero volume, unchanged close): suspended, "
                     + (f"trading resumed {_day(resumed)}" if resumed is not None
                        else "no trade after them in the data"))
            out.findings.append(Finding(out.ticker, "suspension", where, found,
                                        "no day 0 moves across it"))


def _ranges(out: SeriesScreen, frame: pd.DataFrame, dates: pd.DatetimeIndex,
            volume: Floats) -> None:
    if "high" not in frame or "low" not in frame:
        return
    close = frame["close"].to_numpy(float)
    high, low = frame["high"].to_numpy(float), frame["low"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad = ((volume > 0) & (low > 0) & (high >= low)  # an inverted range judges nothing
               & ((close > high * (1 + RANGE_TOLERANCE)) | (close < low * (1 - RANGE_TOLERANCE))))
    for i in np.flatnonzero(bad).tolist():
        day = dates[i]
        out.suspect[day] = Finding(
            out.ticker, "outside_range", _day(day),
            f"close {close[i]:.4g} outside the day's range [{low[i]:.4g}, {high[i]:.4g}]")


def _zero_volume(out: SeriesScreen, dates: pd.DatetimeIndex, close: Floats,
                 volume: Floats, code: str | None) -> None:
    move = np.r_[np.nan, close[1:] / close[:-1] - 1.0]
    for i in np.flatnonzero(volume == 0).tolist():
        day = dates[i]
        if is_half_day(day, code):
            out.unknown_volume.append(day)
            out.findings.append(Finding(
                out.ticker, "half_day_volume", _day(day),
                "volume 0 on a half-day session while the close moved: volume unknown",
                "volume missing, return kept"))
        elif (np.isfinite(move[i]) and abs(move[i]) >= NO_VOLUME_MOVE
              and _trades_around(volume, i)):
            out.suspect[day] = Finding(out.ticker, "no_volume_jump", _day(day),
                                       f"close {move[i]:+.1%} with volume 0 (no trade)")


def _trades_around(volume: Floats, i: int) -> bool:
    """Whether the rows before and after row ``i`` have volume: a zero among trading days (a
    series without volume, like an index's early history, is not judged)."""
    return bool(i > 0 and volume[i - 1] > 0 and (i + 1 == len(volume) or volume[i + 1] > 0))


def _traded_across(prev: float, ratio: float, high: float, low: float) -> bool:
    """Whether the day's range reaches back towards the previous close (past the geometric
    middle of the move): the move happened in trading, not in the price scale."""
    middle = prev * np.sqrt(ratio)
    return bool(high >= middle) if ratio < 1 else bool(low <= middle)


def _moves(out: SeriesScreen, dates: pd.DatetimeIndex, close: Floats, high: Floats,
           low: Floats, resumed: Bools) -> None:
    step = np.log(close[1:] / close[:-1])  # step[i]: the return on dates[i + 1]
    big = np.flatnonzero(np.abs(step) >= np.log(min(SPIKE, SPLIT_MIN)))
    done: set[int] = set()
    for i in big.tolist():
        if i in done:
            continue
        day, ratio = dates[i + 1], float(np.exp(step[i]))
        back = i + 1 < len(step) and abs(step[i] + step[i + 1]) <= abs(step[i]) / 3
        if back and abs(step[i]) >= np.log(SPIKE):
            found = (f"one-day x{ratio:.4g} that reverses the next session "
                     f"(x{np.exp(step[i + 1]):.4g} on {_day(dates[i + 2])})")
            for j in (i, i + 1):
                out.suspect[dates[j + 1]] = Finding(out.ticker, "spike", _day(day), found)
            done.add(i + 1)
        elif _traded_across(close[i], ratio, high[i + 1], low[i + 1]):
            continue  # a crash or a surge traded through the day: real
        elif (n := _ratio_of(ratio)) is not None:
            what = (f"{n}-for-1 split" if ratio < 1 else f"1-for-{n} consolidation")
            out.suspect[day] = Finding(
                out.ticker, "split", _day(day),
                f"close x{ratio:.4g}, the ratio of a {what}: not adjusted in the prices?")
        elif abs(step[i]) >= np.log(RESUMPTION_JUMP if resumed[i + 1] else JUMP):
            out.suspect[day] = Finding(out.ticker, "jump", _day(day),
                                       f"one-day return x{ratio:.4g} ({ratio - 1:+.0%})")
