"""The events table shows both volume ratios, labelled (issue 14): day 0 and the event-window
mean, each over the estimation-window mean volume; checked against the raw bundled file."""

from __future__ import annotations

import pytest
from conftest import read_raw_prices, run_cli

from eventstudy.studies.lockup import lockup_study


def test_day0_and_window_volume_ratios_from_the_raw_file() -> None:
    result = lockup_study("0020.HK", offline=True, volatility=False, tranches=["cornerstone"])
    event = result.events.iloc[0]
    raw = read_raw_prices("0020.HK")["Volume"]
    raw = raw[raw > 0]
    estimation = raw[event["estimation_start"]:event["estimation_end"]]
    assert len(estimation) >= event["estimation_days"] - 1  # zero volume is missing
    day0 = raw.index.get_loc(event["day0"])
    window = raw.iloc[day0 - 10:day0 + 21]
    assert event["volume_ratio_0"] == pytest.approx(raw.iloc[day0] / estimation.mean(),
                                                    rel=1e-12, abs=0)
    assert event["volume_ratio"] == pytest.approx(window.mean() / estimation.mean(), rel=1e-12,
                                                  abs=0)
    # baseline from listing day +30 (after price stabilisation): 88.0x and 9.9x from +5
    assert round(event["volume_ratio_0"], 1) == 124.6 and round(event["volume_ratio"], 1) == 14.0


def test_report_events_table_labels_both_ratios(tmp_path) -> None:
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--tranche", "cornerstone",
                           "--no-garch", "--out", str(tmp_path / "r"))
    assert code == 0, err
    text = (tmp_path / "r" / "report.md").read_text()
    header = next(line for line in text.splitlines() if "AR(0)" in line)
    assert "volume ratio day 0" in header and "volume ratio \\[-10,+20\\]" in header
    row = next(line for line in text.splitlines() if "cornerstone:2022-06-30 " in line)
    assert "124.60x" in row and "14.01x" in row
