"""Interrupted runs: a process killed (SIGKILL) while it writes the cache or a report leaves the
previous good file or folder, or nothing, never a truncated one; concurrent writers of one cache
entry do not corrupt it; an exception or Ctrl-C in the middle of a write changes nothing.

The writers are real processes killed at random moments (seeded). Cache writers are fresh Python
processes that import only ``eventstudy.cache`` and write each file in small slow pieces, so that a
kill lands inside a write; report writers are forked from the test process (importing the whole
package and matplotlib in a fresh process would cost seconds per kill).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventstudy
from eventstudy.calendar.events import make_event
from eventstudy.data.cache import PriceCache
from eventstudy.data.files import bundled_source
from eventstudy.fileio import atomic_write_text
from eventstudy.report.writer import write_report
from eventstudy.results.result import EventStudyResult
from eventstudy.studies.lockup import event_study

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

PACKAGE = Path(eventstudy.__file__).resolve().parent
TICKER = "KILL.HK"

CACHE_WRITER = r"""
import io, sys, time, types
from pathlib import Path

package = types.ModuleType("eventstudy")  # import eventstudy.cache alone: a fast start
package.__path__ = [sys.argv[1]]
sys.modules["eventstudy"] = package

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

import eventstudy.data.cache as cache

root, ticker, mode, version, count = Path(sys.argv[2]), sys.argv[3], sys.argv[4], *map(
    int, sys.argv[5:7])
real_write = pq.write_table


def slow_write(table, where, **kwargs):
    # The same bytes as pq.write_table, written in pieces: a wide window for the kill.
    buffer = io.BytesIO()
    real_write(table, buffer, **kwargs)
    data = buffer.getvalue()
    with open(where, "wb") as out:
        for start in range(0, len(data), 2048):
            out.write(data[start:start + 2048])
            out.flush()
            if start == 0:
                print("writing", version, flush=True)
            time.sleep(0.001)


if mode != "fast":
    pq.write_table = slow_write
if mode == "in-place":  # the bug these tests guard against: writing over the target directly
    def in_place(path, write):
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    cache.atomic_write = in_place

store = cache.PriceCache(root)
for _ in range(count):
    n = 3000 + version % 11
    frame = pd.DataFrame({"close": np.full(n, float(version)), "volume": np.arange(n, dtype=float)},
                         index=pd.bdate_range("2000-01-03", periods=n, name="date"))
    frame.attrs.update(ticker=ticker, source=f"writer {version}")
    store.write(frame)
    print("done", version, flush=True)
    version += 1
"""


def start_cache_writer(root: Path, mode: str, first: int, count: int = 10**6
                       ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CACHE_WRITER, str(PACKAGE), str(root), TICKER, mode, str(first),
         str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cached_version(root: Path) -> int | None:
    """The version in the cache entry, checking that it is one whole frame as written; None if
    the entry is absent or unreadable (PriceCache.read then removes it)."""
    frame = PriceCache(root).read(TICKER)
    if frame is None:
        return None
    version = int(frame["close"].iloc[0])
    n = 3000 + version % 11
    assert len(frame) == n and (frame["close"] == version).all()
    np.testing.assert_array_equal(frame["volume"].to_numpy(), np.arange(n, dtype=float))
    assert frame.attrs["source"].startswith(f"cache (writer {version},")
    return version


def kill_rounds(root: Path, mode: str, rounds: int, seed: int, min_writes: int = 1
                ) -> list[tuple[int | None, int, int | None]]:
    """Start a writer, SIGKILL it at a random moment inside a write, ``rounds`` times; returns
    per round (last version reported written, version being written, version in the cache)."""
    rng = np.random.default_rng(seed)
    outcomes: list[tuple[int | None, int, int | None]] = []
    done: int | None = None
    for _ in range(rounds):
        proc = start_cache_writer(root, mode, first=1 if done is None else done + 100)
        assert proc.stdout is not None
        target, writes, current = int(rng.integers(min_writes, min_writes + 4)), 0, -1
        for line in proc.stdout:
            word, version = line.split()
            if word == "done":
                done = int(version)
            else:
                writes, current = writes + 1, int(version)
                if writes == target:
                    break
        time.sleep(float(rng.uniform(0.0, 0.004)))
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=10)
        assert writes == target, err
        for line in rest.splitlines():  # what it printed between our read and the kill
            word, version = line.split()
            if word == "done":
                done = int(version)
            else:
                current = int(version)
        outcomes.append((done, current, cached_version(root)))
    return outcomes


def test_sigkill_while_writing_the_cache_leaves_the_previous_file_or_nothing(
        tmp_path: Path) -> None:
    outcomes = kill_rounds(tmp_path, "atomic", rounds=3, seed=1)
    for done, current, found in outcomes:
        # The last complete write, or the one renamed into place just before the kill; before
        # the first complete write, possibly nothing - but never a truncated file.
        assert found in ({done, current} if done is not None else {None, current}), outcomes
    folder = PriceCache(tmp_path).path(TICKER).parent
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [f"{TICKER}.parquet"]


def test_the_kill_harness_catches_a_writer_that_is_not_atomic(tmp_path: Path) -> None:
    """Control: the same kills against a writer that writes the target in place do leave a
    truncated file (detected, reported and removed by the cache), so the test above can fail."""
    outcomes = kill_rounds(tmp_path, "in-place", rounds=2, seed=2, min_writes=2)
    assert any(done is not None and found is None for done, _, found in outcomes), outcomes


def test_two_processes_writing_one_cache_entry_do_not_corrupt_it(tmp_path: Path) -> None:
    writers = [start_cache_writer(tmp_path, "fast", first=first, count=40)
               for first in (1, 100_001)]
    seen: set[int] = set()
    while any(w.poll() is None for w in writers):
        found = cached_version(tmp_path)  # read while both write: always a whole frame
        if found is None:
            assert not seen, "a cache entry once written became unreadable"
        else:
            seen.add(found)
    for writer in writers:
        _, err = writer.communicate(timeout=10)
        assert writer.returncode == 0, err
    final = cached_version(tmp_path)
    assert final in (40, 100_040)  # the last write of one of them
    folder = PriceCache(tmp_path).path(TICKER).parent
    assert [p.name for p in folder.iterdir()] == [f"{TICKER}.parquet"]  # no temporary files left


def test_an_error_while_writing_the_cache_keeps_the_previous_file(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path)
    good = bundled_source().load("0020.HK")
    path = cache.write(good)
    before = path.read_bytes()

    class Boom(Exception):
        pass

    def failing(tmp: Path) -> None:
        tmp.write_bytes(before[:100])
        raise Boom

    from eventstudy.fileio import atomic_write

    for error in (Boom, KeyboardInterrupt):
        with pytest.raises(error):
            atomic_write(path, failing if error is Boom else _interrupt)
        assert path.read_bytes() == before
        assert [p.name for p in path.parent.iterdir()] == [path.name]
    atomic_write_text(tmp_path / "note.txt", "whole")
    assert (tmp_path / "note.txt").read_text() == "whole"


def _interrupt(tmp: Path) -> None:
    tmp.write_bytes(b"PAR1 half")
    raise KeyboardInterrupt


# --------------------------------------------------------------------------------------------
# Reports


REPORT_FILES = {"report.md", "report.html", "abnormal_returns.csv", "car.csv", "summary.json",
                "extra.txt"}
EXTRA = "x" * 200_000


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> EventStudyResult:
    event = make_event("0020.HK", "2022-06-30")
    assert event is not None
    study = event_study([event], offline=True)
    write_report(study, tmp_path_factory.mktemp("warm") / "r")  # forked writers inherit pyplot
    return study


def _write_reports(result: EventStudyResult, out: Path, conn: Connection) -> None:
    """Child: write the report folder over and over, each write marked with its number (in a
    note, so in report.md, report.html and summary.json, and in extra.txt), saying when a write
    is half done."""
    number = 0

    def extra(folder: Path) -> list[tuple[str, str]]:
        (folder / "extra.txt").write_text(f"{number}\n{EXTRA}")
        conn.send("writing")
        time.sleep(0.05)  # some files of this write are there, the others are not yet
        return []

    while True:
        number += 1
        write_report(dataclasses.replace(result, notes=(f"report write {number}.",)), out,
                     extra=extra)
        conn.send("done")


def assert_complete(folder: Path) -> None:
    """Every file is there, whole, and from one and the same write."""
    names = {p.name for p in folder.iterdir()}
    assert names >= REPORT_FILES, names
    assert any(n.endswith(".png") for n in names)
    number, extra = (folder / "extra.txt").read_text().split("\n", 1)
    assert extra == EXTRA
    mark = f"report write {number}."
    assert mark in json.loads((folder / "summary.json").read_text())["notes"]
    assert mark in (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    assert mark in html and html.rstrip().endswith("</html>")
    pd.read_csv(folder / "car.csv")
    for png in folder.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and data[-8:-4] == b"IEND"


def test_sigkill_while_writing_a_report_leaves_a_complete_folder_or_none(
        tmp_path: Path, result: EventStudyResult) -> None:
    context = multiprocessing.get_context("fork")
    rng = np.random.default_rng(3)
    out = tmp_path / "reports" / "study"
    interrupted = 0
    # (which write, delay after it is half done): inside the first write (no folder yet), inside
    # the second (the first must be intact), then at a random moment of the next ~0.7 s (the end
    # of the first write, its rename, the second write; a report takes about 0.5 s).
    for writes, delay in ((1, 0.02), (2, 0.02), (1, float(rng.uniform(0.0, 0.7)))):
        parent, child = context.Pipe()
        proc = context.Process(target=_write_reports, args=(result, out, child), daemon=True)
        proc.start()
        for _ in range(writes):
            while True:
                assert parent.poll(30), "the report writer stopped"
                if parent.recv() == "writing":
                    break
        time.sleep(delay)
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        if out.exists():
            assert_complete(out)
        visible = [p.name for p in out.parent.iterdir() if not p.name.startswith(".")]
        assert visible in ([], ["study"]), visible
        interrupted += any(p.name.startswith(".") for p in out.parent.iterdir())
    assert interrupted, "no kill landed inside a write: the test did not test anything"


def test_an_error_while_writing_a_report_keeps_the_previous_one(
        tmp_path: Path, result: EventStudyResult) -> None:
    out = tmp_path / "report"
    write_report(result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def fails(folder: Path) -> list[tuple[str, str]]:
        (folder / "partial.png").write_bytes(b"\x89PNG half")
        raise RuntimeError("disk full")

    def interrupted(folder: Path) -> list[tuple[str, str]]:
        raise KeyboardInterrupt

    for extra, error in ((fails, RuntimeError), (interrupted, KeyboardInterrupt)):
        with pytest.raises(error):
            write_report(result, out, extra=extra)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary folder left
