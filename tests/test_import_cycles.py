"""No import cycle in eventstudy/ at all: every ``import``/``from ... import`` counts, at module
level, inside functions and under ``TYPE_CHECKING`` (issue 26: arrows point one way)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "eventstudy"



def modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules ``name`` imports anywhere in its file: ``from a.b import c`` is an
    edge to ``a.b`` and, if ``a.b.c`` is a module, to it. The lazy top-level package
    (``eventstudy/__init__.py``: names resolved on first use) is not a node."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in out if m in known and m not in (name, "eventstudy")}


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    known = modules(package)
    return {m: imported(m, p, known) for m, p in known.items() if m != "eventstudy"}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan 1972), each as a
    cycle through it: [a, b, ..., a]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_cycle_through(sorted(component), edges))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _cycle_through(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle from the component's first module back to it (breadth-first)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v] & members):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return component


def test_the_import_graph_has_no_cycle() -> None:
    found = cycles(graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_checker_finds_cycles_inside_functions_and_type_checking(tmp_path: Path) -> None:
    """The checker itself: a cycle closed by a function-level import and one closed under
    ``TYPE_CHECKING`` are found; a chain without a way back is not a cycle."""
    pkg = tmp_path / "eventstudy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from eventstudy.a import x\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from eventstudy.b import y\nx = 1\n")
    (pkg / "b.py").write_text("def f():\n    from eventstudy import a\n    return a\ny = 2\n")
    (pkg / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                      "if TYPE_CHECKING:\n    from .d import z\n")
    (pkg / "sub" / "d.py").write_text("from eventstudy.sub.c import TYPE_CHECKING\nz = 3\n")
    (pkg / "sub" / "e.py").write_text("from eventstudy.sub import d\n")
    found = sorted(cycles(graph(pkg)))
    assert found == [["eventstudy.a", "eventstudy.b", "eventstudy.a"],
                     ["eventstudy.sub.c", "eventstudy.sub.d", "eventstudy.sub.c"]]
