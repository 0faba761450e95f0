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

import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from eventstudy.errors import BadInput, EventStudyError
from eventstudy.volatility.base import SCALE
from eventstudy.volatility.event import EventVolatility, volatility_study
from eventstudy.volatility.garch import GarchFit, fit_garch


@dataclass
class GarchTask:
    """One :func:`fit_garch` call for :func:`fit_many`."""

    returns: pd.Series | np.ndarray
    vol: str = "GARCH"
    dist: str = "normal"
    market: pd.Series | np.ndarray | None = None
    scale: float = SCALE
    backcast: float | str = "arch"
    label: str = ""

    def run(self) -> GarchFit:
        """Fit it."""
        return fit_garch(self.returns, vol=self.vol, dist=self.dist, market=self.market,
                         scale=self.scale, backcast=self.backcast)


@dataclass
class StudyTask:
    """One :func:`volatility_study` call for :func:`fit_many`; ``options`` are its keywords."""

    returns: pd.Series | np.ndarray
    event_date: Any
    market: pd.Series | np.ndarray | None = None
    label: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def run(self) -> EventVolatility:
        """Run the study."""
        return volatility_study(self.returns, self.event_date, self.market, label=self.label,
                                **self.options)


def _run_task(task: GarchTask | StudyTask, return_exceptions: bool = False) -> Any:
    """Run one task; eventstudy errors are returned instead of raised on request."""
    try:
        return task.run()
    except EventStudyError as exc:
        if return_exceptions:
            return exc
        raise


def _bar(total: int, enabled: bool) -> tqdm:
    """Progress bar on stderr."""
    return tqdm(total=total, disable=not enabled, file=sys.stderr, desc="GARCH fits",
                unit="fit")


def _run_serial(tasks: list[Any], progress: bool, return_exceptions: bool) -> list[Any]:
    results = []
    with _bar(len(tasks), progress) as bar:
        for task in tasks:
            results.append(_run_task(task, return_exceptions))
            bar.update()
    return results


def _run_local(tasks: list[Any], progress: bool, return_exceptions: bool,
               max_workers: int) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=max(1, min(max_workers, len(tasks)))) as pool:
        futures = {pool.submit(_run_task, task, return_exceptions): i
                   for i, task in enumerate(tasks)}
        with _bar(len(tasks), progress) as bar:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return results


def _dask_address(executor: str) -> str:
    """'dask://HOST:PORT' -> 'tcp://HOST:PORT' ('dask://inproc://..' etc. kept as given)."""
    rest = executor[len("dask://"):]
    if not rest:
        raise BadInput("give the dask scheduler as dask://HOST:PORT")
    return rest if "://" in rest else f"tcp://{rest}"


def _run_dask(tasks: list[Any], progress: bool, return_exceptions: bool,
              executor: str) -> list[Any]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    address = _dask_address(executor)
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise BadInput(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    with client:
        futures = client.map(_run_task, tasks, return_exceptions=return_exceptions, pure=False)
        with _bar(len(tasks), progress) as bar:
            for _ in dask_completed(futures, loop=client.loop):
                bar.update()
        return list(client.gather(futures))


def fit_many(tasks: Iterable[GarchTask | StudyTask], executor: str = "local", *,
             progress: bool = True, max_workers: int = 2,
             return_exceptions: bool = False) -> list[Any]:
    """Run many fits or studies, results in task order, with a tqdm bar on stderr.

    ``executor``: ``'serial'``; ``'local'`` (a ProcessPoolExecutor with ``max_workers``
    processes); or ``'dask://HOST:PORT'`` (a ``distributed.Client`` on that scheduler).
    ``return_exceptions`` puts eventstudy errors in the list instead of raising the first.
    """
    work = list(tasks)
    if not work:
        return []
    if executor == "serial":
        return _run_serial(work, progress, return_exceptions)
    if executor == "local":
        return _run_local(work, progress, return_exceptions, max_workers)
    if executor.startswith("dask://"):
        return _run_dask(work, progress, return_exceptions, executor)
    raise BadInput(f"unknown executor {executor!r}: use 'serial', 'local' or 'dask://HOST:PORT'")
