"""Exports of every table (issue 13): CSV, one Excel workbook read back with openpyxl/pandas,
LaTeX tables (booktabs, stars from p-values computed here), and no overwriting of a user's
file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats

from eventstudy import batch_study
from eventstudy.errors import BadInput
from eventstudy.studies.export import MANIFEST, SHEET_NAMES
from tests.conftest import run_cli

EVENTS = pd.DataFrame({
    "ticker": ["0020.HK", "0020.HK", "9660.HK", "1024.HK", "9988.HK"],
    "date": ["2022-06-30", "2022-12-30", "2025-04-24", "2021-08-05", "2020-03-02"],
    "tranche": ["cornerstone", "controlling_12m", "a&b_c%", "cornerstone", "x"],
    "group": ["=1+1", "=HYPERLINK(\"http://x\")", "ai", "internet", "ai"],
})


@pytest.fixture(scope="module")
def res():
    return batch_study(EVENTS, offline=True)


def expected_stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def latex_rows(text: str) -> list[list[str]]:
    body = text.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    return [row.split(" & ") for row in body.strip().split(" \\\\\n") if row.strip()
            for row in [row.removesuffix(" \\\\")]]


def test_excel_workbook_reads_back_equal(res, tmp_path: Path) -> None:
    path = res.to_excel(tmp_path / "study.xlsx")
    tables = res.tables()
    assert {"events", "parameters", "abnormal_returns", "car", "caar", "tests", "bhar",
            "volume"} <= set(tables)
    book = load_workbook(path)
    assert book.sheetnames == [SHEET_NAMES.get(n, n) for n in tables]
    for name, frame in tables.items():
        back = pd.read_excel(path, sheet_name=SHEET_NAMES.get(name, name))
        assert list(back.columns) == list(frame.columns) and len(back) == len(frame), name
        for column in frame.columns:
            mine, theirs = frame[column], back[column]
            if pd.api.types.is_numeric_dtype(mine) and not pd.api.types.is_bool_dtype(mine):
                # xlsx keeps 15-17 significant digits (the last ulp may differ)
                np.testing.assert_allclose(theirs.to_numpy(float), mine.to_numpy(float),
                                           rtol=1e-14, atol=0, err_msg=f"{name}.{column}")
            elif pd.api.types.is_datetime64_any_dtype(mine):
                assert (pd.to_datetime(theirs) == mine).all() or mine.isna().any()
            else:
                want = ["" if pd.isna(v) else str(v) for v in mine.astype(object)]
                got = ["" if pd.isna(v) else str(v) for v in theirs.astype(object)]
                assert got == want, f"{name}.{column}"


def test_excel_keeps_formula_like_strings_as_text(res, tmp_path: Path) -> None:
    path = res.to_excel(tmp_path / "study.xlsx")
    sheet = load_workbook(path)["events"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("group")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells][:2] == ["=1+1", "=HYPERLINK(\"http://x\")"]
    assert all(c.data_type == "s" for c in cells)


def test_latex_car_table_structure_and_stars(res) -> None:
    text = res.to_latex("car")
    for piece in ("\\begin{tabular}", "\\toprule", "\\midrule", "\\bottomrule",
                  "\\end{tabular}", "\\caption{", "\\label{tab:eventstudy-car}"):
        assert text.count(piece) == 1, piece
    rows = latex_rows(text)
    car = res.car
    assert len(rows) == len(car)
    dof = car["event_id"].map(res.events.set_index("event_id")["estimation_days"]) - 2
    p = 2 * stats.t.sf(np.abs(car["car"] / car["se"]), dof)  # market model: L - 2
    for cells, pv, value in zip(rows, p, car["car"], strict=True):
        cell = cells[2]
        match = re.fullmatch(r"(-?\d+\.\d\d)(?:\$\^\{(\*+)\}\$)?", cell)
        assert match, cell
        assert float(match.group(1)) == pytest.approx(100 * value, abs=0.006)
        assert (match.group(2) or "") == expected_stars(pv)
    assert any("***" in r[2] for r in rows) and any("$" not in r[2] for r in rows)
    assert "$^{***}$ $p<0.01$" in text


def test_latex_tests_table_stars_follow_p_value_and_escape(res) -> None:
    text = res.to_latex("tests")
    rows = latex_rows(text)
    tests = res.tests
    assert len(rows) == len(tests)
    for cells, pv in zip(rows, tests["p_value"], strict=True):
        assert cells[4].count("*") == len(expected_stars(pv))
        assert cells[1].startswith("{[}")  # a window label never reads as \\[length]
    assert "volume\\_t" in text and "volume_t" not in text
    events = res.to_latex("events")
    assert "a\\&b\\_c\\%" in events and "a&b" not in events
    with pytest.raises(BadInput, match="no table 'nope'"):
        res.to_latex("nope")


def test_export_never_overwrites_a_users_file(res, tmp_path: Path) -> None:
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "car.csv").write_text("my own data\n")
    with pytest.raises(BadInput, match="car.csv exists and was not written by eventstudy"):
        res.export(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["car.csv"]  # nothing written
    assert (folder / "car.csv").read_text() == "my own data\n"
    written = res.export(folder, force=True)
    assert folder / "tables.xlsx" in written and (folder / "tests.tex").exists()
    assert pd.read_csv(folder / "car.csv")["car"].to_numpy() == pytest.approx(
        res.car["car"].to_numpy(), rel=1e-15, nan_ok=True, abs=0)
    res.export(folder)  # our own, unchanged files: re-exported without force
    (folder / "tests.csv").write_text("edited by hand\n")
    with pytest.raises(BadInput, match="tests.csv exists"):
        res.export(folder)
    assert (folder / "tests.csv").read_text() == "edited by hand\n"
    assert MANIFEST in {p.name for p in folder.iterdir()}
    other = tmp_path / "other"
    other.mkdir()
    (other / MANIFEST).write_text("my notes, not JSON\n")
    with pytest.raises(BadInput, match="was not written by eventstudy"):
        res.export(other)
    assert (other / MANIFEST).read_text() == "my notes, not JSON\n"
    assert not [p for p in folder.rglob(".*") if p.name != MANIFEST]  # no temporary files


def test_export_into_a_report_folder_and_to_excel_refuses_existing(res, tmp_path: Path) -> None:
    report = tmp_path / "report"
    report.mkdir()
    marker = {"tool": "eventstudy", "files": ["car.csv", "report.html"]}  # the report's marker
    (report / ".eventstudy-report").write_text(json.dumps(marker))
    (report / "car.csv").write_text("an older run\n")
    (report / "tests.csv").write_text("the user's own file, not listed\n")
    with pytest.raises(BadInput, match="tests.csv exists"):
        res.export(report, formats=("csv",))
    (report / "tests.csv").unlink()
    res.export(report, formats=("csv",))
    assert not (report / "tables.xlsx").exists()
    assert "car" in (report / "car.csv").read_text().splitlines()[0]  # listed: replaced
    assert not (report / MANIFEST).exists()  # the report's marker stays the one list
    target = tmp_path / "mine.xlsx"
    target.write_bytes(b"not ours")
    with pytest.raises(BadInput, match="exists: not overwriting"):
        res.to_excel(target)
    assert target.read_bytes() == b"not ours"
    res.to_excel(target, force=True)
    assert load_workbook(target).sheetnames[0] == "events"
    with pytest.raises(BadInput, match="unknown export format 'pdf'"):
        res.export(tmp_path / "x", formats=("csv", "pdf"))


def test_cli_report_folder_has_every_table(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    code, _, err = run_cli("batch", "--offline", "--out", str(out), "--xlsx", "--latex",
                           "--tranche", "cornerstone")
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert {"events.csv", "parameters.csv", "abnormal_returns.csv", "car.csv", "caar.csv",
            "tests.csv", "bhar.csv", "volume.csv", "skipped.csv", "tables.xlsx"} <= names
    assert {"car.tex", "tests.tex", "caar.tex"} <= names
    assert all(p.is_file() for p in out.iterdir())  # flat: a report folder holds files only
    code, _, err = run_cli("batch", "--offline", "--no-report", "--xlsx")
    assert code == 2 and "drop --no-report" in err


def test_designs_are_exported_with_stars_from_their_p_values(tmp_path: Path) -> None:
    res = batch_study(offline=True, tranches=["cornerstone"], regress=["car ~ runup"],
                      calendar_time=(0, 20), bootstrap=199)
    tables = res.tables()
    assert {"regression_1", "calendar_time", "calendar_time_portfolio",
            "wild_bootstrap"} <= set(tables)
    coef = res.designs["regression_1"].table()
    rows = latex_rows(res.to_latex("regression_1"))
    assert len(rows) == len(coef)
    for cells, p in zip(rows, coef["p_cluster"], strict=True):  # date-clustered p
        assert cells[1].count("*") == len(expected_stars(p))
    boot = tables["wild_bootstrap"]
    assert isinstance(boot["window"].dtype, pd.CategoricalDtype)
    written = res.export(tmp_path / "t", formats=("csv", "latex"))
    assert tmp_path / "t" / "regression_1.tex" in written
    assert pd.read_csv(tmp_path / "t" / "calendar_time.csv")["coef"].to_numpy() == pytest.approx(
        res.designs["calendar_time"].table()["coef"].to_numpy(), rel=1e-15, abs=0)
