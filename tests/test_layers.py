"""The package layout: arrows point one way down the data's path, no import cycles, small modules.

The layer order is the README's Layout section; a module may import from its own layer or a lower
one, never a higher one (function-level and TYPE_CHECKING imports included)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eventstudy"
LAYERS = [
    {"errors", "fileio", "formatting", "progress", "parallel"},
    {"data"},
    {"calendar"},
    {"quality"},
    {"engine"},
    {"volatility"},
    {"plotting"},
    {"results"},
    {"studies"},
    {"report"},
    {"cli"},
]
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the lazy top-level package
    return next(i for i, names in enumerate(LAYERS) if parts[1] in names)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "eventstudy":
                out.update(f"eventstudy.{a.name}" for a in node.names)
            elif node.module.startswith("eventstudy."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("eventstudy."))
    return out


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for module, path in _modules().items():
        mine = _layer(module)
        if mine is None:
            continue
        for target in _imports(path):
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycles_at_module_level() -> None:
    modules = _modules()
    graph = {m: {t for t in _imports(p, top_level_only=True) if t in modules and t != m}
             for m, p in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_is_too_long() -> None:
    long = {m: n for m, p in _modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_module_imports_alone() -> None:
    """Each module imported first in a fresh package state (third-party modules stay cached)."""
    script = (
        "import importlib, sys\n"
        f"names = {sorted(_modules())!r}\n"
        "bad = []\n"
        "for name in names:\n"
        "    for key in [k for k in sys.modules if k.split('.')[0] == 'eventstudy']:\n"
        "        del sys.modules[key]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("command", [["--help"], ["lockup", "--help"]])
def test_help_does_not_import_the_scientific_stack(command: list[str]) -> None:
    script = ("import sys\nfrom eventstudy.cli import main\n"
              f"try:\n    main({command!r})\nexcept SystemExit:\n    pass\n"
              "heavy = [m for m in ('pandas', 'scipy', 'arch', 'matplotlib', 'exchange_calendars')"
              " if m in sys.modules]\nprint('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
