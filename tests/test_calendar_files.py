"""The user's calendar and state files: concurrent `listings add` and `upcoming --state` runs
lose nothing, edits keep comments and other keys, atomic writes keep file modes, and output
failures leave the state unchanged."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli as run

from eventstudy.calendar.listings import read_listings_file

COMMENTED = """# Team calendar: keep these notes
title: our lock-up watch list   # a key of our own
listings:
  # the first one we follow
  - ticker: 1.HK
    listing_date: 2024-01-02   # prospectus p. 12
    source: "prospectus"
reviewed_by: [alice, bob]
"""


def _add(path: str, number: int, barrier: object) -> None:
    from eventstudy.calendar.edit import add_listing

    barrier.wait()  # type: ignore[attr-defined]
    add_listing(path, {"ticker": f"{100 + number}.HK", "listing_date": "2024-02-01",
                       "source": f"test {number}"})


def test_eight_concurrent_adds_all_survive(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(COMMENTED, encoding="utf-8")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(8)
    workers = [ctx.Process(target=_add, args=(str(mine), n, barrier)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * 8
    tickers = {x.ticker for x in read_listings_file(mine)}
    assert tickers == {"0001.HK"} | {f"0{100 + n}.HK" for n in range(8)}
    assert mine.read_text().startswith(COMMENTED.split("reviewed_by")[0])


def test_add_keeps_comments_and_other_top_level_keys(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(COMMENTED, encoding="utf-8")
    args = ["listings", "add", "2.HK", "--date", "2024-03-04", "--source", "there",
            "--listings", str(mine)]
    code, _, err = run(*args)
    assert code == 0, err
    text = mine.read_text()
    assert text.startswith(COMMENTED.split("reviewed_by")[0])
    assert text.endswith("reviewed_by: [alice, bob]\n") and "ticker: 0002.HK" in text
    code, _, err = run(*args[:-2], "--offer-price", "7.5", "--replace", "--listings", str(mine))
    assert code == 0, err
    text = mine.read_text()
    for kept in ("# Team calendar: keep these notes", "# a key of our own", "# prospectus p. 12",
                 "# the first one we follow", "reviewed_by: [alice, bob]"):
        assert kept in text
    assert {x.ticker: x.offer_price for x in read_listings_file(mine)} == {
        "0001.HK": None, "0002.HK": 7.5}


def _upcoming_process(*args: str, stdout: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventstudy.cli", "upcoming", "--offline",
                           "--no-prices", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, check=False)


def test_state_is_kept_when_stdout_fails(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    args = ("--as-of", "2025-04-01", "--state", str(state))
    with open("/dev/full", "w") as full:  # every write: ENOSPC
        done = _upcoming_process(*args, stdout=full)
    assert done.returncode == 1, done.stderr
    assert "cannot write the output" in done.stderr and "Traceback" not in done.stderr
    assert not state.exists()
    done = _upcoming_process(*args, stdout=subprocess.PIPE)
    assert done.returncode == 10 and "4 new of 4" in done.stdout
    before = state.read_bytes()
    with open("/dev/full", "w") as full:
        done = _upcoming_process("--as-of", "2025-04-08", "--within", "70", "--state",
                                 str(state), "--json", stdout=full)
    assert done.returncode == 1 and state.read_bytes() == before


def _upcoming_in(state: str, tranche: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    code, _, err = run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01",
                       "--within", "120", "--tranche", tranche, "--state", state)
    assert code == 10, err


def test_concurrent_state_runs_with_different_filters_merge(tmp_path: Path) -> None:
    from eventstudy.calendar.upcoming import upcoming_expiries

    state = tmp_path / "state.json"
    tranches = ["cornerstone", "pre_ipo", "controlling", "pathfinder"]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(tranches))
    workers = [ctx.Process(target=_upcoming_in, args=(str(state), t, barrier))
               for t in tranches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * len(tranches)
    frame = upcoming_expiries("2025-04-01", 120, offline=True, prices=False,
                              tranches=tranches)
    assert len(frame) > len(tranches)
    assert set(json.loads(state.read_text())["seen"]) == set(frame["uid"])
    code, out, _ = run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01",
                       "--within", "120", "--state", str(state), "--tranche", "cornerstone")
    assert code == 0 and "0 new of" in out


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_keep_the_mode_of_an_existing_file(tmp_path: Path, umask_022: None) -> None:
    ics, mine = tmp_path / "lockups.ics", tmp_path / "shared.yaml"
    assert run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01", "--ics",
               str(ics))[0] == 10
    assert _mode(ics) == 0o644  # new file: 0o666 less the umask
    assert run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-08", "--ics",
               str(ics))[0] == 10
    assert _mode(ics) == 0o644
    mine.write_text(COMMENTED, encoding="utf-8")
    mine.chmod(0o664)
    assert run("listings", "add", "2.HK", "--date", "2024-03-04", "--source", "s",
               "--listings", str(mine))[0] == 0
    assert _mode(mine) == 0o664
    mine.chmod(0o600)
    assert run("listings", "add", "3.HK", "--date", "2024-03-04", "--source", "s",
               "--listings", str(mine))[0] == 0
    assert _mode(mine) == 0o600


def test_new_files_follow_the_umask(tmp_path: Path) -> None:
    from eventstudy.fileio import atomic_write_text

    old = os.umask(0o002)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o664 and _mode(tmp_path / "b.txt") == 0o600


def test_special_files_are_never_replaced_or_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    base = ["upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01"]
    for args in (["--ics", str(fifo)], ["--state", str(fifo)], ["--listings", str(fifo)],
                 ["--history", str(fifo)], ["--ics", str(tmp_path)]):
        code, out, err = run(*base, *args)
        assert code == 2, (args, err)
        assert ("not a regular file" in err or "is a directory" in err) and "Traceback" not in err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    code, _, err = run("listings", "add", "1.HK", "--date", "2024-01-02", "--source", "s",
                       "--listings", str(fifo))
    assert code == 2 and "not a regular file" in err and stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_target_is_named_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01",
                         "--ics", str(blocker / "x.ics"))
    assert code == 2 and f"cannot write {blocker / 'x.ics'}" in err
    assert ".tmp" not in err and len(err.strip().splitlines()) == 2  # the staleness warning
    state = tmp_path / "state.json"  # an --ics that fails: nothing remembered
    code, _, err = run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01",
                       "--ics", str(blocker / "x.ics"), "--state", str(state))
    assert code == 2 and not state.exists()


def test_a_symlinked_ics_or_calendar_stays_a_link(tmp_path: Path) -> None:
    real, link = tmp_path / "real.ics", tmp_path / "published.ics"
    run("upcoming", "--offline", "--no-prices", "--as-of", "2025-03-01", "--ics", str(real))
    old = real.read_text()  # an earlier calendar eventstudy wrote (a foreign file is refused)
    link.symlink_to(real)
    assert run("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01", "--ics",
               str(link))[0] == 10
    assert link.is_symlink() and real.read_text().startswith("BEGIN:VCALENDAR")
    assert real.read_text() != old
    calendar, alias = tmp_path / "cal.yaml", tmp_path / "alias.yaml"
    calendar.write_text(COMMENTED, encoding="utf-8")
    alias.symlink_to(calendar)
    assert run("listings", "add", "2.HK", "--date", "2024-03-04", "--source", "s",
               "--listings", str(alias))[0] == 0
    assert alias.is_symlink() and "0002.HK" in calendar.read_text()
