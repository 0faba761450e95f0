"""``--executor local`` uses the CPUs the process may use, or ``--workers N`` (issue 25)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from eventstudy.cli import main
from eventstudy.errors import BadInput
from eventstudy.parallel import executors
from eventstudy.parallel.executors import usable_cpus
from eventstudy.parallel.threads import alone, blas_single
from eventstudy.volatility.executors import GarchTask, fit_many


def test_usable_cpus_is_the_affinity_mask() -> None:
    expected = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else os.cpu_count())
    assert usable_cpus() == expected


class _Recorder:
    """Stands in for ProcessPoolExecutor: records max_workers and the start method, runs tasks
    in this process."""

    seen: list[int] = []
    methods: list[str] = []

    def __init__(self, max_workers: int, mp_context: Any) -> None:
        self.seen.append(max_workers)
        self.methods.append(mp_context.get_start_method())

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Any, *args: Any) -> Any:
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args))
        return future


def _tasks(n: int) -> list[GarchTask]:
    rng = np.random.default_rng(7)  # synthetic returns: only the scheduling is checked here
    return [GarchTask(rng.standard_t(6, 400) * 0.01, label=f"synthetic {i}") for i in range(n)]


@pytest.mark.parametrize(("workers", "cpus", "expected"),
                         [(None, 8, 5), (None, 3, 3), (4, 1, 4), (2, 8, 2), (None, 1, 1),
                          (1, 8, 1)])
def test_local_pool_size(monkeypatch: pytest.MonkeyPatch, workers: int | None, cpus: int,
                         expected: int) -> None:
    """GARCH fits run with one BLAS thread: 'local' is a pool of that many processes, never
    forked; 'serial' runs here when this process runs no other thread (else a pool of one)."""
    _Recorder.seen, _Recorder.methods = [], []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recorder)
    monkeypatch.setattr(executors, "usable_cpus", lambda: cpus)
    tasks = _tasks(5)
    here = blas_single() or alone()  # one process asked for: this one, if nothing can see a limit
    fits = fit_many(tasks, "local", progress=False, max_workers=workers)
    local = [] if expected == 1 and here else [expected]
    assert _Recorder.seen == local
    serial = fit_many(tasks, "serial", progress=False)
    assert _Recorder.seen == local + ([] if here else [1])
    assert set(_Recorder.methods) <= {"forkserver", "spawn"}
    assert [f.params for f in fits] == [f.params for f in serial]


@pytest.mark.parametrize(("workers", "cpus", "expected"),
                         [(None, 8, 5), (None, 3, 3), (4, 1, 4), (None, 1, None),
                          (1, 8, None)])
def test_run_pool_size(monkeypatch: pytest.MonkeyPatch, workers: int | None, cpus: int,
                       expected: int | None) -> None:
    """Tasks without a BLAS limit run in this process when one process is asked for."""
    _Recorder.seen = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recorder)
    monkeypatch.setattr(executors, "usable_cpus", lambda: cpus)
    assert executors.run(abs, [-1, 2, -3, 4, -5], "local", workers=workers) == [1, 2, 3, 4, 5]
    assert _Recorder.seen == ([] if expected is None else [expected])


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_bad_workers_are_bad_input(workers: Any) -> None:
    with pytest.raises(BadInput, match="workers"):
        fit_many(_tasks(1), "local", progress=False, max_workers=workers)


def test_cli_workers_zero_exits_2_with_one_line() -> None:
    res = CliRunner().invoke(main, ["batch", "--workers", "0", "--offline", "--no-report"])
    assert res.exit_code == 2
    assert "--workers" in res.output
    assert "Traceback" not in res.output


def test_serial_fits_run_here_when_the_blas_already_has_one_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to limit, nothing changed: no worker process, the same numbers."""
    from threadpoolctl import threadpool_limits

    _Recorder.seen = []
    tasks = _tasks(3)
    pooled = fit_many(tasks, "local", progress=False, max_workers=2)
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recorder)
    with threadpool_limits(1, user_api="blas"):  # as OPENBLAS_NUM_THREADS=1 would
        assert blas_single()
        here = fit_many(tasks, "serial", progress=False)
    assert _Recorder.seen == []
    assert [f.params for f in here] == [f.params for f in pooled]


def test_serial_fits_with_a_callers_thread_alive_run_in_one_worker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's own (non-daemon) thread would see a process-wide BLAS limit: the serial fits
    then run in a pool of one worker process, with the same numbers."""
    import threading

    tasks = _tasks(2)
    here = fit_many(tasks, "serial", progress=False)
    _Recorder.seen = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recorder)
    monkeypatch.setattr(executors, "blas_single", lambda: False)
    stop = threading.Event()
    user = threading.Thread(target=stop.wait, args=(30,))  # a user's worker thread
    user.start()
    try:
        assert not alone()
        pooled = fit_many(tasks, "serial", progress=False)
    finally:
        stop.set()
        user.join()
    assert _Recorder.seen == [1]
    assert [f.params for f in pooled] == [f.params for f in here]


def test_serial_fits_alone_restore_the_callers_blas_threads() -> None:
    """Alone, the serial fits limit the BLAS here for their duration only: the caller's BLAS
    thread counts are the same before and after."""
    from threadpoolctl import threadpool_info

    def blas() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]

    before = blas()
    fit_many(_tasks(1), "serial", progress=False)
    assert blas() == before
