"""``run(fn, items, executor)``: one function over many items, serially, in local worker
processes or on a dask cluster, results in input order, eventstudy errors returned per item.

No process-wide state is touched in the caller: the local pool uses its own ``forkserver`` (or
``spawn``) context, never the global start method, and the BLAS thread limit of ``one_blas``
tasks is set only inside worker processes (``eventstudy.parallel.threads``)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

from eventstudy.errors import BadInput, EventStudyError
from eventstudy.parallel.threads import alone, blas_single, one_blas_thread
from eventstudy.progress import Bar, progress_bar

EXECUTORS = ("serial", "local")  # and 'dask://HOST:PORT'


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (``os.process_cpu_count`` on Python
    3.13+, ``os.sched_getaffinity`` on Linux), else every CPU of the machine."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return max(1, counter() or 1)
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


def check_executor(executor: str) -> str:
    """``executor`` if it is 'serial', 'local' or a well-formed 'dask://HOST:PORT'."""
    from eventstudy.parallel.dask import dask_address

    if executor in EXECUTORS:
        return executor
    if isinstance(executor, str) and executor.startswith("dask://"):
        dask_address(executor)
        return executor
    raise BadInput(f"unknown executor {str(executor)[:80]!r}: use 'serial', 'local' or "
                   "'dask://HOST:PORT'")


def in_parallel(executor: str, workers: int | None = None) -> bool:
    """Does ``executor`` with ``workers`` run items anywhere but in this process, one by one?"""
    check_executor(executor)
    return executor != "serial" and not (executor == "local" and check_workers(workers) == 1)


def call(fn: Callable[[Any], Any], item: Any, one_blas: bool = False) -> Any:
    """``fn(item)``, or the eventstudy error it raised (a batch skips what it cannot study);
    with one BLAS thread when ``one_blas`` (in a worker process, or in a caller that runs no
    other thread: ``threads.alone``)."""
    try:
        if one_blas:
            with one_blas_thread():
                return fn(item)
        return fn(item)
    except EventStudyError as exc:
        return exc


def _serial(fn: Callable[[Any], Any], items: list[Any], bar: Bar, one_blas: bool
            ) -> list[Any]:
    limit = one_blas and not blas_single()
    if limit and not alone():  # the limit is process-wide: a caller's threads would see it
        return _local(fn, items, bar, one_blas, 1)
    out = []
    for item in items:
        out.append(call(fn, item, one_blas=limit))
        bar.update()
    return out


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method of the local pool: forkserver where the OS has it, else spawn (never
    fork: a forked copy of a threaded caller can deadlock); the global default is untouched."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _local(fn: Callable[[Any], Any], items: list[Any], bar: Bar, one_blas: bool,
           workers: int) -> list[Any]:
    results: list[Any] = [None] * len(items)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                                 mp_context=pool_context()) as pool:
            futures = {pool.submit(call, fn, item, one_blas): i for i, item in enumerate(items)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    except BrokenProcessPool:
        raise EventStudyError(
            "a local worker process ended abruptly (out of memory, killed, or started from a "
            "script without 'if __name__ == \"__main__\":', which Python needs to start "
            "processes); run it again with executor 'serial'") from None
    return results


def run(fn: Callable[[Any], Any], items: Iterable[Any], executor: str = "serial", *,
        workers: int | None = None, progress: bool = False, desc: str = "tasks",
        unit: str = "task", one_blas: bool = False, connect_timeout: float | None = None
        ) -> list[Any]:
    """``[fn(item) for item in items]`` on ``executor``, in input order; an item whose call
    raised an eventstudy error (``BadInput``, ``DataUnavailable``, ``EstimationError``...) has
    that error in its place (other exceptions are bugs and propagate).

    ``executor``: ``'serial'`` (this process); ``'local'`` (``workers`` worker processes,
    default the CPUs this process may use, :func:`usable_cpus`); ``'dask://HOST:PORT'`` (the
    workers of that dask scheduler; ``connect_timeout`` seconds to answer, default
    $EVENTSTUDY_DASK_TIMEOUT or 10). ``fn`` and the items must pickle (a module-level
    function). ``one_blas`` runs each call with one BLAS thread, so that its numbers do not
    depend on where it runs; ``'serial'`` then runs them in one worker process, unless this
    process's BLAS already runs one thread (``OPENBLAS_NUM_THREADS=1``): then here. ``progress``:
    a bar on stderr when it is a terminal.
    """
    check_executor(executor)
    count = check_workers(workers)
    work = list(items)
    if not work:
        return []
    with progress_bar(len(work), desc, unit, progress) as bar:
        if executor == "serial" or (executor == "local" and min(count, len(work)) == 1):
            return _serial(fn, work, bar, one_blas)
        if executor == "local":
            return _local(fn, work, bar, one_blas, count)
        from eventstudy.parallel.dask import run_dask

        return run_dask(partial(call, fn, one_blas=one_blas), work, executor, bar,
                        connect_timeout)
