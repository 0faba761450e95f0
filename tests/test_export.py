"""Exports of every table (issue 13): CSV, one Excel workbook read back with openpyxl/pandas,
LaTeX tables (booktabs, stars from p-values computed here), and no overwriting of a user's
file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats

from eventstudy import batch_study
from eventstudy.errors import BadInput
from eventstudy.results.export import MANIFEST, SHEET_NAMES
from eventstudy.results.latex import LONG_ROWS
from tests.conftest import run_cli

EVENTS = pd.DataFrame({
    "ticker": ["0020.HK", "0020.HK", "9660.HK", "1024.HK", "9988.HK"],
    "date": ["2022-06-30", "2022-12-30", "2025-04-24", "2021-08-05", "2020-06-02"],
    "tranche": ["cornerstone", "controlling_12m", "a&b_c%", "cornerstone", "x"],
    "group": ["=1+1", "=HYPERLINK(\"http://x\")", "ai", "internet", "ai"],
})


@pytest.fixture(scope="module")
def res():
    return batch_study(EVENTS, offline=True)


def expected_stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def latex_header(text: str) -> list[str]:
    """The header cells of a booktabs table, a two-line header cell joined by a space."""
    row = text.split("\\toprule\n", 1)[1].split(" \\\\\n", 1)[0]
    return [re.sub(r"\\begin\{tabular\}\[b\]\{@\{\}c@\{\}\}(.*)\\\\\{\}(.*)\\end\{tabular\}",
                   r"\1 \2", cell) for cell in row.split(" & ")]


def latex_rows(text: str) -> list[list[str]]:
    """The body rows of a booktabs table or longtable, as lists of cells."""
    if "\\begin{longtable}" in text:
        body = text.split("\\endlastfoot\n", 1)[1].split("\\end{longtable}", 1)[0]
    else:
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
            elif pd.api.types.is_datetime64_any_dtype(mine) or column in DATE_TEXT.get(name, ()):
                mine = pd.to_datetime(mine)  # an events file's date text: an Excel date
                if mine.notna().any():
                    assert pd.api.types.is_datetime64_any_dtype(theirs), f"{name}.{column}"
                assert ((theirs == mine) | mine.isna()).all(), f"{name}.{column}"
            else:
                want = ["" if pd.isna(v) else str(v) for v in mine.astype(object)]
                got = ["" if pd.isna(v) else str(v) for v in theirs.astype(object)]
                assert got == want, f"{name}.{column}"


DATE_TEXT = {"events": ("date", "session", "listing_date")}  # dates held as text or objects


def test_excel_sheets_have_widths_formats_real_dates_and_frozen_header(res, tmp_path: Path
                                                                       ) -> None:
    path = res.to_excel(tmp_path / "study.xlsx")
    book = load_workbook(path)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        header = [c.value for c in sheet[1]]
        for i, name in enumerate(header, start=1):
            letter = sheet.cell(row=1, column=i).column_letter
            width = sheet.column_dimensions[letter].width
            texts = [c.value for (c,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i)
                     if isinstance(c.value, str)]
            want = max([len(name), *map(len, texts[:1000])]) + 2
            assert width >= min(want, 60), (sheet.title, name, width)
    events = book["events"]
    header = [c.value for c in events[1]]
    for column in ("date", "session", "day0", "estimation_start"):
        cells = [row[header.index(column)] for row in events.iter_rows(min_row=2)]
        assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in cells), column
    day0 = [row[header.index("day0")].value for row in events.iter_rows(min_row=2)]
    assert day0 == [d.to_pydatetime() for d in res.events["day0"]]
    expiry = [row[header.index("date")].value for row in events.iter_rows(min_row=2)]
    assert [d.date().isoformat() for d in expiry] == list(EVENTS["date"])
    car = book["CAR"]
    header = [c.value for c in car[1]]
    formats = {name: car.cell(row=2, column=header.index(name) + 1).number_format
               for name in ("car", "t", "p", "p_sq", "start", "sq_n")}
    assert formats == {"car": "0.000000", "t": "0.000000", "p": "0.0000", "p_sq": "0.0000",
                       "start": "0", "sq_n": "0"}
    assert car.cell(row=2, column=header.index("car") + 1).value == pytest.approx(
        res.car["car"].iloc[0], rel=1e-14, abs=0)  # the format shows 6 decimals, the cell keeps all


def test_excel_keeps_formula_like_strings_as_text(res, tmp_path: Path) -> None:
    path = res.to_excel(tmp_path / "study.xlsx")
    sheet = load_workbook(path)["events"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("group")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells][:2] == ["=1+1", "=HYPERLINK(\"http://x\")"]
    assert all(c.data_type == "s" for c in cells)


def test_latex_car_table_structure_and_stars(res) -> None:
    text = res.to_latex("car")
    assert len(res.car) >= LONG_ROWS  # longer than a page: a longtable, header repeated
    for piece in ("\\begin{longtable}", "\\endfirsthead", "\\endhead", "\\endlastfoot",
                  "\\bottomrule", "\\end{longtable}", "\\label{tab:eventstudy-car}"):
        assert text.count(piece) == 1, piece
    assert text.count("\\toprule") == 2 and text.count("\\caption") == 2
    short = res.to_latex("events")  # five rows: a float with a tabular
    assert len(res.events) < LONG_ROWS
    for piece in ("\\begin{table}", "\\begin{tabular}{", "\\toprule", "\\midrule",
                  "\\bottomrule", "\\end{tabular}}", "\\caption{", "\\resizebox",
                  "\\label{tab:eventstudy-events}"):
        assert short.count(piece) == 1, piece
    assert "longtable" not in short
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


def holm_loop(p: list[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, written out: the i-th smallest p times
    (m - i + 1), made monotone, capped at 1."""
    seen = [i for i, v in enumerate(p) if np.isfinite(v)]
    m = len(seen)
    order = sorted(seen, key=lambda i: p[i])
    out = [float("nan")] * len(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def test_latex_tests_table_stars_follow_p_value_and_escape(res) -> None:
    text = res.to_latex("tests")
    rows = latex_rows(text)
    tests = res.tests
    assert len(rows) == len(tests)
    holm = holm_loop(tests["p_value"].tolist())
    assert sum(expected_stars(p) != expected_stars(h) for p, h in
               zip(tests["p_value"], holm, strict=True)) > 0  # the two would star differently
    for cells, pv, ph in zip(rows, tests["p_value"], holm, strict=True):
        assert cells[1].startswith("{[}")  # a window label never reads as \\[length]
        if not np.isfinite(pv):
            assert cells[5] == cells[6] == "" and "*" not in cells[4]
            continue
        # the caption says adjusted: stars from the Holm p shown in the same row
        assert float(cells[5]) == pytest.approx(pv, abs=0.0006)
        assert float(cells[6]) == pytest.approx(ph, abs=0.0006)
        assert cells[4].count("*") == len(expected_stars(ph))
    assert "stars from the Holm-adjusted" in text
    assert "Statistic from the column $p$ (Holm)" in text
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


def test_latex_caar_stars_come_from_the_p_columns_shown(res) -> None:
    text = res.to_latex("caar")
    header = latex_header(text)
    assert header == ["Day", "$N$", "AAR (\\%)", "$t$ (AAR)", "$p$ (AAR)", "CAAR (\\%)",
                      "$t$ (CAAR)", "$p$ (CAAR)"]
    rows = latex_rows(text)
    assert len(rows) == len(res.caar)
    for cells, (_, row) in zip(rows, res.caar.iterrows(), strict=True):
        for value, p_cell, p in ((cells[2], cells[4], row["p_value"]),
                                 (cells[5], cells[7], row["caar_p"])):
            assert float(p_cell) == pytest.approx(p, abs=0.0006)
            shown = float(p_cell)  # the reader's p: stars must agree with it (to rounding)
            if abs(shown - 0.01) > 0.0006 and abs(shown - 0.05) > 0.0006 \
                    and abs(shown - 0.10) > 0.0006:
                assert value.count("*") == len(expected_stars(shown)), (value, p_cell)
    assert "AAR (\\%) from the column $p$ (AAR); CAAR (\\%) from the column $p$ (CAAR)" in text


def test_latex_events_two_volume_ratios_labelled_by_window(res) -> None:
    text = res.to_latex("events")
    start, end = res.options.window
    header = latex_header(text)
    day0 = header.index("Volume ratio, day 0")
    window = header.index(f"Volume ratio [${start:+d}$, ${end:+d}$]")
    rows = latex_rows(text)
    ev = res.events
    for cells, r0, rw in zip(rows, ev["volume_ratio_0"], ev["volume_ratio"], strict=True):
        assert float(cells[day0]) == pytest.approx(r0, abs=0.006)
        assert float(cells[window]) == pytest.approx(rw, abs=0.006)
    assert (ev["volume_ratio_0"] - ev["volume_ratio"]).abs().max() > 0.01  # different numbers


def test_every_starred_column_names_a_p_column_shown() -> None:
    from eventstudy.results.latex import LATEX_SPECS, REGRESSION_SPEC

    for name, spec in [*LATEX_SPECS.items(), ("regression", REGRESSION_SPEC)]:
        for column, p_column in spec.stars.items():
            assert column in spec.columns and p_column in spec.columns, name


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_tables_compile_with_pdflatex_long_ones_over_pages(res, tmp_path: Path) -> None:
    """Every exported table in one article: pdflatex succeeds, and the long tables break
    across pages instead of running off the bottom of one."""
    folder = tmp_path / "tables"
    res.export(folder, formats=("csv", "latex"))
    tables = sorted(p.name for p in folder.glob("*.tex"))
    assert {"car.tex", "tests.tex", "caar.tex", "events.tex"} <= set(tables)
    inputs = "\n".join(f"\\input{{tables/{name}}}\n\\clearpage" for name in tables)
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,longtable,graphicx}\n\\begin{document}\n"
        f"{inputs}\n\\end{{document}}\n", encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          "-no-shell-escape", "paper.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=False)
    log = (tmp_path / "paper.log").read_text(encoding="latin-1")
    assert run.returncode == 0, log[-3000:]
    pages = int(re.search(r"Output written on paper\.pdf \((\d+) pages?", log).group(1))
    long_ones = [n for n in tables if "longtable" in (folder / n).read_text()]
    assert long_ones and pages >= len(tables) + len(long_ones)  # each long one: 2+ pages
    assert "Float too large" not in log
    # wide floats are scaled to the line width (the events table is 160pt too wide unscaled)
    overfull = re.findall(r"Overfull \\hbox \((\d+\.?\d*)pt too wide\) in paragraph", log)
    assert max(map(float, overfull), default=0.0) < 1.0, overfull
