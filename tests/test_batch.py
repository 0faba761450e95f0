"""Many events: the batch study over the bundled listings and events files, skips, grouping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli as run

from eventstudy.studies.batch import batch_study
from eventstudy.studies.lockup import lockup_study


@pytest.fixture(scope="module")
def listings_batch():
    return batch_study(offline=True)


def test_batch_over_bundled_listings_reports_every_tranche(listings_batch) -> None:
    res = listings_batch
    bundled = {"0020.HK", "9660.HK", "9880.HK", "6682.HK", "2533.HK", "2432.HK", "1024.HK",
               "3690.HK"}
    # 9988.HK, 2026.HK (Pony AI), 0800.HK (WeRide): secondary listings, no lock-ups;
    # 2432.HK (H share, 18C): all its lock-ups are 12 months (PRC Company Law), after the
    # bundled data (to 2025-10-30)
    assert set(res.events["ticker"]) == bundled - {"2432.HK"} | {"ZM"}  # ZM: US 180 days
    # Listings without bundled prices, and expiries after the data, are skipped with a reason.
    for ticker, reason in zip(res.skipped.ticker, res.skipped.reason, strict=True):
        assert ("no bundled data" in reason and ticker not in bundled) or \
            "after the data" in reason or (ticker in ("9988.HK", "2026.HK", "0800.HK")
                                           and "secondary" in reason)
    assert "2432.HK:controlling_12m:2025-12-23" in set(res.skipped["event_id"])
    groups = set(res.tests["group"])
    assert {"all", "cornerstone", "pre_ipo", "controlling_6m", "controlling_12m"} <= groups
    tests = set(res.tests["test"])
    assert {"t", "patell", "bmp", "kp", "corrado", "sign", "grank", "wilcoxon", "bhar_t",
            "volume_t", "volume_rank"} <= tests


def test_pooled_tests_count_each_firm_day_once(listings_batch) -> None:
    res = listings_batch
    firm_days = res.events.drop_duplicates(["ticker", "day0"])
    row = res.tests[(res.tests.group == "all") & (res.tests.test == "t")
                    & (res.tests.start == 0) & (res.tests.end == 0)].iloc[0]
    assert row["n"] == len(firm_days)
    assert row["merged"] == res.n_events - len(firm_days)
    ids = firm_days["event_id"]
    cars = res.car[(res.car.window == "[0,0]") & res.car.event_id.isin(ids)]["car"]
    assert row["estimate"] == pytest.approx(cars.mean(), rel=1e-6, abs=0)
    t = cars.mean() / (cars.std(ddof=1) / np.sqrt(len(cars)))
    assert row["statistic"] == pytest.approx(t, rel=1e-6, abs=0)


def test_caar_is_mean_of_cumulative_ars(listings_batch) -> None:
    res = listings_batch
    firm_days = res.events.drop_duplicates(["ticker", "day0"])["event_id"]
    ar = res.abnormal_returns[res.abnormal_returns.event_id.isin(firm_days)]
    wide = ar.pivot(index="event_id", columns="day", values="ar")
    expected = wide.cumsum(axis=1, skipna=False).mean()  # per day: events with every day so far
    np.testing.assert_allclose(res.caar.set_index("day")["caar"], expected, rtol=1e-10)


def test_batch_cli_json(tmp_path: Path) -> None:
    code, out, err = run("batch", "--listings", str(Path(__file__).parents[1] / "configs" /
                                                      "listings.yaml"),
                         "--tranche", "cornerstone", "--offline", "--json", "--out",
                         str(tmp_path / "r"))
    assert code == 0, err
    doc = json.loads(out)
    assert {e["tranche"] for e in doc["events"]} == {"cornerstone"}
    assert doc["tests"] and doc["caar"]
    assert (tmp_path / "r" / "caar.png").exists()


def test_events_file_with_bad_rows_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("ticker,date,sector\n0020.HK,2022-06-30,ai\n9999.HK,2022-06-30,ai\n"
                    "0700.HK,2009-02-02,tech\n9988.HK,2023-06-01,tech\n1024.HK,2022-02-07,tech\n")
    res = batch_study(path, group_by="sector", offline=True)
    skipped = dict(zip(res.skipped.event_id, res.skipped.reason, strict=True))
    assert "9999.HK:event:2022-06-30" in skipped and "no bundled data" in skipped[
        "9999.HK:event:2022-06-30"]
    assert any("estimation" in r or "before the data" in r for r in skipped.values())
    assert set(res.events["ticker"]) == {"0020.HK", "9988.HK", "1024.HK"}
    assert {"ai", "tech"} <= set(res.tests["group"])


def test_several_tickers_on_the_lockup_command_match_single_runs() -> None:
    many = lockup_study(["0020.HK", "9660.HK"], tranches=["cornerstone"], offline=True)
    one = lockup_study("9660.HK", tranches=["cornerstone"], offline=True)
    eid = one.event_ids()[0]
    assert many.car_of(eid, (-1, 1))["car"] == pytest.approx(one.car_of(eid, (-1, 1))["car"],
                                                             abs=1e-15)
    assert not many.tests.empty and one.tests.empty


def test_batch_without_any_usable_event_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("ticker,date\n9999.HK,2022-06-30\n")
    code, _, err = run("batch", str(path), "--offline", "--no-report")
    assert code == 3 and "9999.HK" in err
