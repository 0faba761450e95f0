"""The report folder the tool owns: checks on ``--out``, the ``.eventstudy-report`` marker with the
list of files a run wrote, and the atomic build-then-rename of the folder.

A folder is replaced only when it is empty or is a previous report of ours (the marker is there
and every entry is a file the marker lists); nothing else is ever moved or removed."""

from __future__ import annotations

import json
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from eventstudy.errors import BadInput

MARKER = ".eventstudy-report"


def check_out(out: Path, inputs: Iterable[Path | None] = ()) -> None:
    """Refuse ``out`` unless it is a new folder, an empty one or a previous report of ours, and
    never the working folder, one of its parents, or a folder holding an input of the run."""
    if out.name in ("", ".", ".."):
        raise BadInput(f"--out {out}: name a report folder (not '.' or '..')")
    if out.is_symlink():
        raise BadInput(f"--out {out} is a symbolic link: name a folder")
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out} is a file, not a report folder")
    real = out.resolve()
    if real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        raise BadInput(f"--out {out} is the working folder or one of its parents")
    for path in inputs:
        if path is not None and (real == Path(path).resolve()
                                 or real in Path(path).resolve().parents):
            raise BadInput(f"--out {out} holds the input {path}: choose another folder")
    if out.is_dir():
        _owned_files(out)


def _owned_files(folder: Path) -> list[str]:
    """The entries of a replaceable folder (none if empty); BadInput if it is not ours."""
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return []
    listed = _marker_files(folder)
    if listed is None:
        raise BadInput(f"--out {folder} exists and is not an eventstudy report folder (no "
                       f"{MARKER} marker): choose a new or empty folder")
    foreign = [name for name in entries
               if name != MARKER and (name not in listed or not _is_file(folder / name))]
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise BadInput(f"--out {folder} holds files eventstudy did not write ({shown}): "
                       "move them or choose another folder")
    return entries


def _is_file(path: Path) -> bool:
    return stat.S_ISREG(path.lstat().st_mode)


def _marker_files(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists, or None when there is no valid marker."""
    marker = folder / MARKER
    try:
        if not _is_file(marker) or marker.lstat().st_size > 1_000_000:
            return None
        doc = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("tool") != "eventstudy":
        return None
    files = doc.get("files")
    if not isinstance(files, list):
        return None
    return {f for f in files if isinstance(f, str) and "/" not in f and f not in ("", ".", "..")}


def write_marker(folder: Path) -> None:
    """Write the marker listing every file now in ``folder`` (a run's own files)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("eventstudy")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        release = "unknown"
    files = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    doc = {"tool": "eventstudy", "version": release, "files": files,
           "note": "written by eventstudy; the next run with this --out replaces these files"}
    (folder / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _new_dir(parent: Path, prefix: str) -> Path:
    """A new folder in ``parent`` created with mode 0777 less the umask."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name in {parent}")  # pragma: no cover


@contextmanager
def building(out: Path, inputs: Iterable[Path | None] = ()) -> Iterator[Path]:
    """A temporary sibling folder of ``out`` that replaces ``out`` when the block succeeds and
    is removed when it fails: a report folder is never half-written, and a folder that is not
    ours is refused before anything is written."""
    check_out(out, inputs)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_dir(out.parent, f".{out.name}.")
    except OSError as exc:  # name the target, not the temporary folder
        raise OSError(exc.errno, exc.strerror, str(out)) from None
    try:
        yield tmp
        write_marker(tmp)
        _replace_dir(tmp, out)
    except OSError as exc:  # a read-only folder, a full disk, a file-size limit (ulimit -f)
        shutil.rmtree(tmp, ignore_errors=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(out)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing report of ours is renamed aside first and then
    only the files its marker lists are removed (rmdir fails on anything else: it stays)."""
    if not target.exists():
        new.rename(target)
        return
    owned = _owned_files(target)  # checked again: the folder may have changed since
    old = target.with_name(f".{target.name}.old-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
    target.rename(old)
    new.rename(target)
    for name in owned:
        with suppress(OSError):
            (old / name).unlink()
    with suppress(OSError):
        old.rmdir()
