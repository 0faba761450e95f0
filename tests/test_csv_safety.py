"""CSV injection (issue 24): every CSV the product writes (report and export tables, ``upcoming
--csv``, ``simulate --out``) passes its text cells through one function that prefixes ``'`` to
text starting with = + - @, tab or CR (OWASP); numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st

from eventstudy.formatting import csv_text, spreadsheet_safe

DANGEROUS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x",
             '=HYPERLINK("http://127.0.0.1/x","y")']


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def _formula_like(cell: str) -> bool:
    """A cell a spreadsheet would run: starts with a formula character and is not a number."""
    try:
        float(cell)
        return False
    except ValueError:
        return cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_text_gets_a_quote_and_numbers_stay_numbers(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text
    frame = pd.DataFrame({text: [text, "plain"], "x": [-0.46, 1.5], "n": [-3, 4],
                          "as_text": ["-0.46", "+1"]})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows == [["'" + text, "x", "n", "as_text"], ["'" + text, "-0.46", "-3", "-0.46"],
                    ["plain", "1.5", "4", "+1"]]  # a number written as text is harmless


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_no_text_cell_of_any_csv_can_be_a_formula(values: list[str]) -> None:
    text = csv_text(pd.DataFrame({"v": values, "w": values[::-1]}))
    assert not any(_formula_like(c) for c in _cells(text))


def _events_with_formulas() -> str:
    Path("events.csv").write_text(
        "ticker,date,tranche,remark\n"
        '0020.HK,2022-06-30,"=1+1","@SUM(A1)"\n'
        '0700.HK,2022-06-30,"-2+3","=HYPERLINK(""http://127.0.0.1"")"\n', encoding="utf-8")
    return "events.csv"


def test_report_and_export_csvs_are_neutralised() -> None:
    code, _, err = run_cli("-q", "batch", _events_with_formulas(), "--offline", "--out", "rep")
    assert code == 0, err
    files = sorted(Path("rep").glob("*.csv"))
    assert any(f.name == "events.csv" for f in files)
    for path in files:
        cells = _cells(path.read_text(encoding="utf-8"))
        assert not any(_formula_like(c) for c in cells), path.name
    events = pd.read_csv(Path("rep") / "events.csv", dtype=str)
    assert {"'=1+1", "'-2+3"} <= set(events["tranche"])
    assert "'@SUM(A1)" in set(events["remark"])
    numbers = pd.read_csv(Path("rep") / "events.csv")
    assert pd.api.types.is_float_dtype(numbers["ar_0"])  # negative numbers stay numbers
    assert (numbers["ar_0"] < 0).all()


def test_upcoming_csv_is_neutralised(tmp_path: Path) -> None:
    calendar = tmp_path / "cal.yaml"
    calendar.write_text(
        "listings:\n  - ticker: 1.HK\n    listing_date: 2024-01-02\n    source: s\n"
        '    name: "=cmd|\' /C calc\'!A0"\n'
        '    tranches:\n      - {name: "@evil", months: 6}\n', encoding="utf-8")
    code, out, err = run_cli("upcoming", "--offline", "--no-prices", "--listings",
                             str(calendar), "--as-of", "2024-06-20", "--within", "30", "--csv")
    assert code == 10, err
    frame = pd.read_csv(io.StringIO(out), dtype=str)
    row = frame[frame["ticker"] == "0001.HK"].iloc[0]
    assert row["name"] == "'=cmd|' /C calc'!A0" and row["tranche"] == "'@evil"
    assert not any(_formula_like(c) for c in _cells(out))


def test_simulate_csv_goes_through_the_same_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    import eventstudy.formatting as formatting

    calls: list[int] = []
    original = formatting.csv_text

    def counted(frame: pd.DataFrame, **kwargs: object) -> str:
        calls.append(len(frame))
        return original(frame, **kwargs)

    monkeypatch.setattr(formatting, "csv_text", counted)
    code, _, err = run_cli("simulate", "--json", "--samples", "1", "--events", "3", "--pool",
                           "50", "--designs", "single", "--out", "size.csv")
    assert code == 0, err
    assert calls and Path("size.csv").exists()


@given(st.text(max_size=40))
def test_no_ticker_or_label_text_becomes_a_path(text: str) -> None:
    """Any text given as a ticker is refused or is one file-name component inside the cache;
    figure names are [A-Za-z0-9_.-] without a leading dot (issue 24)."""
    from eventstudy.data.cache import PriceCache
    from eventstudy.data.tickers import normalise_ticker
    from eventstudy.errors import BadInput
    from eventstudy.report.figures import safe_name

    root = Path("/nonexistent-cache")
    try:
        ticker = normalise_ticker(text)
    except BadInput:
        ticker = None
    if ticker is not None:
        path = PriceCache(root).path(ticker)
        assert path.parent == root / "prices" and "/" not in path.name
        assert not path.name.startswith(".")
    name = safe_name(text)
    assert name and not name.startswith(".") and "/" not in name and name != ".."
