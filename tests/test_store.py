"""``engine.store.align_many`` (every ticker at once) gives what
``engine.series.align`` gives ticker by ticker, bit for bit, on the real bundled prices (with
their placeholder rows), on prices with holes, and on stocks ``align`` rejects (the same error
text); a panel gathered from its series equals one gathered from per-ticker series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.listings import load_listings
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import market_for
from eventstudy.engine.panel import build_panel
from eventstudy.engine.series import Series, align, prices
from eventstudy.engine.store import align_many
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.aligned import AlignedSeries
from eventstudy.studies.batch import listing_events

HK = ("0020.HK", "0700.HK", "1024.HK", "2432.HK", "2533.HK", "3690.HK", "6682.HK", "9660.HK",
      "9880.HK", "9988.HK")
FIELDS = ("dates", "close", "ret", "mkt", "vol", "placeholders")


@pytest.fixture(scope="module")
def loader() -> PriceLoader:
    return PriceLoader(offline=True)


def assert_same(got: Series, want: Series, label: str) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                      err_msg=f"{label}: {name}")


def outcome(frame: pd.DataFrame, market: pd.DataFrame, trade_to_trade: bool
            ) -> Series | str:
    try:
        return align(frame, market, trade_to_trade)
    except (BadInput, DataUnavailable) as exc:
        return f"{type(exc).__name__}: {exc}"


def stocks(loader: PriceLoader) -> dict[str, pd.DataFrame]:
    """The bundled HK stocks, each also with random holes, plus stocks align rejects."""
    rng = np.random.default_rng(3)
    out: dict[str, pd.DataFrame] = {}
    for t in HK:
        frame = loader.load(t)
        out[t] = frame
        out[f"{t} holed"] = frame[rng.random(len(frame)) > 0.2]
    good = loader.load("0020.HK")
    zero = good.copy()
    zero.iloc[40, zero.columns.get_loc("close")] = 0.0  # a return of -100% then inf
    out["zero price"] = zero
    out["unsorted"] = good.iloc[[*range(5, 60), 3, *range(60, 90)]]
    out["no overlap"] = good.set_axis(good.index - pd.Timedelta(days=365 * 60))
    out["one row"] = good.iloc[:1]
    out["empty"] = good.iloc[:0]
    out["no volume"] = good.drop(columns=["volume"])
    return out


@pytest.mark.parametrize(("trade_to_trade", "chunk"), [(True, 1 << 17), (False, 1 << 17),
                                                     (True, 700)])
def test_align_many_equals_align_ticker_by_ticker(loader: PriceLoader, trade_to_trade: bool,
                                                  chunk: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventstudy.engine.store.CHUNK_ROWS", chunk)  # 700: many blocks
    frames = stocks(loader)
    market = loader.load("^HSI")
    got = align_many(list(frames.values()), prices(market), trade_to_trade)
    assert len(got) == len(frames)
    kinds = {"series": 0, "error": 0}
    for (label, frame), found in zip(frames.items(), got, strict=True):
        want = outcome(frame, market, trade_to_trade)
        if isinstance(want, str):
            kinds["error"] += 1
            assert isinstance(found, BadInput | DataUnavailable), label
            assert f"{type(found).__name__}: {found}" == want, label
        else:
            kinds["series"] += 1
            assert isinstance(found, Series), label
            assert_same(found, want, label)
    assert kinds["series"] >= 2 * len(HK) + 1 and kinds["error"] >= 4
    if trade_to_trade:  # the real prices have placeholder rows, and they were dropped
        assert sum(len(s.placeholders) for s in got if isinstance(s, Series)) > 0


def test_align_many_copies_only_what_it_drops(loader: PriceLoader) -> None:
    """A stock with every row kept is aligned on its own price arrays (no copy), and on the
    market's own dates when it traded on every session of a run of them; one with rows
    dropped gets copies; the returns are new; nothing a Series holds can be written."""
    frames = {t: loader.load(t) for t in HK}
    raw = [prices(frame) for frame in frames.values()]
    market = prices(loader.load("^HSI"))
    got = align_many(raw, market)
    whole = on_run = 0
    for p, s in zip(raw, got, strict=True):
        assert isinstance(s, Series)
        kept_all = len(s.dates) == len(p.dates)
        whole += kept_all
        assert np.shares_memory(s.close, p.close) is kept_all
        run = bool(len(p.dates)) and np.array_equal(
            p.dates, market.dates[np.searchsorted(market.dates, p.dates[0]):][:len(p.dates)])
        on_run += kept_all and run
        assert np.shares_memory(s.dates, market.dates) is (kept_all and run)
        assert np.shares_memory(s.dates, p.dates) is (kept_all and not run)
        assert not np.shares_memory(s.ret, p.close)
        for name in FIELDS[:5]:
            assert not getattr(s, name).flags.writeable, name
    assert 0 < whole < len(HK)  # both kinds among the real bundled stocks
    assert on_run > 0


def test_panel_from_the_store_equals_per_ticker_series(loader: PriceLoader) -> None:
    events, _ = listing_events(load_listings())
    memo: dict[str, Series] = {}

    def one_by_one(ticker: str) -> Series:
        if ticker not in memo:
            memo[ticker] = align(loader.load(ticker), loader.load(market_for(ticker)))
        return memo[ticker]

    bulk = AlignedSeries(loader, None)
    bulk.prefetch([e.ticker for e in events])
    kw = dict(window=(-10, 20), estimation=(-260, -11), max_estimation=250)
    want = build_panel(events, one_by_one, **kw)
    got = build_panel(events, bulk, **kw)
    assert got.n_events == want.n_events > 10
    pd.testing.assert_frame_equal(got.events, want.events)
    for name in ("ret", "mkt", "vol", "dates", "close", "est_ret", "est_mkt", "est_vol",
                 "est_dates", "positions"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_prefetch_keeps_each_failure_for_its_events(loader: PriceLoader) -> None:
    bulk = AlignedSeries(loader, None)
    bulk.prefetch(["0020.HK", "NOSUCH.HK"])
    assert isinstance(bulk("0020.HK"), Series)
    for _ in range(2):  # raised again for every event of the ticker, loaded once
        with pytest.raises(DataUnavailable):
            bulk("NOSUCH.HK")


def test_abnormal_log_volume_is_remembered_per_panel_only(loader: PriceLoader) -> None:
    """The per-panel memory of ``abnormal_log_volume`` never hands one panel another's values,
    and what it hands out cannot be changed in place."""
    from dataclasses import replace

    from eventstudy.engine.volume import _abnormal_log_volume, abnormal_log_volume

    events, _ = listing_events(load_listings())
    bulk = AlignedSeries(loader, None)
    panel = build_panel(events, bulk, window=(-10, 20), estimation=(-260, -11),
                        max_estimation=250)
    doubled = replace(panel, est_vol=panel.est_vol * 2.0, vol=panel.vol * 3.0)
    first = abnormal_log_volume(panel)
    assert all(a is b for a, b in zip(abnormal_log_volume(panel), first, strict=True))
    for p in (doubled, panel.window_view((0, 5)), panel):
        got, want = abnormal_log_volume(p), _abnormal_log_volume(p, None)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
            assert not g.flags.writeable
    assert not np.array_equal(abnormal_log_volume(doubled)[1], first[1], equal_nan=True)


def test_aligned_series_without_prefetch_is_align(loader: PriceLoader) -> None:
    """Asked for a ticker it has not prefetched, ``AlignedSeries`` aligns that ticker alone."""
    lazy = AlignedSeries(loader, None)
    got = lazy("0020.HK")
    assert lazy("0020.HK") is got
    assert_same(got, align(loader.load("0020.HK"), loader.load("^HSI")), "0020.HK")
    with pytest.raises(DataUnavailable):
        lazy("NOSUCH.HK")


def test_volume_memory_from_several_threads(loader: PriceLoader) -> None:
    """Tables and cross-event tests ask for volume statistics from two threads: every caller
    gets its own panel's values, whatever the interleaving and the evictions."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from eventstudy.engine.volume import _abnormal_log_volume, abnormal_log_volume

    events, _ = listing_events(load_listings())
    panel = build_panel(events, AlignedSeries(loader, None), window=(-10, 20),
                        estimation=(-260, -11), max_estimation=250)
    panels = [replace(panel, est_vol=panel.est_vol * k, vol=panel.vol * (k + 1))
              for k in range(1, 25)]

    def check(p: object) -> bool:
        got, want = abnormal_log_volume(p), _abnormal_log_volume(p, None)  # type: ignore[arg-type]
        return all(np.array_equal(g, w, equal_nan=True) for g, w in zip(got, want, strict=True))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(check, panels * 4))
