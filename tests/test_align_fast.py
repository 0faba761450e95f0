"""Every ticker aligned at once (``AlignedSeries.prefetch`` -> ``engine.store.align_many``: rows
found by an offset from each stock's first market row, the market's own returns on runs of
sessions) against a straightforward per-ticker computation written here with pandas: the
placeholder rows (zero volume, close unchanged from the row before) dropped, the rows on dates
the market has kept, close_t / close_t-1 - 1 for the stock and for the market. Bit for bit, on
the real bundled prices, on the real HK panel of ../shared/data when present (Yahoo's dirt), and
on seeded synthetic tickers with every kind of dirt (holes, suspensions, placeholder rows,
duplicated dates, zero and NaN closes, dates before the market's first day or after its last,
days the market lacks), read from a folder as columns, in blocks of every size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.columns import PriceColumns
from eventstudy.data.loader import PriceLoader
from eventstudy.engine.columnar import Prices, prices
from eventstudy.engine.series import Series, align
from eventstudy.engine.store import align_many
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.aligned import AlignedSeries
from eventstudy.studies.core import loader_sources

PANEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices_hk_panel"
BUNDLED_HK = ("0020.HK", "0700.HK", "1024.HK", "2432.HK", "2533.HK", "3690.HK", "6682.HK",
              "9660.HK", "9880.HK", "9988.HK")


def reference(frame: pd.DataFrame, market: pd.DataFrame, trade_to_trade: bool
              ) -> dict[str, np.ndarray] | str:
    """The aligned series of one stock by pandas, or the kind of error it is."""
    close = frame["close"].to_numpy(float)
    vol = frame["volume"].to_numpy(float) if "volume" in frame else np.full(len(frame), np.nan)
    stock = pd.DataFrame({"close": close, "vol": vol}, index=frame.index)
    previous = stock["close"].shift(1)
    placeholder = (stock["vol"] == 0) & pd.Series(
        np.isclose(stock["close"], previous, rtol=1e-9, atol=0.0), index=stock.index)
    placeholder.iloc[:1] = False
    dropped = stock.index[placeholder] if trade_to_trade else stock.index[:0]
    if trade_to_trade:
        stock = stock[~placeholder.to_numpy()]
    stock = stock[stock.index.isin(market.index)]
    if len(stock) < 2:
        return "DataUnavailable"
    mclose = market["close"].astype(float).reindex(stock.index)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ret = stock["close"] / stock["close"].shift(1) - 1.0
        mkt = mclose / mclose.shift(1) - 1.0
    if not (np.isfinite(ret.iloc[1:]).all() and np.isfinite(mkt.iloc[1:]).all()):
        return "BadInput"
    return {"dates": stock.index.as_unit("ns").to_numpy(), "close": stock["close"].to_numpy(),
            "ret": ret.to_numpy(), "mkt": mkt.to_numpy(), "vol": stock["vol"].to_numpy(),
            "placeholders": dropped.as_unit("ns").to_numpy()}


def assert_matches(got: Series | Exception, want: dict[str, np.ndarray] | str,
                   label: str) -> None:
    if isinstance(want, str):
        assert isinstance(got, BadInput | DataUnavailable), label
        assert type(got).__name__ == want, f"{label}: {got}"
        return
    assert isinstance(got, Series), f"{label}: {got}"
    for name, values in want.items():
        np.testing.assert_array_equal(getattr(got, name), values, err_msg=f"{label}: {name}")
        assert getattr(got, name).dtype == values.dtype, f"{label}: {name}"


def outcome(load: AlignedSeries, ticker: str) -> Series | Exception:
    try:
        return load(ticker)
    except (BadInput, DataUnavailable) as exc:
        return exc


def synthetic_dirty_folder(folder: Path, seed: int = 0) -> list[str]:
    """Seeded synthetic price files (``S*``) and market (``^SYN``), with every kind of dirt;
    returns the tickers. Synthetic data, for tests only."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-01", "2019-12-31")
    market_days = days[rng.random(len(days)) > 0.01]  # days the market lacks
    mclose = 1000.0 * np.cumprod(1.0 + rng.normal(3e-4, 0.01, len(market_days)))
    write(folder / "^SYN.csv", market_days, mclose, np.zeros(len(market_days)))
    tickers = []
    for i in range(60):
        kind = i % 12
        start = int(rng.integers(0, len(market_days) - 300))
        rows = days[(days >= market_days[start])][: int(rng.integers(2, 300))]
        if kind in (0, 1, 2):  # on a run of the market's sessions
            rows = market_days[start:start + int(rng.integers(2, 300))]
        if kind == 3:  # holes
            rows = rows[rng.random(len(rows)) > 0.2]
        if kind == 4:  # before the market's first day
            rows = pd.bdate_range(end=market_days[5], periods=40)
        if kind == 5:  # past the market's last day
            rows = pd.bdate_range(start=market_days[-10], periods=40)
        close = rng.uniform(5, 50) * np.cumprod(1.0 + rng.normal(0, 0.02, len(rows)))
        volume = np.exp(rng.normal(13, 0.6, len(rows))).round()
        if kind in (1, 6) and len(rows) > 12:  # a suspension: placeholder rows
            a = int(rng.integers(1, len(rows) - 10))
            close[a:a + 8] = close[a - 1]
            volume[a:a + 8] = 0
        if kind == 7 and len(rows) > 3:  # a zero volume with a moved close: kept
            volume[2] = 0
        if kind == 8:  # a suspension from the first row
            close[:5] = close[0]
            volume[:5] = 0
        ticker = f"S{i:03d}"
        text = None
        if kind == 9 and len(rows) > 5:  # a duplicated date
            rows = rows.insert(3, rows[3])
            close, volume = np.insert(close, 3, close[3]), np.insert(volume, 3, volume[3])
        if kind == 10 and len(rows) > 5:  # zero and missing closes
            text = close.astype(object)
            text[2], text[4] = "0", ""
        write(folder / f"{ticker}.csv", rows, close if text is None else text, volume)
        tickers.append(ticker)
    return tickers


def write(path: Path, dates: pd.DatetimeIndex, close: np.ndarray, volume: np.ndarray) -> None:
    lines = [f"{d.date()},{c},{v:.0f}" for d, c, v in zip(dates, close, volume, strict=True)]
    path.write_text("date,close,volume\n" + "\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("trade_to_trade", "chunk"), [(True, 1 << 17), (False, 1 << 17),
                                                     (True, 300)])
def test_dirty_synthetic_folder(tmp_path: Path, trade_to_trade: bool, chunk: int,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventstudy.engine.store.CHUNK_ROWS", chunk)  # 300: many blocks
    folder = tmp_path / "prices"
    folder.mkdir()
    tickers = synthetic_dirty_folder(folder)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    load = AlignedSeries(loader, "^SYN", trade_to_trade=trade_to_trade)
    load.prefetch(tickers)
    market = loader.load("^SYN")
    market_dates = load._market("^SYN").dates  # type: ignore[union-attr]
    kinds = {"series": 0, "error": 0, "run": 0, "dropped": 0}
    for ticker in tickers:
        got = outcome(load, ticker)
        try:
            want = reference(loader.load(ticker), market, trade_to_trade)
        except (BadInput, DataUnavailable) as exc:  # the file itself is refused
            want = type(exc).__name__
        assert_matches(got, want, ticker)
        if isinstance(got, Series):
            kinds["series"] += 1
            kinds["run"] += np.shares_memory(got.dates, market_dates)  # no copy of its dates
            kinds["dropped"] += len(got.placeholders) > 0
        else:
            kinds["error"] += 1
    assert kinds["series"] > 30 and kinds["error"] > 0 and kinds["run"] > 5
    assert (kinds["dropped"] > 0) is trade_to_trade


@pytest.mark.parametrize("trade_to_trade", [True, False])
def test_real_bundled_prices(trade_to_trade: bool) -> None:
    loader = PriceLoader(offline=True)
    load = AlignedSeries(loader, None, trade_to_trade=trade_to_trade)
    load.prefetch(BUNDLED_HK)
    market = loader.load("^HSI")
    for ticker in BUNDLED_HK:
        assert_matches(outcome(load, ticker),
                       reference(loader.load(ticker), market, trade_to_trade), ticker)


@pytest.mark.skipif(not PANEL.is_dir(), reason="the real HK panel (../shared/data) is absent")
def test_real_hk_panel(tmp_path: Path) -> None:
    """190 real HK stocks with Yahoo's dirt, read from their folder as columns."""
    loader = PriceLoader(offline=True, data=PANEL, cache_dir=tmp_path)
    tickers = sorted(p.name[:-4] for p in PANEL.glob("*.HK.csv"))
    load = AlignedSeries(loader, None)
    load.prefetch(tickers)
    market = loader.load("^HSI")
    placeholders = 0
    for ticker in tickers:
        got = outcome(load, ticker)
        assert_matches(got, reference(loader.load(ticker), market, True), ticker)
        placeholders += len(got.placeholders) if isinstance(got, Series) else 0
    assert len(tickers) > 100 and placeholders > 0


def test_align_many_mixed_inputs_zero_and_nan_closes() -> None:
    """Frames, their arrays and their columns (in ns and in us) in one block, with zero and NaN
    closes the cleaning would refuse: each as the pandas computation says."""
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2020-01-01", periods=400)
    market = pd.DataFrame({"close": 100 * np.cumprod(1 + rng.normal(0, 0.01, 390)),
                           "volume": 0.0}, index=days[rng.random(400) > 0.02][:390])
    frames = []
    for i in range(24):
        rows = days[int(rng.integers(0, 200)):][: int(rng.integers(3, 200))]
        frame = pd.DataFrame({"close": rng.uniform(5, 9, len(rows)),
                              "volume": rng.integers(0, 3, len(rows)) * 1000.0}, index=rows)
        if i % 6 == 1:
            frame.iloc[1, 0] = 0.0  # a return of -100%, then an infinite one
        if i % 6 == 2:
            frame.iloc[2, 0] = np.nan
        if i % 6 == 3:
            frame.iloc[3:6, 0] = frame.iloc[2, 0]  # unchanged closes, some with volume 0
        frames.append(frame)
    stocks: list[pd.DataFrame | Prices | PriceColumns] = []
    for i, frame in enumerate(frames):
        if i % 4 == 0:
            stocks.append(frame)
        elif i % 4 == 1:
            stocks.append(prices(frame))
        else:
            unit = "us" if i % 4 == 2 else "ns"
            stocks.append(PriceColumns.of(frame.set_axis(frame.index.as_unit(unit))))
    for trade_to_trade in (True, False):
        got = align_many(stocks, prices(market), trade_to_trade, frames=frames)
        for i, (frame, found) in enumerate(zip(frames, got, strict=True)):
            assert_matches(found, reference(frame, market, trade_to_trade), f"stock {i}")


def test_market_dates_not_ascending_is_searched_as_align_does() -> None:
    """A market whose dates repeat (no offset guess is trusted): ``align``'s binary search."""
    days = pd.bdate_range("2021-01-01", periods=60)
    rng = np.random.default_rng(1)
    dates = days.as_unit("ns").asi8
    market = Prices("^M", np.sort(np.r_[dates, dates[10:12]]), rng.uniform(90, 110, 62),
                    np.zeros(62))
    stocks = [Prices("S", dates[a:a + 30], rng.uniform(5, 6, 30), np.ones(30))
              for a in (0, 5, 9, 30)]
    for stock, found in zip(stocks, align_many(stocks, market), strict=True):
        want = align(stock, market)
        assert isinstance(found, Series)
        for name in ("dates", "close", "ret", "mkt", "vol"):
            np.testing.assert_array_equal(getattr(found, name), getattr(want, name))


class _Wrapper:
    """A loader that wraps another and says its own sources."""

    def __init__(self, inner: PriceLoader):
        self.inner = inner
        self.loads: list[str] = []

    def load(self, ticker: str) -> pd.DataFrame:
        self.loads.append(ticker)
        return self.inner.load(ticker)

    def source(self, ticker: str) -> tuple[str, str]:
        return f"wrapped {ticker}", "none"


class _Plain:
    def __init__(self, inner: PriceLoader):
        self.inner = inner

    def load(self, ticker: str) -> pd.DataFrame:
        return self.inner.load(ticker)


def test_loader_sources_asks_any_loader_with_a_source() -> None:
    """A wrapper loader's own ``source`` is used (its frames are not made for it); a loader
    without one gives the attributes of its frames."""
    inner = PriceLoader(offline=True)
    wrapper = _Wrapper(inner)
    assert loader_sources(wrapper)("0020.HK") == ("wrapped 0020.HK", "none")  # type: ignore[arg-type]
    assert wrapper.loads == []
    attrs = inner.load("0020.HK").attrs
    want = (str(attrs["source"]), str(attrs["adjustment"]))
    assert loader_sources(_Plain(inner))("0020.HK") == want  # type: ignore[arg-type]
    assert loader_sources(inner)("0020.HK") == want
