"""The JSON document of a study (``result.to_dict()`` / ``--json``): events with their ARs, CARs and
volume, and for batches the tests and skips. The one place that turns a result into JSON."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.engine.windows import window_label
from eventstudy.formatting import json_clean
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
    return [json_clean(v) for v in values.tolist()]


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of ``frame[columns]`` as JSON-safe dicts, built column by column."""
    keys = [str(c) for c in columns]
    lists = [_column(frame[c]) for c in columns]
    return [dict(zip(keys, row, strict=True)) for row in zip(*lists, strict=True)]


PER_EVENT_TABLES = {
    "abnormal_returns": ["day", "date", "return", "market_return", "ar", "t"],
    "car": ["window", "start", "end", "car", "se", "t", "p", "p_sq", "sq_min_p", "sq_n"],
    "bhar": ["window", "start", "end", "return", "market_return", "bhar"],
    "volume": ["window", "start", "end", "volume_ratio", "abnormal_log_volume", "t"],
}


def _records_by_event(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a long per-event table as JSON records, grouped by event id (one pass)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if frame.empty:
        return out
    for event_id, record in zip(frame["event_id"], _records(frame, columns), strict=True):
        out[str(event_id)].append(record)
    return out


def _event_records(result: StudyData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {name: _records_by_event(getattr(result, name), columns)
            for name, columns in PER_EVENT_TABLES.items()}


def _event_rows(result: StudyData) -> dict[str, dict[str, Any]]:
    """Each event's row of ``result.events`` (every column) as JSON-safe values, by event id,
    in one pass."""
    events = result.events
    ids = events["event_id"] if "event_id" in events.columns else events.index
    return dict(zip(map(str, ids), _records(events, list(events.columns)), strict=True))


def event_dict(result: StudyData, event_id: str,
               records: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
               rows: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One event of the JSON document; ``records`` are the grouped per-event tables, ``rows``
    the events' rows (``_event_rows``)."""
    records = records or _event_records(result)
    row = (rows or _event_rows(result))[event_id]
    head = json_clean({
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


def designs_to_dict(designs: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON of ``result.designs``."""
    return {name: value.to_dict(orient="records") if isinstance(value, pd.DataFrame)
            else value.to_dict() for name, value in designs.items()}


def result_to_dict(result: StudyData) -> dict[str, Any]:
    """The JSON document of a study (see DESIGN: events[], skipped[], tests[])."""
    opts = result.options
    records = _event_records(result)
    rows = _event_rows(result)
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
        "events": [event_dict(result, e, records, rows) for e in result.event_ids()],
        "skipped": _records(result.skipped, ["event_id", "ticker", "reason"]),
        "quality": _records(result.quality, list(result.quality.columns)),
    }
    if not result.parameters.empty:
        doc["parameters"] = _records(result.parameters, list(result.parameters.columns))
    if result.designs:
        doc["designs"] = json_clean(designs_to_dict(result.designs))
    vols = result.extras.get("volatility") or {}
    if vols:
        doc["volatility"] = {k: v.to_dict() for k, v in vols.items()}
    for key in ("robustness", "tests", "caar", "overlaps"):
        frame = getattr(result, key)
        if not frame.empty:
            doc[key] = _records(frame.reset_index(drop=True), list(frame.columns))
    for key, value in result.extras.items():
        if key not in doc and key not in ("adjustment", "volatility", "sections") \
                and not isinstance(value, pd.DataFrame):
            doc[key] = json_clean(value)
    return doc
