"""The GARCH phase of ``batch --garch`` shows a tqdm bar on a terminal only: not with -q or
--json, not when stderr is a pipe or a log (cron)."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from conftest import run_cli

from eventstudy.errors import BadInput
from eventstudy.volatility import executors


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert executors._bar(5, True).disable
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not executors._bar(5, True).disable
    assert executors._bar(5, False).disable


def test_bar_progresses_over_the_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(executors, "_run_task", lambda task, return_exceptions=False: task)
    assert executors.fit_many([1, 2, 3], executor="serial", progress=True) == [1, 2, 3]
    assert "GARCH fits" in terminal.getvalue() and "3/3" in terminal.getvalue()


@pytest.mark.parametrize(("args", "expected"), [((), True), (("-q",), False)])
def test_cli_batch_progress_follows_quiet(monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                                          expected: bool) -> None:
    import eventstudy.studies.batch as batch

    seen: dict[str, Any] = {}

    def fake(*a: Any, **kwargs: Any) -> None:
        seen.update(kwargs)
        raise BadInput("stop here")

    monkeypatch.setattr(batch, "batch_study", fake)
    code, _, err = run_cli(*args, "batch", "--offline", "--garch", "--no-report")
    assert code == 2 and "stop here" in err
    assert seen["progress"] is expected and seen["volatility"] is True
