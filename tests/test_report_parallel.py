"""Report figures drawn in two processes (eventstudy.report.parallel, issue 12): the same files as
a serial run, every task done once, a failure in the child redone (and raised) by the parent,
no fork while another thread runs."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

from eventstudy.report import parallel
from eventstudy.report.writer import write_report
from eventstudy.studies.lockup import lockup_study


@pytest.fixture
def needs_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip without fork or a second CPU; threads earlier tests left idle in this process are
    not counted (the command itself never forks with a second thread: see the test below)."""
    if not (hasattr(os, "fork") and parallel._cpus() >= 2):
        pytest.skip("no fork or one CPU")
    monkeypatch.setattr(parallel, "can_fork", lambda: True)


@pytest.mark.usefixtures("needs_fork")
def test_tasks_are_shared_between_two_processes_in_order() -> None:
    def task(i: int):  # noqa: ANN202
        def run() -> str:
            time.sleep(0.05)  # long enough for the child to start and take some
            return f"{i}:{os.getpid()}"
        return run

    out = parallel.render([task(i) for i in range(12)], parallel=True)
    assert [o.split(":")[0] for o in out] == [str(i) for i in range(12)]
    pids = {o.split(":")[1] for o in out}
    assert str(os.getpid()) in pids and len(pids) == 2
    assert parallel.render([task(i) for i in range(3)]) == [f"{i}:{os.getpid()}"
                                                           for i in range(3)]


@pytest.mark.usefixtures("needs_fork")
def test_a_task_failing_in_the_child_is_redone_by_the_parent() -> None:
    parent = os.getpid()

    def fails_in_child(i: int):  # noqa: ANN202
        def run() -> str:
            if os.getpid() != parent:
                raise RuntimeError("child only")
            return str(i)
        return run

    assert parallel.render([fails_in_child(i) for i in range(6)], parallel=True) == \
        [str(i) for i in range(6)]

    def always(i: int):  # noqa: ANN202
        def run() -> str:
            if i == 3:
                raise ValueError("figure 3")
            return str(i)
        return run

    with pytest.raises(ValueError, match="figure 3"):
        parallel.render([always(i) for i in range(6)], parallel=True)


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not parallel.can_fork()
        assert parallel.render([lambda: str(os.getpid())] * 3, parallel=True) == \
            [str(os.getpid())] * 3
    finally:
        stop.set()
        thread.join()


@pytest.mark.usefixtures("needs_fork")
def test_parallel_report_has_the_serial_files_byte_for_byte(tmp_path: Path) -> None:
    result = lockup_study(["0020.HK"], offline=True, progress=False)
    serial = write_report(result, tmp_path / "serial")
    forked = write_report(result, tmp_path / "forked", parallel=True)
    names = sorted(p.name for p in serial.iterdir())
    assert names == sorted(p.name for p in forked.iterdir())
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == 8  # 2 firm-days x (price/volume, AR/CAR, GARCH volatility, diagnostics)
    for name in pngs + ["report.html", "report.md", "car.csv"]:
        assert unclocked(serial / name) == unclocked(forked / name), name


def unclocked(path: Path) -> bytes:
    """The file's bytes without the minute it was written (two writes may straddle a minute)."""
    return re.sub(rb"written by eventstudy (\S+) on [0-9-]+ [0-9:]+ UTC", rb"written by \1",
                  path.read_bytes())
