"""The user's calendar and state files: concurrent `listings add` and `upcoming --state` runs
lose nothing, edits keep comments and other keys, atomic writes keep file modes, and output
failures leave the state unchanged."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

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
