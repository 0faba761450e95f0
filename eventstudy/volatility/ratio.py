"""Event-window versus pre-event conditional variance: window variances and their ratio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy.engine.windows import Window
from eventstudy.volatility.base import _days, _json
from eventstudy.volatility.dummy import VarianceDummyTest


@dataclass
class WindowVariance:
    """Realised vs forecast variance over a window of event days (scaled units, squared)."""

    name: str
    days: Window
    n: int
    realised: float
    filtered: float
    ex_ante: float | None
    mean_sigma: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _json(self.__dict__)


@dataclass
class VolatilityRatio:
    """Mean conditional sigma after vs before day 0, and tests of a variance change.

    F test: mean z^2 over ``post`` / mean z^2 over ``pre`` for the standardised residuals
    z_t = e_t / sigma_t (sigma filtered with fixed pre-event parameters). Under no change in the
    variance beyond what the model predicts, the z_t are i.i.d. with unit variance and the ratio
    is F(n_post, n_pre) for Gaussian z (a residual-variance ratio in the spirit of Beaver 1968;
    approximate for t errors); the p-value is two-sided. The LR test of a variance dummy
    (Balaban & Constantinou 2006 style) is in ``dummy_test`` when it was run.
    """

    pre: Window
    post: Window
    mean_sigma_pre: float
    mean_sigma_post: float
    f_stat: float
    df_post: int
    df_pre: int
    f_pvalue: float
    dummy_test: VarianceDummyTest | None = None
    note: str | None = None

    @property
    def ratio(self) -> float:
        """mean sigma over ``post`` / mean sigma over ``pre``."""
        return self.mean_sigma_post / self.mean_sigma_pre

    def summary(self) -> str:
        """A few lines."""
        lines = [
            f"mean sigma {_days(self.pre)} = {self.mean_sigma_pre:.3f}, {_days(self.post)} = "
            f"{self.mean_sigma_post:.3f}: ratio {self.ratio:.3f}",
            f"F test of standardised residual variance {_days(self.post)} vs {_days(self.pre)}: "
            f"F({self.df_post},{self.df_pre}) = {self.f_stat:.3f}, p = {self.f_pvalue:.4f} "
            "(two-sided)",
        ]
        if self.dummy_test is not None:
            lines.append(self.dummy_test.summary())
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = {k: v for k, v in self.__dict__.items() if k != "dummy_test"}
        out["ratio"] = self.ratio
        out["dummy_test"] = self.dummy_test.to_dict() if self.dummy_test else None
        return _json(out)


def _window_variance(path: pd.DataFrame, name: str, days: Window) -> WindowVariance:
    """Realised mean e^2 vs mean filtered and ex-ante sigma2 over ``days``."""
    rows = path[(path["day"] >= days[0]) & (path["day"] <= days[1])]
    ex_ante = rows["sigma_ex_ante"].dropna()
    return WindowVariance(
        name=name, days=days, n=len(rows), realised=float(np.mean(rows["resid"] ** 2)),
        filtered=float(np.mean(rows["sigma"] ** 2)),
        ex_ante=float(np.mean(ex_ante**2)) if len(ex_ante) else None,
        mean_sigma=float(rows["sigma"].mean()))


def _variance_ratio(path: pd.DataFrame, pre: Window, post: Window) -> VolatilityRatio:
    """Mean sigma ratio and the F test on standardised residuals."""
    before = path[(path["day"] >= pre[0]) & (path["day"] <= pre[1])]
    after = path[(path["day"] >= post[0]) & (path["day"] <= post[1])]
    f_stat = float(np.mean(after["z"] ** 2) / np.mean(before["z"] ** 2))
    df_post, df_pre = len(after), len(before)
    tail = min(stats.f.cdf(f_stat, df_post, df_pre), stats.f.sf(f_stat, df_post, df_pre))
    return VolatilityRatio(pre, post, float(before["sigma"].mean()), float(after["sigma"].mean()),
                           f_stat, df_post, df_pre, float(min(1.0, 2.0 * tail)))
