"""Confidence intervals from a study's cross-event tests (``result.conf_int()``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput

# The tests that are Student t statistics of a mean (t = mean / (sd / sqrt(n)), t(n - 1)) and
# the measure whose mean they test: their interval is mean +/- t(1 - alpha/2, n - 1) x se.
T_TESTS = {"t": "CAR", "bhar_t": "BHAR"}
COLUMNS = ["group", "window", "start", "end", "measure", "test", "n", "df", "estimate", "se",
           "lower", "upper"]


def caar_conf_int(tests: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The ``1 - alpha`` interval of the mean CAR (CAAR) and mean BHAR per group and window.

    From the rows of ``tests`` whose test is a cross-sectional t (``t`` on CAR_i, Brown & Warner
    1985, MacKinlay 1997 sec. 4.4; ``bhar_t`` on BHAR_i, Barber & Lyon 1997): se = mean / t (the
    sd / sqrt(n) the test used), df = n - 1 over the n firm-days, bounds mean -/+
    t.ppf(1 - alpha/2, df) x se. NaN where the interval is undefined (one firm-day, or a mean of
    exactly 0 whose se the table does not carry). The other tests (Patell, BMP, rank and sign
    tests) test a hypothesis, they do not give an interval for the mean."""
    from scipy import stats  # loaded when an interval is asked for, not by every study

    if not 0 < alpha < 1:
        raise BadInput(f"alpha must be between 0 and 1, not {alpha}")
    if tests.empty or "test" not in tests:
        return pd.DataFrame(columns=COLUMNS)
    rows = tests[tests["test"].isin(list(T_TESTS))].reset_index(drop=True)
    estimate = rows["estimate"].to_numpy(float)
    n = rows["n"].to_numpy(float)
    df = n - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.abs(estimate / rows["statistic"].to_numpy(float))
        crit = np.where(df >= 1, stats.t.ppf(1 - alpha / 2, np.maximum(df, 1)), np.nan)
    return pd.DataFrame({
        "group": rows["group"], "window": rows["window"], "start": rows["start"],
        "end": rows["end"], "measure": rows["test"].map(T_TESTS), "test": rows["test"],
        "n": rows["n"], "df": df, "estimate": estimate, "se": se,
        "lower": estimate - crit * se, "upper": estimate + crit * se})
