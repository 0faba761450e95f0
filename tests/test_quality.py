"""Data-quality screens (issue 21, docs/quality.md): one test per class of dirt, each on real rows
copied unchanged from ../shared/data/prices_hk_panel (tests/data/quality/PROVENANCE.md: file,
sha256 of the source, rows) or on the bundled real data; each fails on the code before the
screens (the wrong number was studied silently)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import batch_study, lockup_study
from eventstudy.calendar.events import Event
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.check import FINDINGS_EXIT, check_data, check_lines
from eventstudy.quality.screens import screen_series
from eventstudy.studies.core import make_loader
from eventstudy.studies.lockup import event_study
from tests.conftest import read_raw_hsi, read_raw_prices

HERE = Path(__file__).resolve().parent / "data" / "quality"
SHORT = {"estimation": (-60, -11), "min_estimation": 30, "window": (-5, 5),
         "car_windows": ((0, 0), (0, 5)), "bhar_windows": ((0, 5),), "offline": True}


def _study(events: list[tuple[str, str]], data: Path = HERE, **kw: object):
    return event_study([Event(t, pd.Timestamp(d)) for t, d in events],
                       **{**SHORT, "data": data, **kw})  # type: ignore[arg-type]


def _raw(name: str) -> pd.DataFrame:
    """A fixture file read with plain pandas (the yfinance 3-row header)."""
    frame = pd.read_csv(HERE / name, skiprows=[1, 2]).rename(columns={"Price": "Date"})
    frame["Date"] = pd.to_datetime(frame["Date"])
    return frame.set_index("Date")


# 1. day 0 on a placeholder row of a long suspension ---------------------------------------

def test_day0_in_a_suspension_is_skipped_not_moved_months_later() -> None:
    """0081.HK is suspended 2009-07-29..2009-09-29 (placeholder rows: volume 0, close
    unchanged); an event on 2009-08-10 used to move to 2009-09-30 (51 days) and report the
    suspension's return as AR(0). Now it is skipped like a missing row beyond 14 days."""
    raw = _raw("0081.HK.csv")
    assert raw.loc["2009-08-10", "Volume"] == 0
    assert raw.loc["2009-08-10", "Close"] == raw.loc["2009-07-28", "Close"]  # no trade since
    first_trade = raw.index[(raw.index > "2009-08-10") & (raw["Volume"] > 0)][0]
    assert (first_trade - pd.Timestamp("2009-08-10")).days > 14
    with pytest.raises(DataUnavailable, match="placeholder row.*more than 14 days"):
        _study([("0081.HK", "2009-08-10")])
    both = _study([("0081.HK", "2009-08-10"), ("0081.HK", "2009-10-20")])
    assert both.event_ids() == ["0081.HK:event:2009-10-20"]
    assert both.skipped["event_id"].tolist() == ["0081.HK:event:2009-08-10"]
    assert both.quality["check"].tolist() == ["placeholder_day0"]


# 2. the listing date inferred from the first row ---------------------------------------------

def test_first_row_at_the_download_start_is_no_listing() -> None:
    """2607.HK's file starts 2009-01-02 (the download start) with placeholder rows: the study
    refuses (exit 2) and says how to give the listing date instead of studying lock-ups of a
    listing that never happened."""
    with pytest.raises(BadInput, match="--listing-date") as caught:
        lockup_study("2607.HK", offline=True, data=HERE, volatility=False)
    assert "2009-01-02" in str(caught.value) and "listings calendar" in str(caught.value)


def test_listing_date_option_is_used() -> None:
    """--listing-date (here the calendar's own date of SenseTime) gives the calendar's study."""
    given = lockup_study("0020.HK", offline=True, volatility=False, listing_date="2021-12-30")
    known = lockup_study("0020.HK", offline=True, volatility=False)
    pd.testing.assert_frame_equal(given.car, known.car)


def test_every_entry_point_uses_the_calendars_listing_date() -> None:
    """README: `lockup 0020.HK` gave AR(0) -46.00% (t -13.24) and the batch_study DataFrame
    example -46.61% (t -7.21) for the same day; both now estimate from listing day +30 (after
    price stabilisation, issue 22), compared here under the market model (an events file's
    default; lock-ups default to market-adjusted returns)."""
    lock = lockup_study("0020.HK", offline=True, volatility=False, tranches=["cornerstone"],
                        model="market")
    events = pd.DataFrame({"ticker": ["0020.HK", "9660.HK"], "date": ["2022-06-30", "2025-04-24"],
                           "sector": ["ai", "ai"]})
    batch = batch_study(events, group_by="sector", offline=True, bootstrap=0)
    a = lock.events.set_index("event_id").iloc[0]
    b = batch.events.set_index("event_id").loc["0020.HK:event:2022-06-30"]
    assert b["estimation_start"] == a["estimation_start"]
    assert b["ar_0"] == pytest.approx(a["ar_0"], rel=1e-12, abs=0)
    assert b["t_0"] == pytest.approx(a["t_0"], rel=1e-12, abs=0)
    # independent: listing 2021-12-30, estimation from the 31st session of the data on
    stock, hsi = read_raw_prices("0020.HK"), read_raw_hsi()
    common = stock.index.intersection(hsi.index)
    assert pd.Timestamp(b["estimation_start"]) == common[common >= "2021-12-30"][30]


# 3. impossible returns ----------------------------------------------------------------------

def test_x100_row_without_volume_skips_the_event_unless_kept() -> None:
    """2233.HK: 0.0821 -> 8.2083 on 2010-08-20 with volume 0 (x100), then 1.1456 on 2010-08-23:
    an event whose estimation window holds them is skipped, saying the ratio; kept and flagged
    with keep_suspect=True."""
    raw = _raw("2233.HK.csv")["Close"]
    assert raw["2010-08-20"] / raw["2010-08-19"] == pytest.approx(100, rel=1e-3, abs=0)
    with pytest.raises(BadInput, match=r"x100.*1-for-100 consolidation.*--keep-suspect"):
        _study([("2233.HK", "2010-11-15")])
    kept = _study([("2233.HK", "2010-11-15")], keep_suspect=True)
    assert kept.n_events == 1
    flagged = kept.quality[kept.quality["event_id"] == "2233.HK:event:2010-11-15"]
    assert set(flagged["check"]) == {"split", "jump"}
    assert flagged["action"].str.contains("kept").all()


def test_close_above_the_high_is_flagged() -> None:
    """3709.HK 2019-06-12: close 6.967 with high 5.759 (volume 2000)."""
    raw = _raw("3709.HK.csv")
    row = raw.loc["2019-06-12"]
    assert row["Close"] > row["High"] * 1.05
    found = screen_series(make_loader(offline=True, data=HERE).load("3709.HK"), "3709.HK")
    assert [(str(d.date()), f.check) for d, f in found.suspect.items()] == [
        ("2019-06-12", "outside_range")]


def test_a_real_crash_traded_through_the_day_is_not_flagged() -> None:
    """0336.HK 2022-01-24: x0.3347 (close to a 3-for-1 ratio) but the day opened at 11.15 and
    traded down to 3.16 on 340 million shares: a crash, not an unadjusted split."""
    found = screen_series(make_loader(offline=True, data=HERE).load("0336.HK"), "0336.HK")
    assert not found.suspect


# 4. windows past the end of the data ---------------------------------------------------------

def test_volume_window_past_the_data_is_null_and_left_out_of_pooled_tests() -> None:
    """The 0001.HK rows end 2020-12-31: from 2020-12-28, [0,+5] runs past them (4 sessions).
    Its volume ratio and t were reported as a full window; now null with a finding, and the
    pooled volume tests count only the other event."""
    raw = _raw("0001.HK.csv")
    assert len(raw.loc["2020-12-28":]) == 4
    result = batch_study(pd.DataFrame({"ticker": ["0001.HK", "0001.HK"],
                                       "date": ["2020-12-28", "2020-10-05"]}),
                         **{**SHORT, "data": HERE}, bootstrap=0)  # type: ignore[arg-type]
    vol = result.volume.set_index(["event_id", "start", "end"])
    cut = vol.loc[("0001.HK:event:2020-12-28", 0, 5)]
    assert cut[["volume_ratio", "abnormal_log_volume", "t"]].isna().all()
    assert np.isfinite(vol.loc[("0001.HK:event:2020-12-28", 0, 0), "volume_ratio"])
    assert np.isfinite(vol.loc[("0001.HK:event:2020-10-05", 0, 5), "volume_ratio"])
    pooled = result.tests[(result.tests["test"].isin(["volume_t", "volume_rank"]))
                          & (result.tests["window"] == "[+0,+5]")]
    assert (pooled["n"] == 1).all() and len(pooled) == 2
    past = result.quality[result.quality["check"] == "window_past_data"]
    assert past["event_id"].tolist() == ["0001.HK:event:2020-12-28"]


# 5. zero volume on half-day sessions ---------------------------------------------------------

def test_half_day_zero_volume_is_missing_volume_and_the_return_is_kept() -> None:
    """0001.HK 2020-12-24 (half day): Yahoo volume 0 while the close moved."""
    raw = _raw("0001.HK.csv")
    assert raw.loc["2020-12-24", "Volume"] == 0
    assert raw.loc["2020-12-24", "Close"] != raw.loc["2020-12-23", "Close"]
    result = _study([("0001.HK", "2020-12-22")])
    ar = result.abnormal_returns.set_index("day")
    expected = raw.loc["2020-12-24", "Close"] / raw.loc["2020-12-23", "Close"] - 1
    assert ar.loc[2, "return"] == pytest.approx(expected, rel=1e-12, abs=0)
    half = result.quality[result.quality["check"] == "half_day_volume"]
    assert half["where"].tolist() == ["2020-12-24"]
    assert half["action"].iloc[0] == "volume missing, return kept"
    # the [0,+5] volume ratio is the mean of the days with volume only
    vol = raw["Volume"].loc["2020-12-22":"2020-12-30"]
    est = result.events.iloc[0]
    days = raw.loc[est["estimation_start"]:est["estimation_end"], "Volume"]
    ratio = result.volume.set_index(["start", "end"]).loc[(0, 5), "volume_ratio"]
    assert ratio == pytest.approx(vol[vol > 0].mean() / days[days > 0].mean(), rel=1e-9, abs=0)


# 6. the market index has no price on day 0 ---------------------------------------------------

def test_index_without_a_price_on_day_0_skips_the_event_never_moves_it() -> None:
    """0001.HK traded on 2020-11-16; the ^HSI rows of index_gap/ leave out that day (real rows,
    one left out: no day in the panel lacks an ^HSI price). The event used to move to
    2020-11-17 with a note blaming an exchange closure."""
    gap = HERE / "index_gap"
    assert _raw("0001.HK.csv").loc["2020-11-16", "Volume"] > 0
    result = _study([("0001.HK", "2020-11-16"), ("0001.HK", "2020-10-05")], data=gap)
    assert result.event_ids() == ["0001.HK:event:2020-10-05"]
    reason = result.skipped.set_index("event_id").loc["0001.HK:event:2020-11-16", "reason"]
    assert "^HSI has no price on day 0" in reason and "closure" not in reason


# 7. one estimation sample per event ----------------------------------------------------------

def test_garch_uses_the_market_models_sample_without_the_other_event() -> None:
    """SenseTime 12-month: the market model leaves the 6-month crash window out; GARCH was fitted
    on the whole history with the crash (kurtosis 39.7). Now it is fitted on the stretch after
    the crash window, up to the market model's last estimation day, and the quality table says
    so. Independent: the common dates of the raw 0020.HK and ^HSI files."""
    result = lockup_study("0020.HK", offline=True, volatility=True)
    fit = result.extras["volatility"]["0020.HK:controlling_12m:2022-12-30"]
    est = fit.path[fit.path["estimation"]]
    stock, hsi = read_raw_prices("0020.HK"), read_raw_hsi()
    dates = stock.index.intersection(hsi.index)
    crash, day0 = dates.get_loc(pd.Timestamp("2022-06-30")), dates.get_loc(
        pd.Timestamp("2022-12-30"))
    assert est.index[0] == dates[crash + 21]  # after the crash's window [-20, +20]
    assert est.index[-1] == dates[day0 - 21]  # the market model's last estimation day
    assert pd.Timestamp("2022-06-30") not in est.index
    row = result.quality[result.quality["check"] == "estimation_sample"]
    assert row["event_id"].tolist() == ["0020.HK:controlling_12m:2022-12-30"]
    assert "consecutive returns" in row["found"].iloc[0]


# what the user sees ---------------------------------------------------------------------------

def test_quality_table_in_summary_and_json() -> None:
    result = _study([("0001.HK", "2020-12-22")])
    assert "Data quality" in str(result.summary()) and "half_day_volume" in str(result.summary())
    assert result.to_dict()["quality"][0]["check"] == "half_day_volume"


def test_check_finds_the_fixture_problems_and_exits_4() -> None:
    found = check_data(HERE)
    checks = {(f.ticker, f.check) for f in found}
    assert {("2233.HK", "split"), ("3709.HK", "outside_range"), ("2607.HK", "listing_date"),
            ("0081.HK", "suspension"), ("0001.HK", "half_day_volume")} <= checks
    assert not any(t == "0336.HK" for t, _ in checks)
    lines, bad = check_lines(found)
    assert bad and FINDINGS_EXIT == 4 and any("x100" in line for line in lines)


def test_check_command_prints_the_findings_and_exits_4() -> None:
    """The example of docs/quality.md, run as written there (from the repository)."""
    from tests.conftest import run_cli

    code, out, err = run_cli("check", str(HERE / "2233.HK.csv"))
    assert code == FINDINGS_EXIT, err
    page = (HERE.parent.parent.parent / "docs" / "quality.md").read_text(encoding="utf-8")
    shown = page.split("    $ eventstudy check tests/data/quality/2233.HK.csv\n")[1]
    lines = [x[4:] for x in shown.split("\n") if x.startswith("    ")]
    assert out.strip().split("\n") == lines
    code, out, _ = run_cli("check", str(HERE / "0336.HK.csv"))
    assert code == 0 and "0336.HK.csv: clean" in out


def test_garch_study_refuses_returns_with_an_impossible_one() -> None:
    """`eventstudy garch` fits the whole history before the event: 2233.HK's x100 row of
    2010-08-20 is among its returns, so it refuses (exit 2) and says how to keep it."""
    from eventstudy.studies.garch import garch_study

    with pytest.raises(BadInput, match=r"suspect return .*x100.*--keep-suspect"):
        garch_study("2233.HK", date="2010-12-15", offline=True, data=HERE)


def test_garch_study_keeps_an_impossible_return_with_the_finding_every_study_shows() -> None:
    """With keep_suspect the GARCH study runs and its notes carry the findings the lock-up and
    batch studies put in their quality table (2233.HK's x100 row of 2010-08-20 among them),
    'flagged, kept (--keep-suspect)'; the refusal gives the skip reason of those studies."""
    from eventstudy.studies.garch import garch_study

    with pytest.raises(BadInput, match=r"^2233\.HK: suspect return in the estimation or event "
                                       r"window: .*x100.*\(2010-08-20\)"):
        garch_study("2233.HK", date="2010-12-15", offline=True, data=HERE)
    vol = garch_study("2233.HK", date="2010-12-15", offline=True, data=HERE,
                      keep_suspect=True, dummy_test=False)
    kept = [n for n in vol.notes if n.startswith("quality: ")]
    assert kept and all(n.startswith("quality: 2233.HK:2010-12-15: ")
                        and n.endswith("): flagged, kept (--keep-suspect)") for n in kept)
    assert any("x100" in n and "(2010-08-20)" in n for n in kept), kept
