"""Per-event tables: daily ARs with t, CARs over windows with their prediction-error standard
errors (MacKinlay 1997, eq. 7-15; Campbell, Lo & MacKinlay 1997, ch. 4) and BHARs. p-values are
two-sided Student t with the model's residual degrees of freedom; beside them, the sample-quantile
p-value of Gelbach, Helland & Klick (2013), valid for one event without normality
(``eventstudy.engine.quantile``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.engine.bhar import buy_and_hold
from eventstudy.engine.models import AbnormalReturns, event_ids
from eventstudy.engine.pvalues import t_two_sided
from eventstudy.engine.quantile import sq_test
from eventstudy.engine.windows import DEFAULT_CAR_WINDOWS, with_windows


def usable_windows(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...]
                   ) -> list[tuple[int, int]]:
    """The windows that fit inside the panel's event block."""
    lo, hi = ar.panel.days[0], ar.panel.days[-1]
    return [w for w in windows if lo <= w[0] <= w[1] <= hi]


def abnormal_return_table(ar: AbnormalReturns) -> pd.DataFrame:
    """Long table: one row per event and day with return, market return, AR and its t."""
    panel = ar.panel
    n, w = ar.ar.shape
    with np.errstate(invalid="ignore"):
        t = ar.ar_t
    return pd.DataFrame({
        "event_id": event_ids(panel.events.index, np.repeat(np.arange(n), w)),
        "day": np.tile(panel.days, n),
        "date": panel.dates.reshape(-1),
        "return": panel.ret.reshape(-1),
        "market_return": panel.mkt.reshape(-1),
        "ar": ar.ar.reshape(-1),
        "t": t.reshape(-1),
    })


CAR_COLUMNS = ("event_id", "start", "end", "car", "se", "t", "p", "p_sq", "sq_min_p", "sq_n")


def car_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...] = DEFAULT_CAR_WINDOWS
              ) -> pd.DataFrame:
    """Long table: one row per event and window with CAR, standard error, t and p-value, and the
    sample-quantile test (Gelbach, Helland & Klick 2013): ``p_sq``, its smallest attainable value
    ``sq_min_p`` and the number of estimation-window CARs it ranks against (``sq_n``)."""
    columns: dict[str, list[np.ndarray]] = {k: [] for k in CAR_COLUMNS[1:]}
    n = ar.panel.n_events
    usable = usable_windows(ar, windows)
    for window in usable:
        car, var = ar.car(window)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(var)
            t = car / se
        p_sq, min_p, n_sq = sq_test(car, ar.est_ar, window[1] - window[0] + 1)
        for name, value in zip(CAR_COLUMNS[1:], (
                np.full(n, window[0]), np.full(n, window[1]), car, se, t,
                t_two_sided(t, ar.dof), p_sq, min_p, n_sq), strict=True):
            columns[name].append(value)
    if not usable:
        return with_windows(pd.DataFrame(columns=list(CAR_COLUMNS)))
    ids = event_ids(ar.panel.events.index, np.tile(np.arange(n), len(usable)))
    return with_windows(pd.DataFrame({"event_id": ids,
                                      **{k: np.concatenate(v) for k, v in columns.items()}}))


def bhar_table(ar: AbnormalReturns, windows: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    """Per event and window: buy-and-hold abnormal return against the market,
    BHAR_i = prod(1 + R_it) - prod(1 + Rm_it) (Barber & Lyon 1997); NaN if a day is missing."""
    usable = usable_windows(ar, windows)
    columns = ["event_id", "start", "end", "return", "market_return", "bhar"]
    if not usable:
        return with_windows(pd.DataFrame(columns=columns))
    n = ar.panel.n_events
    parts = []
    for window in usable:
        cols = ar.cols(window)
        parts.append((np.full(n, window[0]), np.full(n, window[1]),
                      *buy_and_hold(ar.panel.ret[:, cols], ar.panel.mkt[:, cols])))
    start, end, stock, market, bhar = (np.concatenate(c) for c in zip(*parts, strict=True))
    return with_windows(pd.DataFrame({
        "event_id": event_ids(ar.panel.events.index, np.tile(np.arange(n), len(usable))),
        "start": start, "end": end, "return": stock, "market_return": market, "bhar": bhar}))
