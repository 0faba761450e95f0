"""On-disk parquet cache of price frames: read, validity check, atomic write.

One file per ticker, ``<cache dir>/prices/<ticker>.parquet``, with the frame's provenance (source,
adjustment, fetch time) in the parquet metadata. Writes go to a unique temporary file in the same
folder and are renamed over the target (``os.replace`` is atomic), so a reader sees the previous
good file or the new one, never a truncated one, and two concurrent writers cannot interleave.
Pages carry CRC checksums, and the metadata a SHA-256 of the frame's content (dates as int64
nanoseconds, each column's float64 values, the provenance) with the ticker, row count and first
and last date; all are verified on read, so a bit flip anywhere (pages, footer, row count,
timestamp unit, time zone, metadata) or a file holding another ticker's prices is never served. A
file that fails is reported, removed and treated as a miss (fetched again, or the fallback)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import pyarrow as pa
import pyarrow.parquet as pq

from eventstudy.fileio import atomic_write

log = logging.getLogger(__name__)


META_KEY = b"eventstudy"


COLUMNS = {"close", "volume"}


KNOWN_COLUMNS = {"open", "high", "low", "close", "volume"}


PROVENANCE = ("ticker", "source", "adjustment", "fetched_at")


def content_digest(frame: pd.DataFrame, meta: dict[str, object]) -> str:
    """SHA-256 of the provenance in ``meta`` and the frame's content: the index's name, time zone
    and int64 nanosecond values, then each column's name and float64 values, in order."""
    digest = hashlib.sha256()
    digest.update(json.dumps({k: meta.get(k) for k in PROVENANCE}, sort_keys=True).encode())
    index = pd.DatetimeIndex(frame.index)
    digest.update(f"{index.name}|{index.tz}|{len(index)}".encode())
    digest.update(index.as_unit("ns").asi8.astype("<i8").tobytes())
    for column in frame.columns:
        digest.update(f"|{column}|".encode())
        digest.update(frame[column].to_numpy(dtype="<f8").tobytes())
    return digest.hexdigest()


def _verify(frame: pd.DataFrame, meta: dict[str, object], ticker: str) -> None:
    """Raise ValueError unless ``frame`` is the intact cache entry of ``ticker``."""
    if meta.get("ticker") != ticker:
        raise ValueError(f"it holds the prices of {meta.get('ticker')!r}, not {ticker}")
    if "checksum" not in meta:
        raise ValueError("no checksum (written by an older eventstudy?)")
    if not COLUMNS <= set(frame.columns) <= KNOWN_COLUMNS or frame.empty:
        raise ValueError(f"unexpected columns {list(frame.columns)} or no rows")
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is not None:
        raise ValueError("no plain date index")
    if meta.get("rows") != len(frame):
        raise ValueError(f"{len(frame)} rows, the metadata says {meta.get('rows')}")
    span = [str(frame.index[0].date()), str(frame.index[-1].date())]
    if [meta.get("first"), meta.get("last")] != span:
        raise ValueError(f"dates {span[0]}..{span[1]}, the metadata says "
                         f"{meta.get('first')}..{meta.get('last')}")
    if content_digest(frame, meta) != meta["checksum"]:
        raise ValueError("checksum mismatch")
    if not (frame.index.is_unique and frame.index.is_monotonic_increasing):
        raise ValueError("dates not unique and ascending")
    close = frame["close"].to_numpy(float)
    if not (np.isfinite(close).all() and (close > 0).all()):
        raise ValueError("a missing, infinite or non-positive close")
    fetched = datetime.fromisoformat(str(meta.get("fetched_at")))
    if fetched.tzinfo is None or fetched > datetime.now(UTC) + timedelta(days=1):
        raise ValueError(f"fetch time {meta.get('fetched_at')} is not a past UTC time")


def default_cache_dir() -> Path:
    """``$EVENTSTUDY_CACHE_DIR`` or the platform's user cache folder for eventstudy."""
    env = os.environ.get("EVENTSTUDY_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("eventstudy"))


class PriceCache:
    """The parquet cache under ``root`` (default: :func:`default_cache_dir`)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def path(self, ticker: str) -> Path:
        safe = ticker.replace("/", "_").replace("^", "IDX_")
        return self.root / "prices" / f"{safe}.parquet"

    def read(self, ticker: str) -> pd.DataFrame | None:
        """The cached frame of ``ticker`` (with ``attrs``), or None if absent or unreadable."""
        path = self.path(ticker)
        if not path.exists():
            return None
        seen: os.stat_result | None = None
        try:
            # One open, one read: parquet readers given a path may open it again for the pages,
            # and get a newer file a concurrent writer renamed in meanwhile.
            with open(path, "rb") as handle:
                seen = os.fstat(handle.fileno())
                data = handle.read()
            table = pq.read_table(pa.BufferReader(data), page_checksum_verification=True)
            frame = table.to_pandas()
            meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
            if not isinstance(meta, dict):
                raise ValueError("unreadable metadata")
            _verify(frame, meta, ticker)
        except Exception as exc:  # noqa: BLE001 - any failure to read back means corruption
            if isinstance(exc, FileNotFoundError):  # removed meanwhile by another process
                return None
            log.warning("cache file %s is corrupt (%s); removing it and fetching again", path, exc)
            with contextlib.suppress(OSError):  # a folder, no permission: leave it
                now = path.stat()
                if seen is None or (now.st_ino, now.st_mtime_ns) == (seen.st_ino,
                                                                     seen.st_mtime_ns):
                    path.unlink()  # not a good file a concurrent writer has just put there
            return None
        frame.attrs.update({k: meta[k] for k in PROVENANCE})
        frame.attrs["source"] = f"cache ({meta.get('source', 'unknown')}, {meta.get('fetched_at')})"
        frame.attrs["cached_from"] = meta.get("source", "unknown")
        return frame

    def age_hours(self, frame: pd.DataFrame) -> float:
        stamp = frame.attrs.get("fetched_at")
        if not stamp:
            return float("inf")
        fetched = datetime.fromisoformat(stamp)
        return (datetime.now(UTC) - fetched).total_seconds() / 3600

    def write(self, frame: pd.DataFrame) -> Path:
        """Store ``frame`` atomically; returns the file written."""
        ticker = frame.attrs["ticker"]
        meta = {
            "ticker": ticker,
            "source": frame.attrs.get("cached_from", frame.attrs.get("source", "unknown")),
            "adjustment": frame.attrs.get("adjustment", ""),
            "fetched_at": frame.attrs.get("fetched_at") or datetime.now(UTC).isoformat(),
        }
        plain = pd.DataFrame(frame)
        plain.attrs = {}
        if len(plain):
            meta.update(rows=len(plain), first=str(plain.index[0].date()),
                        last=str(plain.index[-1].date()), checksum=content_digest(plain, meta))
        table = pa.Table.from_pandas(plain)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()}
        )
        path = self.path(ticker)
        atomic_write(path, lambda tmp: pq.write_table(table, tmp, write_page_checksum=True))
        return path
