"""The one YAML loader of eventstudy (calendars, events files): PyYAML's SafeLoader without
anchors and aliases (a 385-byte "billion laughs" alias bomb expands to gigabytes) and with a
bounded nesting depth (100,000 ``[`` would otherwise exhaust the recursion limit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from eventstudy.errors import ConfigError

MAX_DEPTH = 64


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors (``&a``), aliases (``*a``) and deep nesting."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", line)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"YAML nested more than {MAX_DEPTH} levels deep", line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str, where: str | Path) -> Any:
    """Parse ``text`` (the content of ``where``) with ``SafeLoader``; ConfigError on one line
    for invalid YAML, anchors/aliases or too deep nesting."""
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as exc:
        raise ConfigError(f"{where}: {exc.message} (line {exc.line})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}: not valid YAML{at}") from None
    except RecursionError:  # pragma: no cover - the depth bound comes first
        raise ConfigError(f"{where}: YAML nested too deeply") from None
