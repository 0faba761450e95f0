"""`mypy --strict` holds for engine/, volatility/, results/ (issue 26), calendar/ and quality/:
every module of these packages is in a block of pyproject.toml with every flag that --strict
turns on per module (`make lint` then checks it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRICT = {"disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
          "disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs",
          "disallow_untyped_decorators", "warn_unused_ignores", "warn_return_any",
          "strict_equality", "extra_checks"}  # mypy --help: --strict, less the global-only flags


def _modules(package: str) -> set[str]:
    out = set()
    for path in (ROOT / "eventstudy" / package).glob("*.py"):
        out.add(f"eventstudy.{package}" + ("" if path.stem == "__init__" else f".{path.stem}"))
    return out


def _strict_patterns() -> set[str]:
    """The module names (or ``pkg.*`` patterns) of the override blocks with every strict flag."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: set[str] = set()
    for block in config["tool"]["mypy"].get("overrides", []):
        no_reexport = (block.get("implicit_reexport") is False
                       or block.get("no_implicit_reexport") is True)
        if all(block.get(flag) is True for flag in STRICT) and no_reexport:
            found.update([block["module"]] if isinstance(block["module"], str)
                         else block["module"])
    return found


def _is_strict(module: str, patterns: set[str]) -> bool:
    return module in patterns or any(
        p.endswith(".*") and module.startswith(p[:-1]) for p in patterns)


def test_every_module_of_the_strict_packages_is_strict() -> None:
    """engine/, volatility/, results/ (issue 26), calendar/ and quality/: every module."""
    patterns = _strict_patterns()
    wanted = (_modules("engine") | _modules("calendar") | _modules("quality")
              | _modules("volatility") | _modules("results"))
    assert len(wanted) > 40
    missing = sorted(m for m in wanted if not _is_strict(m, patterns))
    assert missing == []  # a new module: add it to the strict block
