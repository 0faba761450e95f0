"""Tidy result frames (issue 14): events keyed by an ``event_id`` column on a RangeIndex, and one
window representation (int ``start``/``end`` + an ordered categorical label) in every table."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from eventstudy import batch_study

WINDOW_TABLES = ("car", "bhar", "volume", "tests", "caar")


@pytest.fixture(scope="module")
def res():
    return batch_study(offline=True)


def expected_label(start: int, end: int) -> str:
    """The documented label, written independently: signed days, except the day-0 window."""
    if (start, end) == (0, 0):
        return "[0,0]"
    sign = lambda d: ("+" if d >= 0 else "-") + str(abs(d))  # noqa: E731
    return f"[{sign(start)},{sign(end)}]"


def test_events_have_one_event_id_and_merge_cleanly(res) -> None:
    ev = res.events
    assert isinstance(ev.index, pd.RangeIndex)
    assert "event_id" in ev.columns and ev["event_id"].is_unique
    assert "event_id" in ev.reset_index().columns  # used to raise: already exists
    merged = res.car.merge(ev[["event_id", "tranche", "ticker"]], on="event_id", how="left")
    assert len(merged) == len(res.car) and merged["ticker"].notna().all()
    by_tranche = ev.groupby("tranche")["ar_0"].mean()
    assert set(by_tranche.index) == set(ev["tranche"])
    keyed = ev.set_index("event_id")
    first = ev["event_id"].iloc[0]
    assert keyed.loc[first, "ar_0"] == ev["ar_0"].iloc[0]
    assert res.event_ids() == ev["event_id"].tolist()


@pytest.mark.parametrize("name", WINDOW_TABLES)
def test_every_window_table_has_int_bounds_and_an_ordered_label(res, name: str) -> None:
    table = getattr(res, name)
    assert not table.empty
    assert pd.api.types.is_integer_dtype(table["start"]) and pd.api.types.is_integer_dtype(
        table["end"])
    assert isinstance(table["window"].dtype, pd.CategoricalDtype) and table["window"].cat.ordered
    for label, start, end in zip(table["window"], table["start"], table["end"], strict=True):
        assert label == expected_label(start, end)
    bounds = [tuple(int(x) for x in re.findall(r"[-+]?\d+", c))
              for c in table["window"].cat.categories]
    assert bounds == sorted(bounds)  # categories in event time, not string order


@pytest.mark.parametrize("name", WINDOW_TABLES)
def test_window_tables_sort_merge_groupby_reset_index(res, name: str) -> None:
    table = getattr(res, name)
    ordered = table.sort_values("window", kind="stable")
    pairs = list(zip(ordered["start"], ordered["end"], strict=True))
    assert pairs == sorted(pairs, key=lambda p: p)
    assert len(table.reset_index()) == len(table)
    grouped = table.groupby("window", observed=True)["start"].first()
    assert list(grouped.index) == sorted(set(table["window"]), key=lambda w: list(
        table["window"].cat.categories).index(w))
    keys = table[["start", "end", "window"]].drop_duplicates()
    assert len(table.merge(keys, on=["start", "end"], suffixes=("", "_k"))) == len(table)


def test_tests_and_car_labels_match(res) -> None:
    car = res.car.drop_duplicates(["start", "end"]).set_index(["start", "end"])["window"]
    tests = res.tests.drop_duplicates(["start", "end"]).set_index(["start", "end"])["window"]
    common = car.index.intersection(tests.index)
    assert len(common) == len(car)  # every CAR window is tested
    assert (car.loc[common].astype(str) == tests.loc[common].astype(str)).all()
    # a tests row joins to the CAR rows of its window by label
    joined = res.tests[res.tests.test == "t"].merge(
        res.car.groupby("window", observed=True)["car"].count().rename("n_car").reset_index(),
        on="window")
    assert len(joined) == len(res.tests[(res.tests.test == "t")])


def test_caar_window_is_the_cumulation_span(res) -> None:
    caar = res.caar
    assert (caar["start"] == res.options.window[0]).all()
    assert (caar["end"] == caar["day"]).all()


def test_json_windows_carry_label_and_bounds(res) -> None:
    doc = json.loads(res.to_json())
    record = doc["events"][0]["car"][1]
    assert record["window"] == expected_label(record["start"], record["end"])
    row = doc["tests"][0]
    assert row["window"] == expected_label(row["start"], row["end"])
