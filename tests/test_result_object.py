"""The result object as users of statsmodels and arch expect it (issue 26): immutable, a
``summary()`` object rendered as text, HTML and LaTeX, and ``conf_int()`` of the mean CAR/BHAR.

Real bundled prices throughout (the lock-ups of four HK listings)."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.errors import BadInput
from eventstudy.results.data import CrossSection
from eventstudy.results.document import Summary
from eventstudy.results.result import EventStudyResult
from eventstudy.studies.batch import batch_study

EVENTS = pd.DataFrame({  # real bundled prices
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK", "9660.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-12-30", "2021-08-05", "2025-04-24"],
    "tranche": ["cornerstone", "cornerstone", "controlling_6m", "cornerstone", "pre_ipo"],
})
HOSTILE = "<script>alert(1)</script> & \\input{/etc/passwd} 100% $x_1$ #{}~^"


@pytest.fixture(scope="module")
def result() -> EventStudyResult:
    return batch_study(EVENTS, offline=True)


def test_the_result_and_its_options_are_frozen(result: EventStudyResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.notes = ("changed",)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.options.model = "market"  # type: ignore[misc]
    assert isinstance(result.notes, tuple)
    changed = dataclasses.replace(result, notes=(*result.notes, "x"))
    assert type(changed) is EventStudyResult and changed.notes[-1] == "x"
    assert "x" not in result.notes


def test_replace_keeps_the_tests_deferred(cross_section_calls: list[int]) -> None:
    seen = cross_section_calls
    fresh = batch_study(EVENTS, offline=True)
    copy = dataclasses.replace(fresh, notes=())
    assert seen == [] and not copy.cross_section.computed
    assert not copy.tests.empty and seen == [1]
    assert fresh.tests is copy.tests and seen == [1]  # one computation, shared
    again = pickle.loads(pickle.dumps(dataclasses.replace(fresh, notes=())))
    pd.testing.assert_frame_equal(again.caar, fresh.caar)


def test_summary_is_an_object_whose_text_is_what_the_cli_prints(result: EventStudyResult
                                                                   ) -> None:
    summary = result.summary()
    assert isinstance(summary, Summary)
    text = str(summary)
    assert text == summary.as_text() == repr(summary)
    assert text.splitlines()[1] == "=" * 78 and "Cross-event tests, CAR, group all" in text
    tables = [p for p in summary.parts if not isinstance(p, str) and hasattr(p, "frame")]
    for table in tables:  # every table's printed text is in the summary as it is
        assert table.text() in text


def _hostile(result: EventStudyResult) -> EventStudyResult:
    events = result.events.assign(note=HOSTILE)
    return dataclasses.replace(result, events=events, notes=(HOSTILE,))


def test_html_escapes_every_user_string(result: EventStudyResult) -> None:
    summary = _hostile(result).summary()
    html = summary.as_html()
    assert html == summary._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    n_tables = sum(1 for p in summary.parts if not isinstance(p, str))  # header + tables
    assert html.count("<table") == n_tables
    assert html.startswith('<div class="eventstudy-summary">') and html.endswith("</div>")


def test_latex_is_booktabs_and_escapes_every_user_string(result: EventStudyResult) -> None:
    latex = _hostile(result).summary().as_latex()
    assert r"\input{" not in latex and r"\textbackslash{}input\{/etc/passwd\}" in latex
    assert r"100\%" in latex and r"\$x\_1\$" in latex and r"\#\{\}" in latex
    assert latex.count(r"\begin{tabular}") == latex.count(r"\end{tabular}") >= 4
    assert latex.count(r"\toprule") == latex.count(r"\bottomrule") >= 3


def _firm_day_values(frame: pd.DataFrame, result: EventStudyResult, column: str,
                     start: int, end: int) -> np.ndarray:
    """One value per firm-day (tranches of one listing expiring on one session counted once),
    as the cross-event tests count them."""
    rows = frame[(frame["start"] == start) & (frame["end"] == end)]
    rows = rows.merge(result.events[["event_id", "ticker", "day0"]], on="event_id")
    return rows.drop_duplicates(["ticker", "day0"])[column].to_numpy(float)


@pytest.mark.parametrize("alpha", [0.05, 0.10, 0.01])
def test_conf_int_is_the_student_t_interval_of_the_mean(result: EventStudyResult,
                                                        alpha: float) -> None:
    ci = result.conf_int(alpha)
    assert set(ci["test"]) == {"t", "bhar_t"}
    checked = 0
    for row in ci[ci["group"] == "all"].itertuples():
        table, column = (result.car, "car") if row.test == "t" else (result.bhar, "bhar")
        x = _firm_day_values(table, result, column, int(row.start), int(row.end))
        x = x[np.isfinite(x)]
        lower, upper = stats.t.interval(1 - alpha, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert row.n == len(x) and row.df == len(x) - 1
        assert row.estimate == pytest.approx(x.mean(), rel=1e-10, abs=0)
        assert row.lower == pytest.approx(lower, rel=1e-9, abs=0)
        assert row.upper == pytest.approx(upper, rel=1e-9, abs=0)
        checked += 1
    assert checked == len(result.options.car_windows) + len(result.options.bhar_windows)


def test_conf_int_narrows_with_alpha_and_refuses_a_bad_alpha(result: EventStudyResult) -> None:
    wide, narrow = result.conf_int(0.01), result.conf_int(0.10)
    defined = (narrow["n"] >= 2).to_numpy()
    assert defined.sum() >= 16 and not narrow.loc[defined, ["lower", "upper"]].isna().any().any()
    assert narrow.loc[~defined, ["lower", "upper"]].isna().all().all()  # one firm-day: none
    wide_width = (wide["upper"] - wide["lower"]).to_numpy()
    narrow_width = (narrow["upper"] - narrow["lower"]).to_numpy()
    assert (wide_width[defined] > narrow_width[defined]).all()
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(BadInput, match="alpha"):
            result.conf_int(bad)


def test_conf_int_of_a_study_without_cross_event_tests_is_empty(result: EventStudyResult
                                                                 ) -> None:
    alone = dataclasses.replace(result, cross_section=CrossSection())
    assert alone.conf_int().empty and "lower" in alone.conf_int().columns


def test_one_json_cleaner_for_every_document() -> None:
    from eventstudy.formatting import json_clean

    frame = pd.DataFrame({"a": [1.5, np.nan], "d": pd.to_datetime(["2024-01-02", None])})
    value = {1: (np.int64(3), np.float32(np.inf), np.bool_(True)), "f": frame,
             "t": [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-02 09:30"),
                   np.datetime64("2024-03-04"), pd.NaT, None], "x": np.array([[1, 2]])}
    assert json_clean(value) == {
        "1": [3, None, True], "f": [{"a": 1.5, "d": "2024-01-02"}, {"a": None, "d": None}],
        "t": ["2024-01-02", "2024-01-02T09:30:00", "2024-03-04", None, None], "x": [[1, 2]]}
    assert type(json_clean(np.int64(3))) is int and type(json_clean(np.bool_(False))) is bool


def test_every_plot_method_forwards_its_keywords(result: EventStudyResult,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``result.plot_*(..., ax=...)`` reaches ``results.plots`` unchanged (alphalens-style
    placement in a user's grid)."""
    from eventstudy.results import plots

    seen: dict[str, Any] = {}
    for name in ("plot_car", "plot_price_volume", "plot_caar", "plot_volatility"):
        monkeypatch.setattr(plots, name, lambda *a, _n=name, **k: seen.setdefault(_n, (a, k)))
    marker = object()
    result.plot_car(1, ax=marker)
    result.plot_price_volume(0, ax=marker, title="x")
    result.plot_caar(ax=marker)
    result.plot_volatility(None, ax=marker)
    assert seen == {"plot_car": ((result, 1), {"ax": marker}),
                    "plot_price_volume": ((result, 0), {"ax": marker, "title": "x"}),
                    "plot_caar": ((result,), {"ax": marker}),
                    "plot_volatility": ((result, None), {"ax": marker})}
