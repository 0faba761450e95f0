"""Running many GARCH fits: serially, in local processes or on a dask cluster, with progress."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput, DataUnavailable, EventStudyError
from eventstudy.progress import Bar, progress_bar
from eventstudy.volatility.base import SCALE
from eventstudy.volatility.event import EventVolatility, volatility_study
from eventstudy.volatility.garch import GarchFit, fit_garch
from eventstudy.volatility.threads import alone, isolated, one_blas_thread


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
    """Run one task with one BLAS thread (the same numbers in every executor); eventstudy
    errors are returned instead of raised on request."""
    try:
        with one_blas_thread():
            return task.run()
    except EventStudyError as exc:
        if return_exceptions:
            return exc
        raise


def _bar(total: int, enabled: bool) -> Bar:
    """Progress bar on stderr; off unless enabled, and off when stderr is not a terminal (cron,
    pipes, logs)."""
    return progress_bar(total, "GARCH fits", "fit", enabled)


def _run_serial(tasks: list[Any], progress: bool, return_exceptions: bool) -> list[Any]:
    """In this process, or, when it runs other threads, in one fresh worker process: the
    one-BLAS-thread limit of each fit never reaches the caller's threads."""
    if not alone():
        return isolated(_run_serial, tasks, False, return_exceptions)
    results = []
    with _bar(len(tasks), progress) as bar:
        for task in tasks:
            results.append(_run_task(task, return_exceptions))
            bar.update()
    return results


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def check_workers(workers: int | None) -> int:
    """``workers`` (at least 1), or :func:`usable_cpus` for None."""
    if workers is None:
        return usable_cpus()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"workers must be a whole number >= 1, not {workers!r}")
    return workers


def _run_local(tasks: list[Any], progress: bool, return_exceptions: bool,
               max_workers: int) -> list[Any]:
    workers = min(max_workers, len(tasks))
    if workers <= 1:  # one process: no pool to start, the same results
        return _run_serial(tasks, progress, return_exceptions)
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_run_task, task, return_exceptions): i
                   for i, task in enumerate(tasks)}
        with _bar(len(tasks), progress) as bar:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return results


DASK_TIMEOUT = 10.0  # seconds to connect to a dask scheduler; $EVENTSTUDY_DASK_TIMEOUT
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _bad_address(executor: str, why: str) -> BadInput:
    return BadInput(f"bad --executor {executor[:80]!r}: {why} (use dask://HOST:PORT)")


def dask_address(executor: str) -> str:
    """'dask://HOST:PORT' (or 'dask://tcp://HOST:PORT', IPv6 as [::1]) -> 'tcp://HOST:PORT';
    a malformed address, a port outside 1-65535 or another scheme is ``BadInput``."""
    rest = executor.removeprefix("dask://")
    scheme, _, hostport = rest.rpartition("://")
    if scheme not in ("", "tcp", "tls"):
        raise _bad_address(executor, f"unsupported scheme {scheme[:20]!r} (tcp or tls)")
    host, _, port = hostport.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _bad_address(executor, "not an IPv6 address in [...]") from None
    elif not _HOST.fullmatch(host):
        raise _bad_address(executor, "expected a host name or address before ':PORT'")
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _bad_address(executor, "the port must be a number from 1 to 65535")
    return f"{scheme or 'tcp'}://{host}:{int(port)}"


def check_executor(executor: str) -> str:
    """``executor`` if it is 'serial', 'local' or a well-formed 'dask://HOST:PORT'."""
    if executor in ("serial", "local"):
        return executor
    if executor.startswith("dask://"):
        dask_address(executor)
        return executor
    raise BadInput(f"unknown executor {executor[:80]!r}: use 'serial', 'local' or "
                   "'dask://HOST:PORT'")


def _connect_timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    text = os.environ.get("EVENTSTUDY_DASK_TIMEOUT", "")
    try:
        value = float(text) if text else DASK_TIMEOUT
    except ValueError:
        raise BadInput(f"EVENTSTUDY_DASK_TIMEOUT={text[:40]!r} is not a number of seconds"
                       ) from None
    if not 0 < value <= 3600:
        raise BadInput("EVENTSTUDY_DASK_TIMEOUT must be between 0 and 3600 seconds")
    return value


async def _identity(address: str, timeout: float) -> Any:
    """Ask the scheduler at ``address`` who it is (the 'identity' op of every dask server)."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        comm.abort()


def _probe_scheduler(address: str, timeout: float) -> None:
    """Fail fast unless a dask scheduler answers at ``address`` within ``timeout`` seconds.

    ``distributed.Client`` waits forever on a peer that accepts and stays silent, and on a peer
    that answers garbage it fails with a MemoryError and a traceback from ``Client.__del__``;
    the probe runs in its own thread and event loop, bounded by ``asyncio.wait_for``."""
    def ask() -> Any:
        host, _, port = address.split("://")[1].rpartition(":")
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-probe") as pool:
        try:
            reply = pool.submit(ask).result()
        except TimeoutError:
            raise DataUnavailable(f"no answer from the dask scheduler at {address} within "
                                  f"{timeout:g} s") from None
        except OSError as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise DataUnavailable(f"cannot reach the dask scheduler at {address}: {first}"
                                  ) from None
        except Exception as exc:  # noqa: BLE001 - garbage: MemoryError, ValueError, msgpack...
            raise DataUnavailable(f"the server at {address} does not answer as a dask "
                                  f"scheduler ({type(exc).__name__})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise DataUnavailable(f"the server at {address} is not a dask scheduler")


def _run_dask(tasks: list[Any], progress: bool, return_exceptions: bool,
              executor: str, connect_timeout: float | None = None) -> list[Any]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    address = dask_address(executor)
    timeout = _connect_timeout(connect_timeout)
    _probe_scheduler(address, timeout)
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DataUnavailable(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    with client:  # closed on every path
        try:  # a scheduler without workers would hold the tasks forever
            client.wait_for_workers(1, timeout=timeout)
        except (TimeoutError, OSError):
            raise DataUnavailable(f"the dask scheduler at {address} has no workers (none "
                                  f"joined within {timeout:g} s)") from None
        futures = client.map(_run_task, tasks, return_exceptions=return_exceptions, pure=False)
        with _bar(len(tasks), progress) as bar:
            for _ in dask_completed(futures, loop=client.loop):
                bar.update()
        return list(client.gather(futures))


def fit_many(tasks: Iterable[GarchTask | StudyTask], executor: str = "local", *,
             progress: bool = True, max_workers: int | None = None,
             return_exceptions: bool = False, connect_timeout: float | None = None) -> list[Any]:
    """Run many fits or studies, results in task order, with a tqdm bar on stderr.

    ``executor``: ``'serial'``; ``'local'`` (a ProcessPoolExecutor with ``max_workers``
    processes, default the CPUs this process may use: :func:`usable_cpus`); or
    ``'dask://HOST:PORT'`` (a ``distributed.Client`` on that scheduler).
    ``return_exceptions`` puts eventstudy errors in the list instead of raising the first.
    ``connect_timeout`` bounds the connection to a dask scheduler (default
    $EVENTSTUDY_DASK_TIMEOUT or 10 s): no answer -> ``DataUnavailable``.
    """
    check_executor(executor)
    workers = check_workers(max_workers)
    work = list(tasks)
    if not work:
        return []
    if executor == "serial":
        return _run_serial(work, progress, return_exceptions)
    if executor == "local":
        return _run_local(work, progress, return_exceptions, workers)
    if executor.startswith("dask://"):
        return _run_dask(work, progress, return_exceptions, executor, connect_timeout)
    raise AssertionError(executor)  # check_executor let it through
