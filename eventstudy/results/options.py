"""``StudyOptions``: everything that shapes a study besides its events and data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from eventstudy.data.tickers import IPO_INDEX, normalise_ticker
from eventstudy.engine.models import MODEL_NAMES
from eventstudy.engine.panel import DEFAULT_WINDOW, STABILISATION
from eventstudy.engine.windows import DEFAULT_CAR_WINDOWS, MIN_ESTIMATION, Window
from eventstudy.errors import BadInput

DEFAULT_BHAR_WINDOWS: tuple[Window, ...] = ((0, 20), (0, 60), (0, 120))


PROGRESS_MIN = 20  # show a progress bar from this many events on


RETURNS = ("trade_to_trade", "lumped")  # Maynes & Rumsey (1993)


@dataclass(frozen=True)
class StudyOptions:
    """Everything that shapes a study besides its events and data (immutable: a different study
    is ``dataclasses.replace(options, ...)``)."""

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
            object.__setattr__(self, "market", IPO_INDEX)
        elif self.market:
            object.__setattr__(self, "market", normalise_ticker(self.market))
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
        factors = self.factors
        if not isinstance(factors, pd.DataFrame):
            factors = read_factors(factors)
            object.__setattr__(self, "factors", factors)
        if self.rf_col is None and "RF" in factors.columns and not self.factor_cols:
            object.__setattr__(self, "rf_col", "RF")
        if not self.factor_cols:
            cols = tuple(c for c in factors.columns if c != self.rf_col)
            object.__setattr__(self, "factor_cols", cols)

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
