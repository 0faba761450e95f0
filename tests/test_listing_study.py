"""Listing-day studies against independent computations from the raw CSV files (plain pandas)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import read_raw_hsi, read_raw_prices
from conftest import run_cli as run

from eventstudy.results.listing_result import ListingStudyResult
from eventstudy.studies.listing import listing_study

OFFER = {"0020.HK": 3.85, "9660.HK": 3.99}




def joint(ticker: str) -> tuple[pd.DataFrame, float]:
    """Stock and ^HSI closes on their common dates from the listing day, and the index's close
    on its last session before the listing."""
    stock = read_raw_prices(ticker)[["Open", "Close"]]
    hsi = read_raw_hsi()
    both = stock.join(hsi.rename("HSI"), how="inner")
    return both, float(hsi[hsi.index < stock.index[0]].iloc[-1])


def expected_bhar(ticker: str, h: int, base: float) -> float:
    both, hsi_before = joint(ticker)
    return both["Close"].iloc[h] / base - both["HSI"].iloc[h] / hsi_before


@pytest.fixture(scope="module")
def sensetime() -> ListingStudyResult:
    return listing_study("0020.HK", offline=True, model="market")


def test_first_day_return_against_offer_and_open(sensetime: ListingStudyResult) -> None:
    row = sensetime.first_day().iloc[0]
    raw = read_raw_prices("0020.HK").iloc[0]
    assert raw["Close"] == pytest.approx(4.13, rel=1e-6, abs=0)
    assert row["return_vs_offer"] == pytest.approx(4.13 / 3.85 - 1, abs=1e-6)
    assert round(100 * row["return_vs_offer"], 2) == 7.27
    assert row["return_vs_open"] == pytest.approx(raw["Close"] / raw["Open"] - 1, rel=1e-6, abs=0)
    both, hsi_before = joint("0020.HK")
    market0 = both["HSI"].iloc[0] / hsi_before - 1
    assert row["market_return"] == pytest.approx(market0, rel=1e-6, abs=0)
    assert row["market_adjusted_initial_return"] == pytest.approx(4.13 / 3.85 - 1 - market0,
                                                                  abs=1e-6)


def test_market_adjusted_returns_of_the_first_sessions(sensetime: ListingStudyResult) -> None:
    sessions = sensetime.first_sessions()
    both, _ = joint("0020.HK")
    ret = both["Close"].pct_change()
    mkt = both["HSI"].pct_change()
    assert list(sessions["day"]) == [0, 1, 2, 3, 4]
    for day in (1, 2, 3, 4):
        got = sessions.set_index("day").loc[day]
        assert got["market_adjusted"] == pytest.approx(ret.iloc[day] - mkt.iloc[day], rel=1e-6,
                                                       abs=0)
        assert got["date"] == both.index[day]


def test_bhar_matches_plain_pandas(sensetime: ListingStudyResult) -> None:
    detail = sensetime.bhar_detail().set_index("horizon")
    both, hsi_before = joint("0020.HK")
    for h in (20, 60, 120):
        assert detail.loc[h, "bhar"] == pytest.approx(expected_bhar("0020.HK", h, 3.85), rel=1e-6,
                                                      abs=0)
        assert detail.loc[h, "end_date"] == both.index[h]
        aftermarket = (both["Close"].iloc[h] / both["Close"].iloc[0]
                       - both["HSI"].iloc[h] / both["HSI"].iloc[0])
        assert detail.loc[h, "aftermarket_bhar"] == pytest.approx(aftermarket, rel=1e-6, abs=0)
    result_bhar = sensetime.bhar.set_index("window")["bhar"]
    assert result_bhar["[+0,+60]"] == pytest.approx(expected_bhar("0020.HK", 60, 3.85), rel=1e-6,
                                                    abs=0)


def test_market_model_is_estimated_after_the_listing(sensetime: ListingStudyResult) -> None:
    event = sensetime.events.iloc[0]
    both, _ = joint("0020.HK")
    ret, mkt = both["Close"].pct_change(), both["HSI"].pct_change()
    y, x = ret.iloc[30:151].to_numpy(), mkt.iloc[30:151].to_numpy()
    beta, alpha = np.polyfit(x, y, 1)
    assert event["model"] == "market model (OLS)"
    assert event["estimation_start"] == both.index[30]
    assert event["estimation_end"] == both.index[150]
    assert event["estimation_days"] == 121
    assert event["beta"] == pytest.approx(beta, rel=1e-6, abs=0)
    assert event["alpha"] == pytest.approx(alpha, rel=1e-6, abs=0)
    both_hsi, hsi_before = joint("0020.HK")
    market0 = both_hsi["HSI"].iloc[0] / hsi_before - 1
    assert event["ar_0"] == pytest.approx(4.13 / 3.85 - 1 - alpha - beta * market0, abs=1e-6)


def test_market_adjusted_model_needs_no_estimate() -> None:
    result = listing_study("0020.HK", offline=True, horizons=(20,))  # the default (issue 22)
    assert result.options.model == "market_adjusted"
    assert set(result.robustness["model"]) == {"market-adjusted", "market model (OLS)"}
    ar = result.abnormal_returns.set_index("day")
    both, hsi_before = joint("0020.HK")
    assert ar.loc[0, "ar"] == pytest.approx(4.13 / 3.85 - 1 - (both["HSI"].iloc[0] / hsi_before
                                                                 - 1), abs=1e-6)
    assert ar.loc[5, "ar"] == pytest.approx(both["Close"].pct_change().iloc[5]
                                            - both["HSI"].pct_change().iloc[5], rel=1e-6, abs=0)
    assert any("Brown & Warner" in line for line in result.extras["method"])


def test_several_listings_and_their_average() -> None:
    result = listing_study(["0020.HK", "9660.HK"], offline=True, horizons=(20, 60))
    assert result.n_events == 2
    summary = result.extras["bhar_summary_table"].set_index("window")
    expected = [expected_bhar(t, 20, OFFER[t]) for t in ("0020.HK", "9660.HK")]
    assert summary.loc["[+0,+20]", "n"] == 2
    assert summary.loc["[+0,+20]", "mean_bhar"] == pytest.approx(np.mean(expected), rel=1e-6, abs=0)
    assert summary.loc["[+0,+20]", "median_bhar"] == pytest.approx(np.median(expected), rel=1e-6,
                                                                   abs=0)
    first = result.first_day().set_index("ticker")
    assert first.loc["9660.HK", "return_vs_offer"] == pytest.approx(
        read_raw_prices("9660.HK")["Close"].iloc[0] / 3.99 - 1, rel=1e-6, abs=0)
    assert any(title == "BHAR across listings" for title, _ in result.extras["sections"])
    engine = result.tests[(result.tests["test"] == "bhar_t") & (result.tests["group"] == "all")]
    assert engine["estimate"].iloc[0] == pytest.approx(np.mean(expected), rel=1e-6, abs=0)


def test_without_offer_price_day_0_runs_from_the_first_open(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("listings:\n  - ticker: 9660.HK\n    listing_date: 2024-10-24\n"
                    "    source: test\n")
    result = listing_study("9660.HK", offline=True, listings=mine, horizons=(20,))
    raw = read_raw_prices("9660.HK").iloc[0]
    row = result.first_day().iloc[0]
    assert row["base"] == "first open" and np.isnan(row["return_vs_offer"])
    assert result.bhar_detail()["bhar"].iloc[0] == pytest.approx(
        expected_bhar("9660.HK", 20, raw["Open"]), rel=1e-6, abs=0)
    assert any("measured from the first open" in n for n in result.notes)


def test_short_history_falls_back_and_leaves_long_bhar_missing(tmp_path: Path) -> None:
    raw = read_raw_prices("9660.HK").iloc[:80]
    path = tmp_path / "9660.HK.csv"
    pd.DataFrame({"date": raw.index.strftime("%Y-%m-%d"), "open": raw["Open"],
                  "close": raw["Close"], "volume": raw["Volume"]}).to_csv(path, index=False)
    result = listing_study("9660.HK", data=path, offline=True, model="market")
    detail = result.bhar_detail().set_index("horizon")
    assert detail.loc[20, "bhar"] == pytest.approx(expected_bhar("9660.HK", 20, 3.99), rel=1e-6,
                                                   abs=0)
    assert np.isnan(detail.loc[120, "bhar"]) and not np.isnan(detail.loc[60, "bhar"])
    assert result.events["model"].iloc[0] == "market-adjusted"
    assert "fell back" in result.events["note"].iloc[0]
    assert any("before the end of BHAR [+0,+120]" in n for n in result.notes)


def test_cli_json_and_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, text, err = run("listing", "0020.HK", "--offline", "--json", "--out", str(out),
                          "--model", "market")
    assert code == 0, err
    doc = json.loads(text)
    assert doc["kind"] == "listing"
    day = doc["listing_day"][0]
    assert day["offer_price"] == 3.85 and round(100 * day["return_vs_offer"], 2) == 7.27
    assert {r["window"] for r in doc["bhar_detail"]} == {"[+0,+20]", "[+0,+60]", "[+0,+120]"}
    assert doc["events"][0]["estimation_window"]["sessions"] == 121
    report = (out / "report.md").read_text()
    assert "## Listing day" in report and "+7.27%" in report and "## Method" in report
    assert "estimated on sessions +30..+150" in report
    assert (out / "report.html").exists() and (out / "summary.json").exists()


def test_cli_text_reports_first_day_and_bhar() -> None:
    code, text, err = run("listing", "0020.HK", "--offline", "--no-report")
    assert code == 0, err
    assert "+7.27%" in text and "BHAR" in text and "[+0,+120]" in text


@pytest.mark.parametrize(("args", "code", "words"), [
    (["listing", "0020.HK", "--offline", "--window", "-5,20"], 2, "starts on day 0"),
    (["listing", "0020.HK", "--offline", "--estimation", "10,150"], 2, "must start after"),
    (["listing", "0020.HK", "--offline", "--horizons", "20,x"], 2, "bad --horizons"),
    (["listing", "0020.HK", "--offline", "--model", "constant_mean"], 2, "Invalid value"),
    (["listing", "9999.HK", "--offline"], 3, "no bundled data for 9999.HK"),
])
def test_bad_input_is_one_line(args: list[str], code: int, words: str) -> None:
    got, out, err = run(*args, "--no-report")
    assert got == code
    assert words in err
    assert "Traceback" not in out + err
