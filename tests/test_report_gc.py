"""The CLI writes a report with the objects made before it frozen out of the garbage collector's
scans (``cli.base.gc_frozen``), and unfreezes them afterwards: no object stays frozen, and a
freeze made by the host process is left as it was."""

from __future__ import annotations

import gc

import pytest
from conftest import run_cli

import eventstudy.report.writer as writer


@pytest.fixture()
def frozen_during(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The freeze count seen inside each write_report call of the CLI."""
    seen: list[int] = []
    real = writer.write_report

    def spy(*args, **kwargs):
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "write_report", spy)
    return seen


def test_the_report_is_written_frozen_and_everything_is_unfrozen_after(tmp_path,
                                                                      frozen_during) -> None:
    assert gc.get_freeze_count() == 0
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--tranche", "cornerstone",
                           "--no-garch", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert len(frozen_during) == 1 and frozen_during[0] > 1000
    assert gc.get_freeze_count() == 0
    assert (tmp_path / "r" / "report.html").is_file()


def test_a_freeze_of_the_host_process_is_left_alone(tmp_path, frozen_during) -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        code, _, err = run_cli("lockup", "0020.HK", "--offline", "--tranche", "cornerstone",
                               "--no-garch", "--out", str(tmp_path / "r"))
        assert code == 0, err
        assert before > 0 and gc.get_freeze_count() > before // 2  # not unfrozen by the CLI
    finally:
        gc.unfreeze()
