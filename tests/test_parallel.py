"""``eventstudy.parallel.run``: results in input order, eventstudy errors returned per item,
bugs raised, no process-wide state changed in the caller, a dead worker one clear error
(issue 25)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventstudy.errors import BadInput
from eventstudy.parallel import check_workers, run, usable_cpus
from eventstudy.parallel.executors import pool_context


@pytest.mark.parametrize(("executor", "workers"), [("serial", None), ("local", 2)])
def test_results_in_order_errors_returned(executor: str, workers: int | None) -> None:
    got = run(check_workers, [3, 0, 1, -1, 5, 2], executor, workers=workers)
    assert [g for g in got if not isinstance(g, BaseException)] == [3, 1, 5, 2]
    assert [i for i, g in enumerate(got) if isinstance(g, BadInput)] == [1, 3]
    assert "workers must be a whole number" in str(got[1])


def test_a_bug_is_raised_not_returned() -> None:
    with pytest.raises(TypeError):
        run(abs, [1, "x"], "local", workers=2)


def test_the_global_start_method_is_untouched() -> None:
    before = multiprocessing.get_start_method(allow_none=True)
    assert run(abs, [-1, -2, -3], "local", workers=2) == [1, 2, 3]
    assert multiprocessing.get_start_method(allow_none=True) == before
    assert pool_context().get_start_method() in ("forkserver", "spawn")


def test_usable_cpus_follow_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    if hasattr(os, "sched_getaffinity") and not hasattr(os, "process_cpu_count"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
        assert usable_cpus() == 1
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    assert usable_cpus() == 3
    assert check_workers(None) == 3


def test_a_script_without_main_guard_gets_one_clear_error(tmp_path: Path) -> None:
    """Python imports a script's top level again in spawned workers: without
    ``if __name__ == "__main__":`` the pool breaks; the caller gets one sentence saying so."""
    script = tmp_path / "unguarded.py"
    script.write_text("from eventstudy.errors import EventStudyError\n"
                      "from eventstudy.parallel import run\n"
                      "try:\n"
                      "    run(abs, [-1, -2, -3], 'local', workers=2)\n"
                      "except EventStudyError as exc:\n"
                      "    print('CAUGHT', exc)\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, check=False)
    assert "CAUGHT a local worker process ended abruptly" in proc.stdout
    assert "__main__" in proc.stdout
