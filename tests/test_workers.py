"""``--executor local`` uses the CPUs the process may use, or ``--workers N`` (issue 25)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from eventstudy.cli import main
from eventstudy.errors import BadInput
from eventstudy.volatility import executors
from eventstudy.volatility.executors import GarchTask, fit_many, usable_cpus


def test_usable_cpus_is_the_affinity_mask() -> None:
    expected = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else os.cpu_count())
    assert usable_cpus() == expected


class _Recorder:
    """Stands in for ProcessPoolExecutor: records max_workers, runs tasks in this process."""

    seen: list[int] = []

    def __init__(self, max_workers: int) -> None:
        self.seen.append(max_workers)

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
                         [(None, 8, 5), (None, 3, 3), (4, 1, 4), (2, 8, 2), (None, 1, None),
                          (1, 8, None)])
def test_local_pool_size(monkeypatch: pytest.MonkeyPatch, workers: int | None, cpus: int,
                         expected: int | None) -> None:
    _Recorder.seen = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recorder)
    monkeypatch.setattr(executors, "usable_cpus", lambda: cpus)
    tasks = _tasks(5)
    fits = fit_many(tasks, "local", progress=False, max_workers=workers)
    assert _Recorder.seen == ([] if expected is None else [expected])  # one process: serial
    serial = fit_many(tasks, "serial", progress=False)
    assert [f.params for f in fits] == [f.params for f in serial]


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_bad_workers_are_bad_input(workers: Any) -> None:
    with pytest.raises(BadInput, match="workers"):
        fit_many(_tasks(1), "local", progress=False, max_workers=workers)


def test_cli_workers_zero_exits_2_with_one_line() -> None:
    res = CliRunner().invoke(main, ["batch", "--workers", "0", "--offline", "--no-report"])
    assert res.exit_code == 2
    assert "--workers" in res.output
    assert "Traceback" not in res.output
