"""The headline CARs under a second normal-return model: the robustness rows of a study.

Lock-up and listing studies default to market-adjusted returns (no post-IPO intercept is
extrapolated; Field & Hanka 2001, Brav & Gompers 2003); the market model is reported beside them
as a robustness check, and a study run with the market model shows market-adjusted returns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Ints
from eventstudy.engine.models import MODEL_NAMES, AbnormalReturns, fit_model
from eventstudy.engine.pvalues import t_two_sided
from eventstudy.engine.windows import window_label

ROBUSTNESS_WINDOWS: tuple[tuple[int, int], ...] = ((-1, 1), (0, 20))


COLUMNS = ["model", "role", "firm_day", "window", "start", "end", "n", "car", "t", "p", "test"]


def other_model(model: str) -> str:
    """The model of the robustness rows: the market model, or market-adjusted returns for a
    study run with the market model."""
    return "market_adjusted" if model == "market" else "market"


def _firm_days(ar: AbnormalReturns) -> Ints:
    """Row numbers of the first event of each (ticker, day 0): tranches of one listing that share
    a day 0 are one observation."""
    first = ~ar.panel.events.duplicated(subset=["ticker", "day0"], keep="first").to_numpy()
    return np.flatnonzero(first)


def car_row(ar: AbnormalReturns, window: tuple[int, int], rows: Ints) -> dict[str, object]:
    """Mean CAR over ``window`` of ``rows`` and its t-test: one firm-day, CAR / prediction-error
    standard deviation with t(dof) (MacKinlay 1997); several, the cross-sectional t-test of the
    mean CAR with t(n - 1) (Brown & Warner 1985)."""
    car, var = ar.car(window)
    car, var, dof = car[rows], var[rows], ar.dof[rows]
    keep = np.isfinite(car) & np.isfinite(var)
    car, var, dof = car[keep], var[keep], dof[keep]
    n = len(car)
    nan = float("nan")
    if n == 0:
        return {"n": 0, "car": nan, "t": nan, "p": nan, "test": ""}
    if n == 1:
        t = float(car[0] / np.sqrt(var[0]))
        return {"n": 1, "car": float(car[0]), "t": t,
                "p": float(t_two_sided(t, dof[0])), "test": "prediction-error t"}
    sd = float(np.std(car, ddof=1))
    t = float(car.mean() / (sd / np.sqrt(n))) if sd > 0 else nan
    return {"n": n, "car": float(car.mean()), "t": t,
            "p": float(t_two_sided(t, n - 1)) if np.isfinite(t) else nan,
            "test": "cross-sectional t"}


PER_FIRM_DAY = 4  # up to this many firm-days, one row per firm-day (else only the pooled rows)


def robustness_table(ar: AbnormalReturns, model: str, min_estimation: int,
                     windows: tuple[tuple[int, int], ...] = ROBUSTNESS_WINDOWS) -> pd.DataFrame:
    """CAR of ``windows`` under the study's model (``ar``) and under ``other_model(model)``,
    fitted on the same estimation samples: one row per model, window and firm-day (first event
    id; up to ``PER_FIRM_DAY`` firm-days) and, with several firm-days, one pooled row ("all")."""
    days = ar.panel.days
    usable = [w for w in windows if days[0] <= w[0] and w[1] <= days[-1]]
    if not usable or ar.panel.n_events == 0 or model not in ("market", "market_adjusted"):
        return pd.DataFrame(columns=COLUMNS)
    alt = fit_model(ar.panel, other_model(model), min_estimation=min_estimation)
    rows = _firm_days(ar)
    ids = ar.panel.events.index
    samples = [(str(ids[r]), np.array([r])) for r in rows] if len(rows) <= PER_FIRM_DAY else []
    if len(rows) > 1:
        samples.append(("all", rows))
    out = []
    for fit, role in ((ar, "study"), (alt, "robustness")):
        name = MODEL_NAMES[other_model(model)] if role == "robustness" else MODEL_NAMES[model]
        for label, pick in samples:
            pick = np.array([r for r in pick if r not in fit.problems], dtype=np.int64)
            for window in usable:
                out.append({"model": name, "role": role, "firm_day": label,
                            "window": window_label(window), "start": window[0],
                            "end": window[1], **car_row(fit, window, pick)})
    return pd.DataFrame(out, columns=COLUMNS)
