"""Every ``pytest.approx`` in the suite states its absolute tolerance (issue 26).

approx's default ``abs=1e-12`` makes a comparison of a tiny p-value vacuous (7.5e-19 from the
wrong degrees of freedom 'equals' the right one): a test compares with ``rel=`` and ``abs=0``,
or says which absolute tolerance it means for quantities that may be zero.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _approx_calls_without_abs(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "approx" and "abs" not in {k.arg for k in node.keywords}:
                lines.append(node.lineno)
    return lines


def test_every_approx_states_its_absolute_tolerance() -> None:
    found = {p.name: lines for p in sorted(TESTS.glob("test_*.py"))
             if (lines := _approx_calls_without_abs(p))}
    assert not found, f"pytest.approx without abs= (default 1e-12 hides tiny p-values): {found}"


def test_the_check_finds_a_default_tolerance(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text("import pytest\nassert 1e-19 == pytest.approx(7.5e-19)\n"
                      "assert 1.0 == pytest.approx(1.0, rel=1e-9, abs=0)\n", encoding="utf-8")
    assert _approx_calls_without_abs(sample) == [2]
