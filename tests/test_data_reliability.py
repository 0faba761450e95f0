"""Data-layer reliability (issue 9, 12, 14): holed Yahoo answers, cache integrity, one date format
per file, negative volumes, non-regular ``--data``, unusable yfinance answers, the wall-time retry
budget, long tickers, the fallback note said once, a folder listed once."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from conftest import read_raw_hsi, read_raw_prices
from test_faults import ReadTimeout, bundled_as_history

from eventstudy.data.cache import PriceCache
from eventstudy.data.files import FileSource, FolderSource, bundled_source
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import normalise_ticker
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.lockup import lockup_study

DAY0 = pd.Timestamp("2022-06-30")


def answering(answers: dict[str, object]) -> type:
    class Ticker:
        def __init__(self, ticker: str, *a: object, **k: object) -> None:
            self.ticker = ticker

        def history(self, **kwargs: object) -> object:
            if self.ticker not in answers:
                raise OSError("Could not resolve host (tests)")
            return answers[self.ticker]
    return Ticker


def stale_cache(ticker: str) -> Path:
    frame = bundled_source().load(ticker)
    frame.attrs["fetched_at"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    return PriceCache().write(frame)


def independent_ar0() -> float:
    """Day 0's market-adjusted return (the lock-up default), R - Rm, from the raw files."""
    stock = read_raw_prices("0020.HK")["Close"]
    joint = pd.concat([stock.rename("r"), read_raw_hsi().rename("m")], axis=1, join="inner")
    rets = joint.pct_change()
    p0 = joint.index.get_loc(DAY0)
    return float(rets["r"].iloc[p0] - rets["m"].iloc[p0])


def test_holed_answer_keeps_the_cached_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    stale_cache("0020.HK")
    full = bundled_as_history("0020.HK")
    holed = pd.concat([full.iloc[:40], full.iloc[80:]])  # same first and last date
    monkeypatch.setattr(yfinance, "Ticker", answering({"0020.HK": holed}))
    result = lockup_study("0020.HK", tranches=["cornerstone"])
    ar0 = result.abnormal_returns["ar"].to_numpy()[10]
    assert ar0 == pytest.approx(independent_ar0(), rel=1e-9, abs=0)
    assert round(100 * independent_ar0(), 2) == -46.15


def test_cache_bit_flips_in_the_footer_are_never_served() -> None:
    path = stale_cache("0020.HK")
    good = path.read_bytes()
    footer = len(good) - int.from_bytes(good[-8:-4], "little") - 8
    expect = bundled_source().load("0020.HK")
    fetched = PriceCache().read("0020.HK").attrs["fetched_at"]  # type: ignore[union-attr]
    served_wrong = 0
    for at in range(footer, len(good) - 8, 7):
        for bit in (0, 3, 6):
            data = bytearray(good)
            data[at] ^= 1 << bit
            path.write_bytes(bytes(data))
            frame = PriceCache().read("0020.HK")
            if frame is not None:
                same = (frame.index.equals(expect.index) and frame.attrs["fetched_at"] == fetched
                        and np.array_equal(frame["close"].to_numpy(), expect["close"].to_numpy()))
                served_wrong += not same
    assert served_wrong == 0


def test_cache_file_of_another_ticker_is_rejected() -> None:
    mine, other = stale_cache("0020.HK"), stale_cache("0700.HK")
    os.replace(other, mine)
    assert PriceCache().read("0020.HK") is None


@pytest.mark.parametrize("rows, words", [
    (["01/02/2022,1", "03/04/2022,2"], "ambiguous"),
    (["2022-01-03,1", "30/01/2022,2"], "mixed date formats"),
    (["0000-01-03,1"], "outside"),
])
def test_date_formats(tmp_path: Path, rows: list[str], words: str) -> None:
    path = tmp_path / "MINE.csv"
    path.write_text("date,close\n" + "\n".join(rows) + "\n")
    with pytest.raises(BadInput, match=words):
        FileSource(path, ticker="MINE").load("MINE")


def test_day_first_file_is_read_day_first(tmp_path: Path) -> None:
    path = tmp_path / "MINE.csv"
    path.write_text("date,close\n02/01/2022,1\n13/01/2022,2\n")
    frame = FileSource(path, ticker="MINE").load("MINE")
    assert list(frame.index) == [pd.Timestamp("2022-01-02"), pd.Timestamp("2022-01-13")]


def test_negative_volume_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "MINE.csv"
    path.write_text("date,close,volume\n2022-01-03,1,-5\n")
    with pytest.raises(BadInput, match="negative volume"):
        FileSource(path, ticker="MINE").load("MINE")


def test_fifo_and_dev_zero_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(BadInput, match="not a regular file"):
            PriceLoader(data=path, offline=True)


@pytest.mark.parametrize("answer", [
    {"Close": [1.0]},
    pd.DataFrame({("Close", "0020.HK"): [1.0]},
                 index=pd.DatetimeIndex(["2024-01-02"], tz="Asia/Hong_Kong")),
], ids=["dict", "multiindex"])
def test_unusable_yfinance_types_fall_back(monkeypatch: pytest.MonkeyPatch, answer: object) -> None:
    monkeypatch.setattr(yfinance, "Ticker", answering({"0020.HK": answer}))
    loader = PriceLoader()
    assert loader.load("0020.HK").attrs["source"].startswith("bundled")
    assert "unusable data for 0020.HK" in loader.notes[0]


def test_retry_budget_counts_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]

    class Slow:
        def __init__(self, *a: object, **k: object) -> None:
            pass

        def history(self, timeout: float = 20.0, **k: object) -> object:
            now[0] += min(20.0, timeout)
            raise ReadTimeout("read timed out")

    monkeypatch.setattr(yfinance, "Ticker", Slow)

    def sleep(s: float) -> None:
        now[0] += s

    source = YahooSource(retries=5, clock=lambda: now[0], sleep=sleep, max_wait=30.0)
    with pytest.raises(DataUnavailable, match="Yahoo unreachable for 0020.HK"):
        source.load("0020.HK")
    assert now[0] <= 30.0


def test_long_ticker_is_bad_input() -> None:
    with pytest.raises(BadInput, match="300 characters"):
        normalise_ticker("A" * 300)


def test_skip_reason_names_its_own_ticker(monkeypatch: pytest.MonkeyPatch) -> None:
    class Timeout:
        def __init__(self, *a: object, **k: object) -> None:
            pass

        def history(self, **k: object) -> object:
            raise ReadTimeout("read timed out")

    monkeypatch.setattr(yfinance, "Ticker", Timeout)
    loader = PriceLoader(yahoo=YahooSource(max_wait=0.0))
    loader.load("0020.HK")
    with pytest.raises(DataUnavailable, match="for 9999.HK"):
        loader.load("9999.HK")


def test_folder_is_listed_once_and_str_accepted(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(50):
        (tmp_path / f"T{i}.csv").write_text("date,close\n2022-01-03,1\n")
    calls = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p: calls.append(p) or real(p))
    loader = PriceLoader(data=str(tmp_path), offline=True)
    for i in range(50):
        loader.load(f"T{i}")
    assert len(calls) == 1
    assert FolderSource(tmp_path).tickers()[:2] == ["T0", "T1"]


def test_fetch_never_replaces_a_good_cache_with_a_holed_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``eventstudy fetch`` follows the study path's cache rule (issue 24): Yahoo's answer
    missing 40 sessions in the middle keeps the cached sessions, with a warning."""
    from conftest import run_cli

    stale_cache("0020.HK")
    full = bundled_source().load("0020.HK")
    history = bundled_as_history("0020.HK")
    holed = pd.concat([history.iloc[:300], history.iloc[340:]])  # same first and last date
    monkeypatch.setattr(yfinance, "Ticker", answering({"0020.HK": holed}))
    code, out, err = run_cli("fetch", "0020.HK")
    assert code == 0, err
    assert "partial history" in err and "40 cached session(s) missing" in err
    kept = PriceCache().read("0020.HK")
    assert kept is not None and len(kept) == len(full)
    assert kept.index.equals(full.index)
    assert f"{len(full)} rows" in out


def test_lower_case_yahoo_columns_are_read_and_a_missing_close_is_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A yfinance answer with lower-case columns is the same data (issue 24: it was reported
    as 'unknown or delisted?'); one without a close column says so."""
    from conftest import run_cli

    history = bundled_as_history("0020.HK")
    lower = history.rename(columns=str.lower)
    monkeypatch.setattr(yfinance, "Ticker", answering({"0020.HK": lower}))
    code, out, err = run_cli("fetch", "0020.HK")
    assert code == 0, err
    cached = PriceCache().read("0020.HK")
    assert cached is not None and len(cached) == len(bundled_source().load("0020.HK"))
    renamed = history.rename(columns={"Close": "Last"})
    monkeypatch.setattr(yfinance, "Ticker", answering({"0700.HK": renamed}))
    code, _, err = run_cli("fetch", "0700.HK")
    assert code == 3 and "no Close column" in err and "Last" in err
    assert "delisted" not in err
