"""Bad dates and numbers in a calendar, `listings add` and `upcoming`: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli as run

BAD_DATES = ["-2024-01-02", "0000-01-01", "9999-12-31", "1899-12-31", "2101-01-01",
             "2024-01-02T10:00:00+08:00", "2024-01-02 09:30Z"]


def _one_line_exit_2(code: int, out: str, err: str, words: str) -> None:
    assert code == 2, err
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in out + err


@pytest.mark.parametrize("value", BAD_DATES + ['"-2024-01-02"', '"2024-01-02T10:00:00+08:00"'])
def test_bad_listing_dates_in_a_calendar(tmp_path: Path, value: str) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(f"listings:\n  - {{ticker: 1.HK, listing_date: {value}, source: s}}\n",
                    encoding="utf-8")
    for args in (["listings", "validate", str(path)],
                 ["upcoming", "--offline", "--no-prices", "--listings", str(path)]):
        code, out, err = run(*args)
        assert code == 2 and "Traceback" not in out + err
        assert any(w in err for w in ("outside 1900..2100", "time zone", "bad date"))


@pytest.mark.parametrize("value", BAD_DATES)
def test_bad_dates_on_the_command_line(tmp_path: Path, value: str) -> None:
    words = "time zone" if ":" in value else "outside 1900..2100"
    _one_line_exit_2(*run("upcoming", "--offline", "--no-prices", f"--as-of={value}"), words)
    mine = tmp_path / "mine.yaml"
    _one_line_exit_2(*run("listings", "add", "1.HK", f"--date={value}", "--source", "s",
                          "--listings", str(mine)), words)
    assert not mine.exists()


def test_within_beyond_ten_years_is_a_usage_error() -> None:
    for within in ("99999999999999999999", "3661"):
        code, out, err = run("upcoming", "--offline", "--no-prices", "--within", within)
        assert code == 2 and "Invalid value for '--within'" in err and "Traceback" not in err
    code, _, err = run("upcoming", "--offline", "--no-prices", "--within", "3660",
                       "--as-of", "2025-01-02")
    assert code == 10, err


@pytest.mark.parametrize(("value", "key"), [(".inf", "offer_price"), (".nan", "offer_price"),
                                            ("-1", "offer_price"), ("0", "offer_price"),
                                            (".inf", "float_shares"),
                                            ("-.inf", "shares_outstanding")])
def test_non_finite_or_negative_numbers_are_rejected_at_load(tmp_path: Path, value: str,
                                                             key: str) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text("listings:\n  - {ticker: 1.HK, listing_date: 2024-01-02, source: s, "
                    f"{key}: {value}}}\n", encoding="utf-8")
    _one_line_exit_2(*run("listings", "list", "--json", "--listings", str(path)),
                     f"{key} must be a")


def test_the_bundled_calendar_passes_strict_validation() -> None:
    code, out, err = run("listings", "validate", "--strict")
    assert code == 0, err
    assert "INVALID" not in out and err == ""


def test_18c_without_category_is_an_error(tmp_path: Path) -> None:
    """Issue 23: not a warning about some tranches but an error (no silent 12/24-month drop)."""
    path = tmp_path / "cal.yaml"
    base = ("listings:\n  - {ticker: 1.HK, listing_date: 2024-01-02, source: s, "
            "board: Chapter 18C, issuer_type: red_chip")
    path.write_text(base + ", tranches: [{name: cornerstone, months: 6}]}\n", encoding="utf-8")
    code, _, err = run("listings", "validate", str(path))
    assert code == 2 and "without category" in err
    path.write_text(base + ", category: commercial, tranches: [{name: cornerstone, months: 6}, "
                    "{name: controlling_12m, months: 12}]}\n", encoding="utf-8")
    code, _, err = run("listings", "validate", "--strict", str(path))
    assert code == 0, err
