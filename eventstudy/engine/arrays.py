"""The array types of the engine's signatures (``numpy.typing`` aliases): what a function takes
and returns, checked by ``mypy --strict``; nothing is converted at run time."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]  # returns, abnormal returns, variances, statistics, p-values
Bools = npt.NDArray[np.bool_]  # masks: which events, which days
Ints = npt.NDArray[np.intp]  # row positions and counts
Dates = npt.NDArray[np.datetime64]  # datetime64[ns] session dates, NaT where missing
Objects = npt.NDArray[np.object_]  # tickers, model keys
Strings = npt.NDArray[np.str_]  # tickers as str
Array = npt.NDArray[Any]  # any dtype (a value passed through unchanged)
