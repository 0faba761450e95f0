"""`eventstudy listings import`: a CSV/XLSX listings table into the user's calendar."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from conftest import run_cli as run

from eventstudy.calendar.edit import import_listings
from eventstudy.calendar.listings import read_listings_file
from eventstudy.calendar.tranches import STANDARD_HK_TRANCHES, TRANCHE_PRESETS

TABLE = """Ticker,Name,Listing Date,Offer Price,Board,Source,Category
1.HK,One AI,2026-03-02,"1,234.50",Main Board,https://example.org/one,
2.HK,Two Robotics,2026-03-03,10,,,
3.HK,Three,not-a-date,1,,s,
1.HK,One again,2026-03-02,1,,s,
4.HK,Four Chips,2026-04-01,19.6,Chapter 18C,https://example.org/four,pre-commercial
5.HK,Evil\x1b[2J,2026-04-01,1,,s,
"""
CALENDAR = "# our calendar\nlistings:\n  - ticker: 4.HK  # already here\n" \
           "    listing_date: 2026-04-01\n    source: ours\nowner: team\n"


def test_import_a_csv_adds_skips_and_rejects_with_reasons(tmp_path: Path) -> None:
    table, mine = tmp_path / "new.csv", tmp_path / "mine.yaml"
    table.write_text(TABLE, encoding="utf-8")
    mine.write_text(CALENDAR, encoding="utf-8")
    code, out, err = run("listings", "import", str(table), "--source", "team export 2026-04",
                         "--listings", str(mine))
    assert code == 2  # a row was rejected; the valid ones are added
    assert "added 0001.HK" in out and "added 0002.HK" in out
    assert f"{mine}: 2 added, 1 already there, 3 rejected" in out
    assert "skipped 0004.HK: already in the calendar" in err
    assert "rejected row 4 (3.HK): bad date 'not-a-date'" in err
    assert "rejected row 5 (1.HK): 0001.HK repeats row 2 (1.HK)" in err
    assert "rejected row 7 (5.HK): name holds the control character '\\x1b'" in err
    calendar = {x.ticker: x for x in read_listings_file(mine)}
    assert set(calendar) == {"0001.HK", "0002.HK", "0004.HK"}
    one, two = calendar["0001.HK"], calendar["0002.HK"]
    assert (one.name, str(one.listing_date.date()), one.offer_price, one.board, one.source) == (
        "One AI", "2026-03-02", 1234.5, "Main Board", "https://example.org/one")
    assert two.source == "team export 2026-04" and two.offer_price == 10.0
    assert one.tranches == two.tranches == STANDARD_HK_TRANCHES
    assert calendar["0004.HK"].source == "ours"
    text = mine.read_text()
    assert text.startswith("# our calendar\n") and "# already here" in text
    assert text.endswith("owner: team\n")


def test_replace_and_chapter_18c_presets(tmp_path: Path) -> None:
    table, mine = tmp_path / "new.csv", tmp_path / "mine.yaml"
    table.write_text(TABLE, encoding="utf-8")
    mine.write_text(CALENDAR, encoding="utf-8")
    report = import_listings(mine, table, source="export", replace=True)
    assert [x.ticker for x in report.added] == ["0001.HK", "0002.HK", "0004.HK"]
    assert report.skipped == [] and len(report.rejected) == 3
    four = read_listings_file(mine)[0]
    assert four.ticker == "0004.HK" and four.category == "pre-commercial"
    assert four.tranches == TRANCHE_PRESETS["18c-pre-commercial"]


def test_import_an_xlsx(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ticker", "name", "listing_date", "offer_price", "board", "source"])
    sheet.append(["9.HK", "Nine", datetime(2026, 5, 6), 12.5, "Main Board", "prospectus"])
    sheet.append(["10.HK", "Ten", "2026-05-07", None, None, "allotment results"])
    book.save(tmp_path / "t.xlsx")
    mine = tmp_path / "mine.yaml"
    code, out, err = run("listings", "import", str(tmp_path / "t.xlsx"), "--listings", str(mine))
    assert code == 0, err
    calendar = {x.ticker: x for x in read_listings_file(mine)}
    assert str(calendar["0009.HK"].listing_date.date()) == "2026-05-06"
    assert calendar["0009.HK"].offer_price == 12.5 and calendar["0010.HK"].offer_price is None
    assert calendar["0010.HK"].source == "allotment results"


def test_a_table_without_sources_or_the_columns_is_refused(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    table = tmp_path / "t.csv"
    table.write_text("ticker,listing date\n1.HK,2026-01-02\n", encoding="utf-8")
    code, _, err = run("listings", "import", str(table), "--listings", str(mine))
    assert code == 2 and "no source column: give --source" in err and not mine.exists()
    table.write_text("name,offer price\nOne,1\n", encoding="utf-8")
    code, _, err = run("listings", "import", str(table), "--source", "s", "--listings", str(mine))
    assert code == 2 and "missing column 'ticker'" in err
    code, _, err = run("listings", "import", str(tmp_path / "t.txt"), "--source", "s",
                       "--listings", str(mine))
    assert code == 2 and "no such file" in err
    (tmp_path / "t.txt").write_text("x")
    code, _, err = run("listings", "import", str(tmp_path / "t.txt"), "--source", "s",
                       "--listings", str(mine))
    assert code == 2 and "must be .csv or .xlsx" in err and not mine.exists()
