"""Compute what is asked for (issue 25): the cross-event tests and CAAR of a study are computed
the first time ``tests`` or ``caar`` is read, once, with the same numbers as before."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from eventstudy.studies import core
from eventstudy.studies.batch import batch_study

EVENTS = pd.DataFrame({  # real bundled prices
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-12-30", "2021-08-05"],
})


@pytest.fixture
def calls(cross_section_calls: list[int]) -> list[int]:
    return cross_section_calls


def test_tests_are_computed_on_first_read_only(calls: list[int]) -> None:
    result = batch_study(EVENTS, offline=True)
    assert calls == []
    car = result.car[(result.car.start == -1) & (result.car.end == 1)]
    assert np.isfinite(car["t"]).all() and calls == []  # CARs and t: no cross-event tests
    assert "overlaps" in result.__dict__  # cheap, and its note is in the notes already
    tests = result.tests
    assert calls == [1] and not tests.empty
    assert not result.caar.empty and calls == [1]  # computed together, once
    assert result.tests is tests


def test_deferred_tables_equal_the_direct_computation(calls: list[int]) -> None:
    result = batch_study(EVENTS, offline=True)
    direct_tests, direct_caar = core.cross_section_tables(result.ar, result.options,
                                                          result.events)
    pd.testing.assert_frame_equal(result.tests, direct_tests)
    pd.testing.assert_frame_equal(result.caar, direct_caar)


def test_a_pickled_result_carries_its_tests() -> None:
    result = batch_study(EVENTS, offline=True)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.cross_section.computed
    pd.testing.assert_frame_equal(copy.tests, result.tests)
    mine, theirs = copy.to_dict(), result.to_dict()
    mine.pop("generated"), theirs.pop("generated")  # the second of the call may differ
    assert json.dumps(mine) == json.dumps(theirs)


def test_unknown_attributes_still_raise() -> None:
    result = batch_study(EVENTS, offline=True)
    with pytest.raises(AttributeError, match="no_such_table"):
        result.no_such_table  # noqa: B018
