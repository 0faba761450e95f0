"""Tranches by law (issue 11 item 3): the issuer type picks the lock-ups.

Expected dates are computed here from the rule texts (data/research/calendar/rules.md), not by the
code under test: PRC Company Law art. 160 (one year from listing for an H-share issuer's pre-IPO
shares), Rule 10.07 (first free day = the calendar-month anniversary), Chapter 18C, secondary
listings without IPO lock-ups."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, read_raw_prices
from conftest import run_cli as run

from eventstudy.calendar.events import lockup_events
from eventstudy.calendar.listings import load_listings
from eventstudy.calendar.tranches import law_tranches
from eventstudy.calendar.validate import validate_file


def anniversary(day: str, months: int) -> pd.Timestamp:
    """First free day under Rule 10.07 / the PRC one-year rule: same day-of-month N months on
    (HKEX: 'ends on the date which is 12 months from the Listing Date' = the day before)."""
    start = pd.Timestamp(day)
    year, month = divmod(start.month - 1 + months, 12)
    first = pd.Timestamp(year=start.year + year, month=month + 1, day=1)
    return first + pd.Timedelta(days=min(start.day, first.days_in_month) - 1)


def first_traded_on_or_after(ticker: str, day: pd.Timestamp) -> pd.Timestamp:
    index = read_raw_prices(ticker).index
    return pd.Timestamp(index[index >= day][0])


def tranche_months(ticker: str) -> dict[str, int]:
    return {t.name: t.months for t in load_listings()[ticker].tranches}


@pytest.mark.parametrize("ticker, listed, unlock", [
    ("9880.HK", "2023-12-29", "2024-12-30"),  # 12 months = Sunday 29 Dec -> Monday
    ("6682.HK", "2023-09-28", "2024-09-30"),  # 12 months = Saturday 28 Sep -> Monday
])
def test_h_share_pre_ipo_is_locked_twelve_months(ticker: str, listed: str, unlock: str) -> None:
    listing = load_listings()[ticker]
    assert listing.issuer_type == "h_share"
    assert listing.issuer_type_source.startswith("https://")
    assert tranche_months(ticker) == {"cornerstone": 6, "pre_ipo_12m": 12, "controlling_12m": 12}
    events = {e.tranche: e for e in lockup_events(listing)}
    expiry = anniversary(listed, 12)
    assert events["pre_ipo_12m"].date == expiry
    assert events["pre_ipo_12m"].session == first_traded_on_or_after(ticker, expiry)
    assert events["pre_ipo_12m"].session == pd.Timestamp(unlock)
    six = anniversary(listed, 6)
    assert events["cornerstone"].session == first_traded_on_or_after(ticker, six)


@pytest.mark.parametrize("ticker, listed, unlock", [
    ("9880.HK", "2023-12-29", "2024-12-30"), ("6682.HK", "2023-09-28", "2024-09-30")])
def test_the_twelve_month_day_is_the_real_unlock(ticker: str, listed: str, unlock: str) -> None:
    """Real data: the H-share 12-month day 0 is a sell-off on many times the usual volume, the
    6-month day (where the old preset put pre-IPO holders) is not."""
    prices = read_raw_prices(ticker)
    day0 = pd.Timestamp(unlock)
    pos = prices.index.get_loc(day0)
    before = prices["Volume"].iloc[pos - 60:pos]
    ratio = prices["Volume"].iloc[pos] / before.mean()
    ret = prices["Close"].iloc[pos] / prices["Close"].iloc[pos - 1] - 1
    assert ratio > 10 and ret < -0.25, (ratio, ret)
    six = prices.index.get_loc(first_traded_on_or_after(ticker, anniversary(listed, 6)))
    six_ratio = prices["Volume"].iloc[six] / prices["Volume"].iloc[six - 60:six].mean()
    assert six_ratio < ratio / 5


def test_red_chip_keeps_the_six_month_tranches() -> None:
    assert load_listings()["0020.HK"].issuer_type == "red_chip"
    assert tranche_months("0020.HK") == {"cornerstone": 6, "pre_ipo": 6, "controlling_6m": 6,
                                         "controlling_12m": 12}


def test_chapter_18c_keeps_its_tranches() -> None:
    assert tranche_months("2533.HK") == {"cornerstone": 6, "pathfinder_sii": 6,
                                         "controlling_12m": 12, "key_persons_12m": 12}
    # MiniMax: its allotment results' lock-up tables (issue 23), plus the preset's cornerstone
    assert tranche_months("0100.HK") == {"cornerstone": 6, "pathfinder_sii_12m": 12,
                                         "controlling_24m": 24, "key_persons_24m": 24,
                                         "pre_ipo_6m": 6, "pre_ipo_9m": 9}
    dobot = {e.tranche: e for e in lockup_events(load_listings()["2432.HK"])}
    assert dobot["pre_ipo_12m"].date == anniversary("2024-12-23", 12)  # a Tuesday session
    assert dobot["pre_ipo_12m"].session == pd.Timestamp("2025-12-23")


def test_law_tranches_by_issuer_type() -> None:
    names = lambda ts: {t.name: t.length for t in ts}  # noqa: E731
    assert names(law_tranches("HK", "h_share")) == {"cornerstone": "6m", "pre_ipo_12m": "12m",
                                                     "controlling_12m": "12m"}
    assert names(law_tranches("HK", "a_plus_h")) == {"cornerstone": "6m",
                                                      "controlling_6m": "6m",
                                                      "controlling_12m": "12m"}
    assert law_tranches("HK", "secondary") == ()
    # Pathfinder SIIs of an H-share issuer: 18C's 6 months, but the PRC one-year rule binds
    # them longer (FourSemi 3625: Rule 18C.14(2) ends 30 Sep 2026, PRC law 30 Mar 2027).
    assert names(law_tranches("HK", "h_share", "Chapter 18C", "commercial")) == {
        "cornerstone": "6m", "pathfinder_sii": "12m", "controlling_12m": "12m",
        "key_persons_12m": "12m", "pre_ipo_12m": "12m"}
    assert names(law_tranches("HK", "red_chip", "Chapter 18C", "commercial"))[
        "pathfinder_sii"] == "6m"
    assert names(law_tranches("HK", "h_share", "Chapter 18C")) == {"cornerstone": "6m",
                                                                   "pre_ipo_12m": "12m"}
    assert names(law_tranches("US")) == {"lockup_180d": "180d"}


def test_lockup_of_a_secondary_listing_says_not_applicable() -> None:
    code, out, err = run("lockup", "9988.HK", "--offline", "--no-report")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "9988.HK is a secondary listing" in err and "do not apply" in err


def test_batch_skips_the_secondary_listing_with_its_reason() -> None:
    from eventstudy.studies.batch import listing_events

    events, skips = listing_events(load_listings())
    assert "9988.HK" not in {e.ticker for e in events}
    (skip,) = [s for s in skips if s.ticker == "9988.HK"]
    assert "secondary listing" in skip.reason


H_SHARE_SIX = """listings:
  - ticker: 9880.HK
    name: x
    listing_date: 2023-12-29
    board: Main Board
    issuer_type: h_share
    source: test
    tranches:
      - {name: cornerstone, months: 6}
      - {name: pre_ipo, months: 6}
"""


def test_validate_flags_an_h_share_with_six_month_pre_ipo(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(H_SHARE_SIX)
    report = validate_file(path)
    assert not report.ok
    assert "'pre_ipo' is 6m" in report.errors[0] and "12 months" in report.errors[0]
    path.write_text(H_SHARE_SIX.replace("tranches:\n      - {name: cornerstone, months: 6}\n"
                                        "      - {name: pre_ipo, months: 6}\n",
                                        "tranches: hk-offshore\n"))
    assert not validate_file(path).ok
    path.write_text(H_SHARE_SIX.replace("issuer_type: h_share", "issuer_type: red_chip"))
    assert validate_file(path).ok
    path.write_text(H_SHARE_SIX)
    code, _, err = run("listings", "validate", str(path))
    assert code == 2 and "PRC Company Law" in err


def test_validate_flags_an_h_share_pathfinder_under_twelve_months(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(H_SHARE_SIX.replace("board: Main Board", "board: Chapter 18C\n    category: "
                                        "commercial").replace("{name: pre_ipo, months: 6}",
                                                              "{name: pathfinder_sii, months: 6}"))
    report = validate_file(path)
    assert not report.ok and "'pathfinder_sii' is 6m" in report.errors[0]


def test_every_calendar_entry_has_sourced_issuer_type() -> None:
    for ticker, listing in load_listings().items():
        assert listing.source, ticker
        assert listing.issuer_type, ticker
        assert "http" in listing.issuer_type_source or "read_file" in \
            listing.issuer_type_source, ticker


def test_bundled_calendar_passes_strict_validation() -> None:
    """Every bundled entry complete: a source, an issuer type, a category for Chapter 18C."""
    code, out, err = run("listings", "validate", "--strict", str(ROOT / "configs" /
                                                                "listings.yaml"))
    assert code == 0, err
    assert "listing(s), ok" in out + err
