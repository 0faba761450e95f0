"""The user's files (calendar, ``--state``, ``--ics``): inter-process locks for their
read-modify-write (a ``filelock`` lock on ``FILE.lock`` beside the file) and their atomic
replacement. The lock is an OS lock (fcntl/msvcrt), so a
killed process releases it; the lock file itself is left in place (removing it would race)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eventstudy.errors import BadInput

LOCK_TIMEOUT = 60.0  # seconds


def _real(path: Path) -> Path:
    """``path``, or the file a symlink ``path`` points to (the link is the user's, kept)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def read_user_text(path: str | Path) -> str:
    """The UTF-8 text of a regular file; a FIFO, a device or a folder is refused at once
    (reading /dev/zero or a FIFO would never end). FileNotFoundError passes through."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise BadInput(f"{path}: not a regular file")
    return path.read_text(encoding="utf-8")


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: ``NAME.lock`` in the same folder."""
    return path.with_name(f"{path.name}.lock")


@contextmanager
def locked(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock of ``path`` (wait up to ``timeout`` s) for the block."""
    from filelock import FileLock, Timeout

    path = _real(Path(path))
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


def write_user_file(path: str | Path, data: bytes) -> None:
    """Atomically replace the user's file ``path`` (``--ics``, ``--state``, a calendar) keeping
    its mode; through a symlink, its target is replaced and the link kept. A target that is not
    a regular file (/dev/full, a FIFO) or cannot be written: one-line BadInput naming ``path``."""
    from eventstudy.fileio import atomic_write_bytes

    path = Path(path)
    try:
        atomic_write_bytes(_real(path), data)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
