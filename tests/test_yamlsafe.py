"""The libyaml path of eventstudy.calendar.yamlsafe (issue 12: 10x faster) loads the same documents
as PyYAML's pure-Python SafeLoader and refuses the same anchors, aliases and deep nesting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eventstudy.calendar import yamlsafe
from eventstudy.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """load_yaml's answer (or its error) with libyaml and without."""
    out = []
    for loader in (yaml.CSafeLoader, None):
        monkeypatch.setattr(yamlsafe, "_CSafeLoader", loader)
        try:
            out.append(yamlsafe.load_yaml(text, "f.yaml"))
        except ConfigError as exc:
            out.append(f"ConfigError: {exc}")
    return out


@pytest.mark.parametrize("name", ["listings.yaml", "closures.yaml"])
def test_the_bundled_files_load_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both((ROOT / "configs" / name).read_text(encoding="utf-8"), monkeypatch)
    assert fast == slow and fast == yaml.safe_load((ROOT / "configs" / name).read_text())


DEPTH = yamlsafe.MAX_DEPTH


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n", "- 1\n- &y [2]\n", "k: !!str &z v\n",  # anchors and aliases
    "[" * DEPTH + "]" * DEPTH, "[" * (DEPTH - 1) + "1" + "]" * (DEPTH - 1),  # at the limit
    "[" * DEPTH + "1" + "]" * DEPTH, "{a: " * (DEPTH + 1) + "1" + "}" * (DEPTH + 1),  # over
    "- " * (DEPTH + 3) + "x\n", "a: [\n", "x: 1\n  y: 2\n", "", "just text",
    "dates: [2024-01-02, 2024-12-31]\nn: 1_000\nb: yes\n",
])
def test_same_answer_with_and_without_libyaml(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(text, monkeypatch)
    assert fast == slow
