"""Issue 23: the HKEX allotment results parser on real announcements (tests/data/hkex/, see its
README for URLs), ``listings sync`` against a fake HKEXnews on 127.0.0.1, and the calendar rules
(duplicate keys, Excel serial dates, 18C category, explicit tranche dates, GEM)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli as run

from eventstudy.calendar.hkex import calendar_entry, parse_allotment
from eventstudy.calendar.listings import parse_listing, read_listings_file
from eventstudy.calendar.tranches import law_tranches
from eventstudy.calendar.validate import validate_file
from eventstudy.errors import ConfigError

HKEX = Path(__file__).parent / "data" / "hkex"
DOCS = {  # recording -> the path it has on www1.hkexnews.hk
    "0100_minimax_2026010801342.txt": "/listedco/listconews/sehk/2026/0108/2026010801342.pdf",
    "1879_xizhi_2026042703526.txt": "/listedco/listconews/sehk/2026/0427/2026042703526.pdf",
    "6809_montage_2026020601350.txt": "/listedco/listconews/sehk/2026/0206/2026020601350.pdf",
    "6731_directdrive_2026092802011.txt": "/listedco/listconews/sehk/2026/0928/2026092802011.pdf",
    "6228_merdekagold_2026062502338.txt": "/listedco/listconews/sehk/2026/0625/2026062502338.pdf",
    "3231_excelland_2026090800985.txt": "/listedco/listconews/sehk/2026/0908/2026090800985.pdf",
}


def _parsed(name: str):  # type: ignore[no-untyped-def]
    return parse_allotment((HKEX / name).read_text(encoding="utf-8"), "https://x" + DOCS[name])


def _tranches(name: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {t["name"]: t for t in calendar_entry(_parsed(name)).get("tranches", [])}


# Expected values typed from the documents; share sums are the rows of each table added by hand.
def test_minimax_red_chip_18c_pre_commercial() -> None:
    a = _parsed("0100_minimax_2026010801342.txt")
    assert (a.ticker, a.listing_date, a.offer_price) == ("0100.HK", pd.Timestamp("2026-01-09"),
                                                         165.0)
    assert (a.issuer_type, a.chapter_18c, a.category) == ("red_chip", True, "pre-commercial")
    assert a.issued_shares == 309_255_668
    t = _tranches("0100_minimax_2026010801342.txt")
    assert t["key_persons_24m"]["locked_shares"] == 62_593_180 + 11_509_339 + 5_000_000 + 15 \
        + 7_000_000
    assert t["controlling_24m"]["locked_shares"] == 62_593_180 + 11_509_339 + 5_000_000 + 15
    assert t["pathfinder_sii_12m"]["locked_shares"] == 1_912_399 + 16_015_779 + 7_301_687 \
        + 535_263
    # merged table cells (one date for many rows): dates kept, share counts left empty
    assert "locked_shares" not in t["pre_ipo_6m"] and "locked_shares" not in t["pre_ipo_9m"]
    assert "earlier" in t["pre_ipo_9m"]["source"]


def test_xizhi_h_share_18c_pre_commercial() -> None:
    a = _parsed("1879_xizhi_2026042703526.txt")
    assert (a.ticker, a.listing_date, a.offer_price) == ("1879.HK", pd.Timestamp("2026-04-28"),
                                                         183.2)
    assert (a.short_name, a.issuer_type, a.category) == ("XIZHI TECH-P", "h_share",
                                                         "pre-commercial")
    assert a.cornerstone_shares == 8_974_575 and a.issued_shares == 91_968_097
    t = _tranches("1879_xizhi_2026042703526.txt")
    assert t["key_persons_24m"]["locked_shares"] == 5_918_128 + 4_350_056 + 3_540_391 \
        + 8_583_458 + 4_780_789
    assert t["pathfinder_sii_12m"]["locked_shares"] == 3_532_177 + 367_334 + 3_272_298 \
        + 2_995_570 + 2_410_263
    assert t["pre_ipo_12m"]["basis"] == "law" and "Company Law" in t["pre_ipo_12m"]["rule"]


def test_montage_a_plus_h_main_board_cornerstone() -> None:
    a = _parsed("6809_montage_2026020601350.txt")
    assert (a.ticker, a.listing_date, a.offer_price) == ("6809.HK", pd.Timestamp("2026-02-09"),
                                                         106.89)
    assert (a.issuer_type, a.chapter_18c) == ("a_plus_h", False)
    t = _tranches("6809_montage_2026020601350.txt")
    assert list(t) == ["cornerstone_6m"]  # last day 2026-08-08: free from 2026-08-09 = +6 months
    assert t["cornerstone_6m"]["locked_shares"] == 32_828_000  # = the table's Total row
    assert t["cornerstone_6m"]["basis"] == "contract"


def test_direct_drive_h_share_18c_commercial_aggregate_row_counted_once() -> None:
    a = _parsed("6731_directdrive_2026092802011.txt")
    assert (a.ticker, a.listing_date, a.offer_price) == ("6731.HK", pd.Timestamp("2026-09-29"),
                                                         21.6)
    assert (a.issuer_type, a.category, a.cornerstone_shares) == ("h_share", "commercial",
                                                                 21_771_900)
    t = _tranches("6731_directdrive_2026092802011.txt")
    # Mr. Zhang's row (131,991,840) is the sum of his three associates' rows: counted once
    assert t["key_persons_12m"]["locked_shares"] == 70_191_810 + 50_876_570 + 10_923_460
    assert t["controlling_12m"]["locked_shares"] == 131_991_840
    assert t["pathfinder_sii_12m"]["locked_shares"] == 25_763_720 + 12_234_660 + 7_468_150


def test_excelland_rows_with_share_words_checked_against_subtotals() -> None:
    """Rows such as '13,525,400 Shares — 3.25%' and '29,775,900 H Shares 10.55%'; the sums
    equal the tables' Subtotal rows (124,033,000 and 82,868,800)."""
    a = _parsed("3231_excelland_2026090800985.txt")
    assert (a.ticker, a.listing_date, a.offer_price, a.issued_shares) == (
        "3231.HK", pd.Timestamp("2026-09-09"), 14.45, 416_368_421)
    assert (a.issuer_type, a.category, a.cornerstone_shares) == ("h_share", "commercial",
                                                                 1_634_400)
    t = _tranches("3231_excelland_2026090800985.txt")
    assert t["key_persons_12m"]["locked_shares"] == 13_525_400 + 22_595_650 + 53_188_450 \
        + 16_035_600 + 10_790_150 + 4_508_350 + 3_389_400 == 124_033_000
    assert t["pathfinder_sii_12m"]["locked_shares"] == 29_775_900 + 29_342_250 + 23_750_650
    assert calendar_entry(a)["float_shares"] == 45_000_000 - 1_634_400


def test_a_total_that_disagrees_with_the_rows_leaves_the_shares_empty() -> None:
    text = (HKEX / "3231_excelland_2026090800985.txt").read_text(encoding="utf-8")
    broken = text.replace("Subtotal\n124,033,000", "Subtotal\n124,033,001")
    entry = calendar_entry(parse_allotment(broken, "https://x/broken.pdf"))
    persons = next(t for t in entry["tranches"] if t["name"] == "key_persons_12m")
    assert "locked_shares" not in persons


def test_merdeka_main_board_controlling_periods_and_two_count_rows() -> None:
    """Rule 10.07: the first six-month period (stated in a note) and the second (the table);
    a table with two share counts per row (before/after the over-allotment) gives no shares."""
    a = _parsed("6228_merdekagold_2026062502338.txt")
    assert (a.ticker, a.listing_date, a.offer_price) == ("6228.HK", pd.Timestamp("2026-06-26"),
                                                         26.6)
    assert (a.issuer_type, a.chapter_18c, a.issued_shares) == ("", False, 14_731_366_060)
    t = _tranches("6228_merdekagold_2026062502338.txt")
    assert t["controlling_6m"]["locked_shares"] == t["controlling_12m"]["locked_shares"] \
        == 9_329_376_465
    assert "10.07(1)(a)" in t["controlling_6m"]["rule"] and "keeps control" in \
        t["controlling_12m"]["rule"]
    selling = t["selling_shareholders_20261224"]  # last day 23 December 2026: 181 days
    assert selling["free_from"] == pd.Timestamp("2026-12-24").date()
    assert "locked_shares" not in selling and selling["basis"] == "contract"


def test_float_at_listing_of_h_share_issuers() -> None:
    """Offered H shares less the cornerstone shares; none for a red chip (pre-IPO holders
    without undertakings could sell at once)."""
    floats = {name: calendar_entry(_parsed(name)).get("float_shares") for name in DOCS}
    assert floats["6731_directdrive_2026092802011.txt"] == 50_000_000 - 21_771_900
    assert floats["1879_xizhi_2026042703526.txt"] == 13_795_215 - 8_974_575
    assert floats["6809_montage_2026020601350.txt"] == 65_890_000 - 32_828_000
    assert floats["0100_minimax_2026010801342.txt"] is None
    assert floats["6228_merdekagold_2026062502338.txt"] is None


def test_every_recording_makes_a_valid_entry() -> None:
    for name in DOCS:
        listing = parse_listing(calendar_entry(_parsed(name)), name)
        assert listing.sources and listing.sources[0][0].endswith(DOCS[name])


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/New-Listings/"):
            links = "".join(f'<a href="{path}">Allotment Results</a><a href="/x">Prospectus</a>'
                            for path in DOCS.values())
            body, kind = f"<html><body>{links}</body></html>".encode(), "text/html"
        else:
            name = next((n for n, p in DOCS.items() if p == self.path), None)
            if name is None:
                self.send_error(404)
                return
            body, kind = (HKEX / name).read_bytes(), "text/plain; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fake_hkex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fake HKEXnews; the bundled calendar replaced by an empty one (so that every
    recorded listing is new)."""
    empty = tmp_path / "bundled.yaml"
    empty.write_text("listings: []\n", encoding="utf-8")
    monkeypatch.setattr("eventstudy.calendar.listings.BUNDLED_LISTINGS", empty)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_sync_dry_run_proposes_the_documents_and_writes_nothing(fake_hkex: str,
                                                                tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("# my calendar\nlistings: []\n", encoding="utf-8")
    code, out, err = run("listings", "sync", "--dry-run", "--base-url", fake_hkex,
                         "--listings", str(mine))
    assert code == 0, err
    assert "+ 6731.HK Direct Drive Tech Limited: listed 2026-09-29, HK$21.6, Chapter 18C " \
           "commercial, h_share" in out
    assert "    pathfinder_sii_12m: 12m, 45,466,530 shares, law" in out
    assert "+ 1879.HK" in out and "listed 2026-04-28, HK$183.2, Chapter 18C pre-commercial" in out
    assert "    cornerstone_6m: 6m, 32,828,000 shares, contract" in out
    assert f"source: {fake_hkex}{DOCS['6809_montage_2026020601350.txt']}" in out
    assert mine.read_text(encoding="utf-8") == "# my calendar\nlistings: []\n"


def test_sync_apply_writes_under_lock_keeping_comments(fake_hkex: str, tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("# my calendar\nlistings: []\n", encoding="utf-8")
    code, out, err = run("listings", "sync", "--apply", "--base-url", fake_hkex,
                         "--listings", str(mine))
    assert code == 0, err
    text = mine.read_text(encoding="utf-8")
    assert text.startswith("# my calendar")
    written = {x.ticker: x for x in read_listings_file(mine)}
    assert {"6731.HK", "1879.HK", "6809.HK"} <= set(written)
    assert written["6809.HK"].tranche("cornerstone_6m").locked_shares == 32_828_000
    assert written["1879.HK"].expiry("pathfinder_sii_12m") == pd.Timestamp("2027-04-28")


def test_sync_offline_exit_3_and_nothing_changed(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mine = tmp_path / "mine.yaml"
    mine.write_text("listings: []\n", encoding="utf-8")
    code, out, err = run("listings", "sync", "--apply", "--base-url",
                         f"http://127.0.0.1:{port}", "--listings", str(mine))
    assert code == 3
    assert "needs the network" in err and "Traceback" not in err
    assert mine.read_text(encoding="utf-8") == "listings: []\n"


ENTRY = "listings:\n  - ticker: 3881.HK\n    listing_date: 2025-12-19\n"


def test_duplicate_key_in_an_entry_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(ENTRY + "    listing_date: 2025-12-20\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'listing_date'"):
        read_listings_file(path)


def test_excel_serial_refused_in_yaml_and_read_by_import(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("listings:\n  - ticker: 3881.HK\n    listing_date: 45720\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Excel serial"):
        read_listings_file(path)
    from eventstudy.calendar.importer import table_entries

    table = tmp_path / "t.xlsx"
    pd.DataFrame({"ticker": ["3881.HK"], "listing_date": [45720], "issuer_type": ["h_share"],
                  "source": ["test"]}).to_excel(table, index=False)
    entries = table_entries(table).entries
    # Excel's day 0 is 1899-12-30: serial 45720 is 2025-03-04 (never 1970-01-01)
    expected = (pd.Timestamp(1899, 12, 30) + pd.Timedelta(days=45720)).date()
    assert entries[0]["listing_date"] == expected == pd.Timestamp("2025-03-04").date()


def test_18c_without_category_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(ENTRY + "    board: Chapter 18C\n    issuer_type: h_share\n",
                    encoding="utf-8")
    report = validate_file(path)
    assert not report.ok and "without category" in report.errors[0]


def test_free_from_overrides_the_preset_and_gem_preset() -> None:
    raw = {"ticker": "CRWV", "listing_date": "2025-03-28", "tranches": [
        {"name": "lockup_early", "free_from": "2025-08-15", "basis": "contract"}]}
    listing = parse_listing(raw, "test")
    assert listing.expiry("lockup_early") == pd.Timestamp("2025-08-15")
    gem = law_tranches("HK", "red_chip", "GEM")
    assert [(t.name, t.months) for t in gem] == [("cornerstone", 6), ("controlling_12m", 12)]


def test_upcoming_lists_the_new_12_month_expiries() -> None:
    from eventstudy.calendar.upcoming import upcoming_expiries

    frame = upcoming_expiries("2026-12-07", 90, prices=False)
    got = {(r.ticker, r.tranche): (str(r.expiry.date()), str(r.day0.date()))
           for r in frame.itertuples()}
    # CiDi listed 2025-12-19 (a Saturday anniversary: first session Monday 2026-12-21)
    assert got[("3881.HK", "pre_ipo_12m")] == ("2026-12-19", "2026-12-21")
    assert got[("3881.HK", "key_persons_12m")] == ("2026-12-19", "2026-12-21")
    assert got[("2675.HK", "pre_ipo_12m")] == ("2027-01-08", "2027-01-08")  # Edge Medical
    assert ("9903.HK", "pre_ipo_12m") in got and ("2513.HK", "pre_ipo_12m") in got
    assert frame.attrs["calendar_stale"]  # nothing after 2026-09-29 is known: still warned


def test_upcoming_lists_the_listings_of_2025_12_30() -> None:
    """OneRobotics (6600), 51WORLD (6651, 18C commercial) and Xunce (3317) listed on Tuesday
    2025-12-30 (sources in the calendar): their 12-month expiries fall on Wednesday 2026-12-30,
    an HK trading day, inside 90 days of 2026-12-07."""
    from eventstudy.calendar.upcoming import upcoming_expiries

    frame = upcoming_expiries("2026-12-07", 90, prices=False)
    got = {(r.ticker, r.tranche): (str(r.expiry.date()), str(r.day0.date()))
           for r in frame.itertuples()}
    for ticker in ("6600.HK", "6651.HK", "3317.HK"):
        assert got[(ticker, "pre_ipo_12m")] == ("2026-12-30", "2026-12-30")
        assert got[(ticker, "controlling_12m")] == ("2026-12-30", "2026-12-30")
    assert got[("6651.HK", "key_persons_12m")] == ("2026-12-30", "2026-12-30")  # Rule 18C.14


def test_sync_change_keeps_the_tranches_the_document_does_not_restate() -> None:
    """MiniMax's recording lacks the cornerstone table: the calendar's cornerstone tranche is
    kept, the key persons' 24-month tranche is replaced by the document's (with shares)."""
    from eventstudy.calendar.sync import _merged

    old = parse_listing({"ticker": "0100.HK", "name": "MiniMax Group", "listing_date":
                         "2026-01-09", "board": "Chapter 18C", "category": "pre-commercial",
                         "issuer_type": "red_chip", "source": "s", "tags": ["ai"],
                         "tranches": "18c-pre-commercial"}, "old")
    entry = calendar_entry(_parsed("0100_minimax_2026010801342.txt"))
    merged = parse_listing(_merged(entry, old), "merged")
    names = [t.name for t in merged.tranches]
    assert "cornerstone" in names and "key_persons_24m" in names and "pathfinder_sii" not in names
    assert merged.tranche("key_persons_24m").locked_shares == 86_102_534
    assert names.count("key_persons_24m") == 1 and merged.tags == ("ai",)


def test_upcoming_shows_law_or_contract_and_the_locked_to_float_ratio() -> None:
    from eventstudy.calendar.upcoming import upcoming_expiries

    frame = upcoming_expiries("2027-03-01", 20, prices=False, tranches=["cornerstone"])
    row = frame[frame["ticker"] == "3231.HK"].iloc[0]  # Excelland: free from 2027-03-09
    assert row["basis"] == "contract"
    assert row["locked_to_float"] == pytest.approx(1_634_400 / (45_000_000 - 1_634_400),
                                                   rel=1e-12, abs=0)
    law = upcoming_expiries("2027-09-01", 30, prices=False, tranches=["key_persons"])
    assert set(law[law["ticker"] == "3231.HK"]["basis"]) == {"law"}


def test_rule_checks_use_the_explicit_date_of_a_free_from_tranche() -> None:
    base = {"ticker": "1.HK", "listing_date": "2026-01-09", "board": "Chapter 18C",
            "category": "commercial", "issuer_type": "h_share", "source": "s"}
    ok = dict(base, tranches=[{"name": "key_persons_x", "free_from": "2027-01-09"}])
    assert parse_listing(ok, "t").expiry("key_persons_x") == pd.Timestamp("2027-01-09")
    early = dict(base, tranches=[{"name": "key_persons_x", "free_from": "2027-01-08"}])
    with pytest.raises(ConfigError, match="requires at least 12 for a commercial"):
        parse_listing(early, "t")
    with pytest.raises(ConfigError, match="locked 12 months"):
        parse_listing(dict(base, tranches=[{"name": "pre_ipo_x", "free_from": "2026-07-09"}]),
                      "t")


def test_index_links_elsewhere_are_not_followed() -> None:
    from eventstudy.calendar.sync import allotment_links

    html = ('<a href="/a.pdf">Allotment Results</a>'
            '<a href="https://www1.hkexnews.hk/b.pdf">allotment results</a>'
            '<a href="http://elsewhere.invalid/c">Allotment Results</a>'
            '<a href="/d.pdf">Prospectus</a>')
    assert allotment_links(html, "https://www2.hkexnews.hk/New-Listings/x") == [
        "https://www2.hkexnews.hk/a.pdf", "https://www1.hkexnews.hk/b.pdf"]


@pytest.mark.parametrize("libyaml", [True, False])
def test_duplicate_key_refused_with_and_without_libyaml(tmp_path: Path, libyaml: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if not libyaml:
        monkeypatch.setattr("eventstudy.calendar.yamlsafe._CSafeLoader", None)
    path = tmp_path / "c.yaml"
    path.write_text(ENTRY + "    board: Main Board\n    board: Chapter 18C\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'board'.*line 5"):
        read_listings_file(path)
