"""``EventStudyResult``: a study's DataFrames (``StudyData``) with the methods that render them:
``summary()`` for people, ``to_dict()`` for JSON, ``conf_int()``, tables, exports, plots and
designs. The renderers take the data; this façade imports them, nothing imports it back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eventstudy.engine.windows import Window
from eventstudy.results import designs, export, latex, plots, tables
from eventstudy.results.data import CrossSection, StudyData
from eventstudy.results.document import Summary
from eventstudy.results.inference import caar_conf_int
from eventstudy.results.options import PROGRESS_MIN, StudyOptions
from eventstudy.results.serialize import result_to_dict, result_to_json
from eventstudy.results.summary import study_summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PROGRESS_MIN", "CrossSection", "EventStudyResult", "StudyData", "StudyOptions"]


@dataclass(frozen=True, repr=False, eq=False)
class EventStudyResult(StudyData):
    """What a study found (``StudyData``: the DataFrames, immutable) with ``summary()`` to read,
    ``to_dict()`` for JSON, ``conf_int()``, ``tables()``/``export()``, ``plot_*`` and the
    designs (``regress``, ``calendar_time``, ``wild_bootstrap``)."""

    def summary(self) -> Summary:
        """The summary: ``str()`` of it is the text the CLI prints (a header: study, model,
        windows, N, market, data; then the events, CARs, tests and notes); ``as_html()``,
        ``as_latex()`` render it for a notebook or a paper."""
        return study_summary(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``--json`` as Python objects (missing values as None)."""
        return result_to_dict(self)

    def plot_car(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """ARs, CAR and its 95% band of ``event`` (id or position; default the first)."""
        return plots.plot_car(self, event, **kwargs)

    def plot_price_volume(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """Close and volume around ``event`` (id or position; default the first)."""
        return plots.plot_price_volume(self, event, **kwargs)

    def plot_caar(self, **kwargs: Any) -> Figure:
        """CAAR over the event window: the mean CAR across firm-days (one firm's events on
        several days included) with its Student t 95% band; see ``results.plots.plot_caar``."""
        return plots.plot_caar(self, **kwargs)

    def plot_volatility(self, event: str | int | None = None, **kwargs: Any) -> Figure:
        """Conditional volatility around ``event`` of the model in use (GARCH, or EWMA after the
        short-sample fallback; a study run with volatility)."""
        return plots.plot_volatility(self, event, **kwargs)

    def plot_volatility_diagnostics(self, event: str | int | None = None, **kwargs: Any
                                    ) -> Figure:
        """The volatility model's standardised residuals around ``event``: histogram, QQ plot,
        ACF of squares (``axes=`` three axes of your own)."""
        return plots.plot_volatility_diagnostics(self, event, **kwargs)

    def plot_calendar_time(self, **kwargs: Any) -> Figure:
        """The calendar-time portfolio of a study run with ``calendar_time=(0, K)``: cumulative
        excess return and firms held (``axes=`` two axes of your own). For a portfolio from
        ``result.calendar_time(...)``: ``plotting.events.plot_calendar_time(ct.portfolio,
        ct.alpha)``."""
        return plots.plot_calendar_time(self, **kwargs)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The ``1 - alpha`` confidence interval of the mean CAR (CAAR) and mean BHAR per window
        and group, from the cross-sectional t tests of ``tests`` (``t``, ``bhar_t``: Student t
        with n - 1 degrees of freedom over the n firm-days; Brown & Warner 1985, MacKinlay 1997
        sec. 4.4; Barber & Lyon 1997). See ``results.inference.caar_conf_int``."""
        return caar_conf_int(self.tests, alpha)

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text (no NaN: missing values are null)."""
        return result_to_json(self, indent)

    def characteristics(self, window: Window = (0, 1)) -> pd.DataFrame:
        """One row per event: CAR, abnormal volume and the listing's characteristics."""
        return designs.event_characteristics(self, window)

    def regress(self, formula: str, window: Window = (0, 1), cluster: str = "day0") -> Any:
        """Cross-sectional OLS, e.g. ``"car ~ runup + C(tranche)"`` (HC3, date clusters)."""
        return designs.regress(self, formula, window, cluster)

    def calendar_time(self, horizon: Window = (0, 20), **kwargs: Any) -> Any:
        """The calendar-time portfolio over days ``horizon`` (Newey-West intercept)."""
        return designs.calendar_time(self, horizon, **kwargs)

    def wild_bootstrap(self, windows: tuple[Window, ...] | None = None, n_boot: int = 9999,
                       seed: int = 0) -> pd.DataFrame:
        """Wild (Rademacher) bootstrap p-values of CAAR per window, seeded."""
        return designs.wild_bootstrap(self, windows, n_boot, seed)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every non-empty table of the study, by name (what ``export`` writes)."""
        return tables.study_tables(self)

    def to_excel(self, path: str | Path, *, force: bool = False) -> Path:
        """Every table as one Excel workbook, one sheet per table; an existing file is kept
        unless ``force``."""
        return export.to_excel(self, path, force=force)

    def to_latex(self, table: str = "tests") -> str:
        """One table (``tests``, ``car``, ``caar``, ``bhar``, ``volume``, ``events``,
        ``parameters``, ...) as a booktabs LaTeX table with significance stars."""
        return latex.latex_table(self, table)

    def export(self, folder: str | Path, formats: Sequence[str] = ("csv", "xlsx", "latex"), *,
               force: bool = False) -> list[Path]:
        """Every table into ``folder`` as CSV (always), ``tables.xlsx`` and ``<table>.tex``;
        files eventstudy did not write are never overwritten unless ``force``."""
        return export.export(self, folder, formats, force=force)

    def __repr__(self) -> str:
        return (f"EventStudyResult({self.kind}, {self.n_events} events, "
                f"{len(self.skipped)} skipped)")
