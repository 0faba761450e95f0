"""eventstudy never patches another library (issue 25): no module assigns to an attribute of
something it imported from outside the package, and a user's own arch fit after ours runs
scipy's own optimiser."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eventstudy"


def _foreign_names(tree: ast.Module) -> set[str]:
    """Names a module binds to things imported from outside eventstudy."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("eventstudy"):
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and not node.module.startswith("eventstudy"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _patches(tree: ast.Module, foreign: set[str]) -> list[int]:
    """Lines assigning to ``<foreign>.attr`` or calling ``setattr(<foreign>, ...)``."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "setattr" and node.args:
            targets = [ast.Attribute(value=node.args[0], attr="?", ctx=ast.Store())]
            ast.copy_location(targets[0], node)
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            if target is not base and isinstance(base, ast.Name) and base.id in foreign:
                lines.append(node.lineno)
    return lines


def test_no_module_assigns_to_another_library() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(PACKAGE)}:{line}"
                  for line in _patches(tree, _foreign_names(tree))]
    assert found == []


def test_the_scan_finds_a_patch() -> None:  # the scan above can fail
    tree = ast.parse("from arch.univariate import base as b\nimport scipy\n"
                     "b.minimize = None\nscipy.optimize.x = 1\nsetattr(b, 'y', 2)\n")
    assert _patches(tree, _foreign_names(tree)) == [3, 4, 5]


def test_a_users_arch_fit_after_ours_uses_scipy() -> None:
    pytest.importorskip("arch")
    from arch import arch_model
    from arch.univariate import base as arch_base
    from scipy.optimize import minimize

    from eventstudy.volatility.garch import fit_garch

    rng = np.random.default_rng(25)  # synthetic returns: only the optimiser is checked here
    y = rng.standard_t(6, 600) * 0.01
    fit_garch(y)
    assert arch_base.minimize is minimize
    arch_model(100 * y, rescale=False).fit(disp="off")
    assert arch_base.minimize is minimize
