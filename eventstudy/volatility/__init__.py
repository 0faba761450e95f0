"""Volatility around an event, built on ``arch``: models, selection, event tests, executors.

Models, all estimated by ``arch``: GARCH(1,1) (Bollerslev 1986), GJR-GARCH(1,1,1) (Glosten,
Jagannathan & Runkle 1993) and EGARCH(1,1) with Nelson's asymmetric term (Nelson 1991; arch's
``EGARCH(p=1, o=1, q=1)``), each with normal, Student-t or skew-t (Hansen 1994) errors, and a
constant mean or a market-model mean (arch's ``LS`` mean with the market return as regressor).
Candidates are ranked by BIC (Schwarz 1978).

One concept per module, composable as arch's pieces are: ``base`` (constants, units, the
:class:`~eventstudy.volatility.base.Sample` every fit reads, the EWMA), ``garch`` (``ModelSpec``:
process x distribution x mean; ``fit_garch``, the one route to arch's optimiser; ``GarchFit``),
``selection`` (``select_model``: BIC among unflagged fits), ``event`` (``volatility_study``:
estimate, filter, fall back; ``EventVolatility``), ``ratio`` (window variances and the
permutation tests of a variance change), ``dummy`` (the QLR test of a variance dummy and its arch
process ``EventDummyGARCH``), ``garch_bmp`` (the cross-event test), ``size`` (the tests' size on
no-event draws). ``executors`` runs many fits or studies.

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
why in ``fallback_reason``. A fit with beta at its bound (0 for GARCH/GJR) stays eligible but is
reported (``beta_at_bound``): tests whose chi2 limit assumes interior parameters are approximate.

Tests (all valid under fat tails): a permutation test of the standardised residual variance after
vs before day 0 (``ratio``), a robust quasi-LR test of a variance dummy (``dummy``; Francq &
Zakoian 2019) and, across events, the GARCH-standardised BMP test (``garch_bmp``; Boehmer et
al. 1991 on ARs standardised by the out-of-sample GARCH volatility, not Savickas 2003).

References
----------
Andrews, D. (2001). Testing when a parameter is on the boundary of the maintained hypothesis.
    Econometrica 69, 683-734.
Balaban, E. & Constantinou, C. (2006). Volatility clustering and event-induced volatility:
    evidence from UK mergers and acquisitions. European Journal of Finance 12(5).
    doi:10.1080/13518470500377430
Beaver, W. (1968). The information content of annual earnings announcements. Journal of
    Accounting Research 6, 67-92.
Boehmer, E., Musumeci, J. & Poulsen, A. (1991). Event-study methodology under conditions of
    event-induced variance. Journal of Financial Economics 30, 253-272.
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity. Journal of
    Econometrics 31, 307-327.
Bollerslev, T. & Wooldridge, J. (1992). Quasi-maximum likelihood estimation and inference in
    dynamic models with time-varying covariances. Econometric Reviews 11, 143-172.
Fiorentini, G., Calzolari, G. & Panattoni, L. (1996). Analytic derivatives and the computation
    of GARCH estimates. Journal of Applied Econometrics 11, 399-417.
Francq, C. & Zakoian, J.-M. (2019). GARCH Models, 2nd edition. Wiley (sec. 8.3, quasi-LR tests).
Glosten, L., Jagannathan, R. & Runkle, D. (1993). On the relation between the expected value and
    the volatility of the nominal excess return on stocks. Journal of Finance 48, 1779-1801.
Hansen, B. (1994). Autoregressive conditional density estimation. International Economic
    Review 35, 705-730.
J.P. Morgan/Reuters (1996). RiskMetrics - Technical Document, 4th edition.
Nelson, D. (1991). Conditional heteroskedasticity in asset returns: a new approach.
    Econometrica 59, 347-370.
Savickas, R. (2003). Event-induced volatility and tests for abnormal performance. Journal of
    Financial Research 26(2), 165-178 (the in-sample event-dummy test, not implemented here).
Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464.
"""

from __future__ import annotations

import sys


def _import_arch() -> None:
    """Import ``arch`` without matplotlib when matplotlib is not loaded yet.

    ``arch.univariate.base`` tries ``from matplotlib.figure import Figure`` at import time only to
    tell matplotlib < 3.10 apart for its own plots (0.3 s, a third of the import cost of a
    ``lockup --no-report``, which draws nothing). The import is made to fail while arch loads
    and works again afterwards, for arch's plots as for ours; arch then takes matplotlib for
    >= 3.10, which only decides how arch's own plots draw dates (``plot`` instead of the
    deprecated ``plot_date``; eventstudy draws its figures itself)."""
    if "arch.univariate.base" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # "import matplotlib" fails
    try:
        import arch.univariate.base  # noqa: F401
    finally:
        if sys.modules.get("matplotlib", False) is None:
            del sys.modules["matplotlib"]


_import_arch()
