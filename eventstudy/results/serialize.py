"""The JSON document of a study (``result.to_dict()`` / ``--json``): events with their ARs, CARs and
volume, and for batches the tests and skips. The one place that turns a result into JSON."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.engine.windows import window_label
from eventstudy.formatting import (
    RawJSON,
    dict_pieces,
    json_clean,
    json_text,
    json_texts,
    list_text,
    lists_text,
)
from eventstudy.results.data import StudyData


def _column(values: pd.Series) -> list[Any]:
    """A column as JSON-safe Python values, vectorised where the dtype allows (the values
    ``finite_or_none`` gives cell by cell: NaN/inf -> None, timestamps -> ISO dates)."""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else "O"
    if kind == "f":
        array = values.to_numpy(float)
        out = array.tolist()
        if not np.isfinite(array).all():
            for i in np.flatnonzero(~np.isfinite(array)).tolist():
                out[i] = None
        return out
    if kind in "iub":
        return values.to_numpy().tolist()
    if kind == "M":
        array = values.to_numpy("datetime64[ns]")
        text = np.datetime_as_string(array, unit="D").tolist()
        return [None if bad else day for bad, day in zip(np.isnat(array).tolist(), text,
                                                        strict=True)]
    raw = (values.to_numpy(object).tolist() if isinstance(values.dtype, pd.StringDtype)
           else values.tolist())
    if set(map(type, raw)) <= _CLEAN:
        return raw
    return [json_clean(v) for v in raw]


_CLEAN = {str, int, bool, type(None)}  # what json_clean returns as it is


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of ``frame[columns]`` as JSON-safe dicts, built column by column."""
    keys = [str(c) for c in columns]
    lists = [_column(frame[c]) for c in columns]
    return list(map(dict, map(zip, repeat(keys), zip(*lists, strict=True))))


PER_EVENT_TABLES = {
    "abnormal_returns": ["day", "date", "return", "market_return", "ar", "t"],
    "car": ["window", "start", "end", "car", "se", "t", "p", "p_sq", "sq_min_p", "sq_n"],
    "bhar": ["window", "start", "end", "return", "market_return", "bhar"],
    "volume": ["window", "start", "end", "volume_ratio", "abnormal_log_volume", "t"],
}


def _float_texts(array: np.ndarray) -> list[str]:
    """The JSON text of each float64 (``repr``, what the json module writes; null if not
    finite), each distinct value (bit pattern: -0.0 is not 0.0) written once."""
    bits = array.view(np.int64)
    sample = bits[::max(1, len(bits) // 4096)]  # repeats in a sample: worth looking for them
    if 10 * len(np.unique(sample)) < 9 * len(sample):
        codes, distinct = pd.factorize(bits)
        if 2 * len(distinct) <= len(array):
            texts = _float_texts(np.asarray(distinct).view(np.float64))
            return list(map(texts.__getitem__, codes.tolist()))
    out = list(map(float.__repr__, array.tolist()))
    for i in np.flatnonzero(~np.isfinite(array)).tolist():
        out[i] = "null"
    return out


def _column_texts(values: pd.Series, indent: int, level: int) -> list[str]:
    """``json_texts(_column(values), indent, level)``: the JSON text of each cell, numbers,
    dates and categories written from numpy, each distinct date or category once."""
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else "O"
    if kind == "f":
        return _float_texts(values.to_numpy(np.float64))
    if kind in "iu":
        return list(map(int.__repr__, values.to_numpy().tolist()))
    if kind == "M" or isinstance(dtype, pd.CategoricalDtype):
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        texts = json_texts(_column(pd.Series(distinct)), indent, level)
        return list(map([*texts, "null"].__getitem__, codes.tolist()))  # -1: missing
    return json_texts(_column(values), indent, level)


def _rows_text(frame: pd.DataFrame, columns: list[str], indent: int, level: int,
               bounds: list[tuple[int, int]]) -> list[str]:
    """The JSON list at nesting ``level`` of the records ``_records(frame, columns)[a:b]``
    (as ``json_text`` writes it) for each ``(a, b)`` of ``bounds``, built column by column."""
    keys = [str(c) for c in columns]
    if len(set(keys)) < len(keys) or not keys:  # a dict would merge them: the long way
        rows = [json_text(r, indent, level + 1) for r in _records(frame, columns)]
        return [list_text(rows[a:b], indent, level) for a, b in bounds]
    texts = [_column_texts(frame[c], indent, level + 2) for c in columns]
    return lists_text(dict_pieces(keys, texts, indent, level + 1), len(keys), indent, level,
                      bounds)


def _table_json(frame: pd.DataFrame, columns: list[str]) -> RawJSON:
    """``_records(frame, columns)`` as a value that ``json_text`` writes column by column."""
    return RawJSON(lambda indent, level: _rows_text(frame, columns, indent, level,
                                                    [(0, len(frame))])[0])


def _raw_column(values: pd.Series) -> list[Any]:
    """``values`` as Python objects (a text column converted in C)."""
    if isinstance(values.dtype, pd.StringDtype):
        return list(values.to_numpy(object).tolist())
    return list(values.tolist())


def _texts_by_event(frame: pd.DataFrame, columns: list[str], indent: int, level: int
                    ) -> dict[str, str]:
    """Each event's list of ``_records_by_event`` as JSON text at nesting ``level``, by id:
    the rows sorted by event (stable: in their order within an event), then cut."""
    if frame.empty:
        return {}
    codes, ids = _event_codes(frame["event_id"])
    if (np.diff(codes) < 0).any():  # an event's rows apart: brought together
        frame = frame.iloc[np.argsort(codes, kind="stable")]
        codes = np.sort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes)) + 1
    bounds = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(codes)], strict=True))
    texts = _rows_text(frame, columns, indent, level, bounds)
    return dict(zip([ids[codes[a]] for a, _ in bounds], texts, strict=True))


def _event_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's event as a number, and the ids (``str`` of each value) by number."""
    codes, found = pd.factorize(column)  # text ids: no Python string per row
    if isinstance(column.dtype, pd.StringDtype) and (codes >= 0).all():
        return codes, [str(v) for v in found]
    codes, texts = pd.factorize(np.array([str(e) for e in _raw_column(column)], dtype=object))
    return codes, list(texts)


def _records_by_event(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a long per-event table as JSON records, grouped by event id (one pass)."""
    if frame.empty:
        return defaultdict(list)
    codes, ids = _event_codes(frame["event_id"])
    rows = _records(frame, columns)
    if (np.diff(codes) < 0).any():  # an event's rows apart: brought together, in their order
        order = np.argsort(codes, kind="stable")
        rows, codes = [rows[i] for i in order.tolist()], codes[order]
    cuts = np.flatnonzero(np.diff(codes)) + 1
    starts, ends = [0, *cuts.tolist()], [*cuts.tolist(), len(codes)]
    return defaultdict(list, {ids[codes[a]]: rows[a:b] for a, b in zip(starts, ends, strict=True)})


def _event_records(result: StudyData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {name: _records_by_event(getattr(result, name), columns)
            for name, columns in PER_EVENT_TABLES.items()}


def _event_rows(result: StudyData) -> dict[str, dict[str, Any]]:
    """Each event's row of ``result.events`` (every column) as JSON-safe values, by event id,
    in one pass."""
    events = result.events
    ids = _raw_column(events["event_id"]) if "event_id" in events.columns else events.index
    return dict(zip(map(str, ids), _records(events, list(events.columns)), strict=True))


def event_dict(result: StudyData, event_id: str,
               records: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
               rows: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One event of the JSON document; ``records`` are the grouped per-event tables, ``rows``
    the events' rows (``_event_rows``)."""
    records = records or _event_records(result)
    row = (rows or _event_rows(result))[event_id]
    head = _cleaned({
        "event_id": event_id, "ticker": row["ticker"], "name": row["name"],
        "tranche": row["tranche"], "group": row["group"], "expiry": row["date"],
        "event_date": row["day0"], "listing_date": row["listing_date"],
        "listing_inferred": bool(row["listing_inferred"]), "model": row["model"],
        "estimation_window": {"start": row["estimation_start"], "end": row["estimation_end"],
                              "sessions": row.get("estimation_used", row["estimation_days"]),
                              "window_sessions": row["estimation_days"],
                              "excluded_sessions": row.get("estimation_excluded", 0)},
        "placeholders_dropped": row.get("placeholders_dropped", 0),
        "alpha": row["alpha"], "beta": row["beta"], "sigma": row["sigma"],
        "ar_0": row["ar_0"], "t_0": row["t_0"], "return_0": row["return_0"],
        "close_0": row["close_0"], "volume_ratio_0": row["volume_ratio_0"],
        "volume_ratio": row["volume_ratio"], "note": row["note"],
    })
    return {**head, **{name: records[name].get(event_id, []) for name in PER_EVENT_TABLES}}


def _cleaned(head: dict[str, Any]) -> dict[str, Any]:
    """``json_clean(head)``: ``head`` itself when every value is already clean (a value of
    ``_records``: text, int, bool, None, a finite float), as an event's head is."""
    values = [v for k, v in head.items() if k != "estimation_window"]
    values += head["estimation_window"].values()
    if all(type(v) in _CLEAN or (type(v) is float and math.isfinite(v)) for v in values):
        return head
    return cast(dict[str, Any], json_clean(head))


ESTIMATION_KEYS = ("start", "end", "sessions", "window_sessions", "excluded_sessions")


def _head_columns(events: pd.DataFrame) -> dict[str, list[Any]]:
    """The head of each event of ``event_dict`` (before ``estimation_window``'s keys, the
    fields of that dict), column by column, in the order of ``event_dict``."""
    def col(name: str, default: str | int | None = None) -> list[Any]:
        if name not in events.columns and default is not None:
            return col(default) if isinstance(default, str) else [default] * len(events)
        return _column(events[name])

    head = {"ticker": col("ticker"), "name": col("name"), "tranche": col("tranche"),
            "group": col("group"), "expiry": col("date"), "event_date": col("day0"),
            "listing_date": col("listing_date"),
            "listing_inferred": [bool(v) for v in col("listing_inferred")],
            "model": col("model"), "start": col("estimation_start"),
            "end": col("estimation_end"), "sessions": col("estimation_used", "estimation_days"),
            "window_sessions": col("estimation_days"),
            "excluded_sessions": col("estimation_excluded", 0),
            "placeholders_dropped": col("placeholders_dropped", 0)}
    for name in ("alpha", "beta", "sigma", "ar_0", "t_0", "return_0", "close_0",
                 "volume_ratio_0", "volume_ratio", "note"):
        head[name] = col(name)
    return head


def _events_text(result: StudyData, indent: int, level: int) -> str:
    """``[event_dict(result, e) for e in result.event_ids()]`` as JSON text at nesting
    ``level``, the same text ``json_text`` writes, built column by column."""
    ids = result.event_ids()
    events = result.events
    index = dict(zip(map(str, _raw_column(events["event_id"]) if "event_id" in events.columns
                         else events.index.tolist()), range(len(events)), strict=True))
    order = [index[e] for e in ids]
    head = _head_columns(events)
    texts = {k: json_texts(v, indent, level + (3 if k in ESTIMATION_KEYS else 2))
             for k, v in head.items()}
    if order != list(range(len(events))):
        texts = {k: [v[i] for i in order] for k, v in texts.items()}
    pieces = dict_pieces(list(ESTIMATION_KEYS), [texts.pop(k) for k in ESTIMATION_KEYS],
                         indent, level + 2)
    width = 2 * len(ESTIMATION_KEYS) + 1
    windows = ["".join(pieces[i:i + width]) for i in range(0, len(pieces), width)]
    tables = [_texts_by_event(getattr(result, name), columns, indent, level + 2)
              for name, columns in PER_EVENT_TABLES.items()]
    keys = ["event_id", *list(texts)[:9], "estimation_window", *list(texts)[9:],
            *PER_EVENT_TABLES]
    values = [json_texts(ids, indent, level + 2), *list(texts.values())[:9], windows,
              *list(texts.values())[9:], *([t.get(e, "[]") for e in ids] for t in tables)]
    pieces = dict_pieces(keys, values, indent, level + 1)
    return lists_text(pieces, len(keys), indent, level, [(0, len(ids))])[0]


def designs_to_dict(designs: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON of ``result.designs``."""
    return {name: value.to_dict(orient="records") if isinstance(value, pd.DataFrame)
            else value.to_dict() for name, value in designs.items()}


def result_to_dict(result: StudyData) -> dict[str, Any]:
    """The JSON document of a study (see DESIGN: events[], skipped[], tests[])."""
    records = _event_records(result)
    rows = _event_rows(result)
    return _document(result, [event_dict(result, e, records, rows) for e in result.event_ids()],
                     _records)


def result_to_json(result: StudyData, indent: int | None = 2) -> str:
    """``result_to_dict(result)`` as JSON text (``json.dumps(..., indent=indent,
    allow_nan=False)``: the same text), the big tables (events with their ARs, CARs, BHARs and
    volume; parameters, tests...) written column by column instead of as dicts."""
    if indent is None:
        return json.dumps(result_to_dict(result), allow_nan=False)
    events = RawJSON(lambda indent, level: _events_text(result, indent, level))
    return json_text(_document(result, events, _table_json), indent)


def _document(result: StudyData, events: Any,
              table: Callable[[pd.DataFrame, list[str]], Any]) -> dict[str, Any]:
    """The document of ``result_to_dict`` with ``events`` and the tables written by ``table``
    (``_records``, or ``_table_json`` for ``json_text``)."""
    opts = result.options
    doc: dict[str, Any] = {
        "kind": result.kind,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {"model": opts.model, "market": opts.market, "window": list(opts.window),
                    "estimation": list(opts.estimation) if opts.estimation else None,
                    "car_windows": [window_label(w) for w in opts.car_windows],
                    "bhar_windows": [window_label(w) for w in opts.bhar_windows],
                    "keep_other_events": opts.keep_other_events, "returns": opts.returns,
                    "keep_suspect": opts.keep_suspect},
        "sources": result.sources,
        "adjustment": result.extras.get("adjustment", {}),
        "notes": result.notes,
        "events": events,
        "skipped": table(result.skipped, ["event_id", "ticker", "reason"]),
        "quality": table(result.quality, list(result.quality.columns)),
    }
    if not result.parameters.empty:
        doc["parameters"] = table(result.parameters, list(result.parameters.columns))
    if result.designs:
        doc["designs"] = json_clean(designs_to_dict(result.designs))
    vols = result.extras.get("volatility") or {}
    if vols:
        doc["volatility"] = {k: v.to_dict() for k, v in vols.items()}
    for key in ("robustness", "tests", "caar", "overlaps"):
        frame = getattr(result, key)
        if not frame.empty:
            doc[key] = table(frame.reset_index(drop=True), list(frame.columns))
    for key, value in result.extras.items():
        if key not in doc and key not in ("adjustment", "volatility", "sections") \
                and not isinstance(value, pd.DataFrame):
            doc[key] = json_clean(value)
    return doc
