"""``StudyData``: the DataFrames a study found, immutable, with nothing that renders them.

Every renderer (``summary``, ``serialize``, ``tables``, ``export``, ``latex``, ``designs``,
``plots``) takes a ``StudyData``; the façade ``EventStudyResult`` (``results.result``) subclasses it
and adds the methods that call them, so the imports point one way: data <- renderers <- façade.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from eventstudy.calendar.listings import Listing
from eventstudy.engine.models import AbnormalReturns
from eventstudy.engine.windows import Window, window_label
from eventstudy.errors import BadInput
from eventstudy.quality.finding import findings_frame
from eventstudy.results.options import StudyOptions

Tables = tuple[pd.DataFrame, pd.DataFrame]


class Deferred:
    """A table not made yet: ``compute()`` makes it. Given to a ``LazyFrame`` field, it is made
    the first time the field is read; pickled (processes, dask, ``copy``), it is made first."""

    def __init__(self, compute: Callable[[], pd.DataFrame], rows: int | None = None) -> None:
        self.compute = compute
        self.rows = rows  # the rows of the frame it makes, when known (``n_events``)

    def __reduce__(self) -> tuple[Any, ...]:
        return _made, (self.compute(),)


def _made(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def deferred(compute: Callable[[], pd.DataFrame], rows: int | None = None) -> pd.DataFrame:
    """``Deferred(compute, rows)``, typed as the frame it stands for: what a ``LazyFrame``
    field of ``StudyData`` takes (``events``, ``abnormal_returns``, ``bhar``, ``volume``,
    ``parameters``, ``robustness``)."""
    return cast(pd.DataFrame, Deferred(compute, rows))


class LazyFrame:
    """A DataFrame field of a frozen dataclass that may be given a ``Deferred``: made on first
    read, then kept (the instance's own copy; an empty frame by default). ``dataclasses.replace``
    reads every field, so it makes the deferred tables of the result it copies. ``required``:
    the field has no default (the dataclass asks for it)."""

    def __init__(self, required: bool = False) -> None:
        self.required = required

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:  # the dataclass's default: a fresh empty frame per instance
            if self.required:
                raise AttributeError(self.name)  # no default
            return Deferred(pd.DataFrame)
        if self.name not in obj.__dict__:
            raise AttributeError(self.name)
        given = obj.__dict__[self.name]
        if not isinstance(given, Deferred):
            return given
        frame = given.compute()
        if obj.__dict__.get(self.name) is given:  # another thread may have made it first
            obj.__dict__[self.name] = frame
        return obj.__dict__[self.name]

    def __set__(self, obj: object, value: pd.DataFrame | Deferred) -> None:
        obj.__dict__[self.name] = value


class CrossSection:
    """The cross-event ``tests`` and ``caar`` of a study: given, or computed by ``compute`` the
    first time either is read (once; a study that only wants CARs and t does not pay for them).
    What a reader sees never changes after the first read."""

    def __init__(self, tests: pd.DataFrame | None = None, caar: pd.DataFrame | None = None,
                 compute: Callable[[], Tables] | None = None) -> None:
        self._tables: Tables | None = None if compute is not None else (
            pd.DataFrame() if tests is None else tests, pd.DataFrame() if caar is None else caar)
        self._compute = compute

    @property
    def computed(self) -> bool:
        """True once the tables exist (given, or computed by a first read)."""
        return self._tables is not None

    def tables(self) -> Tables:
        """(tests, caar), computed on the first call."""
        if self._tables is None:
            assert self._compute is not None
            self._tables = self._compute()
            self._compute = None
        return self._tables

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (processes, dask) with the deferred tables computed."""
        return {"_tables": self.tables(), "_compute": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


@dataclass(frozen=True, repr=False, eq=False)
class StudyData:
    """What a study found, immutable (fields cannot be reassigned: a changed result is
    ``dataclasses.replace(result, ...)``; the frames are the result's own, copy one before
    changing it).

    ``events``: one row per studied event (day 0, model, estimation window with the sessions
    ``estimation_excluded`` for other events of the firm, ``placeholders_dropped``, AR(0),
    volume ratio);
    ``abnormal_returns``: one row per event and day of the event window; ``car``: per event and
    window; ``bhar``: per event and window; ``volume``: per event and window; ``skipped``: events
    not studied and why; ``quality``: what the data-quality screens found per event (event,
    check, where, what was found, what was done; docs/quality.md). Across events (when there
    are several firm-days): ``caar`` per day and ``tests`` (every test statistic per window and
    group; see ``eventstudy.engine.significance``), both held by ``cross_section``.
    ``ar``: the engine's arrays (events x days) for further statistics. ``events`` has a plain
    RangeIndex and an ``event_id`` column (``events.set_index("event_id")`` to key by it); every
    window table carries ``start``/``end`` (ints) and ``window`` (ordered categorical label).
    ``tests`` and ``caar`` are computed the first time either is read (the CLI reads everything),
    and a study's ``events``, ``abnormal_returns``, ``bhar``, ``volume``, ``parameters`` and
    ``robustness`` the first time each is read (``LazyFrame``): reading ``car`` makes none.
    """

    kind: str
    options: StudyOptions
    if TYPE_CHECKING:  # DataFrames; at run time a LazyFrame field may be given a ``deferred``
        events: pd.DataFrame
        abnormal_returns: pd.DataFrame
    else:
        events: LazyFrame = LazyFrame(required=True)
        abnormal_returns: LazyFrame = LazyFrame(required=True)
    car: pd.DataFrame
    if TYPE_CHECKING:
        bhar: pd.DataFrame
        volume: pd.DataFrame
    else:
        bhar: LazyFrame = LazyFrame(required=True)
        volume: LazyFrame = LazyFrame(required=True)
    skipped: pd.DataFrame
    ar: AbnormalReturns
    cross_section: CrossSection = field(default_factory=CrossSection)  # tests and caar
    overlaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    listings: Mapping[str, Listing] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    if TYPE_CHECKING:  # fitted model per event
        parameters: pd.DataFrame = field(default_factory=pd.DataFrame)
    else:
        parameters: LazyFrame = LazyFrame()
    designs: Mapping[str, Any] = field(default_factory=dict)  # regressions, calendar time, ...
    setup: Mapping[str, Any] = field(default_factory=dict)  # estimation window as run (summary)
    # headline CARs under the study's model and a second one (``engine.robustness``)
    if TYPE_CHECKING:
        robustness: pd.DataFrame = field(default_factory=pd.DataFrame)
    else:
        robustness: LazyFrame = LazyFrame()
    quality: pd.DataFrame = field(default_factory=lambda: findings_frame([]))  # docs/quality.md

    def __post_init__(self) -> None:
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def tests(self) -> pd.DataFrame:
        """Every cross-event test per window and group (computed on first read)."""
        return self.cross_section.tables()[0]

    @property
    def caar(self) -> pd.DataFrame:
        """CAAR per day of the event window (computed on first read, with ``tests``)."""
        return self.cross_section.tables()[1]

    @property
    def n_events(self) -> int:
        """The number of studied events (tranches sharing a firm-day count separately)."""
        given = self.__dict__.get("events")
        if isinstance(given, Deferred) and given.rows is not None:
            return given.rows  # without making the events table
        return len(self.events)

    def event_ids(self) -> list[str]:
        """The studied events' ids, ``TICKER:TRANCHE:DAY0``, in the order of ``events``."""
        return [str(e) for e in self.events["event_id"].tolist()]

    def car_of(self, event_id: str, window: Window) -> pd.Series:
        """The ``car`` row of one event and window, e.g. ``car_of(event_id, (-1, 1))``."""
        rows = self.car[(self.car.event_id == event_id) & (self.car.window == window_label(window))]
        if rows.empty:
            raise BadInput(f"no CAR for {event_id} over {window_label(window)}")
        return rows.iloc[0]
