"""The Python API for notebooks (issue 14): ``batch_study`` on a DataFrame of events and the
statsmodels-style ``summary()`` header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import batch_study, lockup_study
from eventstudy.calendar.listings import load_listings
from eventstudy.errors import BadInput
from tests.conftest import read_raw_prices

EVENTS = pd.DataFrame({
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK"],
    "date": [pd.Timestamp("2022-06-30"), "2025-04-24", "2022-12-30", "2021-08-05"],
    "sector": ["ai", "ai", np.nan, "internet"],
    "listing_date": ["2021-12-30", None, "2021-12-30", "2021-02-05"],
})


def test_batch_accepts_a_dataframe_like_the_same_csv(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    EVENTS.assign(date=[str(pd.Timestamp(d).date()) for d in EVENTS["date"]]).to_csv(
        path, index=False)
    from_frame = batch_study(EVENTS, offline=True, group_by="sector")
    from_file = batch_study(path, offline=True, group_by="sector")
    assert from_frame.event_ids() == from_file.event_ids() == [
        "0020.HK:event:2022-06-30", "9660.HK:event:2025-04-24", "0020.HK:event:2022-12-30",
        "1024.HK:event:2021-08-05"]
    np.testing.assert_allclose(from_frame.car["car"], from_file.car["car"], rtol=0, atol=0)
    assert from_frame.events["sector"].tolist() == ["ai", "ai", "", "internet"]  # NaN is blank
    assert {"all", "ai", "internet"} <= set(from_frame.tests["group"])
    assert str(from_frame.events["listing_date"].iloc[0])[:10] == "2021-12-30"
    # 9660.HK is in the calendar: its listing date whatever the entry point (issue 21)
    known = str(load_listings()["9660.HK"].listing_date.date())
    assert from_frame.events["listing_date"].iloc[1] == known
    assert from_file.events["listing_date"].iloc[1] == known


def test_batch_dataframe_errors_name_the_row() -> None:
    with pytest.raises(BadInput, match="missing column 'date'"):
        batch_study(EVENTS.drop(columns=["date"]), offline=True)
    bad = EVENTS.assign(date=["2022-06-30", "not a date", "2022-12-30", "2021-08-05"])
    with pytest.raises(BadInput, match="events DataFrame: row 1: not a event date"):
        batch_study(bad, offline=True)


def test_batch_dataframe_follows_the_holiday_policy() -> None:
    holiday = pd.DataFrame({"ticker": ["0020.HK", "0020.HK"],
                            "date": ["2022-07-01", "2022-06-30"]})  # HKSAR day: no session
    moved = batch_study(holiday, offline=True)
    assert moved.event_ids() == ["0020.HK:event:2022-07-04", "0020.HK:event:2022-06-30"]
    skipped = batch_study(holiday, offline=True, holiday_policy="skip")
    assert skipped.event_ids() == ["0020.HK:event:2022-06-30"]
    assert "not a session" in skipped.skipped["reason"].iloc[0]


def test_summary_header_fields_lockup() -> None:
    from datetime import datetime

    from eventstudy.results.summary import header_block, header_fields

    res = lockup_study("0020.HK", offline=True, volatility=False)
    when = datetime(2026, 12, 4, 9, 30, 5)
    fields = dict(header_fields(res, now=when))
    assert fields["Study:"] == "lockup"
    assert fields["Model:"] == "market-adjusted"  # lock-ups: no post-IPO intercept (issue 22)
    assert fields["Event window:"] == "[-10,+20]"
    assert fields["No. events:"] == "4"  # cornerstone, pre-IPO, controlling 6m and 12m
    assert fields["No. firm-days:"] == "2"  # 2022-06-30 and 2022-12-30
    assert fields["No. skipped:"] == "0"
    assert fields["Market:"] == "^HSI"
    assert fields["Data source:"] == "bundled"
    assert fields["Date:"] == "Fri, 04 Dec 2026" and fields["Time:"] == "09:30:05"
    days = res.events["estimation_days"]
    assert fields["Estimation window:"] == (
        f"[-270,-21] (<= 250, from listing +30); {days.min()}-{days.max()} sessions")
    assert fields["CAR windows:"].split() == ["[-20,-1]", "[-10,-1]", "[0,0]", "[+0,+1]", "[-1,+1]",
                                              "[-5,+5]", "[+0,+5]", "[+0,+10]", "[+0,+20]"]
    block = header_block(res, now=when).splitlines()
    assert block[0].strip() == "Lock-up expiry study results"
    assert block[1] == block[-1] == "=" * 78
    assert all(len(line) <= 78 for line in block)
    text = str(res.summary())
    assert text.splitlines()[1] == "=" * 78 and "No. events:" in text
    assert text.index("No. events:") < text.index("CAR (t")


def test_summary_header_counts_a_batch_with_skips() -> None:
    res = batch_study(EVENTS.assign(date=["2022-06-30", "2025-04-24", "2022-12-30",
                                          "2027-06-29"]), offline=True)
    fields = dict(header_fields_of(res))
    assert fields["No. events:"] == str(len(res.events)) == "3"
    assert fields["No. skipped:"] == "1"  # 2027: after the data
    assert fields["Estimation window:"].startswith("[-270,-21]; ")


def header_fields_of(res):
    from eventstudy.results.summary import header_fields

    return header_fields(res)


def test_batch_dataframe_with_listings_gets_the_calendar_characteristics() -> None:
    from eventstudy.calendar.listings import read_listings_file
    from eventstudy.studies.batch import listing_events

    path = "configs/listings.yaml"
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    hk = {x.ticker: x for x in read_listings_file(root / path) if x.ticker == "0020.HK"}
    events = pd.DataFrame([e.to_dict() for e in listing_events(hk)[0]])[
        ["ticker", "date", "tranche", "group", "listing_date"]]
    plain = batch_study(events, offline=True)
    described = batch_study(events, offline=True, listings=root / path)
    assert set(described.listings) == {"0020.HK"} and not plain.listings
    np.testing.assert_array_equal(described.car["car"], plain.car["car"])
    same = batch_study(listings=root / path, tranches=None, offline=True, model="market")
    ours = described.events.set_index("event_id")["ar_0"]
    theirs = same.events.set_index("event_id").loc[ours.index, "ar_0"]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-15)  # = the listings batch
    chars = described.characteristics()
    offer = hk["0020.HK"].offer_price  # HK$3.85; run-up = close before day 0 / offer - 1
    closes = read_raw_prices("0020.HK")["Close"]
    assert len(chars) == 4 and chars["runup"].notna().all()
    for day0, value in zip(chars["day0"], chars["runup"], strict=True):
        before = closes[closes.index < day0].iloc[-1]
        assert value == pytest.approx(before / offer - 1, rel=1e-9, abs=0)
    assert chars["runup"].iloc[0] == pytest.approx(5.88 / 3.85 - 1, rel=1e-3, abs=0)
