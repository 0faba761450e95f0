"""Number formatting shared by text, markdown and JSON output: percentages, fixed digits, finite
values or None (JSON has no NaN or Infinity)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet cannot run: text starting with ``= + - @``, tab or CR gets a
    leading ``'`` (OWASP, CSV injection); numbers, and text that is just a number such as
    ``-0.46``, stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame, **kwargs: Any) -> str:
    """``frame.to_csv`` with every text cell and column name made ``spreadsheet_safe``: the
    one CSV writer of every CSV file and output the product writes. Text holding a CR is
    quoted (pandas leaves it bare when lines end in LF, which would split the row)."""
    import csv

    safe = frame.rename(columns=lambda c: spreadsheet_safe(str(c)))
    has_cr = any("\r" in str(c) for c in safe.columns)
    for i in range(safe.shape[1]):
        column = safe.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column) \
                or isinstance(column.dtype, pd.CategoricalDtype):
            values = column.astype(object).map(spreadsheet_safe)
            has_cr = has_cr or bool(values.map(lambda v: isinstance(v, str) and "\r" in v).any())
            safe.isetitem(i, values.to_numpy())
    if has_cr:
        kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return str(safe.to_csv(index=kwargs.pop("index", False), **kwargs))


def pct(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:+.{digits}f}%"


def num(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def finite_date(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)[:10]


def json_clean(value: Any) -> Any:
    """``value`` made JSON-ready, the one cleaner of every JSON document (results, volatility):
    dicts (keys as text), lists, tuples, DataFrames (records) and arrays walked; numpy scalars
    -> Python; NaN/inf -> None; a timestamp -> its ISO date (with the time if it has one)."""
    if isinstance(value, dict):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [json_clean(row) for row in value.to_dict("records")]
    if isinstance(value, np.ndarray):
        return json_clean(value.tolist())
    return finite_or_none(value)


def finite_or_none(value: Any) -> Any:
    """JSON-safe scalar: numpy -> python, NaN/inf -> None, timestamps -> ISO date (and time if
    not midnight)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Any, indent: int = 2, level: int = 0) -> str:
    """``json.dumps(value, indent=indent, allow_nan=False)``, the same text, made faster: a dict
    or list of plain values (the bulk of a study: one record per event and day) is written by
    the json module's C encoder, with the newline and indentation as its item separator; only
    the few levels above it are walked in Python. ``level``: the text as written inside
    ``level`` containers (what ``RawJSON`` writes)."""
    return _json_text(value, indent, level)


class RawJSON:
    """A value whose JSON text ``render(indent, level)`` writes itself (as ``json.dumps(...,
    indent=indent)`` would at nesting ``level``): a large table written column by column, placed
    in a document that ``json_text`` writes."""

    def __init__(self, render: Callable[[int, int], str]) -> None:
        self.render = render


_CONTAINERS = (dict, list, tuple, RawJSON)


def _json_text(value: Any, indent: int, level: int) -> str:
    if isinstance(value, RawJSON):
        return value.render(indent, level)
    if not isinstance(value, dict | list | tuple):
        return json.dumps(value, allow_nan=False)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    pad, end = "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)
    items = value.values() if isinstance(value, dict) else value
    if not any(isinstance(v, _CONTAINERS) for v in items):
        body = json.dumps(value, allow_nan=False, separators=("," + pad, ": "))
        return body[0] + pad + body[1:-1] + end + body[-1]
    if isinstance(value, list) and all(_flat_record(v) for v in value):
        return _records_text(value, pad, end, " " * indent)
    texts = _many(list(items))
    parts = [_json_text(v, indent, level + 1) if text is None else text
             for v, text in zip(items, texts, strict=True)]
    if isinstance(value, dict):  # pieces joined once: a big value is copied once
        keys = [json.dumps(_key(k)) for k in value]
        pieces = ["{", pad]
        for i, (k, v) in enumerate(zip(keys, parts, strict=True)):
            pieces += [k, ": ", v] if i == 0 else [",", pad, k, ": ", v]
        return "".join([*pieces, end, "}"])
    return f"[{pad}{(',' + pad).join(parts)}{end}]"


_PLAIN = {str, int, float, bool, type(None)}


def json_texts(values: list[Any], indent: int, level: int) -> list[str]:
    """The JSON text of each JSON-ready value of ``values``, as ``json_text`` writes it at nesting
    ``level``: plain values in one C-encoder call (a column of a table), containers one by one."""
    if not values:
        return []
    if set(map(type, values)) <= _PLAIN:
        return json.dumps(values, allow_nan=False, separators=("\x00", ":"))[1:-1].split("\x00")
    return [_json_text(v, indent, level) for v in values]


def _pad(indent: int, level: int) -> str:
    return "\n" + " " * (indent * level)


def dict_pieces(keys: list[str], texts: list[list[str]], indent: int, level: int) -> list[str]:
    """n dicts with ``keys`` at nesting ``level``, ``texts[j][i]`` the JSON text of key j's value
    in dict i (``json_texts`` one level deeper), as ``json_text`` writes them: one flat list of
    ``2 * len(keys) + 1`` pieces per dict (the last one closes it), to be joined."""
    n, width = len(texts[0]), 2 * len(keys) + 1
    pad = _pad(indent, level + 1)
    flat = [""] * (n * width)
    for j, (key, column) in enumerate(zip(keys, texts, strict=True)):
        flat[2 * j::width] = [("," if j else "{") + pad + json.dumps(key) + ": "] * n
        flat[2 * j + 1::width] = column
    flat[width - 1::width] = [_pad(indent, level) + "}"] * n
    return flat


def lists_text(pieces: list[str], n_keys: int, indent: int, level: int,
               bounds: list[tuple[int, int]]) -> list[str]:
    """The JSON list at nesting ``level`` of the dicts ``a`` to ``b`` (exclusive) of ``pieces``
    (``dict_pieces`` with ``n_keys`` keys) for each ``(a, b)`` of ``bounds``; each list's text
    joined once. ``pieces`` is used up."""
    width = 2 * n_keys + 1
    if not pieces:
        return ["[]" for _ in bounds]
    pad, close = _pad(indent, level + 1), pieces[width - 1]
    pieces[width - 1::width] = [close + "," + pad] * (len(pieces) // width)
    out = []
    for a, b in bounds:
        if a == b:
            out.append("[]")
            continue
        first = pieces[a * width]
        pieces[a * width], pieces[b * width - 1] = "[" + pad + first, \
            close + _pad(indent, level) + "]"
        out.append("".join(pieces[a * width:b * width]))
    return out


def list_text(items: list[str], indent: int, level: int) -> str:
    """The JSON list at nesting ``level`` of the texts ``items`` (written one level deeper)."""
    if not items:
        return "[]"
    pad = _pad(indent, level + 1)
    return f"[{pad}{(',' + pad).join(items)}{_pad(indent, level)}]"


def _many(values: list[Any]) -> list[str | None]:
    """The JSON text of each plain value in one C-encoder call (None for a container)."""
    plain = [v for v in values if not isinstance(v, _CONTAINERS)]
    texts = iter(json.dumps(plain, allow_nan=False, separators=("\x00", ": "))[1:-1]
                 .split("\x00") if plain else [])
    return [None if isinstance(v, _CONTAINERS) else next(texts) for v in values]


def _flat_record(value: Any) -> bool:
    """A non-empty dict of plain JSON values (exact types: anything else takes the long way)."""
    return type(value) is dict and bool(value) and all(type(v) in _PLAIN for v in value.values())


def _records_text(records: list[dict[str, Any]], pad: str, end: str, step: str) -> str:
    """A list of non-empty dicts of plain values in one C-encoder call: the separators are
    written as control characters (escaped inside strings, so they only stand for separators)
    and then replaced by the newline and indentation of their level."""
    body = json.dumps(records, allow_nan=False, separators=(",\x00", ": "))
    inner = pad + step
    body = body.replace("},\x00{", "\x01").replace(",\x00", "," + inner)
    body = body.replace("\x01", pad + "}," + pad + "{" + inner)
    return "[" + pad + "{" + inner + body[2:-2] + pad + "}" + end + "]"


def _key(key: Any) -> str:
    """A dict key as the json module writes it."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return json.dumps(key)
    if isinstance(key, int | float):
        return json.dumps({key: 0}, allow_nan=False)[1:-4].strip('"')
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
