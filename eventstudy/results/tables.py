"""Every table of a study by name (``result.tables()``): the result's own frames in the order of
a paper, the designs' tables and each DataFrame in ``extras``; what ``export`` and ``latex``
write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from eventstudy.results.data import StudyData

# The result's own tables, in the order of a paper: name -> attribute of StudyData.
TABLE_ORDER = ("events", "parameters", "abnormal_returns", "car", "robustness", "caar", "tests",
               "bhar", "volume", "skipped", "quality", "overlaps")
PARAMETER_COLUMNS = ["event_id", "ticker", "tranche", "model", "alpha", "beta", "sigma",
                     "estimation_start", "estimation_end", "estimation_days"]


def parameters_table(result: StudyData) -> pd.DataFrame:
    """The fitted normal-return model per event: ``result.parameters`` (alpha, every slope,
    sigma, R^2, n), else alpha, beta, sigma and the estimation window from ``events``."""
    given = getattr(result, "parameters", None)
    if isinstance(given, pd.DataFrame) and not given.empty:
        return given
    ev = result.events
    return ev[[c for c in PARAMETER_COLUMNS if c in ev.columns]].copy()


def design_tables(designs: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The tables of ``result.designs``: a DataFrame as is, a regression's or calendar-time
    portfolio's coefficients (``table()``), and the portfolio's daily series."""
    out: dict[str, pd.DataFrame] = {}
    for name, value in designs.items():
        if isinstance(value, pd.DataFrame):
            out[name] = value
        elif hasattr(value, "table"):
            out[name] = value.table()
        portfolio = getattr(value, "portfolio", None)
        if isinstance(portfolio, pd.DataFrame):
            out[f"{name}_portfolio"] = portfolio.reset_index()
    return out


def study_tables(result: StudyData) -> dict[str, pd.DataFrame]:
    """Every non-empty table of a study, by name: the result's own tables in ``TABLE_ORDER``,
    the designs (regressions, calendar-time portfolio, bootstrap), then each DataFrame in
    ``extras`` (name without a ``_table`` suffix)."""
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        frame = parameters_table(result) if name == "parameters" else getattr(result, name, None)
        if isinstance(frame, pd.DataFrame) and not frame.empty:
            tables[name] = frame
    extra = {**design_tables(getattr(result, "designs", {}) or {}),
             **{k.removesuffix("_table"): v for k, v in result.extras.items()}}
    for name, value in extra.items():
        if isinstance(value, pd.DataFrame) and not value.empty and name not in tables:
            tables[name] = value
    return tables
