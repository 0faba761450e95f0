"""Shared fixtures: an isolated cache per test, no network, the real bundled data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


class NoNetwork(OSError):
    pass


class _OfflineTicker:
    """Stands in for yfinance.Ticker in every test that does not install its own fake."""

    def __init__(self, ticker: str, *args: object, **kwargs: object) -> None:
        self.ticker = ticker

    def history(self, **kwargs: object) -> pd.DataFrame:
        raise NoNetwork("Failed to perform, curl: (6) Could not resolve host (tests)")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own cache folder and working directory, and no network."""
    import yfinance

    cache = tmp_path / "cache"
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(cache))
    monkeypatch.delenv("EVENTSTUDY_LISTINGS", raising=False)
    monkeypatch.setattr(yfinance, "Ticker", _OfflineTicker)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read_raw_prices(ticker: str) -> pd.DataFrame:
    """A bundled yfinance 3-row-header CSV read with plain pandas, independent of eventstudy."""
    frame = pd.read_csv(DATA / "prices" / f"{ticker}.csv", skiprows=[1, 2])
    frame = frame.rename(columns={"Price": "Date"}).dropna(subset=["Close"])
    frame["Date"] = pd.to_datetime(frame["Date"])
    return frame.set_index("Date")


def read_raw_hsi() -> pd.Series:
    """Both bundled ^HSI files merged with plain pandas (the newer file wins on overlap)."""
    old = pd.read_csv(DATA / "prices" / "^HSI_1986-12-31_2023-10-20.csv", na_values="null")
    old = old.dropna(subset=["Adj Close"]).set_index(pd.to_datetime(old.dropna(
        subset=["Adj Close"])["Date"]))["Adj Close"]
    new = read_raw_prices("^HSI_2021-06-24_2026-06-23")["Close"]
    merged = pd.concat([old[~old.index.isin(new.index)], new]).sort_index()
    return merged.astype(float)


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the ``eventstudy`` CLI in-process: (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from eventstudy.cli import main

    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cross_section_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the computations of the cross-event tables (``core.cross_section_tables``)."""
    from eventstudy.studies import core

    seen: list[int] = []
    real = core.cross_section_tables

    def counted(*args: object) -> object:
        seen.append(1)
        return real(*args)

    monkeypatch.setattr(core, "cross_section_tables", counted)
    return seen
