"""`mypy --strict` holds for engine/, calendar/ and quality/ (issue 26): every module of these
packages is in the strict block of pyproject.toml (`make lint` then checks it) with every flag
that --strict turns on per module, except the engine modules other work is rewriting."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRICT = {"disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
          "disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs",
          "disallow_untyped_decorators", "warn_unused_ignores", "warn_return_any",
          "strict_equality", "extra_checks"}  # mypy --help: --strict, less the global-only flags
PENDING = {"eventstudy.engine.series", "eventstudy.engine.store", "eventstudy.engine.panel",
           "eventstudy.engine.prepare", "eventstudy.engine.significance"}  # being rewritten


def _modules(package: str) -> set[str]:
    out = set()
    for path in (ROOT / "eventstudy" / package).glob("*.py"):
        out.add(f"eventstudy.{package}" + ("" if path.stem == "__init__" else f".{path.stem}"))
    return out


def _strict_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: set[str] = set()
    for block in config["tool"]["mypy"].get("overrides", []):
        if all(block.get(flag) is True for flag in STRICT) and block.get(
                "implicit_reexport") is False:
            found.update([block["module"]] if isinstance(block["module"], str)
                         else block["module"])
    return found


def test_every_module_of_engine_calendar_and_quality_is_strict() -> None:
    strict = _strict_modules()
    wanted = (_modules("engine") | _modules("calendar") | _modules("quality")) - PENDING
    assert len(wanted) > 40
    assert sorted(wanted - strict) == []  # a new module: add it to the strict block
