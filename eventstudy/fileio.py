"""Atomic file writes: a temporary sibling, flushed, then renamed over the target, so a reader
sees the old file or the new one, never half of one. The new file keeps the mode (and, where
allowed, the group) of the file it replaces; a new file gets 0666 less the umask. A target that
exists but is not a regular file (a device such as /dev/full, a FIFO, a folder) is never
replaced."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path


def _temp_file(path: Path) -> Path:
    """A new empty file beside ``path``, created with mode 0666 less the umask."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")  # pragma: no cover


def _existing(path: Path) -> os.stat_result | None:
    """The target's status, None if it does not exist; refuses anything but a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "not a regular file, not replaced", str(path))
    return info


def _keep_mode(tmp: Path, old: os.stat_result | None) -> None:
    """Give ``tmp`` the permission bits (and group, if we may) of the file it replaces."""
    if old is None:
        return
    with suppress(OSError):
        os.chown(tmp, -1, old.st_gid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode))


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path`` and rename it over ``path``.

    An OSError (read-only folder, name too long, disk full) names ``path``, not the temporary."""
    old = _existing(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_file(path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        write(tmp)
        _keep_mode(tmp, old)
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
