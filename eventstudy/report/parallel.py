"""Drawing a report's figures in two processes: about half of them in a forked child.

Drawing and PNG-encoding eight figures takes about two seconds of a one-ticker lock-up report, and
each figure is independent of the others, so the command (``eventstudy lockup`` and the other study
commands; a library call draws serially unless asked) forks once: the child and the parent take the
figures one at a time from a shared queue (a pipe of task numbers) and draw them into the same
folder. The files are those a serial run writes (the same code draws them from the same data;
``tests/test_report_parallel.py`` compares the bytes). The fork is made only where it is safe and
useful: a POSIX ``fork``, at least two usable CPUs and no other Python thread in the process (a
thread holding a lock at the fork would leave it locked in the child). The child ignores Ctrl-C
(the parent handles it and kills the child), stops when its parent is gone, and reports the file
names through a pipe; if it fails for any reason the parent draws the child's figures itself, so an
error is raised exactly as in a serial run."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Sequence


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


def _child(tasks: Sequence[Callable[[], str]], queue: int, pipe: int, parent: int) -> None:
    """Run the tasks claimed from ``queue``, write {number: name} to ``pipe`` as JSON, exit;
    never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        done = {}
        while (i := _claim(queue)) is not None:
            if os.getppid() != parent:  # the parent died: nobody wants these files
                raise SystemExit
            done[i] = tasks[i]()
        data = json.dumps(done).encode()
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


def render(tasks: Sequence[Callable[[], str]], parallel: bool = False) -> list[str]:
    """Each task's result (a file name), in order; with ``parallel`` and :func:`can_fork`, a
    forked child and the parent take the tasks from a shared queue, one at a time."""
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
    names: dict[int, str] = {}
    try:
        while (i := _claim(queue)) is not None:
            names[i] = tasks[i]()
        data = _read_all(read)
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read)
        os.close(queue)
    got = json.loads(data) if os.waitstatus_to_exitcode(status) == 0 else {}
    for key, name in got.items():
        names[int(key)] = name
    return [names[i] if i in names else tasks[i]() for i in range(len(tasks))]
