"""Red-team cases of issue 9 run through the CLI: each bad input gives its exit code (2 bad input,
3 data unavailable) and exactly one line on stderr, never a traceback; a batch skips what it
cannot study (events before 1990 or past the exchange calendar, a listing dated 1985) with the
reason and studies the rest. Offline, on the bundled data; no network."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli

LONG = "x" * 300


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def events_file(name: str, rows: list[tuple[str, str, str]]) -> str:
    """A ticker,date,tranche CSV with each cell quoted (so a newline stays inside its cell)."""
    body = "".join(f'"{t}","{d}","{tr}"\n' for t, d, tr in rows)
    return write(name, "ticker,date,tranche\n" + body)


def one_line(code: int, err: str, expected: int, *words: str) -> None:
    assert code == expected, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(("error: ", "Error: ")), lines
    for word in words:
        assert word in lines[0], (word, lines[0])


STUDY = ("--offline", "--no-report")

CASES: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = {
    "car-windows ;;;": (("lockup", "0020.HK", *STUDY, "--car-windows", ";;;"), 2,
                        ("no CAR window",)),
    "car-windows empty": (("lockup", "0020.HK", *STUDY, "--car-windows", ""), 2, ("CAR",)),
    "listing horizons empty": (("listing", "0020.HK", *STUDY, "--horizons", ""), 2,
                               ("--horizons",)),
    "listing horizons ,,": (("listing", "0020.HK", *STUDY, "--horizons", ",,"), 2,
                            ("--horizons",)),
    "simulate shifts empty": (("simulate", "--json", "--shifts", ""), 2, ("--shifts",)),
    "simulate shifts nan": (("simulate", "--json", "--shifts", "nan"), 2, ("--shifts",)),
    "simulate variance-ratios empty": (("simulate", "--json", "--variance-ratios", " "), 2,
                                       ("--variance-ratios",)),
    "garch date garbage": (("garch", "0020.HK", *STUDY, "--date", "garbage"), 2, ("garbage",)),
    "garch date leading -": (("garch", "0020.HK", *STUDY, "--date", "-2022-06-30"), 2,
                             ("outside the XHKG calendar",)),
    "garch date year 0000": (("garch", "0020.HK", *STUDY, "--date", "0000-06-30"), 2,
                             ("outside",)),
    "garch date 9999-12-31": (("garch", "0020.HK", *STUDY, "--date", "9999-12-31"), 2,
                              ("outside",)),
    "300-character ticker": (("lockup", "A" * 300, *STUDY), 2, ("at most 32",)),
    "300-character ticker, fetch": (("fetch", "A" * 300, "--offline"), 2, ("at most 32",)),
    "300-character --data name": (("lockup", "0020.HK", *STUDY, "--data", LONG), 2,
                                  ("File name too long",)),
    "300-character --data folder": (("lockup", "0020.HK", *STUDY, "--data", f"d/{LONG}/y.csv"),
                                    3, ("no such file",)),
    "300-character --cache-dir": (("lockup", "0020.HK", *STUDY, "--cache-dir", LONG), 2,
                                  ("File name too long",)),
    "executor without port": (("lockup", "0020.HK", *STUDY, "--executor", "dask://host"), 2,
                               ("--executor",)),
    "executor port 99999": (("batch", *STUDY, "--executor", "dask://127.0.0.1:99999"), 2,
                            ("1 to 65535",)),
    "group-by unknown column": (("batch", *STUDY, "--group-by", "sector"), 2,
                                ("--group-by 'sector'", "no such column")),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_option_is_one_line(case: str) -> None:
    args, expected, words = CASES[case]
    code, _, err = run_cli(*args)
    one_line(code, err, expected, *words)


BAD_CELLS = {
    "newline in tranche": ("0020.HK", "2022-06-30", "corner\nstone"),
    "CR in tranche": ("0020.HK", "2022-06-30", "a\rATTACH:x"),
    "escape in tranche": ("0020.HK", "2022-06-30", "\x1b[31mred"),
    "RTL override in tranche": ("0020.HK", "2022-06-30", "abc\u202edef"),
    "markdown image after a newline": ("0020.HK", "2022-06-30", "x\n![x](/etc/passwd)"),
}


@pytest.mark.parametrize("case", list(BAD_CELLS), ids=list(BAD_CELLS))
def test_control_characters_in_an_events_file_are_rejected_before_the_study(case: str) -> None:
    path = events_file("events.csv", [BAD_CELLS[case], ("0700.HK", "2022-06-30", "plain")])
    code, _, err = run_cli("batch", path, "--offline", "--out", "rep")
    one_line(code, err, 2, "events.csv: row 2", "control character")
    assert not Path("rep").exists()


def test_a_control_character_in_a_column_name_is_rejected() -> None:
    path = write("events.csv", 'ticker,date,"no\ttes"\n0020.HK,2022-06-30,x\n')
    code, _, err = run_cli("batch", path, *STUDY)
    one_line(code, err, 2, "header", "control character")


@pytest.mark.parametrize("date", ["-2022-06-30", "0000-06-30", "9999-12-31", "1985-06-03"])
def test_an_events_file_with_only_an_impossible_date_is_one_line(date: str) -> None:
    path = events_file("events.csv", [("0020.HK", date, "a")])
    code, _, err = run_cli("batch", path, *STUDY)
    one_line(code, err, 2, date, "outside the XHKG calendar")


@pytest.mark.parametrize("date", ["-2022-06-30", "0000-06-30", "9999-12-31", "1985-06-03",
                                  "1989-12-29", "2099-01-02"])
def test_a_batch_skips_an_event_outside_the_calendar_and_studies_the_rest(date: str) -> None:
    path = events_file("events.csv", [("0020.HK", "2022-06-30", "a"), ("0700.HK", date, "b")])
    code, out, err = run_cli("batch", path, *STUDY, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [e["event_id"] for e in doc["events"]] == ["0020.HK:a:2022-06-30"]
    (skip,) = doc["skipped"]
    assert skip["ticker"] == "0700.HK" and "outside the XHKG calendar" in skip["reason"]
    assert date in skip["reason"]


@pytest.mark.parametrize("command", ["batch", "lockup"])
def test_a_calendar_listing_dated_1985_is_skipped_and_the_rest_studied(command: str) -> None:
    calendar = write("calendar.yaml", """listings:
  - ticker: 0020.HK
    name: SenseTime Group
    listing_date: 2021-12-30
    status: listed
    source: test
    tranches: standard
  - ticker: 0700.HK
    name: An old listing
    listing_date: 1985-06-03
    status: listed
    source: test
    tranches: standard
""")
    tickers = ("0020.HK", "0700.HK") if command == "lockup" else ()
    code, out, err = run_cli(command, *tickers, "--listings", calendar, "--tranche",
                             "cornerstone", *STUDY, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [e["event_id"] for e in doc["events"]] == ["0020.HK:cornerstone:2022-06-30"]
    (skip,) = doc["skipped"]
    assert skip["ticker"] == "0700.HK" and "1985-12-03 is outside the XHKG calendar" in (
        skip["reason"])


def test_group_by_an_existing_extra_column_still_groups() -> None:
    path = write("events.csv", "ticker,date,sector\n0020.HK,2022-06-30,ai\n"
                               "0700.HK,2022-06-30,internet\n9988.HK,2022-06-30,internet\n")
    code, out, err = run_cli("batch", path, *STUDY, "--json", "--group-by", "sector")
    assert code == 0, err
    groups = {row["group"] for row in json.loads(out)["tests"]}
    assert {"all", "ai", "internet"} <= groups


def _refuse_temporary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave like a read-only folder even for root: creating the temporary sibling fails."""
    from eventstudy import fileio

    def refuse(path: Path) -> Path:
        raise PermissionError(13, "Permission denied", f"{path.parent}/.{path.name}.k2j3h4.tmp")

    monkeypatch.setattr(fileio, "_temp_file", refuse)


@pytest.mark.parametrize("how", ["patched", "chmod"])
def test_an_output_under_a_read_only_folder_names_the_target(
        how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = Path("locked")
    locked.mkdir()
    if how == "chmod":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the patched case covers it")
        locked.chmod(0o555)
    else:
        _refuse_temporary(monkeypatch)
    try:
        code, _, err = run_cli("simulate", "--json", "--samples", "1", "--events", "3",
                               "--pool", "50", "--designs", "single", "--out",
                               "locked/size.csv")
    finally:
        locked.chmod(0o755)
    one_line(code, err, 2, "locked/size.csv", "Permission denied")
    assert ".tmp" not in err
    assert not list(locked.iterdir())


def _poison_session_cache(day: str) -> None:
    """Remove ``day`` from the on-disk XHKG session cache and re-hash it, as an attacker (or a
    bad sync) could; forget what this process holds in memory."""
    import hashlib

    import numpy as np

    from eventstudy.calendar import sessions
    from eventstudy.data.cache import default_cache_dir

    path = default_cache_dir() / "calendars" / "XHKG.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    days = [d for d in doc["days"] if d != int(np.datetime64(day, "D").astype(np.int64))]
    assert len(days) == len(doc["days"]) - 1
    doc["days"] = days
    doc["sha256"] = hashlib.sha256(np.array(days, dtype="<i8").tobytes()).hexdigest()
    path.write_text(json.dumps(doc), encoding="utf-8")
    sessions.session_index.cache_clear()
    sessions._VERIFIED.clear()


def test_a_poisoned_session_cache_does_not_move_day_0() -> None:
    """SenseTime's cornerstone expiry 2022-06-30 (AR(0) about -46%): with the day removed from
    the cache and the hash recomputed, day 0 stays on the day the stock and the index traded,
    a note says so, and the cache is rebuilt from exchange-calendars."""
    from eventstudy.calendar import sessions

    sessions.session_index.cache_clear()  # this test's cache folder gets the file
    args = ("lockup", "0020.HK", *STUDY, "--json")
    code, out, err = run_cli(*args)
    assert code == 0, err
    clean = {e["event_id"]: e["ar_0"] for e in json.loads(out)["events"]}
    assert "0020.HK:cornerstone:2022-06-30" in clean
    _poison_session_cache("2022-06-30")
    code, out, err = run_cli(*args)
    assert code == 0, err
    events = json.loads(out)["events"]
    assert {e["event_id"]: e["ar_0"] for e in events} == clean
    notes = " ".join(e["note"] for e in events)
    assert "traded on 2022-06-30" in notes and "session cache" in notes
    from eventstudy.calendar.sessions import session_index

    session_index.cache_clear()
    assert pd.Timestamp("2022-06-30") in session_index("XHKG")  # the file was rebuilt


@pytest.mark.parametrize("content", [
    b"my notes\nmeeting at 10\n",
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Someone else//EN\r\nEND:VCALENDAR\r\n",
    b"\xff\xfe\x00binary",
])
def test_upcoming_ics_refuses_a_file_eventstudy_did_not_write(content: bytes) -> None:
    target = Path("notes.txt")
    target.write_bytes(content)
    code, _, err = run_cli("upcoming", "--offline", "--no-prices", "--as-of", "2025-04-01",
                           "--ics", "notes.txt")
    one_line(code, err, 2, "notes.txt", "not an iCalendar file eventstudy wrote")
    assert target.read_bytes() == content


def test_upcoming_ics_replaces_its_own_file() -> None:
    args = ("upcoming", "--offline", "--no-prices", "--within", "30", "--ics", "x.ics")
    assert run_cli(*args, "--as-of", "2025-04-01")[0] == 10
    first = Path("x.ics").read_bytes()
    assert run_cli(*args, "--as-of", "2025-03-01")[0] in (0, 10)
    assert Path("x.ics").read_bytes() != first and first.startswith(b"BEGIN:VCALENDAR")


def test_a_read_only_report_folder_names_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    from eventstudy.report import folder

    def refuse(parent: Path, prefix: str) -> Path:
        raise PermissionError(13, "Permission denied", str(parent / f"{prefix}k2j3h4"))

    monkeypatch.setattr(folder, "_new_dir", refuse)
    code, _, err = run_cli("-q", "lockup", "0020.HK", "--offline", "--out", "locked/rep")
    one_line(code, err, 2, "locked/rep", "Permission denied")
    assert ".rep." not in err


def test_a_file_size_limit_during_a_report_is_one_line() -> None:
    """``ulimit -f`` (RLIMIT_FSIZE): the report's files cannot be written; exit 2, one line
    naming the report folder, and nothing half-written left behind."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run([sys.executable, "-m", "eventstudy.cli", "-q", "lockup", "0020.HK",
                           "--offline", "--out", "rep"], capture_output=True, text=True,
                          preexec_fn=limit, timeout=300, check=False)
    one_line(proc.returncode, proc.stderr, 2, "rep", "File too large")
    assert not Path("rep").exists()
    assert not [p for p in Path().iterdir() if p.name.startswith(".rep.")]


def _factor_file(columns: dict[str, float]) -> str:
    """Real ^HSI daily returns as factor MKT, with ``columns`` = multiples of it."""
    from conftest import read_raw_hsi

    ret = read_raw_hsi().pct_change().dropna().loc["2020-01-01":"2023-06-30"]
    frame = pd.DataFrame({"date": ret.index.strftime("%Y-%m-%d"), "MKT": ret.to_numpy()})
    for name, scale in columns.items():
        frame[name] = scale * ret.to_numpy()
    frame["RF"] = 0.0001
    frame.to_csv("factors.csv", index=False)
    return "factors.csv"


def test_collinear_factors_are_not_called_constant_market_returns() -> None:
    path = _factor_file({"MKT2": 2.0})
    code, _, err = run_cli("-q", "lockup", "0020.HK", *STUDY, "--no-garch", "--model",
                           "factors", "--factors", path, "--factor-cols", "MKT,MKT2")
    assert code == 2 and "Traceback" not in err
    assert "collinear" in err and "constant market returns" not in err


def test_rf_col_naming_a_factor_is_one_line() -> None:
    path = _factor_file({})
    code, _, err = run_cli("lockup", "0020.HK", *STUDY, "--no-garch", "--model", "factors",
                           "--factors", path, "--factor-cols", "MKT,RF", "--rf-col", "RF")
    one_line(code, err, 2, "--rf-col 'RF' is also a factor column")


@pytest.mark.parametrize(("date", "words"), [
    ("2022-02-30", ("ev.yaml: row 2", "'2022-02-30'")),
    ("20220630", ("ev.yaml: row 2", "20220630 is a number")),
])
def test_an_impossible_or_integer_yaml_date_names_file_row_and_value(
        date: str, words: tuple[str, ...]) -> None:
    path = write("ev.yaml", f"events:\n  - ticker: 0020.HK\n    date: {date}\n")
    code, _, err = run_cli("batch", path, *STUDY)
    one_line(code, err, 2, *words)


def test_a_yaml_calendar_date_that_does_not_exist_names_its_entry() -> None:
    from eventstudy.calendar.yamlsafe import load_yaml

    doc = load_yaml("listing_date: 2022-02-30\nok: 2022-02-28\n", Path("c.yaml"))
    assert doc["listing_date"] == "2022-02-30" and str(doc["ok"]) == "2022-02-28"
