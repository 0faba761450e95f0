"""Independent tasks in two processes: the parent and one forked child share a queue.

Used for a report's figures (drawing and PNG-encoding eight figures takes about two seconds of a
one-ticker lock-up report) and the GARCH studies of ``--executor auto``: the process forks once,
and the child and the parent take the tasks one at a time from a shared queue (a pipe of task
numbers); the child sends its results back pickled. The results are those of a serial run (the same
code on the same data: ``tests/test_report_parallel.py`` compares the figure files byte for byte,
``tests/test_executors_identical.py`` the GARCH JSON). The fork is made only where it is safe and
useful: a POSIX ``fork``, at least two usable CPUs and no other Python thread in the process (a
thread holding a lock at the fork would leave it locked in the child). The child ignores Ctrl-C
(the parent handles it and kills the child), stops when its parent is gone, and reports the file
results through a pipe; if it fails for any reason the parent runs the child's tasks itself, so an
error is raised exactly as in a serial run."""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether forking a drawing process is safe and useful here (module docstring)."""
    return hasattr(os, "fork") and threading.active_count() == 1 and _cpus() >= 2


_RECORD = 4  # bytes per task number in the queue pipe


def _claim(queue: int) -> int | None:
    """The next unclaimed task number from the queue pipe (one read per record: the two
    processes never get the same one), or None when all are taken."""
    data = os.read(queue, _RECORD)
    return int.from_bytes(data, "little") if data else None


def _child(tasks: Sequence[Callable[[], Any]], queue: int, pipe: int, parent: int) -> None:
    """Run the tasks claimed from ``queue``, write {number: result} to ``pipe`` pickled, exit;
    never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        done = {}
        while (i := _claim(queue)) is not None:
            if os.getppid() != parent:  # the parent died: nobody wants these files
                raise SystemExit
            done[i] = tasks[i]()
        data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
        while data:
            data = data[os.write(pipe, data):]
        code = 0
    except BaseException:  # noqa: BLE001, S110 - the parent redoes this share and raises
        pass
    finally:
        os._exit(code)


def _read_all(pipe: int) -> bytes:
    chunks = []
    while chunk := os.read(pipe, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def run_tasks(tasks: Sequence[Callable[[], T]], parallel: bool = False) -> list[T]:
    """Each task's result, in order; with ``parallel`` and :func:`can_fork`, a forked child and
    the parent take the tasks from a shared queue, one at a time."""
    if not (parallel and 2 <= len(tasks) <= 1024 and can_fork()):
        return [task() for task in tasks]
    queue, fill = os.pipe()
    os.write(fill, b"".join(i.to_bytes(_RECORD, "little") for i in range(len(tasks))))
    os.close(fill)
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(tasks, queue, write, parent)
    os.close(write)
    results: dict[int, T] = {}
    try:
        while (i := _claim(queue)) is not None:
            results[i] = tasks[i]()
        data = _read_all(read)
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read)
        os.close(queue)
    got = pickle.loads(data) if os.waitstatus_to_exitcode(status) == 0 else {}  # noqa: S301 - our child
    results.update(got)
    return [results[i] if i in results else tasks[i]() for i in range(len(tasks))]
