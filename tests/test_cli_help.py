"""Every ``--help`` text of every command and option is a complete sentence, and none is cut:
click shortens a command's help to 45 characters (with "...") in its parent's list unless the
command gives ``short_help``; this walks the whole command tree and reads the rendered help."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from eventstudy.cli import main


def _commands(command: click.Command, path: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(main))


def _sentence(text: str | None) -> bool:
    """Starts with a capital letter (or a digit), ends with a full stop, no ellipsis."""
    text = " ".join((text or "").split())
    return bool(text) and (text[0].isupper() or text[0].isdigit()) and text.endswith(".") \
        and "..." not in text and "\u2026" not in text


def _squeeze(text: str) -> str:
    """Text without any whitespace: click wraps help lines (also at hyphens)."""
    return "".join(text.split())


def _help_page(path: tuple[str, ...], width: int = 80) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_has_every_command() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"lockup", "batch", "garch", "simulate", "fetch", "listing", "upcoming",
            "listings", "listings add", "listings list"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "eventstudy"
                                                             for p, _ in COMMANDS])
def test_help_texts_are_complete_sentences_never_cut(path: tuple[str, ...],
                                                     command: click.Command) -> None:
    assert _sentence(command.help), f"{path}: help {command.help!r}"
    page = _squeeze(_help_page(path))
    bad = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        if not _sentence(param.help):
            bad.append(f"{param.opts[0]}: {param.help!r}")
        elif _squeeze(param.help or "") not in page:
            bad.append(f"{param.opts[0]}: cut in --help")
    assert bad == []
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            short = sub.get_short_help_str(limit=45)
            assert _sentence(short), f"{name}: short help {short!r} is cut or not a sentence"
            assert _squeeze(name + short) in page, f"{name}: short help not shown in full"


def test_short_help_survives_a_narrow_terminal() -> None:
    """On a 60-column terminal click wraps the command list instead of cutting it."""
    page = _squeeze(_help_page((), width=60))
    for name, sub in main.commands.items():
        assert _squeeze(name + sub.get_short_help_str(limit=45)) in page


def test_the_sentence_rule_can_fail() -> None:
    assert not _sentence("Lock-up expiry study of TICKERS (e.g....")
    assert not _sentence("independent dates, clustered.")
    assert not _sentence(None)
    assert _sentence("Fit this normal-return model.")
