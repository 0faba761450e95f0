"""Hostile xlsx tables for ``listings import`` (issue 24): zip bombs, a sheet of too many rows,
DTDs (billion laughs, external entities) are refused with exit 2 and one line before openpyxl
parses anything; formula cells without a saved value, infinite offer prices and bare-number
tickers reject their row with the reason instead of vanishing. Every file is generated here,
small on disk; each run is bounded by the limits of ``eventstudy.calendar.xlsxsafe``."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli as run

from eventstudy.calendar import xlsxsafe

HEADER = ["ticker", "name", "listing_date", "offer_price", "board", "source"]


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _replace_sheet(path: Path, xml: bytes) -> Path:
    """The workbook at ``path`` with its first sheet's XML replaced by ``xml``."""
    out = path.with_name("hostile.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out


def _import(path: Path) -> tuple[int, str, str]:
    return run("listings", "import", str(path), "--listings", "mine.yaml")


def _refused(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not Path("mine.yaml").exists()


def test_a_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "t.xlsx", [["9.HK", "Nine", "2026-05-06", 1, "", "s"]])
    bomb = good.with_name("bomb.xlsx")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
        with dst.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b" " * 2**20
            for _ in range(xlsxsafe.MAX_UNCOMPRESSED // 2**20 + 8):
                sheet.write(block)
    assert bomb.stat().st_size < 2**20  # small on disk, more than the limit uncompressed
    _refused(*_import(bomb)[::2], "uncompresses to more than")


def test_a_sheet_of_too_many_rows_is_refused_before_parsing(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "t.xlsx", [])
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>1.HK</t></is></c></row>'
                    % (i, i) for i in range(1, xlsxsafe.MAX_ROWS + 3))
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxml'
           b'formats.org/spreadsheetml/2006/main"><sheetData>' + rows +
           b"</sheetData></worksheet>")
    _refused(*_import(_replace_sheet(good, xml))[::2], f"{xlsxsafe.MAX_ROWS:,} rows")


@pytest.mark.parametrize("dtd", [
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
])
def test_billion_laughs_and_external_entities_are_refused(tmp_path: Path, dtd: bytes) -> None:
    good = _workbook(tmp_path / "t.xlsx", [["9.HK", "Nine", "2026-05-06", 1, "", "s"]])
    with zipfile.ZipFile(good) as src:
        xml = src.read("xl/worksheets/sheet1.xml")
    head, _, body = xml.partition(b"?>")
    _refused(*_import(_replace_sheet(good, head + b"?>" + dtd + body))[::2], "DTD")


def test_a_file_that_is_not_a_zip_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("ticker,listing_date\n1.HK,2026-01-02\n", encoding="utf-8")
    _refused(*_import(path)[::2], "not a readable xlsx")


def test_formula_without_value_inf_price_and_number_ticker_reject_their_rows(
        tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", [
        ["9.HK", "Nine", datetime(2026, 5, 6), "=10*1.25", "Main Board", "s"],  # no saved value
        ["10.HK", "Ten", datetime(2026, 5, 7), 99999.5, "Main Board", "s"],  # -> inf below
        [3335, "Bare", datetime(2026, 5, 8), 5.0, "Main Board", "s"],
        ["11.HK", "Fine", datetime(2026, 5, 9), 7.5, "Main Board", "s"],
    ])
    with zipfile.ZipFile(path) as src:  # a value openpyxl reads as float("inf")
        xml = src.read("xl/worksheets/sheet1.xml").replace(b"<v>99999.5</v>", b"<v>1E+309</v>")
    code, out, err = _import(_replace_sheet(path, xml))
    assert code == 2 and "Traceback" not in err
    assert "rejected row 2 (9.HK): cell D2 is a formula without a saved value" in err
    assert "rejected row 3 (10.HK): offer price inf is not a finite number" in err
    assert "rejected row 4 (3335): ticker 3335 is a bare number" in err and "3335.HK" in err
    assert "added 0011.HK" in out and "1 added" in out
