"""On-disk parquet cache of price frames: read, validity check, atomic write.

One file per ticker, ``<cache dir>/prices/<ticker>.parquet``, with the frame's provenance (source,
adjustment, fetch time) in the parquet metadata. Writes go to a unique temporary file in the same
folder and are renamed over the target (``os.replace`` is atomic), so a reader sees the previous
good file or the new one, never a truncated one, and two concurrent writers cannot interleave.
Pages carry CRC checksums, so a file damaged on disk fails to read back rather than giving wrong
prices. A file that cannot be read back is reported, removed and treated as a miss."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path`` and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
