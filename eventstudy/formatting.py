"""Number formatting shared by text, markdown and JSON output: percentages, fixed digits, finite
values or None (JSON has no NaN or Infinity)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def pct(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:+.{digits}f}%"


def num(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def finite_date(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)[:10]


def _clean(value: Any) -> Any:

    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return finite_or_none(value)


def finite_or_none(value: Any) -> Any:
    """JSON-safe scalar: numpy -> python, NaN/inf -> None, timestamps -> ISO date."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else str(stamp.date())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
