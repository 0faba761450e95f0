"""Many GARCH fits or volatility studies on an executor (``eventstudy.parallel``): serially, in
local worker processes or on a dask cluster, each with one BLAS thread (the same numbers
everywhere), with progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.errors import EventStudyError
from eventstudy.parallel.dask import dask_address
from eventstudy.parallel.executors import check_executor, check_workers, run, usable_cpus
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


def _run_task(task: GarchTask | StudyTask) -> Any:
    return task.run()


def fit_many(tasks: Iterable[GarchTask | StudyTask], executor: str = "local", *,
             progress: bool = True, max_workers: int | None = None,
             return_exceptions: bool = False, connect_timeout: float | None = None) -> list[Any]:
    """Run many fits or studies, results in task order, with a tqdm bar on stderr.

    ``executor``: ``'serial'`` (one fresh worker process, so that the one-BLAS-thread limit
    never reaches the caller); ``'local'`` (``max_workers`` worker processes, default the CPUs
    this process may use: :func:`usable_cpus`); or ``'dask://HOST:PORT'`` (the workers of
    that dask scheduler); see ``eventstudy.parallel.run``.
    ``return_exceptions`` puts eventstudy errors in the list instead of raising the first.
    ``connect_timeout`` bounds the connection to a dask scheduler (default
    $EVENTSTUDY_DASK_TIMEOUT or 10 s): no answer -> ``DataUnavailable``.
    """
    results = run(_run_task, tasks, executor, workers=max_workers, progress=progress,
                  desc="GARCH fits", unit="fit", one_blas=True, connect_timeout=connect_timeout)
    if not return_exceptions:
        for result in results:
            if isinstance(result, EventStudyError):
                raise result
    return results


__all__ = ["GarchTask", "StudyTask", "check_executor", "check_workers", "dask_address",
           "fit_many", "usable_cpus"]
