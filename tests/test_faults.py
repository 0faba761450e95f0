"""Faults at the yfinance boundary and in the cache: retried within a bounded wait, then a fall back
to the cache or the bundled data with a note naming the source, or one clear error.

``yfinance.Ticker`` is replaced by a scripted fake (no network) and ``YahooSource.sleep`` by a
recorder, so backoff is asserted on the requested delays and the tests take no wall time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from yfinance.exceptions import YFRateLimitError

from eventstudy.calendar.events import make_event
from eventstudy.data.cache import PriceCache
from eventstudy.data.files import bundled_source
from eventstudy.data.loader import PriceLoader
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.lockup import event_study


class ReadTimeout(Exception):
    """Named like requests'/curl_cffi's time-out errors."""


TRANSIENT: dict[str, Exception] = {
    "rate limit": YFRateLimitError(),
    "timeout class": ReadTimeout("read"),
    "timed out": OSError("Failed to perform, curl: (28) Operation timed out after 20001 ms"),
    "reset": ConnectionError("Connection reset by peer"),
    "503": RuntimeError("HTTP Error 503: Service Unavailable"),
}
DNS = OSError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")


def history(ticker: str = "1024.HK") -> pd.DataFrame:
    """A real recorded ``Ticker.history()`` answer (tz-aware index, capitalised columns)."""
    frame = pd.read_csv(DATA / "yfinance_history" / f"{ticker}.csv")
    index = pd.to_datetime(frame.pop("Date")).dt.tz_convert("Asia/Hong_Kong")
    frame.index = pd.DatetimeIndex(index, name="Date")
    return frame


def bundled_as_history(ticker: str) -> pd.DataFrame:
    """The bundled frame of ``ticker`` in the shape ``Ticker.history()`` returns."""
    frame = bundled_source().load(ticker)
    out = pd.DataFrame({"Close": frame["close"], "Volume": frame["volume"]})
    out.index = pd.DatetimeIndex(frame.index.tz_localize("Asia/Hong_Kong"), name="Date")
    return out


class Fake:
    """Scripted stand-in for ``yfinance.Ticker``: per ticker, a list of exceptions or frames;
    when a ticker's script runs out, every call raises ``default``."""

    scripts: dict[str, list[object]] = {}
    calls: list[str] = []
    default: object = DNS

    def __init__(self, ticker: str, *args: object, **kwargs: object) -> None:
        self.ticker = ticker

    def history(self, **kwargs: object) -> pd.DataFrame:
        Fake.calls.append(self.ticker)
        script = Fake.scripts.get(self.ticker, [])
        step = script.pop(0) if script else Fake.default
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, pd.DataFrame)
        return step.copy()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[Fake]:
    Fake.scripts, Fake.calls, Fake.default = {}, [], DNS
    monkeypatch.setattr(yfinance, "Ticker", Fake)
    return Fake


def yahoo(sleeps: list[float], **kwargs: float) -> YahooSource:
    return YahooSource(sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


def stale(cache: PriceCache, frame: pd.DataFrame, hours: float = 48.0) -> Path:
    """Write ``frame`` to the cache as if fetched from Yahoo ``hours`` ago."""
    frame = frame.copy()
    frame.attrs.update(source="Yahoo",
                       fetched_at=(datetime.now(UTC) - timedelta(hours=hours)).isoformat())
    return cache.write(frame)


# --------------------------------------------------------------------------------------------
# Retries and backoff


@settings(max_examples=60, deadline=None)
@given(retries=st.integers(0, 6), backoff=st.floats(0.01, 10.0), max_wait=st.floats(0.0, 60.0),
       failures=st.integers(0, 8), kind=st.sampled_from(sorted(TRANSIENT)))
def test_backoff_never_waits_longer_than_max_wait(retries: int, backoff: float, max_wait: float,
                                                  failures: int, kind: str) -> None:
    Fake.scripts = {"1024.HK": [TRANSIENT[kind]] * failures + [history()]}
    Fake.calls, Fake.default = [], DNS
    original = yfinance.Ticker
    yfinance.Ticker = Fake  # type: ignore[misc]  # (hypothesis: no function-scoped fixture)
    try:
        sleeps: list[float] = []
        source = yahoo(sleeps, retries=retries, backoff=backoff, max_wait=max_wait)
        try:
            frame = source.load("1024.HK")
        except DataUnavailable as exc:
            assert str(exc).startswith("Yahoo unreachable for 1024.HK: ")
            assert "\n" not in str(exc)
            frame = None
    finally:
        yfinance.Ticker = original  # type: ignore[misc]
    assert sum(sleeps) <= max_wait + 1e-9
    assert len(Fake.calls) <= retries + 1
    assert sleeps == pytest.approx([backoff * 2**i for i in range(len(sleeps))], rel=1e-6, abs=0)
    assert len(Fake.calls) == len(sleeps) + 1  # one sleep between two calls, none after the last
    if frame is not None:
        assert len(Fake.calls) == failures + 1 and frame.attrs["source"] == "Yahoo"
    else:
        assert failures >= len(Fake.calls)


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_transient_errors_are_retried_then_succeed(fake: type[Fake], kind: str) -> None:
    fake.scripts = {"1024.HK": [TRANSIENT[kind], TRANSIENT[kind], history()]}
    sleeps: list[float] = []
    frame = yahoo(sleeps, backoff=0.5).load("1024.HK")
    assert sleeps == [0.5, 1.0]
    assert frame.index[0] == pd.Timestamp("2021-02-05")


def test_default_backoff_fits_in_the_default_budget(fake: type[Fake]) -> None:
    fake.default = ReadTimeout("read")
    sleeps: list[float] = []
    source = YahooSource(sleep=sleeps.append)
    with pytest.raises(DataUnavailable, match="Yahoo unreachable for 0020.HK: read"):
        source.load("0020.HK")
    assert sleeps == [2.0, 4.0, 8.0] and sum(sleeps) <= source.max_wait
    assert len(fake.calls) == source.retries + 1


def test_no_network_is_not_retried(fake: type[Fake]) -> None:
    sleeps: list[float] = []
    with pytest.raises(DataUnavailable, match="Yahoo unreachable for 0020.HK: .*resolve host"):
        yahoo(sleeps).load("0020.HK")
    assert sleeps == [] and fake.calls == ["0020.HK"]


def test_a_missing_ticker_is_not_retried(fake: type[Fake]) -> None:
    from yfinance.exceptions import YFTickerMissingError

    fake.scripts = {"9999.HK": [YFTickerMissingError("9999.HK", "no timezone found")]}
    sleeps: list[float] = []
    with pytest.raises(DataUnavailable, match="no price data for 9999.HK from Yahoo"):
        yahoo(sleeps).load("9999.HK")
    assert sleeps == []


# --------------------------------------------------------------------------------------------
# What serves the data when Yahoo fails


def test_unreachable_falls_back_to_the_stale_cache_with_a_note(fake: type[Fake],
                                                               tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    stale(cache, bundled_source().load("0020.HK").iloc[:300])
    fake.default = TRANSIENT["rate limit"]
    sleeps: list[float] = []
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo(sleeps, max_wait=5.0))
    frame = loader.load("0020.HK")
    assert len(frame) == 300 and frame.attrs["source"].startswith("cache (Yahoo")
    assert sum(sleeps) <= 5.0
    [note] = loader.notes
    assert note.startswith("Yahoo unreachable (") and "0020.HK from cache (Yahoo" in note


def test_unreachable_without_cache_falls_back_to_bundled(fake: type[Fake],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    fake.default = TRANSIENT["timed out"]
    loader = PriceLoader(yahoo=yahoo([], max_wait=1.0))
    with caplog.at_level(logging.WARNING, logger="eventstudy.sources"):
        frame = loader.load("0020.HK")
    assert frame.attrs["source"] == "bundled (0020.HK.csv)"
    assert "0020.HK from bundled (0020.HK.csv)" in loader.notes[0]
    assert any("0020.HK from bundled" in r.getMessage() for r in caplog.records)


def test_unreachable_and_nothing_to_fall_back_on_is_a_clear_error(fake: type[Fake]) -> None:
    fake.default = TRANSIENT["503"]
    loader = PriceLoader(yahoo=yahoo([], max_wait=1.0))
    with pytest.raises(DataUnavailable, match=r"^Yahoo unreachable for 9999.HK: HTTP Error 503"):
        loader.load("9999.HK")


def test_a_whole_study_waits_once_for_a_dead_network(fake: type[Fake]) -> None:
    """The stock and its market index: the second ticker does not wait for the network again."""
    fake.default = ReadTimeout("read")
    sleeps: list[float] = []
    loader = PriceLoader(yahoo=yahoo(sleeps, max_wait=10.0))
    result = event_study([make_event("0020.HK", "2022-06-30")], loader=loader)
    assert sum(sleeps) <= 10.0
    assert set(fake.calls) == {"0020.HK"}  # ^HSI was not requested once Yahoo was known dead
    assert result.sources["0020.HK"].startswith("bundled")
    assert result.sources["^HSI"].startswith("bundled")
    [note] = [n for n in result.notes if n.startswith("Yahoo unreachable")]  # said once
    assert "0020.HK from bundled" in note and "^HSI from bundled" in note
    assert np.isfinite(result.events["ar_0"]).all()


def test_empty_answer_falls_back_to_the_cache(fake: type[Fake], tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    stale(cache, bundled_source().load("0020.HK"))
    fake.scripts = {"0020.HK": [pd.DataFrame()]}
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    frame = loader.load("0020.HK")
    assert frame.attrs["source"].startswith("cache (Yahoo")
    assert "Yahoo failed (no price data for 0020.HK from Yahoo" in loader.notes[0]


@pytest.mark.parametrize("answer", [
    pd.DataFrame(),
    pd.DataFrame({"Close": [np.nan, np.nan]},
                 index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"], tz="Asia/Hong_Kong")),
    pd.DataFrame({"Open": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"], tz="Asia/Hong_Kong")),
], ids=["empty", "all-NaN close", "no close"])
def test_empty_answer_without_fallback_names_the_ticker(fake: type[Fake],
                                                        answer: pd.DataFrame) -> None:
    fake.scripts = {"9999.HK": [answer]}
    # no rows: "no price data"; no close column: "unusable data ... no Close column" (issue 24)
    with pytest.raises(DataUnavailable, match=r"(no price|unusable) data for 9999.HK from Yahoo"):
        PriceLoader(yahoo=yahoo([])).load("9999.HK")


def test_partial_answer_keeps_the_longer_cache(fake: type[Fake], tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    path = stale(cache, bundled_source().load("0020.HK"))
    before = path.read_bytes()
    full = bundled_as_history("0020.HK")
    fake.scripts = {"0020.HK": [full.iloc[-100:]]}  # the last 100 sessions only
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    frame = loader.load("0020.HK")
    assert len(frame) == len(full) and frame.attrs["source"].startswith("cache")
    assert "partial history for 0020.HK" in loader.notes[0] and "100 rows" in loader.notes[0]
    assert path.read_bytes() == before  # the good cache entry was not overwritten


def test_a_truncated_end_is_partial_too(fake: type[Fake], tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    stale(cache, bundled_source().load("0020.HK"))
    fake.scripts = {"0020.HK": [bundled_as_history("0020.HK").iloc[:-5]]}
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    assert loader.load("0020.HK").attrs["source"].startswith("cache")
    assert "partial history" in loader.notes[0]


def test_a_fuller_answer_refreshes_the_stale_cache(fake: type[Fake], tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "c")
    stale(cache, bundled_source().load("0020.HK").iloc[:-5])
    fake.scripts = {"0020.HK": [bundled_as_history("0020.HK")]}
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    assert loader.load("0020.HK").attrs["source"] == "Yahoo" and not loader.notes
    again = cache.read("0020.HK")
    assert again is not None and len(again) == len(bundled_source().load("0020.HK"))


@pytest.mark.parametrize(("mangle", "words"), [
    (lambda f: pd.concat([f, f.iloc[-1:]]), "duplicate date"),
    (lambda f: f.assign(Close=-f["Close"]), "zero or negative price"),
    (lambda f: f.iloc[::-1], "not sorted"),
], ids=["repeated last row", "negative", "reversed"])
def test_unusable_answer_falls_back_and_says_why(fake: type[Fake], mangle: object,
                                                 words: str) -> None:
    fake.scripts = {"0020.HK": [mangle(bundled_as_history("0020.HK"))]}  # type: ignore[operator]
    loader = PriceLoader(yahoo=yahoo([]))
    frame = loader.load("0020.HK")
    assert frame.attrs["source"].startswith("bundled")
    assert "unusable data for 0020.HK from Yahoo" in loader.notes[0] and words in loader.notes[0]


def test_unusable_answer_without_fallback_is_data_unavailable(fake: type[Fake]) -> None:
    bad = bundled_as_history("0020.HK")
    fake.scripts = {"9999.HK": [pd.concat([bad, bad.iloc[-1:]])]}
    with pytest.raises(DataUnavailable, match="unusable data for 9999.HK from Yahoo: .*duplicate"):
        PriceLoader(yahoo=yahoo([])).load("9999.HK")


def test_a_fresh_cache_entry_is_used_without_asking_yahoo(fake: type[Fake],
                                                         tmp_path: Path) -> None:
    stale(PriceCache(tmp_path / "c"), bundled_source().load("0020.HK"), hours=1)
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    assert loader.load("0020.HK").attrs["source"].startswith("cache")
    assert fake.calls == [] and loader.notes == []


def test_an_unwritable_cache_does_not_lose_the_download(fake: type[Fake], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    fake.scripts = {"1024.HK": [history()]}
    loader = PriceLoader(cache_dir=blocker, yahoo=yahoo([]))
    frame = loader.load("1024.HK")
    assert frame.attrs["source"] == "Yahoo"
    assert loader.notes[0].startswith("could not write the cache for 1024.HK")
    with pytest.raises(BadInput, match="cannot write the cache in .*not-a-folder"):
        PriceLoader(cache_dir=blocker, offline=True).fetch("0020.HK")


# --------------------------------------------------------------------------------------------
# A corrupted cache file is detected, reported, removed and refetched


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_data_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10  # inside the column pages, not the footer
    path.write_bytes(bytes(data))


def _wrong_content(path: Path) -> None:
    """A readable parquet file that is not a price frame: dates out of order."""
    frame = bundled_source().load("0020.HK").iloc[::-1]
    plain = pd.DataFrame(frame)
    plain.attrs = {}
    plain.to_parquet(path)


CORRUPTIONS = {
    "truncated": _truncate,
    "empty": lambda p: p.write_bytes(b""),
    "text": lambda p: p.write_text("<html>503 Service Unavailable</html>"),
    "bit flip": _flip_a_data_byte,
    "wrong content": _wrong_content,
}


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupt_cache_is_reported_removed_and_refetched(fake: type[Fake], tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture,
                                                         how: str) -> None:
    cache = PriceCache(tmp_path / "c")
    path = stale(cache, bundled_source().load("0020.HK"), hours=1)
    CORRUPTIONS[how](path)
    fake.scripts = {"0020.HK": [bundled_as_history("0020.HK")]}
    loader = PriceLoader(cache_dir=tmp_path / "c", yahoo=yahoo([]))
    with caplog.at_level(logging.WARNING, logger="eventstudy.data.cache"):
        frame = loader.load("0020.HK")
    assert any("is corrupt" in r.getMessage() and str(path) in r.getMessage()
               for r in caplog.records), caplog.text
    assert fake.calls == ["0020.HK"] and frame.attrs["source"] == "Yahoo"
    again = cache.read("0020.HK")  # rewritten, valid
    assert again is not None and len(again) == len(frame)
    np.testing.assert_allclose(again["close"], frame["close"])


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupt_cache_offline_falls_back_to_bundled(tmp_path: Path, how: str) -> None:
    cache = PriceCache(tmp_path / "c")
    path = stale(cache, bundled_source().load("0020.HK").iloc[:50])
    CORRUPTIONS[how](path)
    frame = PriceLoader(offline=True, cache_dir=tmp_path / "c").load("0020.HK")
    assert frame.attrs["source"] == "bundled (0020.HK.csv)"
    assert not path.exists()


def test_a_corrupt_read_does_not_remove_a_good_file_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process renames a good file into place while this one reads a damaged one."""
    import eventstudy.data.cache as cache_module

    cache = PriceCache(tmp_path / "c")
    frame = bundled_source().load("0020.HK")
    path = cache.write(frame)
    _truncate(path)
    real_read = cache_module.pq.read_table

    def read_while_replaced(source: object, **kwargs: object) -> object:
        monkeypatch.setattr(cache_module.pq, "read_table", real_read)
        cache.write(frame.iloc[:10])  # the concurrent writer
        return real_read(source, **kwargs)  # still the damaged bytes read before: fails

    monkeypatch.setattr(cache_module.pq, "read_table", read_while_replaced)
    assert cache.read("0020.HK") is None
    again = cache.read("0020.HK")
    assert again is not None and len(again) == 10


def test_random_bit_flips_never_give_wrong_prices(tmp_path: Path) -> None:
    """Page checksums: a damaged cache file fails to read back rather than serving wrong data."""
    cache = PriceCache(tmp_path / "c")
    frame = bundled_source().load("0020.HK")
    path = cache.write(frame)
    good = path.read_bytes()
    rng = np.random.default_rng(6)
    for _ in range(60):
        data = bytearray(good)
        data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(data))
        back = cache.read("0020.HK")
        if back is not None:  # a flip in padding or unused metadata: the data must be intact
            pd.testing.assert_frame_equal(back[["close", "volume"]],
                                          frame[["close", "volume"]], check_freq=False)
