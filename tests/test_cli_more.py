"""CLI commands beyond lockup: garch, simulate, batch with GARCH; the lock-up volatility section."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli as run


def test_garch_command(tmp_path: Path) -> None:
    code, out, err = run("garch", "0020.HK", "--offline", "--json", "--out", str(tmp_path / "g"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["event_date"] == "2022-06-30"
    assert doc["ratio"]["mean_sigma_post"] > 0 and doc["model"]
    # SenseTime's chosen GARCH(1,1) has beta = 3.6e-13: flagged, in JSON and in the report
    assert doc["fit"]["params"]["beta[1]"] < 1e-6 and doc["fit"]["beta_at_bound"] is True
    assert 0 <= doc["ratio"]["perm_pvalue"] <= 1 and "f_pvalue" not in doc["ratio"]
    # asked for explicitly: fitted on the short sample, but flagged (MIN_GARCH_ESTIMATION)
    assert doc["garch_fitted"] is True and doc["estimation_sessions"] < 250
    assert doc["short_sample"].startswith(f"GARCH fitted on {doc['estimation_sessions']} ")
    dummy = doc["ratio"]["dummy_test"]
    assert dummy["robust_lr"] == pytest.approx(2 * dummy["lr_stat"] / (dummy["kurtosis"] - 1),
                                               rel=1e-6, abs=0)
    names = {p.name for p in (tmp_path / "g").iterdir()}
    assert {"report.md", "report.html", "volatility.json"} <= names
    assert any(n.endswith("_garch_volatility.png") for n in names)


def test_garch_bad_date_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("garch", "0020.HK", "--offline", "--date", "2030-01-01", "--no-report")
    assert code in (2, 3) and "Traceback" not in err and err.strip()


def test_lockup_report_has_volatility_section(tmp_path: Path) -> None:
    code, out, err = run("lockup", "0020.HK", "--offline", "--tranche", "cornerstone", "--json",
                         "--out", str(tmp_path / "r"))
    assert code == 0, err
    doc = json.loads(out)
    assert "0020.HK:cornerstone:2022-06-30" in doc["volatility"]
    text = (tmp_path / "r" / "report.md").read_text()
    assert "## Volatility (GARCH, arch)" in text and "_ewma_volatility.png" in text
    assert "_garch_volatility.png" not in text  # 71 sessions: the EWMA fallback, named so
    assert "Conditional volatility (EWMA)" in text


def test_simulate_command_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "sim.csv"
    code, text, err = run("simulate", "--samples", "40", "--events", "20", "--pool", "400",
                          "--shifts", "0,-0.05", "--variance-ratios", "1", "--out", str(out))
    assert code == 0, err
    table = pd.read_csv(out)
    assert set(table["design"]) == {"independent", "clustered", "single"}
    table = table[table["design"] == "independent"]
    power = table[(table.test == "t") & (table["shift"] == -0.05)]["rejection_rate"].iloc[0]
    size = table[(table.test == "t") & (table["shift"] == 0)]["rejection_rate"].iloc[0]
    assert power > 0.9 and size < 0.3
    assert "patell" in text and "single_t" in text and "single_sq" in text
    code, _, err = run("simulate", "--designs", "nope", "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "unknown design" in err


def test_simulate_garch_size_check(tmp_path: Path) -> None:
    """``--garch N``: the GARCH tests' p-values on N no-event draws; the replaced F test's p
    recomputed from the draws' z would need the path, so check the table's arithmetic."""
    out = tmp_path / "sim.csv"
    code, text, err = run("simulate", "--samples", "5", "--events", "5", "--pool", "200",
                          "--shifts", "0", "--variance-ratios", "1", "--designs", "single",
                          "--garch", "4", "--out", str(out))
    assert code == 0, err
    draws = pd.read_csv(tmp_path / "sim_garch.csv")
    assert len(draws) == 4 and {"permutation", "f_test", "robust_qlr", "plain_lr"} <= set(draws)
    assert "GARCH event tests, size at 5% on 4 no-event draws" in text
    for test in ("permutation", "robust_qlr"):
        assert test in text


def test_batch_with_garch_on_six_month_lockups_falls_back(tmp_path: Path) -> None:
    code, out, err = run("batch", "--tranche", "cornerstone", "--garch", "--executor", "serial",
                         "--offline", "--json", "--no-report")
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["volatility"]) >= 5
    # 6-month lock-ups: fewer than MIN_GARCH_ESTIMATION estimation sessions, so no GARCH fit and
    # no GARCH-standardised BMP; the notes say why
    assert not any(v["garch_fitted"] for v in doc["volatility"].values())
    assert not any(t["test"] == "garch_bmp" for t in doc["tests"])
    assert any("GARCH-standardised BMP" in n and "left out" in n for n in doc["notes"])


def test_the_yahoo_fallback_note_is_said_once() -> None:
    code, out, err = run("lockup", "0020.HK", "--no-report", "--no-garch")
    assert code == 0, err
    said = (out + err).count("Yahoo unreachable")
    assert said == 1, out + err
    code, out, err = run("lockup", "0020.HK", "--no-report", "--no-garch", "--json")
    assert code == 0 and err.count("Yahoo unreachable") == 1
