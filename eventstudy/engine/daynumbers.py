"""Dates held compactly: int32 days since 1970-01-01 (``NO_DAY`` where missing) when every
date is a midnight, else datetime64[ns] as given; ``DateBlock`` holds a Panel's blocks of dates
so and reads them back as datetime64[ns] (half the bytes of datetime64 per cell)."""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

import numpy as np

NO_DAY = np.iinfo(np.int32).min  # a missing date among day numbers
_DAY_NS = 86_400 * 10**9


def day_numbers(dates: np.ndarray) -> np.ndarray:
    """``dates`` (datetime64[ns], NaT where missing) as int32 days since 1970-01-01
    (``NO_DAY`` where missing) when every date is a midnight within int32 range; else
    ``dates`` themselves (the exact form either way: ``as_dates`` gives them back)."""
    if dates.dtype == np.int32:
        return dates
    ns = np.asarray(dates, dtype="datetime64[ns]").view(np.int64)
    missing = ns == np.iinfo(np.int64).min
    days, rest = np.divmod(np.where(missing, 0, ns), _DAY_NS)
    if rest.any() or (days.size and (days.min() <= NO_DAY or days.max() > 2**31 - 1)):
        return np.asarray(dates, dtype="datetime64[ns]")
    out = days.astype(np.int32)
    out[missing] = NO_DAY
    return out


def as_dates(held: np.ndarray) -> np.ndarray:
    """The datetime64[ns] dates (NaT where missing) of ``day_numbers``' result."""
    if held.dtype != np.int32:
        return held
    ns = held.astype(np.int64) * _DAY_NS
    ns[held == NO_DAY] = np.iinfo(np.int64).min
    return ns.view("datetime64[ns]")


class DateBlock:
    """A Panel's block of dates: held as ``day_numbers`` (int32, half of datetime64), read as
    datetime64[ns] (NaT where missing), made anew on each read (hoist it out of loops)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.held = "_" + name

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:  # no class default: a required field of the dataclass
            raise AttributeError(self.held)
        held = obj.__dict__[self.held]
        out = as_dates(held)
        out.flags.writeable = False  # a write would not reach the panel: an error instead
        if out is not held:  # dataclasses.replace gives it back: no second conversion
            key = id(out)
            _MADE[key] = (weakref.ref(out, partial(_forget, key)), held)
        return out

    def __set__(self, obj: object, value: np.ndarray) -> None:
        made = _MADE.get(id(value))
        obj.__dict__[self.held] = (made[1] if made is not None and made[0]() is value
                                   else day_numbers(value))


_MADE: dict[int, tuple[weakref.ref[np.ndarray], np.ndarray]] = {}  # read dates -> held form


def _forget(key: int, _: object) -> None:
    _MADE.pop(key, None)


def midnights(ns: np.ndarray) -> np.ndarray | None:
    """int32 days since 1970 of int64 nanoseconds (no NaT) if every one is a midnight, else
    None. The days by a float division, kept only if days x 86,400 s is each value exactly."""
    days = np.rint(ns / float(_DAY_NS))
    if len(days) and not (days.min() > NO_DAY and days.max() < 2**31):
        return None
    whole = days.astype(np.int64)
    if not np.array_equal(whole * _DAY_NS, ns):
        return None
    return whole.astype(np.int32)
