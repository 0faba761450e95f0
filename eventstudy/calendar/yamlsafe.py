"""The one YAML loader of eventstudy (calendars, events files): PyYAML's SafeLoader without
duplicate mapping keys (PyYAML keeps the last one silently), anchors and aliases (a 385-byte
"billion laughs" alias bomb expands to gigabytes) and with a
bounded nesting depth (100,000 ``[`` would otherwise exhaust the recursion limit).

With libyaml (PyYAML's C extension) the text is first scanned as a stream of parser events for
anchors, aliases and depth, then loaded by ``CSafeLoader``: the same documents, ten times faster
(the bundled calendar: 50 ms -> 5 ms of every command); without it, :class:`SafeLoader` checks the
same while it composes."""

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
        event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML: untyped
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

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Refuse a key given twice in one mapping (PyYAML would keep the last)."""
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise _Refused(f"duplicate key {key.value!r} in a mapping",
                                   key.start_mark.line + 1)
                seen.add(key.value)
        return super().construct_mapping(node, deep)


def _timestamp(loader: Any, node: Any) -> Any:
    """A YAML date, or its text when it is no date (2022-02-30): the reader then names the
    value and its row instead of failing on the whole file."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_CSafeLoader: Any = None
if hasattr(yaml, "CSafeLoader"):  # None without libyaml
    class _CSafeLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """libyaml's SafeLoader with the lenient timestamps of :class:`SafeLoader`."""

    _CSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _check_key(stack: list[list[Any]], event: yaml.Event) -> None:
    """In a mapping, every other node is a key: refuse a key seen before in that mapping
    (PyYAML would silently keep the last value)."""
    if not stack or stack[-1][0] != "map":
        return
    top = stack[-1]
    if top[2] and isinstance(event, yaml.ScalarEvent):
        if event.value in top[1]:
            raise _Refused(f"duplicate key {event.value!r} in a mapping", _line(event))
        top[1].add(event.value)
    top[2] = not top[2]


def _check_events(text: str) -> None:
    """Raise ``_Refused`` at the first anchor, alias, duplicate mapping key or node deeper than
    ``MAX_DEPTH`` (a node's depth as :class:`SafeLoader` counts it: 1 for the root)."""
    depth = 0
    stack: list[list[Any]] = []  # [kind, keys seen, next node is a key]
    for event in yaml.parse(text, Loader=_CSafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed",
                           _line(event))
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            if depth + 1 > MAX_DEPTH:
                raise _Refused(f"YAML nested more than {MAX_DEPTH} levels deep", _line(event))
            depth += isinstance(event, yaml.CollectionStartEvent)
            _check_key(stack, event)
            if isinstance(event, yaml.MappingStartEvent):
                stack.append(["map", set(), True])
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append(["seq", None, False])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            stack.pop()


def _load(text: str) -> Any:
    if _CSafeLoader is not None:
        try:
            _check_events(text)
        except _Refused:
            raise
        except yaml.YAMLError:  # not YAML (or past libyaml's own depth limit): the pure-Python
            pass  # loader below says why, as it always did
        else:
            return yaml.load(text, Loader=_CSafeLoader)  # noqa: S506 - libyaml's SafeLoader
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml(text: str, where: str | Path) -> Any:
    """Parse ``text`` (the content of ``where``) with ``SafeLoader``; ConfigError on one line
    for invalid YAML, anchors/aliases or too deep nesting."""
    try:
        return _load(text)
    except _Refused as exc:
        raise ConfigError(f"{where}: {exc.message} (line {exc.line})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}: not valid YAML{at}") from None
    except RecursionError:  # pragma: no cover - the depth bound comes first
        raise ConfigError(f"{where}: YAML nested too deeply") from None
