"""Price sources: file layouts, cleaning errors, the yfinance boundary (recorded frames), cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from conftest import DATA, read_raw_prices

from eventstudy.data.cache import PriceCache
from eventstudy.data.clean import ADJ_ADJCLOSE, ADJ_AUTO
from eventstudy.data.files import FileSource, bundled_source, read_price_file
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import market_for, normalise_ticker
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import BadInput, DataUnavailable


@pytest.mark.parametrize("raw", ["20.HK", "0020.HK", "00020.HK", "0020.hk", " 20.hk "])
def test_hk_tickers_normalise_to_four_digits(raw: str) -> None:
    assert normalise_ticker(raw) == "0020.HK"


def test_other_tickers_normalise() -> None:
    assert normalise_ticker("^hsi") == "^HSI"
    assert normalise_ticker("aapl") == "AAPL"
    assert normalise_ticker("9988.HK") == "9988.HK"


@pytest.mark.parametrize("raw", ["", "   ", "00.HK", "a b", "$$"])
def test_bad_tickers_are_rejected(raw: str) -> None:
    with pytest.raises(BadInput):
        normalise_ticker(raw)


def test_market_benchmark_by_exchange() -> None:
    assert market_for("0020.HK") == "^HSI"
    assert market_for("AAPL") == "^GSPC"


def test_yfinance_three_row_header_layout() -> None:
    frame = bundled_source().load("0020.HK")
    raw = read_raw_prices("0020.HK")
    assert frame.index[0] == pd.Timestamp("2021-12-30")
    assert len(frame) == len(raw)
    np.testing.assert_allclose(frame["close"].to_numpy(), raw["Close"].to_numpy())
    assert frame.loc["2022-06-30", "close"] == pytest.approx(3.13, rel=1e-6, abs=0)
    assert frame.attrs["adjustment"] == ADJ_AUTO


def test_classic_yahoo_layout_uses_adj_close_and_drops_null_rows() -> None:
    path = DATA / "prices" / "^HSI_1986-12-31_2023-10-20.csv"
    frame = read_price_file(path, "^HSI")
    text = path.read_text().splitlines()
    null_rows = sum("null" in line for line in text)
    assert null_rows > 0
    assert len(frame) == len(text) - 1 - null_rows
    assert frame.attrs["adjustment"] == ADJ_ADJCLOSE
    assert frame.loc["2022-06-30", "close"] == pytest.approx(21859.79, abs=0.01)


def test_bundled_hsi_files_are_combined() -> None:
    frame = bundled_source().load("^HSI")
    assert frame.index[0] == pd.Timestamp("1986-12-31")
    assert frame.index[-1] == pd.Timestamp("2026-06-23")
    assert frame.index.is_unique and frame.index.is_monotonic_increasing


def test_history_dump_with_timezone_keeps_local_dates() -> None:
    frame = read_price_file(DATA / "yfinance_history" / "1024.HK.csv", "1024.HK")
    assert frame.index.tz is None
    assert frame.index[0] == pd.Timestamp("2021-02-05")
    assert frame.loc["2021-02-05", "close"] == 300.0


def test_plain_date_close_table(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("date,price\n2024-01-02,10\n2024-01-03,11\n")
    frame = FileSource(path, ticker="MINE").load("MINE")
    assert list(frame["close"]) == [10.0, 11.0]
    assert frame["volume"].isna().all()


def test_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "0020.HK.parquet"
    bundled_source().load("0020.HK").to_parquet(path)
    frame = FileSource(path).load("0020.HK")
    assert frame.loc["2022-06-30", "close"] == pytest.approx(3.13, rel=1e-6, abs=0)


@pytest.mark.parametrize(("body", "error", "words"), [
    ("date,close\n", DataUnavailable, "empty"),
    ("date,close\n2024-01-02,\n2024-01-03,\n", DataUnavailable, "all missing"),
    ("date,close\n2024-01-02,1\n2024-01-02,2\n", BadInput, "duplicate date 2024-01-02"),
    ("date,close\n2024-01-03,1\n2024-01-02,2\n", BadInput, "not sorted"),
    ("date,close\n2024-01-02,1\n2024-01-03,0\n", BadInput, "zero or negative price on 2024-01-03"),
    ("date,close\n2024-01-02,1\n2024-01-03,-2\n", BadInput, "zero or negative"),
    ("date,close\n2024-01-02,1\n2024-01-03,inf\n", BadInput, "infinite"),
    ("date,volume\n2024-01-02,1\n", BadInput, "no close column"),
    ("date,close\nnot-a-date,1\n", BadInput, "unreadable date"),
])
def test_bad_price_files_give_one_line_errors(tmp_path: Path, body: str, error: type,
                                              words: str) -> None:
    path = tmp_path / "X.csv"
    path.write_text(body)
    with pytest.raises(error, match=words) as info:
        read_price_file(path, "X")
    assert "\n" not in str(info.value)


def test_unknown_bundled_ticker_names_what_is_there() -> None:
    with pytest.raises(DataUnavailable, match="no bundled data for 9999.HK.*0020.HK"):
        bundled_source().load("9999.HK")


# --- the yfinance boundary, with a recorded history() frame --------------------------------


def recorded_history(ticker: str) -> pd.DataFrame:
    """What yfinance.Ticker(ticker).history() returned, as saved in data/yfinance_history."""
    frame = pd.read_csv(DATA / "yfinance_history" / f"{ticker}.csv")
    index = pd.to_datetime(frame.pop("Date")).dt.tz_convert("Asia/Hong_Kong")
    frame.index = pd.DatetimeIndex(index, name="Date")
    return frame


class FakeTicker:
    calls: list[tuple[str, dict]] = []
    script: list[object] = []

    def __init__(self, ticker: str, *args: object, **kwargs: object) -> None:
        self.ticker = ticker

    def history(self, **kwargs: object) -> pd.DataFrame:
        FakeTicker.calls.append((self.ticker, kwargs))
        step = FakeTicker.script.pop(0) if FakeTicker.script else recorded_history(self.ticker)
        if isinstance(step, Exception):
            raise step
        return step  # type: ignore[return-value]


@pytest.fixture
def fake_yahoo(monkeypatch: pytest.MonkeyPatch) -> type[FakeTicker]:
    FakeTicker.calls, FakeTicker.script = [], []
    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    return FakeTicker


def test_yahoo_source_with_recorded_frame(fake_yahoo: type[FakeTicker]) -> None:
    frame = YahooSource().load("1024.HK")
    ticker, kwargs = fake_yahoo.calls[0]
    assert ticker == "1024.HK"
    assert kwargs["auto_adjust"] is True and kwargs["raise_errors"] is True
    assert frame.index[0] == pd.Timestamp("2021-02-05")  # local date, not the UTC day before
    assert frame.index.tz is None
    assert frame.attrs["source"] == "Yahoo"
    raw = recorded_history("1024.HK")
    np.testing.assert_allclose(frame["close"].to_numpy(), raw["Close"].to_numpy())


def test_yahoo_empty_frame_names_the_ticker(fake_yahoo: type[FakeTicker]) -> None:
    fake_yahoo.script = [pd.DataFrame()]
    with pytest.raises(DataUnavailable, match=r"no price data for 9999.HK from Yahoo: unknown"):
        YahooSource().load("9999.HK")


def test_yahoo_missing_ticker_error(fake_yahoo: type[FakeTicker]) -> None:
    from yfinance.exceptions import YFPricesMissingError

    fake_yahoo.script = [YFPricesMissingError("9999.HK", "")]
    with pytest.raises(DataUnavailable, match="9999.HK from Yahoo: unknown or delisted"):
        YahooSource().load("9999.HK")


def test_yahoo_rate_limit_is_retried_with_backoff(fake_yahoo: type[FakeTicker]) -> None:
    from yfinance.exceptions import YFRateLimitError

    fake_yahoo.script = [YFRateLimitError(), YFRateLimitError()]
    sleeps: list[float] = []
    frame = YahooSource(backoff=1.5, sleep=sleeps.append).load("1024.HK")
    assert sleeps == [1.5, 3.0]
    assert len(fake_yahoo.calls) == 3 and not frame.empty


def test_yahoo_rate_limit_gives_up(fake_yahoo: type[FakeTicker]) -> None:
    from yfinance.exceptions import YFRateLimitError

    fake_yahoo.script = [YFRateLimitError() for _ in range(5)]
    with pytest.raises(DataUnavailable, match="Yahoo unreachable for 1024.HK"):
        YahooSource(retries=2, sleep=lambda s: None).load("1024.HK")
    assert len(fake_yahoo.calls) == 3


def test_offline_default_falls_back_to_bundled_and_says_so() -> None:
    loader = PriceLoader()  # online by default; the conftest makes the network unreachable
    frame = loader.load("0020.HK")
    assert frame.attrs["source"].startswith("bundled")
    assert any("Yahoo unreachable" in note and "0020.HK" in note for note in loader.notes)


def test_second_run_reads_the_cache(fake_yahoo: type[FakeTicker], tmp_path: Path) -> None:
    first = PriceLoader(cache_dir=tmp_path / "c").load("1024.HK")
    second = PriceLoader(cache_dir=tmp_path / "c").load("1024.HK")
    assert len(fake_yahoo.calls) == 1
    assert second.attrs["source"].startswith("cache (Yahoo")
    pd.testing.assert_frame_equal(first, second, check_freq=False)


def test_offline_prefers_cache_over_bundled(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    own = bundled_source().load("0020.HK").iloc[:100]
    own.attrs["source"] = "Yahoo"
    cache.write(own)
    frame = PriceLoader(offline=True, cache_dir=tmp_path / "c").load("0020.HK")
    assert len(frame) == 100 and frame.attrs["source"].startswith("cache")


def test_corrupt_cache_is_detected_and_removed(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    path = cache.write(bundled_source().load("0020.HK"))
    path.write_bytes(path.read_bytes()[:200])
    assert cache.read("0020.HK") is None
    assert not path.exists()


def test_cache_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    path = cache.write(bundled_source().load("0020.HK"))
    assert [p.name for p in path.parent.iterdir()] == [path.name]
