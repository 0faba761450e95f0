"""The columnar cache of a folder of price files (``--data DIR``): one ``.npz`` file per folder in
the cache dir (``<cache dir>/folders/<hash of the folder's path>.npz``), never in the folder.

It holds each file's clean columns (``columns.PriceColumns``) keyed by the file's name, size,
mtime_ns and ctime_ns: an entry is used only while the file still has all four, so a changed,
added or removed file is read again (and the cache rewritten). A file modified less than
``RACY_NS`` before it was read is not cached (a later change within the same timestamp tick
would go unseen; git's "racy clean" rule). The file is written atomically
(``eventstudy.fileio``) with a SHA-256 of every array; one that fails to load or to verify is
ignored (and replaced by the next write), so a corrupt cache costs a re-read, never a number."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from eventstudy.data.columns import ORDER, PriceColumns
from eventstudy.fileio import atomic_write

log = logging.getLogger(__name__)

RACY_NS = 2 * 10**9

VERSION = 2


@dataclass(frozen=True)
class Stamp:
    """What identifies a file's content for the cache: size, mtime_ns, ctime_ns."""

    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def settled(self, now_ns: int) -> bool:
        """Old enough that a change now would change the stamp (see the module docstring)."""
        return max(self.mtime_ns, self.ctime_ns) < now_ns - RACY_NS


Entries = dict[str, tuple[Stamp, PriceColumns]]


class FolderCache:
    """The cache file of ``folder`` under ``root`` (the price cache's folder)."""

    def __init__(self, root: Path, folder: Path):
        self.folder = Path(os.path.abspath(folder))
        name = hashlib.sha256(str(self.folder).encode()).hexdigest()[:32]
        self.path = Path(os.path.abspath(root)) / "folders" / f"{name}.npz"

    def usable(self) -> bool:
        """False when the cache file would land inside the user's folder (never written)."""
        real = Path(os.path.realpath(self.path))
        return not (self.path.is_relative_to(self.folder)
                    or real.is_relative_to(os.path.realpath(self.folder)))

    def read(self) -> Entries:
        """The cached entries ({} if none, or if the file is unreadable or fails its check)."""
        if not self.usable():
            return {}
        try:
            with open(self.path, "rb") as handle:  # one open: a rename meanwhile is harmless
                return _unpack(handle, self.folder)
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("folder cache %s is unreadable or corrupt (%s): ignored, reading the "
                        "files", self.path, exc)
            return {}

    def write(self, entries: Entries) -> None:
        """Store ``entries`` atomically (an OSError is the caller's: the cache is optional)."""
        if not self.usable():
            return
        arrays = _pack(entries, self.folder)

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, allow_pickle=False, **arrays)

        atomic_write(self.path, save)


def now_ns() -> int:
    return time.time_ns()


def _digest(arrays: dict[str, np.ndarray]) -> np.ndarray:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        digest.update(f"|{key}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return np.frombuffer(digest.digest(), dtype=np.uint8)


def _pack(entries: Entries, folder: Path) -> dict[str, np.ndarray]:
    names = sorted(entries)
    stamps = [entries[n][0] for n in names]
    cols = [entries[n][1] for n in names]
    arrays: dict[str, np.ndarray] = {
        "meta": np.array([f"v{VERSION}", str(folder)]),
        "names": np.array(names, dtype=str),
        "stamps": np.array([(s.size, s.mtime_ns, s.ctime_ns) for s in stamps],
                           dtype=np.int64).reshape(-1, 3),
        "units": np.array([c.unit for c in cols], dtype=str),
        "adjustments": np.array([c.adjustment for c in cols], dtype=str),
        "freqs": np.array([c.freq or "" for c in cols], dtype=str),
        "rows": np.array([len(c) for c in cols], dtype=np.int64),
        "dates": _concat([c.dates for c in cols], np.int64),
    }
    for column in ORDER:
        arrays[f"has_{column}"] = np.array([column in c.columns for c in cols], dtype=bool)
        arrays[column] = _concat([c.columns[column] for c in cols if column in c.columns],
                                 np.float64)
    arrays["digest"] = _digest(arrays)
    return arrays


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


def _unpack(handle: BinaryIO, folder: Path) -> Entries:
    with np.load(handle, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    digest = arrays.pop("digest")
    if not np.array_equal(digest, _digest(arrays)):
        raise ValueError("checksum mismatch")
    if list(arrays["meta"]) != [f"v{VERSION}", str(folder)]:
        raise ValueError("another version or another folder")
    names, rows = arrays["names"].tolist(), arrays["rows"]
    n = len(names)
    if (arrays["stamps"].shape != (n, 3) or len(rows) != n or (rows < 0).any()
            or int(rows.sum()) != len(arrays["dates"])):
        raise ValueError("inconsistent sizes")
    ends = np.cumsum(rows)
    starts = ends - rows
    at = dict.fromkeys(ORDER, 0)
    out: Entries = {}
    for i, name in enumerate(names):
        columns = {}
        for column in ORDER:
            if arrays[f"has_{column}"][i]:
                values = arrays[column][at[column]:at[column] + rows[i]]
                if len(values) != rows[i]:
                    raise ValueError("inconsistent sizes")
                columns[column] = values
                at[column] += int(rows[i])
        stamp = Stamp(*(int(v) for v in arrays["stamps"][i]))
        out[name] = (stamp, PriceColumns(arrays["dates"][starts[i]:ends[i]],
                                         str(arrays["units"][i]), columns,
                                         str(arrays["adjustments"][i]),
                                         str(arrays["freqs"][i]) or None))
    return out
