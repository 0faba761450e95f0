"""The GARCH phase of ``batch --garch`` shows a tqdm bar on a terminal only: not with -q or
--json, not when stderr is a pipe or a log (cron)."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from conftest import run_cli

from eventstudy.errors import BadInput
from eventstudy.parallel import executors
from eventstudy.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_bar(5, "GARCH fits", "fit", True).disable
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not progress_bar(5, "GARCH fits", "fit", True).disable
    assert progress_bar(5, "GARCH fits", "fit", False).disable


def test_bar_progresses_over_the_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert executors.run(str, [1, 2, 3], "serial", progress=True, desc="GARCH fits",
                         unit="fit") == ["1", "2", "3"]
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


def test_every_bar_of_the_package_goes_through_progress_bar() -> None:
    """No module but ``eventstudy.progress`` makes a tqdm bar (each would need its own terminal
    check): a bar added elsewhere fails here."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "eventstudy"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "progress.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "tqdm" or n.startswith("tqdm.") for n in names):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == []


def _bars(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Each progress bar of the product, made with its own code path: (name, thunk)."""
    from eventstudy.engine import simulate
    from eventstudy.studies import core

    def prefetch() -> None:
        bar = core._progress_bar(30, True, "Loading prices", "ticker")
        assert bar is not None
        for i in range(30):
            bar.update_to(i + 1)
        bar.close()

    def brown_warner() -> None:
        step, close = simulate._reporter(True, 7)
        assert step is not None
        for i in range(7):
            step(i + 1, 7)
        close()

    def garch() -> None:
        executors.run(str, [1, 2, 3], "serial", progress=True, desc="GARCH fits", unit="fit")

    return [("prefetch", prefetch), ("Brown-Warner", brown_warner), ("GARCH fits", garch)]


@pytest.mark.parametrize("which", ["prefetch", "Brown-Warner", "GARCH fits"])
def test_no_bar_into_a_pipe_or_log_every_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                           which: str) -> None:
    thunk = dict(_bars(monkeypatch))[which]
    log = io.StringIO()  # a log file or pipe: not a terminal
    monkeypatch.setattr(sys, "stderr", log)
    thunk()
    assert log.getvalue() == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    thunk()
    assert "|" in terminal.getvalue()  # tqdm drew its bar


def test_a_closed_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from eventstudy.progress import on_terminal, progress_bar

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert not on_terminal()
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert on_terminal()
    assert progress_bar(3, "x", enabled=False).disable
