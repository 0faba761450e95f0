"""Running many GARCH fits: serially, in local processes or on a dask cluster, with progress."""

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
    """Progress bar on stderr; off unless enabled, and off when stderr is not a terminal (cron,
    pipes, logs)."""
    return tqdm(total=total, disable=None if enabled else True, file=sys.stderr,
                desc="GARCH fits", unit="fit")


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
