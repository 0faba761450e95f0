"""GARCH volatility around an event, built on ``arch``.

Models, all estimated by ``arch``: GARCH(1,1) (Bollerslev 1986), GJR-GARCH(1,1,1) (Glosten,
Jagannathan & Runkle 1993) and EGARCH(1,1) with Nelson's asymmetric term (Nelson 1991; arch's
``EGARCH(p=1, o=1, q=1)``), each with normal, Student-t or skew-t (Hansen 1994) errors, and a
constant mean or a market-model mean (arch's ``LS`` mean with the market return as regressor).
Candidates are ranked by BIC (Schwarz 1978).

Units: returns (decimals) are multiplied by ``scale`` (default 100, i.e. percent) before they
reach arch's optimiser, whose SLSQP search is badly conditioned with daily variances near 1e-4.
Parameters, sigmas and variances in every result are in those units: sigma in % per day, omega
and variances in %^2.

Event-induced volatility: the parameters are estimated on the pre-event window (returns up to day
-11 by default), then the event-window returns are *filtered* through the fixed pre-event
parameters. The filtered sigma2_t is the conditional variance given information up to t-1, the
one-step forecast that standardises the abnormal return of day t, and it reacts on day +1 to the
day-0 shock as the model says it should. The multi-step forecast from day -11 (arch's
``forecast(horizon=...)``, column ``sigma_ex_ante``) is reported beside it; it ignores everything
after day -11, which is why it is not used to standardise.

Short histories: a fit is *flagged* when arch's optimiser did not converge (``convergence_flag``
!= 0 or a ``ConvergenceWarning``), when persistence >= 0.999, when the ARCH (news) coefficients are
~0 (beta is then not identified), or when alpha or nu sits on its bound. Only unflagged fits
compete on BIC. When none is left, or the estimation window has fewer than ``min_obs`` returns,
the conditional variance falls back to EWMA (RiskMetrics 1996, lambda = 0.94) and the result says
why in ``fallback_reason``.

References
----------
Balaban, E. & Constantinou, C. (2006). Volatility clustering and event-induced volatility:
    evidence from UK mergers and acquisitions. European Journal of Finance 12(5).
    doi:10.1080/13518470500377430
Beaver, W. (1968). The information content of annual earnings announcements. Journal of
    Accounting Research 6, 67-92.
Boehmer, E., Musumeci, J. & Poulsen, A. (1991). Event-study methodology under conditions of
    event-induced variance. Journal of Financial Economics 30, 253-272.
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity. Journal of
    Econometrics 31, 307-327.
Fiorentini, G., Calzolari, G. & Panattoni, L. (1996). Analytic derivatives and the computation
    of GARCH estimates. Journal of Applied Econometrics 11, 399-417.
Glosten, L., Jagannathan, R. & Runkle, D. (1993). On the relation between the expected value and
    the volatility of the nominal excess return on stocks. Journal of Finance 48, 1779-1801.
Hansen, B. (1994). Autoregressive conditional density estimation. International Economic
    Review 35, 705-730.
J.P. Morgan/Reuters (1996). RiskMetrics - Technical Document, 4th edition.
Nelson, D. (1991). Conditional heteroskedasticity in asset returns: a new approach.
    Econometrica 59, 347-370.
Savickas, R. (2003). Event-induced volatility and tests for abnormal performance. Journal of
    Financial Research 26(2), 165-178.
Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464."""

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
