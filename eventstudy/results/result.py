"""``StudyOptions`` and ``EventStudyResult``: the DataFrames of a study, with ``summary()`` for
people and ``to_dict()`` for JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eventstudy.calendar.listings import (
    Listing,
)
from eventstudy.data.tickers import IPO_INDEX, normalise_ticker
from eventstudy.engine.models import MODEL_NAMES, AbnormalReturns
from eventstudy.engine.panel import (
    DEFAULT_WINDOW,
    STABILISATION,
)
from eventstudy.engine.windows import DEFAULT_CAR_WINDOWS, MIN_ESTIMATION, Window, window_label
from eventstudy.errors import BadInput
from eventstudy.formatting import json_text
from eventstudy.quality.finding import findings_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_BHAR_WINDOWS: tuple[Window, ...] = ((0, 20), (0, 60), (0, 120))


PROGRESS_MIN = 20  # show a progress bar from this many events on


RETURNS = ("trade_to_trade", "lumped")  # Maynes & Rumsey (1993)


@dataclass
class StudyOptions:
    """Everything that shapes a study besides its events and data."""

    model: str = "market"
    market: str | None = None
    window: Window = DEFAULT_WINDOW
    estimation: Window | None = None
    car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS
    min_estimation: int = MIN_ESTIMATION
    bhar_windows: tuple[Window, ...] = DEFAULT_BHAR_WINDOWS
    group_by: str | None = "group"
    factors: Any = None  # model "factors": a factor file path or a date-indexed DataFrame
    factor_cols: tuple[str, ...] = ()
    rf_col: str | None = None
    dimson: tuple[int, int] = (1, 1)  # model "dimson": lags, leads
    keep_other_events: bool = False  # keep other events of the firm in estimation windows
    keep_suspect: bool = False  # study events whose windows hold an impossible return (flagged)
    returns: str = "trade_to_trade"  # or "lumped": no-trade placeholder rows kept (return 0)
    ipo_index_months: int = 24  # market "ipo-index": listings of the last N months
    ipo_index_min: int = 5  # market "ipo-index": fewest constituents for a day's return
    # events with a listing date: estimation starts this many sessions after the listing day
    stabilisation: int = STABILISATION

    @property
    def panel_window(self) -> Window:
        """The event block the engine builds: the event window and every CAR/BHAR window."""
        spans = (self.window, *self.car_windows, *self.bhar_windows)
        return min(w[0] for w in spans), max(w[1] for w in spans)

    @property
    def event_span(self) -> Window:
        """The event window joined with the CAR windows (default [-20, +20]): the days around
        another event of the firm that are left out of an estimation window."""
        spans = (self.window, *self.car_windows)
        return min(w[0] for w in spans), max(w[1] for w in spans)

    def __post_init__(self) -> None:
        if self.model not in MODEL_NAMES:
            raise BadInput(f"unknown model {self.model!r} (use {', '.join(MODEL_NAMES)})")
        if self.market and self.market.strip().lower().replace("_", "-") == IPO_INDEX:
            self.market = IPO_INDEX
        elif self.market:
            self.market = normalise_ticker(self.market)
        if not (1 <= self.ipo_index_months <= 600 and 1 <= self.ipo_index_min <= 10_000):
            raise BadInput("the IPO index needs 1 to 600 months (--ipo-index-months) and at "
                           "least 1 constituent (--ipo-index-min)")
        for w in (self.window, *self.car_windows, *self.bhar_windows):
            if w[0] > w[1]:
                raise BadInput(f"window [{w[0]}, {w[1]}] ends before it starts")
        if self.window[0] > 0 or self.window[1] < 0:
            raise BadInput(f"event window [{self.window[0]}, {self.window[1]}] must contain "
                           "day 0")
        if self.returns not in RETURNS:
            raise BadInput(f"unknown returns {self.returns!r} (use {', '.join(RETURNS)})")
        if not 0 <= self.stabilisation <= 1000:
            raise BadInput("--stabilisation must be 0 to 1000 sessions after the listing day")
        if self.min_estimation < 3:
            raise BadInput("the minimum estimation window must be at least 3 sessions")
        if self.model == "factors":
            self._set_factors()

    def _set_factors(self) -> None:
        """Read the factor file; default columns: all but the risk-free rate ``RF``."""
        from eventstudy.data.factors import read_factors

        if self.factors is None:
            raise BadInput("--model factors needs a factor file (--factors FILE)")
        if not isinstance(self.factors, pd.DataFrame):
            self.factors = read_factors(self.factors)
        if self.rf_col is None and "RF" in self.factors.columns and not self.factor_cols:
            self.rf_col = "RF"
        if not self.factor_cols:
            self.factor_cols = tuple(c for c in self.factors.columns if c != self.rf_col)

    def regressors(self) -> Any:
        """The fitter of a model with its own regressors, or None for the built-in models."""
        from eventstudy.engine import regressors as reg

        if self.model == "factors":
            return reg.FactorModel(self.factors, list(self.factor_cols), self.rf_col)
        if self.model == "dimson":
            return reg.DimsonModel(*self.dimson)
        if self.model == "scholes_williams":
            return reg.ScholesWilliamsModel()
        return None


@dataclass
class EventStudyResult:
    """What a study found: DataFrames to analyse, ``summary()`` to read, ``to_dict()`` for JSON.

    ``events``: one row per studied event (day 0, model, estimation window with the sessions
    ``estimation_excluded`` for other events of the firm, ``placeholders_dropped``, AR(0),
    volume ratio);
    ``abnormal_returns``: one row per event and day of the event window; ``car``: per event and
    window; ``bhar``: per event and window; ``volume``: per event and window; ``skipped``: events
    not studied and why; ``quality``: what the data-quality screens found per event (event,
    check, where, what was found, what was done; docs/quality.md). Across events (when there
    are several firm-days): ``caar`` per day and
    ``tests`` (every test statistic per window and group; see ``eventstudy.significance``).
    ``ar``: the engine's arrays (events x days) for further statistics. ``events`` has a plain
    RangeIndex and an ``event_id`` column (``events.set_index("event_id")`` to key by it); every
    window table carries ``start``/``end`` (ints) and ``window`` (ordered categorical label).
    ``tests`` and ``caar`` are computed the first time either is read (a study that only wants
    CARs and t does not pay for the cross-event tests; the CLI reads everything).
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
    parameters: pd.DataFrame = field(default_factory=pd.DataFrame)  # fitted model per event
    designs: dict[str, Any] = field(default_factory=dict)  # regressions, calendar time, ...
    setup: dict[str, Any] = field(default_factory=dict)  # estimation window as run (summary)
    # headline CARs under the study's model and a second one (``engine.robustness``)
    robustness: pd.DataFrame = field(default_factory=pd.DataFrame)
    quality: pd.DataFrame = field(default_factory=lambda: findings_frame([]))  # docs/quality.md

    def defer_tests(self, compute: Callable[[], tuple[pd.DataFrame, pd.DataFrame]]) -> None:
        """``tests`` and ``caar`` become ``compute()``, run when either is first read."""
        self.__dict__.pop("tests", None)
        self.__dict__.pop("caar", None)
        self.__dict__["_deferred_tests"] = compute

    def __getattr__(self, name: str) -> Any:
        """Only called for attributes not set: the deferred ``tests`` and ``caar``."""
        compute = self.__dict__.get("_deferred_tests")
        if name in ("tests", "caar") and compute is not None:
            tests, caar = compute()
            self.__dict__.update(tests=tests, caar=caar)
            del self.__dict__["_deferred_tests"]
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (processes, dask) with the deferred tables computed."""
        _ = self.tests
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def n_events(self) -> int:
        """The number of studied events (tranches sharing a firm-day count separately)."""
        return len(self.events)

    def event_ids(self) -> list[str]:
        """The studied events' ids, ``TICKER:TRANCHE:DAY0``, in the order of ``events``."""
        return self.events["event_id"].tolist()

    def car_of(self, event_id: str, window: Window) -> pd.Series:
        """The ``car`` row of one event and window, e.g. ``car_of(event_id, (-1, 1))``."""
        rows = self.car[(self.car.event_id == event_id) & (self.car.window == window_label(window))]
        if rows.empty:
            raise BadInput(f"no CAR for {event_id} over {window_label(window)}")
        return rows.iloc[0]

    def summary(self) -> str:
        """The text the CLI prints: a header (study, model, windows, N, market, data), then the
        events, CARs, tests and notes."""
        from eventstudy.results.summary import summary_text

        return summary_text(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``--json`` as Python objects (missing values as None)."""
        from eventstudy.results.serialize import result_to_dict

        return result_to_dict(self)

    def plot_car(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """ARs, CAR and its 95% band of ``event`` (id or position; default the first)."""
        from eventstudy.results.plots import plot_car

        return plot_car(self, event, **kwargs)

    def plot_price_volume(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """Close and volume around ``event`` (id or position; default the first)."""
        from eventstudy.results.plots import plot_price_volume

        return plot_price_volume(self, event, **kwargs)

    def plot_caar(self, **kwargs: Any) -> Figure:
        """CAAR over the event window: the mean CAR across firm-days (one firm's events on
        several days included) with its Student t 95% band; see ``results.plots.plot_caar``."""
        from eventstudy.results.plots import plot_caar

        return plot_caar(self, **kwargs)

    def plot_volatility(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """GARCH conditional volatility around ``event`` (a study run with volatility)."""
        from eventstudy.results.plots import plot_volatility

        return plot_volatility(self, event, **kwargs)

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text (no NaN: missing values are null)."""
        if indent is None:
            return json.dumps(self.to_dict(), allow_nan=False)
        return json_text(self.to_dict(), indent)

    def characteristics(self, window: Window = (0, 1)) -> pd.DataFrame:
        """One row per event: CAR, abnormal volume and the listing's characteristics."""
        from eventstudy.results.designs import event_characteristics

        return event_characteristics(self, window)

    def regress(self, formula: str, window: Window = (0, 1), cluster: str = "day0") -> Any:
        """Cross-sectional OLS, e.g. ``"car ~ runup + C(tranche)"`` (HC3, date clusters)."""
        from eventstudy.results.designs import regress

        return regress(self, formula, window, cluster)

    def calendar_time(self, horizon: Window = (0, 20), **kwargs: Any) -> Any:
        """The calendar-time portfolio over days ``horizon`` (Newey-West intercept)."""
        from eventstudy.results.designs import calendar_time

        return calendar_time(self, horizon, **kwargs)

    def wild_bootstrap(self, windows: tuple[Window, ...] | None = None, n_boot: int = 9999,
                       seed: int = 0) -> pd.DataFrame:
        """Wild (Rademacher) bootstrap p-values of CAAR per window, seeded."""
        from eventstudy.results.designs import wild_bootstrap

        return wild_bootstrap(self, windows, n_boot, seed)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every non-empty table of the study, by name (what ``export`` writes)."""
        from eventstudy.results.export import study_tables

        return study_tables(self)

    def to_excel(self, path: str | Path, *, force: bool = False) -> Path:
        """Every table as one Excel workbook, one sheet per table; an existing file is kept
        unless ``force``."""
        from eventstudy.results.export import to_excel

        return to_excel(self, path, force=force)

    def to_latex(self, table: str = "tests") -> str:
        """One table (``tests``, ``car``, ``caar``, ``bhar``, ``volume``, ``events``,
        ``parameters``, ...) as a booktabs LaTeX table with significance stars."""
        from eventstudy.results.latex import latex_table

        return latex_table(self, table)

    def export(self, folder: str | Path, formats: Sequence[str] = ("csv", "xlsx", "latex"), *,
               force: bool = False) -> list[Path]:
        """Every table into ``folder`` as CSV (always), ``tables.xlsx`` and ``<table>.tex``;
        files eventstudy did not write are never overwritten unless ``force``."""
        from eventstudy.results.export import export

        return export(self, folder, formats, force=force)

    def __repr__(self) -> str:
        return (f"EventStudyResult({self.kind}, {self.n_events} events, "
                f"{len(self.skipped)} skipped)")
