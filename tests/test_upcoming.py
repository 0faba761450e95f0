"""`eventstudy upcoming` and `eventstudy listings`: expiries in a window, formats, exit codes,
--state, --history, iCalendar, and the calendar's add / list / validate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import read_raw_prices
from conftest import run_cli as run

from eventstudy.calendar.ics import fold
from eventstudy.calendar.listings import BUNDLED_LISTINGS, load_listings
from eventstudy.calendar.upcoming import upcoming_expiries
from eventstudy.calendar.validate import validate_file

SIX_MONTHS = {"cornerstone", "pre_ipo", "controlling_6m"}




def upcoming(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    return run("upcoming", "--offline", *args, env=env)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# The library function


def test_horizon_six_month_tranches_as_of_april_2025() -> None:
    frame = upcoming_expiries("2025-04-01", 30, offline=True)
    horizon = frame[frame["ticker"] == "9660.HK"]
    assert set(horizon["tranche"]) == SIX_MONTHS
    assert set(horizon["expiry"]) == {pd.Timestamp("2025-04-24")}
    assert set(horizon["day0"]) == {pd.Timestamp("2025-04-24")}
    # XHKG sessions in (2025-04-01, 2025-04-24]: 17 weekdays less Ching Ming (4 Apr), Good
    # Friday (18 Apr) and Easter Monday (21 Apr).
    assert set(horizon["sessions_until"]) == {14}
    assert "controlling_12m" not in set(horizon["tranche"])
    assert (frame["day0"] >= pd.Timestamp("2025-04-01")).all()
    assert (frame["expiry"] <= pd.Timestamp("2025-05-01")).all()


def test_price_run_up_matches_the_raw_csv() -> None:
    raw = read_raw_prices("9660.HK")["Close"]
    upto = raw[raw.index <= "2025-04-01"]
    row = upcoming_expiries("2025-04-01", 30, offline=True).query("ticker == '9660.HK'").iloc[0]
    assert row["last_close"] == pytest.approx(upto.iloc[-1], rel=1e-6, abs=0)
    assert row["last_close_date"] == upto.index[-1]
    assert row["runup_since_listing"] == pytest.approx(upto.iloc[-1] / raw.iloc[0] - 1, rel=1e-6,
                                                       abs=0)
    assert row["runup_since_offer"] == pytest.approx(upto.iloc[-1] / 3.99 - 1, rel=1e-6, abs=0)


def test_missing_price_data_leaves_blanks_not_an_error() -> None:
    frame = upcoming_expiries("2025-04-01", 30, offline=True)
    mobvoi = frame[frame["ticker"] == "2438.HK"].iloc[0]  # no bundled data for Mobvoi
    assert mobvoi["tranche"] == "controlling_12m"
    assert pd.isna(mobvoi["last_close"]) and pd.isna(mobvoi["runup_since_offer"])


def test_expiry_on_a_weekend_keeps_its_next_session() -> None:
    # Black Sesame listed 2024-08-08: its 6-month tranches expire on Saturday 2025-02-08.
    frame = upcoming_expiries("2025-02-09", 3, offline=True, prices=False)
    sesame = frame[frame["ticker"] == "2533.HK"]
    assert set(sesame["tranche"]) == {"cornerstone", "pathfinder_sii"}
    assert set(sesame["expiry"]) == {pd.Timestamp("2025-02-08")}
    assert set(sesame["day0"]) == {pd.Timestamp("2025-02-10")}


def test_filters_by_tag_board_and_tranche() -> None:
    def tickers(**kw: object) -> set[tuple[str, str]]:
        frame = upcoming_expiries("2025-04-01", 30, offline=True, prices=False, **kw)
        return set(zip(frame["ticker"], frame["tranche"], strict=True))

    assert tickers(tranches=["cornerstone"]) == {("9660.HK", "cornerstone")}
    assert tickers(tranches=["controlling"]) == {("9660.HK", "controlling_6m"),
                                                 ("2438.HK", "controlling_12m")}
    assert tickers(tags=["autonomous-driving"]) == {("9660.HK", t) for t in SIX_MONTHS}
    assert tickers(tags=["robotics"]) == set()
    assert tickers(boards=["18C"]) == set()
    august = upcoming_expiries("2025-08-01", 10, prices=False, boards=["18c"])
    assert ("2533.HK", "controlling_12m") in set(zip(august["ticker"], august["tranche"],
                                                     strict=True))
    assert set(august["board"]) == {"Chapter 18C"}


# --------------------------------------------------------------------------------------------
# The command: formats and exit codes


def test_table_and_exit_code_10_when_something_is_upcoming() -> None:
    code, out, err = upcoming("--as-of", "2025-04-01", "--within", "30")
    assert code == 10, err
    assert "9660.HK" in out and "2025-04-24" in out and "cornerstone" in out
    assert "+60.4%" in out  # run-up since the HK$3.99 offer


def test_exit_code_0_when_nothing_is_upcoming() -> None:
    code, out, _ = upcoming("--as-of", "2020-01-01", "--within", "10")
    assert code == 0
    assert "(10 days): 0" in out


def test_json_output() -> None:
    code, out, err = upcoming("--as-of", "2025-04-01", "--json")
    assert code == 10, err
    doc = json.loads(out)
    assert doc["as_of"] == "2025-04-01" and doc["end"] == "2025-05-01"
    assert doc["count"] == len(doc["expiries"]) == doc["in_window"]
    rows = [r for r in doc["expiries"] if r["ticker"] == "9660.HK"]
    assert {r["tranche"] for r in rows} == SIX_MONTHS
    assert {r["day0"] for r in rows} == {"2025-04-24"}
    assert all(r["uid"].startswith("9660.HK-") for r in rows)


def test_csv_output() -> None:
    code, out, err = upcoming("--as-of", "2025-04-01", "--csv")
    assert code == 10, err
    frame = pd.read_csv(io.StringIO(out))
    assert {"ticker", "tranche", "expiry", "day0", "sessions_until", "locked_to_float",
            "runup_since_offer", "hist_car", "uid"} <= set(frame.columns)
    assert set(frame.loc[frame["ticker"] == "9660.HK", "day0"]) == {"2025-04-24"}


def _ics_lines(data: bytes) -> list[str]:
    assert data.endswith(b"\r\n")
    physical = data.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)
    assert b"\n" not in b"".join(physical)
    text = "\r\n".join(p.decode("utf-8") for p in physical)  # no UTF-8 split by folding
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_file_is_valid_and_stable(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    assert upcoming("--as-of", "2025-04-01", "--ics", str(first))[0] == 10
    assert upcoming("--as-of", "2025-04-01", "--ics", str(second), "--json")[0] == 10
    assert first.read_bytes() == second.read_bytes()
    lines = _ics_lines(first.read_bytes())
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(x.startswith("PRODID:") for x in lines)
    begins = [i for i, x in enumerate(lines) if x == "BEGIN:VEVENT"]
    assert len(begins) == lines.count("END:VEVENT") == 4
    uids = [x for x in lines if x.startswith("UID:")]
    assert len(set(uids)) == 4
    assert "UID:9660.HK-cornerstone-20250424@eventstudy" in uids
    assert lines.count("DTSTART;VALUE=DATE:20250424") == 4
    assert lines.count("DTEND;VALUE=DATE:20250425") == 4
    assert all(x == "DTSTAMP:20250401T000000Z" for x in lines if x.startswith("DTSTAMP"))
    assert any(x.startswith("DESCRIPTION:Horizon Robotics (9660.HK)\\, Main Board\\n")
               for x in lines)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_fold_keeps_utf8_characters_whole() -> None:
    line = "SUMMARY:" + "北京智谱华章科技股份有限公司" * 4
    folded = fold(line).encode("utf-8")
    assert _ics_lines(folded) == [line]


def test_state_reports_only_what_is_new(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    code, out, err = upcoming("--as-of", "2025-04-01", "--state", str(state))
    assert code == 10, err
    assert "9660.HK" in out
    seen = json.loads(state.read_text())["seen"]
    assert "9660.HK-cornerstone-20250424@eventstudy" in seen
    code, out, _ = upcoming("--as-of", "2025-04-01", "--state", str(state))
    assert code == 0
    assert "0 new of 4" in out
    code, out, _ = upcoming("--as-of", "2025-04-01", "--state", str(state), "--json")
    assert code == 0 and json.loads(out)["count"] == 0 and json.loads(out)["in_window"] == 4
    # A week later, a longer window: only the expiries not reported before.
    code, out, _ = upcoming("--as-of", "2025-04-08", "--within", "70", "--state", str(state),
                            "--csv")
    assert code == 10
    frame = pd.read_csv(io.StringIO(out))
    assert list(zip(frame["ticker"], frame["tranche"], strict=True)) == [
        ("2228.HK", "pathfinder_sii")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_history_gives_the_mean_reaction_of_the_tranche(tmp_path: Path) -> None:
    history = write(tmp_path / "batch.json", json.dumps({"events": [
        {"tranche": "cornerstone", "ar_0": -0.1, "car": [{"window": "[-1,+1]", "car": -0.2}]},
        {"tranche": "cornerstone", "ar_0": -0.3, "car": [{"window": "[-1,+1]", "car": -0.4},
                                                         {"window": "[0,0]", "car": 9.0}]},
        {"tranche": "pre_ipo", "ar_0": None, "car": []},
    ]}))
    code, out, err = upcoming("--as-of", "2025-04-01", "--history", str(history), "--json")
    assert code == 10, err
    rows = {r["tranche"]: r for r in json.loads(out)["expiries"] if r["ticker"] == "9660.HK"}
    assert rows["cornerstone"]["hist_n"] == 2
    assert rows["cornerstone"]["hist_ar0"] == pytest.approx(-0.2, rel=1e-6, abs=0)
    assert rows["cornerstone"]["hist_car"] == pytest.approx(-0.3, rel=1e-6, abs=0)
    assert rows["pre_ipo"]["hist_n"] == 1 and rows["pre_ipo"]["hist_car"] is None
    assert rows["controlling_6m"]["hist_n"] is None
    code, out, _ = upcoming("--as-of", "2025-04-01", "--history", str(history),
                            "--history-window", "0,0", "--json")
    rows = {r["tranche"]: r for r in json.loads(out)["expiries"] if r["ticker"] == "9660.HK"}
    assert rows["cornerstone"]["hist_car"] == pytest.approx(9.0, rel=1e-6, abs=0)


def test_history_from_a_real_lockup_study(tmp_path: Path) -> None:
    from eventstudy.studies.lockup import lockup_study

    result = lockup_study("0020.HK", tranches=["cornerstone"], offline=True)
    history = write(tmp_path / "h.json", result.to_json())
    car = result.car_of("0020.HK:cornerstone:2022-06-30", (-1, 1))["car"]
    frame = upcoming_expiries("2025-04-01", 30, offline=True, prices=False, history=history)
    row = frame[(frame["ticker"] == "9660.HK") & (frame["tranche"] == "cornerstone")].iloc[0]
    assert row["hist_n"] == 1 and row["hist_car"] == pytest.approx(car, rel=1e-6, abs=0)


@pytest.mark.parametrize(("args", "words"), [
    (["--as-of", "someday"], "not a --as-of date"),
    (["--as-of", "2025-04-01", "--json", "--csv"], "choose one of --json and --csv"),
    (["--as-of", "2025-04-01", "--history", "missing.json"], "no such history file"),
    (["--as-of", "2025-04-01", "--history-window", "x"], "bad history window"),
    (["--within", "-3"], "Invalid value"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    code, out, err = upcoming(*args)
    assert code == 2
    assert words in err
    assert "Traceback" not in err + out


def test_corrupt_state_file_is_exit_2(tmp_path: Path) -> None:
    state = write(tmp_path / "state.json", "{not json")
    code, _, err = upcoming("--as-of", "2025-04-01", "--state", str(state))
    assert code == 2 and "not an eventstudy state file" in err
    assert state.read_text() == "{not json"


# --------------------------------------------------------------------------------------------
# The calendar: add, list, validate


def test_add_then_list_and_upcoming_report_an_expected_listing(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    env = {"EVENTSTUDY_LISTINGS": str(mine)}
    bundled_before = BUNDLED_LISTINGS.read_bytes()
    code, out, err = run("listings", "add", "1234.HK", "--date", "2025-10-01", "--name",
                         "Example AI", "--source", "https://example.org/prospectus",
                         "--status", "expected", "--category", "pre-commercial",
                         "--offer-price", "10", "--float-shares", "1000000", "--tag", "ai",
                         env=env)
    assert code == 0, err
    assert "added 1234.HK" in out and mine.exists()
    assert BUNDLED_LISTINGS.read_bytes() == bundled_before
    listing = load_listings(mine)["1234.HK"]
    assert listing.status == "expected" and listing.board == "Chapter 18C"
    assert {t.name: t.months for t in listing.tranches}["controlling_24m"] == 24
    code, out, _ = run("listings", "list", "--json", env=env)
    rows = {r["ticker"]: r for r in json.loads(out)}
    assert rows["1234.HK"]["status"] == "expected" and "0020.HK" in rows
    code, out, _ = upcoming("--as-of", "2026-03-25", "--within", "10", "--ics",
                            str(tmp_path / "x.ics"), env=env)
    assert code == 10
    assert "1234.HK" in out and "expected" in out
    ics = (tmp_path / "x.ics").read_text().replace("\r\n ", "")
    assert "STATUS:TENTATIVE" in ics and "(expected)" in ics


def test_add_tranche_with_locked_shares_gives_the_locked_to_float_ratio(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    code, _, err = run("listings", "add", "5678.HK", "--date", "2025-01-02", "--source", "s",
                       "--tranches", "none", "--tranche", "anchor:6:2500000",
                       "--float-shares", "10000000", "--listings", str(mine))
    assert code == 0, err
    frame = upcoming_expiries("2025-06-30", 10, listings=mine, prices=False)
    row = frame[frame["ticker"] == "5678.HK"].iloc[0]
    assert row["tranche"] == "anchor" and row["locked_shares"] == 2_500_000
    assert row["locked_to_float"] == pytest.approx(0.25, rel=1e-6, abs=0)


def test_add_appends_and_keeps_comments_refuses_duplicates(tmp_path: Path) -> None:
    mine = write(tmp_path / "mine.yaml", "# my notes\nlistings:\n  - ticker: 1.HK\n"
                                         "    listing_date: 2024-01-02\n    source: here\n")
    args = ["listings", "add", "2.HK", "--date", "2024-03-04", "--source", "there",
            "--listings", str(mine)]
    assert run(*args)[0] == 0
    assert mine.read_text().startswith("# my notes\nlistings:\n  - ticker: 1.HK\n")
    assert set(load_listings(mine)) >= {"0001.HK", "0002.HK", "0020.HK"}
    code, _, err = run(*args)
    assert code == 2 and "0002.HK is already listed (use --replace)" in err
    code, _, err = run(*args[:-2], "--offer-price", "7.5", "--replace", "--listings", str(mine))
    assert code == 0, err
    assert load_listings(mine)["0002.HK"].offer_price == 7.5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_add_rewrites_a_file_it_cannot_append_to(tmp_path: Path) -> None:
    mine = write(tmp_path / "flow.yaml", "listings: [{ticker: 1.HK, listing_date: 2024-01-02}]\n")
    for ticker in ("2.HK", "3.HK"):
        code, _, err = run("listings", "add", ticker, "--date", "2024-03-04", "--source", "s",
                           "--listings", str(mine))
        assert code == 0, err
    report = validate_file(mine)
    assert report.ok and [x.ticker for x in report.listings] == ["0001.HK", "0002.HK", "0003.HK"]


def test_add_without_a_calendar_file_never_touches_the_bundled_one() -> None:
    before = BUNDLED_LISTINGS.read_bytes()
    code, _, err = run("listings", "add", "9.HK", "--date", "2024-01-02", "--source", "s")
    assert code == 2 and "give --listings PATH" in err
    assert BUNDLED_LISTINGS.read_bytes() == before


@pytest.mark.parametrize(("entry", "words"), [
    ("    colour: red\n", "unknown key 'colour'"),
    ("    board: Chapter 18C\n    category: pre-commercial\n    tranches:\n"
     "      - {name: controlling_12m, months: 12}\n",
     "requires at least 24 for a pre-commercial company"),
    ("    board: Main Board\n    category: commercial\n", "applies to Chapter 18C listings only"),
    ("    tranches:\n      - {name: anchor, months: 0}\n", "months must be 1..60"),
    ("    tranches: 18c-premium\n", "unknown tranche preset"),
    ("    shares_outstanding: 10\n    tranches:\n      - {name: a, months: 6, "
     "locked_shares: 11}\n", "more than the 10 outstanding"),
])
def test_validate_reports_each_problem_on_one_line(tmp_path: Path, entry: str,
                                                   words: str) -> None:
    path = write(tmp_path / "bad.yaml", "listings:\n  - ticker: 1.HK\n"
                                        "    listing_date: 2024-01-02\n" + entry)
    code, out, err = run("listings", "validate", str(path))
    assert code == 2
    assert words in err and "INVALID" in out
    assert all(line.startswith(("error:", "warning:")) for line in err.splitlines())


def test_validate_collects_errors_of_several_entries(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "listings:\n"
                 "  - {ticker: 1.HK, listing_date: not-a-date}\n"
                 "  - {ticker: 2.HK, listing_date: 2024-01-02, source: s}\n"
                 "  - {ticker: 0002.HK, listing_date: 2024-01-03, source: s}\n")
    report = validate_file(path)
    assert len(report.errors) == 2
    assert "bad date" in report.errors[0] and "duplicate ticker 0002.HK" in report.errors[1]
    assert [x.ticker for x in report.listings] == ["0002.HK"]


def test_validate_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.yaml", "listings:\n  - ticker: 1.HK\n"
                                       "    listing_date: 2024-01-02\n")
    code, out, err = run("listings", "validate", str(path))
    assert code == 0 and "ok" in out and "no source" in err
    code, _, err = run("listings", "validate", "--strict", str(path))
    assert code == 2 and "error:" in err and "no source" in err


def test_bundled_calendar_is_valid_and_sourced() -> None:
    report = validate_file(BUNDLED_LISTINGS)
    assert report.ok, report.errors
    assert not [w for w in report.warnings if "no source" in w]
    calendar = {x.ticker: x for x in report.listings}
    assert len(calendar) >= 15
    assert calendar["2533.HK"].board == calendar["2432.HK"].board == "Chapter 18C"
    assert calendar["2533.HK"].category == calendar["2432.HK"].category == "commercial"
    assert calendar["9660.HK"].board == "Main Board"
    minimax = {t.name: t.months for t in calendar["0100.HK"].tranches}
    assert minimax["controlling_24m"] == 24 and minimax["pathfinder_sii_12m"] == 12
    sesame = {t.name: t.months for t in calendar["2533.HK"].tranches}
    assert sesame["controlling_12m"] == 12 and sesame["pathfinder_sii"] == 6
    assert "18C" in BUNDLED_LISTINGS.read_text() and "eylaw.com.hk" in BUNDLED_LISTINGS.read_text()


def test_upcoming_says_how_current_the_calendar_is_and_warns_when_stale(tmp_path: Path) -> None:
    import yaml

    mine = write(tmp_path / "mine.yaml", "listings:\n  - {ticker: 1.HK, listing_date: "
                                         "2099-01-05, source: s}\n")
    env = {"EVENTSTUDY_LISTINGS": str(mine)}
    code, out, err = upcoming("--no-prices", "--as-of", "2099-03-06", env=env)  # 60 days
    assert "Calendar as of 2099-01-05 (its newest listing)" in out
    assert "STALE" not in out and "days old" not in err
    code, out, err = upcoming("--no-prices", "--as-of", "2099-03-07", "--json", env=env)
    doc = json.loads(out)
    assert doc["calendar_as_of"] == "2099-01-05" and doc["calendar_stale"] is True
    assert ("warning: the listings calendar is 61 days old (newest listing 2099-01-05, as of "
            "2099-03-07)") in err
    code, out, err = upcoming("--no-prices", "--as-of", "2099-03-07", env=env)
    assert "STALE: later listings may be missing" in out
    # A listing after --as-of does not make the calendar current as of that date.
    bundled = yaml.safe_load(BUNDLED_LISTINGS.read_text())["listings"]
    newest = max(str(x["listing_date"]) for x in bundled)
    code, out, err = upcoming("--no-prices", "--as-of", "2098-12-01", env=env)
    assert f"Calendar as of {newest}" in out and "days old" in err
