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


DEFERRED = {  # the result's field -> the function in core that makes it on first read
    "events": "_event_rows", "abnormal_returns": "abnormal_return_table",
    "bhar": "bhar_table", "volume": "volume_table",
    "parameters": "parameter_table", "robustness": "robustness_table",
}


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times each deferred table of ``DEFERRED`` was made."""
    seen = dict.fromkeys(DEFERRED, 0)
    for field, name in DEFERRED.items():
        real = getattr(core, name)

        def counted(*args: object, _real: object = real, _field: str = field) -> object:
            seen[_field] += 1
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(core, name, counted)
    return seen


def test_car_and_t_make_no_other_table(made: dict[str, int], calls: list[int]) -> None:
    result = batch_study(EVENTS, offline=True)
    car = result.car
    assert np.isfinite(car["t"]).all() and result.n_events == 4
    assert made == dict.fromkeys(DEFERRED, 0) and calls == []  # nothing else was made
    for field in DEFERRED:
        frame = getattr(result, field)
        assert isinstance(frame, pd.DataFrame) and not frame.empty
        assert made[field] == 1 and getattr(result, field) is frame  # once, then kept
    assert sum(made.values()) == len(DEFERRED) and calls == []
    assert result.n_events == len(result.events) == 4
    result.tests  # noqa: B018  # the tests use the events table made above, not a new one
    assert calls == [1] and made["events"] == 1


def test_deferred_frames_equal_the_direct_computation() -> None:
    """The tables written out by hand from the result's arrays (what finish_study did eagerly
    before): same frames, made on first read."""
    from eventstudy.engine.abnormal import abnormal_return_table, bhar_table
    from eventstudy.engine.models import parameter_table
    from eventstudy.engine.robustness import robustness_table
    from eventstudy.engine.volume import volume_table

    result = batch_study(EVENTS, offline=True)
    ar, opts = result.ar, result.options
    pd.testing.assert_frame_equal(result.events, core._event_rows(ar, ar.window_view(opts.window),
                                                                  dict(result.listings)))
    pd.testing.assert_frame_equal(result.abnormal_returns,
                                  abnormal_return_table(ar.window_view(opts.window)))
    pd.testing.assert_frame_equal(result.bhar, bhar_table(ar, opts.bhar_windows))
    pd.testing.assert_frame_equal(result.volume, volume_table(ar, opts.car_windows))
    pd.testing.assert_frame_equal(result.parameters, parameter_table(ar))
    pd.testing.assert_frame_equal(result.robustness,
                                  robustness_table(ar, opts.model, opts.min_estimation))


def test_pickle_and_replace_carry_the_deferred_frames(made: dict[str, int]) -> None:
    import dataclasses

    result = batch_study(EVENTS, offline=True)
    copy = pickle.loads(pickle.dumps(result))
    assert all(isinstance(copy.__dict__[f], pd.DataFrame) for f in DEFERRED)  # made, not thunks
    changed = dataclasses.replace(result, notes=("a note",))
    assert changed.notes == ("a note",)
    for field in DEFERRED:
        pd.testing.assert_frame_equal(getattr(copy, field), getattr(result, field))
        pd.testing.assert_frame_equal(getattr(changed, field), getattr(result, field))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.bhar = pd.DataFrame()  # type: ignore[misc]


def test_a_result_made_by_hand_takes_frames_and_defaults() -> None:
    from eventstudy.results.result import EventStudyResult

    given = batch_study(EVENTS, offline=True)
    bhar = pd.DataFrame({"x": [1.0]})
    made = EventStudyResult(kind="events", options=given.options, events=given.events,
                            abnormal_returns=pd.DataFrame(), car=given.car, bhar=bhar,
                            volume=pd.DataFrame(), skipped=given.skipped, ar=given.ar)
    assert made.bhar is bhar and made.parameters.empty and made.robustness.empty
    other = EventStudyResult(kind="events", options=given.options, events=given.events,
                             abnormal_returns=pd.DataFrame(), car=given.car, bhar=bhar,
                             volume=pd.DataFrame(), skipped=given.skipped, ar=given.ar)
    assert other.parameters is not made.parameters  # a fresh default frame per result


def test_car_and_t_do_not_load_scipy_stats() -> None:
    """A study that reads only CARs and t does not import scipy.stats (0.6-1 s cold); the
    first cross-event rank test does."""
    import subprocess
    import sys

    script = (
        "import sys\nfrom eventstudy import batch_study\nimport pandas as pd\n"
        f"events = pd.DataFrame({EVENTS.to_dict('list')!r})\n"
        "result = batch_study(events, offline=True)\n"
        "assert len(result.car) > 0\nprint('CAR', 'scipy.stats' in sys.modules)\n"
        "result.tests\nprint('TESTS', 'scipy.stats' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert "CAR False" in done.stdout and "TESTS True" in done.stdout, done.stdout + done.stderr
