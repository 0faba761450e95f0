"""Issue 25: ``result.to_json()`` writes the big tables column by column
(``serialize.result_to_json``); its text must be byte for byte the text of the straightforward
path: the records of each table (``DataFrame.to_dict("records")``, each cell cleaned here:
NaN/inf -> null, timestamps -> ISO dates, numpy -> Python) in the document of ``to_dict()``,
written by the json module (``json.dumps(..., indent=..., allow_nan=False)``). On real data (the
bundled lockup and batch, the real 190-stock HK panel with Yahoo's dirt) and on a seeded
synthetic 2,000-event study with the awkward cases put in: missing values, infinities, -0.0,
repeated values, rows of an event apart, a repeated event id, empty tables."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest

from eventstudy import batch_study, lockup_study
from eventstudy.calendar.events import make_event
from eventstudy.formatting import RawJSON, json_text
from eventstudy.results.serialize import result_to_json
from eventstudy.studies.lockup import event_study
from tests.helpers import MemoryLoader, hk190_events

MARKET = "^SYN"
TABLES = {
    "abnormal_returns": ["day", "date", "return", "market_return", "ar", "t"],
    "car": ["window", "start", "end", "car", "se", "t", "p", "p_sq", "sq_min_p", "sq_n"],
    "bhar": ["window", "start", "end", "return", "market_return", "bhar"],
    "volume": ["window", "start", "end", "volume_ratio", "abnormal_log_volume", "t"],
}
GENERATED = re.compile(r'"generated": "[^"]*"')


def clean(value: Any) -> Any:
    """One cell as the JSON document holds it, written out here cell by cell."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    rows = frame[columns].to_dict("records")
    out = [{str(k): clean(v) for k, v in row.items()} for row in rows]
    for name in columns:  # a datetime column is written as dates (the document's rule)
        if frame[name].dtype.kind == "M":
            for row, day in zip(out, frame[name], strict=True):
                row[str(name)] = None if pd.isna(day) else day.strftime("%Y-%m-%d")
    return out


def reference_event(event_id: str, row: dict[str, Any],
                    tables: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    return {
        "event_id": event_id, "ticker": row["ticker"], "name": row["name"],
        "tranche": row["tranche"], "group": row["group"], "expiry": row["date"],
        "event_date": row["day0"], "listing_date": row["listing_date"],
        "listing_inferred": bool(row["listing_inferred"]), "model": row["model"],
        "estimation_window": {"start": row["estimation_start"], "end": row["estimation_end"],
                              "sessions": row.get("estimation_used", row["estimation_days"]),
                              "window_sessions": row["estimation_days"],
                              "excluded_sessions": row.get("estimation_excluded", 0)},
        "placeholders_dropped": row.get("placeholders_dropped", 0),
        **{k: row[k] for k in ("alpha", "beta", "sigma", "ar_0", "t_0", "return_0", "close_0",
                               "volume_ratio_0", "volume_ratio", "note")},
        **{name: tables[name].get(event_id, []) for name in TABLES},
    }


def reference_doc(result: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """The document written the straightforward way: ``to_dict()``'s document ``doc`` with
    every table rebuilt here from ``to_dict("records")``."""
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, columns in TABLES.items():
        frame = getattr(result, name)
        tables[name] = defaultdict(list)
        for event_id, rec in zip(frame["event_id"], records(frame, columns), strict=True):
            tables[name][str(event_id)].append(rec)
    events = result.events
    rows = dict(zip(map(str, events["event_id"]), records(events, list(events.columns)),
                    strict=True))
    out = {**doc, "events": [reference_event(e, rows[e], tables)
                             for e in map(str, events["event_id"])],
           "skipped": records(result.skipped, ["event_id", "ticker", "reason"]),
           "quality": records(result.quality, list(result.quality.columns))}
    for key in ("parameters", "robustness", "tests", "caar", "overlaps"):
        frame = getattr(result, key)
        if key in doc:
            out[key] = records(frame, list(frame.columns))
    return out


def assert_same_text(result: Any, indents: tuple[int, ...] = (2,)) -> None:
    """``to_json(indent)`` is the json module's text of the reference document and of
    ``to_dict()`` (the records path), byte for byte apart from the time it was written."""
    doc = result.to_dict()
    reference = reference_doc(result, doc)
    assert doc == reference
    for indent in (*indents, None):
        mine = GENERATED.sub("", result.to_json(indent))
        assert mine == GENERATED.sub("", json.dumps(reference, indent=indent, allow_nan=False))
        assert mine == GENERATED.sub("", json.dumps(doc, indent=indent, allow_nan=False))


def test_bundled_lockup_and_batch_are_written_as_the_records_path_writes_them() -> None:
    lockup = lockup_study("0020.HK", offline=True)
    batch = batch_study(offline=True)
    assert len(batch.events) > 10 and not batch.skipped.empty
    assert_same_text(lockup, (2, 4))
    assert_same_text(batch, (0, 1, 2))


def test_real_hk_panel_study_is_written_as_the_records_path_writes_it() -> None:
    frames, events = hk190_events(step=700)
    result = event_study(events, loader=MemoryLoader(frames), market="^HSI", window=(-10, 10),
                         estimation=(-250, -11), car_windows=((-10, 10), (-1, 1), (0, 0)))
    assert len(result.events) > 150 and not result.skipped.empty and "null" in result.to_json()
    assert_same_text(result)


def synthetic_study(n: int, seed: int = 0) -> Any:
    """A seeded synthetic market-model study (not market data) of ``n`` events on business
    days, one ticker in ten with a second event 5 sessions later (windows that overlap)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2001-01-01", periods=1500)
    mret = rng.normal(3e-4, 0.01, len(days))
    frames = {MARKET: pd.DataFrame({"close": 1000.0 * np.cumprod(1.0 + mret),
                                    "volume": np.exp(rng.normal(20, 0.3, len(days)))},
                                   index=pd.DatetimeIndex(days, name="date"))}
    events = []
    for i in range(n):
        start = int(rng.integers(0, len(days) - 420))
        idx = np.arange(start, start + 420)
        ret = 2e-4 + rng.uniform(0.5, 1.5) * mret[idx] + rng.standard_t(5, len(idx)) * 0.012
        ticker = f"S{i:05d}"
        frames[ticker] = pd.DataFrame({"close": rng.uniform(5, 50) * np.cumprod(1.0 + ret),
                                       "volume": np.exp(rng.normal(13.0, 0.6, len(idx)))},
                                      index=pd.DatetimeIndex(days[idx], name="date"))
        events.append(make_event(ticker, days[idx][262], group="ab"[i % 2]))
        if i % 10 == 0:
            events.append(make_event(ticker, days[idx][267], tranche="late"))
    return event_study([e for e in events if e is not None], loader=MemoryLoader(frames),
                       market=MARKET, window=(-10, 10), estimation=(-250, -11),
                       car_windows=((-10, 10), (-1, 1), (0, 0)))


@pytest.fixture(scope="module")
def synthetic() -> Any:
    return synthetic_study(2000)


def test_synthetic_2000_events_are_written_as_the_records_path_writes_them(synthetic) -> None:
    assert len(synthetic.events) == 2200
    assert_same_text(synthetic, (2,))


def awkward(result: Any) -> Any:
    """``result`` with the cases a column writer could get wrong put into its tables."""
    rng = np.random.default_rng(1)
    ar = result.abnormal_returns.copy()
    ar.loc[ar.index[:7], "ar"] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, 1e22]
    ar.loc[ar.index[7:40], "t"] = 0.125  # one value many times
    ar.loc[ar.index[50:56], "market_return"] = [-0.0, 0.0, -0.0, np.nan, np.inf, np.nan]
    ar.loc[ar.index[40:44], "date"] = pd.NaT
    ar = ar.iloc[rng.permutation(len(ar))]  # the rows of an event apart
    car = result.car.copy()
    car["window"] = car["window"].cat.add_categories(["[x]"])
    car.loc[car.index[:5], "window"] = np.nan
    car.loc[car.index[5:9], "window"] = "[x]"
    events = result.events.copy()
    events["note"] = events["note"].astype(object)
    events.loc[events.index[:3], "note"] = [None, 'a "quoted"\n\x00 é note', "%s {}"]
    events.loc[events.index[3], "alpha"] = np.nan
    events.loc[events.index[4], "listing_date"] = pd.Timestamp("2020-01-02 09:30")
    events = pd.concat([events, events.iloc[[5]]])  # one event id twice: its last row wins
    return dataclasses.replace(result, abnormal_returns=ar, car=car, events=events,
                               volume=result.volume.iloc[:0])


def test_awkward_tables_are_written_as_the_records_path_writes_them(synthetic) -> None:
    odd = awkward(synthetic)
    text = odd.to_json()
    assert '"ar": null' in text and '"ar": -0.0' in text and '"ar": 1e+22' in text
    assert '"market_return": -0.0' in text and '"market_return": 0.0' in text
    assert '"window": null' in text and '"volume": []' in text
    assert_same_text(odd, (2,))


def test_raw_json_is_written_in_place_at_its_level() -> None:
    seen = []

    def render(indent: int, level: int) -> str:
        seen.append((indent, level))
        return json_text({"x": [1, None]}, indent, level)

    value = {"a": [1, {"b": RawJSON(render)}], "c": RawJSON(render)}
    plain = {"a": [1, {"b": {"x": [1, None]}}], "c": {"x": [1, None]}}
    for indent in (0, 2, 4):
        assert json_text(value, indent) == json.dumps(plain, indent=indent)
    assert seen[:2] == [(0, 3), (0, 1)]


def test_result_to_json_is_the_method(synthetic) -> None:
    assert GENERATED.sub("", result_to_json(synthetic, 2)) == \
        GENERATED.sub("", synthetic.to_json())
