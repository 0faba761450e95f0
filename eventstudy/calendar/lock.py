"""Inter-process locks for read-modify-write of a user's files (calendar, ``--state``): a
``filelock`` lock on ``FILE.lock`` beside the file. The lock is an OS lock (fcntl/msvcrt), so a
killed process releases it; the lock file itself is left in place (removing it would race)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eventstudy.errors import BadInput

LOCK_TIMEOUT = 60.0  # seconds


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: ``NAME.lock`` in the same folder."""
    return path.with_name(f"{path.name}.lock")


@contextmanager
def locked(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock of ``path`` (wait up to ``timeout`` s) for the block."""
    from filelock import FileLock, Timeout

    path = Path(path)
    target = lock_path(path)
    lock = FileLock(target, timeout=timeout, thread_local=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise BadInput(f"{path}: still locked by another process after {timeout:.0f} s "
                       f"({target})") from None
    except OSError as exc:
        raise BadInput(f"cannot lock {path}: {exc.strerror or exc} ({target})") from None
    try:
        yield
    finally:
        lock.release()
