"""The CLI end to end on the bundled data: JSON, report folder, one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as run

REPORT_FILES = {"report.md", "report.html", "abnormal_returns.csv", "summary.json"}




def test_lockup_json_reports_the_sensetime_crash(tmp_path: Path) -> None:
    code, out, err = run("lockup", "0020.HK", "--offline", "--json", "--out", str(tmp_path / "r"))
    assert code == 0, err
    doc = json.loads(out)
    event = next(e for e in doc["events"] if e["tranche"] == "cornerstone")
    assert event["event_id"] == "0020.HK:cornerstone:2022-06-30"
    assert event["event_date"] == "2022-06-30"
    day0 = next(r for r in event["abnormal_returns"] if r["day"] == 0)
    assert round(100 * day0["return"], 2) == -46.77
    assert day0["ar"] < -0.4 and day0["t"] < -5
    assert {c["window"] for c in event["car"]} >= {"[0,0]", "[-1,+1]", "[+0,+20]"}
    assert set(event) >= {"ticker", "tranche", "model", "estimation_window", "volume_ratio"}
    assert event["volume_ratio"] > 1
    assert {e["tranche"] for e in doc["events"]} == {"cornerstone", "pre_ipo",
                                                     "controlling_6m", "controlling_12m"}


def test_lockup_writes_the_report_folder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, text, err = run("lockup", "20.hk", "--offline", "--out", str(out))
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert names >= REPORT_FILES
    assert any(n.startswith("price_volume_") for n in names)
    assert any(n.startswith("ar_car_") for n in names)
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert "-46.77%" in text and "cornerstone" in text
    assert "bundled" in (out / "report.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_default_run_falls_back_to_bundled_and_warns(tmp_path: Path) -> None:
    code, out, err = run("lockup", "0020.HK", "--no-report", "--tranche", "cornerstone")
    assert code == 0
    notes = out[out.index("Notes:"):]  # said once, under Notes (test_cli_more: not twice)
    assert "Yahoo unreachable" in notes and "bundled" in notes


def test_a_first_row_at_the_download_start_is_no_listing(tmp_path: Path) -> None:
    """0700.HK's bundled file starts 2009-01-02 (the download start, not its 2004 listing): no
    inferred listing (issue 21); --listing-date gives one."""
    code, out, err = run("lockup", "0700.HK", "--offline", "--no-report", "--tranche",
                         "cornerstone")
    assert code == 2 and "2009-01-02" in err and "--listing-date" in err
    assert len(err.strip().splitlines()) == 1, err
    code, out, err = run("lockup", "0700.HK", "--offline", "--no-report", "--tranche",
                         "cornerstone", "--listing-date", "2009-06-01")
    assert code == 0, err
    assert "listed 2009-06-01 (given: --listing-date)" in out


@pytest.mark.parametrize(("args", "code", "words"), [
    (["lockup", "9999.HK", "--offline"], 3, "no bundled data for 9999.HK"),
    (["lockup", "2432.HK", "--offline", "--tranche", "controlling_12m"], 3, "after the data"),
    (["lockup", "0020.HK", "--offline", "--tranche", "anchor"], 2, "no tranche 'anchor'"),
    (["lockup", "0020.HK", "--offline", "--estimation", "-15,-11"], 2,
     "too short an estimation window"),
    (["lockup", "0020.HK", "--offline", "--window", "x"], 2, "bad window"),
    (["lockup", "0020.HK", "--offline", "--window", "5,20"], 2, "must contain day 0"),
    (["lockup", "0020.HK", "--offline", "--estimation", "-20,0"], 2, "must end before"),
    (["lockup", "0020.HK", "--offline", "--estimation", "10,30"], 2, "must end before"),
    (["lockup", "$$", "--offline"], 2, "not a ticker"),
    (["lockup", "0020.HK", "--offline", "--model", "capm"], 2, "Invalid value"),
])
def test_bad_input_is_one_line_and_an_exit_code(tmp_path: Path, args: list[str], code: int,
                                                words: str) -> None:
    out = tmp_path / "r"
    got, _, err = run(*args, "--out", str(out))
    assert got == code, err
    assert words in err
    assert "Traceback" not in err
    if code != 2 or "Invalid value" not in words:
        assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_constant_prices_are_an_estimation_error(tmp_path: Path) -> None:
    data = tmp_path / "X.csv"
    rows = ["date,close,volume"] + [f"{d.date()},5.0,100" for d in
                                    __import__("pandas").bdate_range("2021-01-04", periods=300)]
    data.write_text("\n".join(rows) + "\n")
    code, _, err = run("lockup", "8888.HK", "--offline", "--data", str(data), "--no-report",
                       "--listing-date", "2021-01-04")  # the first row opens a year: give it
    assert code == 2
    assert "constant returns in the estimation window" in err


def test_malformed_listings_config(tmp_path: Path) -> None:
    bad = tmp_path / "l.yaml"
    bad.write_text("listings:\n  - ticker: 20.HK\n    listing_date: 2021-12-30\n    x: 1\n")
    code, _, err = run("lockup", "0020.HK", "--offline", "--listings", str(bad))
    assert code == 2 and "unknown key 'x'" in err


def test_user_file_study(tmp_path: Path) -> None:
    """A user's price file in the plain date/close/volume layout, served as the ticker."""
    import pandas as pd

    src = Path(__file__).resolve().parent.parent / "data" / "prices" / "0020.HK.csv"
    raw = pd.read_csv(src, skiprows=[1, 2]).rename(columns={"Price": "date"})
    mine = tmp_path / "sensetime.csv"
    raw[["date", "Close", "Volume"]].to_csv(mine, index=False)
    code, out, err = run("lockup", "0020.HK", "--offline", "--data", str(mine), "--json",
                         "--no-report", "--tranche", "cornerstone")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["sources"]["0020.HK"] == str(mine)
    assert doc["events"][0]["return_0"] == pytest.approx(3.13 / 5.88 - 1, rel=1e-6, abs=0)


def test_fetch_fills_the_cache(tmp_path: Path) -> None:
    code, out, err = run("fetch", "0020.HK", "^HSI", "--offline", "--cache-dir",
                         str(tmp_path / "c"))
    assert code == 0, err
    assert (tmp_path / "c" / "prices" / "0020.HK.parquet").exists()
    code, out, err = run("lockup", "0020.HK", "--offline", "--cache-dir", str(tmp_path / "c"),
                         "--json", "--no-report")
    assert json.loads(out)["sources"]["0020.HK"].startswith("cache")


def test_fetch_unknown_ticker_exits_3(tmp_path: Path) -> None:
    code, _, err = run("fetch", "9999.HK", "--offline")
    assert code == 3 and "9999.HK" in err
