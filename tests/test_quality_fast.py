"""The screens of a panel study on every ticker at once (``quality/stacked.py``, issue 25) find
what plain per-ticker and per-event loops written here find: on the real HK panel bundled in
data/panel (190 stocks with Yahoo's dirt), on the whole ../shared panel when it is there (with
high/low), on tests/data/quality, and on a seeded synthetic dirty universe with every kind of
dirt (placeholders, suspensions, day 0 in a suspension, index gaps, impossible returns, half
days, windows past the data); and a whole study gives the same findings, skips and numbers
with the stack as without it (the per-ticker path of before)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import event_study
from eventstudy.calendar.events import Event
from eventstudy.calendar.sessions import early_close_index, session_index
from eventstudy.data.clean import placeholder_mask
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import calendar_code
from eventstudy.quality import stacked as stacked_module
from eventstudy.quality.events import Screens, before_panel, loader_arrays, loader_stack, no_arrays
from eventstudy.quality.screens import MAX_DAY0_SHIFT_DAYS, RANGE_TOLERANCE, screen_series
from eventstudy.quality.stacked import LOOSE_MOVE, Stacked

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PANEL = ROOT / "data" / "panel" / "hk_panel_190.parquet"
BUNDLED_HSI = ROOT / "data" / "prices" / "^HSI_1986-12-31_2023-10-20.csv"
QUALITY = ROOT / "tests" / "data" / "quality"
SHARED = ROOT.parent.parent / "shared" / "data" / "prices_hk_panel"
if not SHARED.is_dir():
    SHARED = ROOT.parent / "shared" / "data" / "prices_hk_panel"
STUDY = {"market": "^HSI", "window": (-10, 10), "estimation": (-200, -11),
         "car_windows": ((-10, 10), (-1, 1), (0, 0))}


# --- plain references (loops over rows, no code of the package) -------------------------

def plain_holes(close: list[float], volume: list[float]) -> list[bool]:
    """Placeholder rows: volume exactly 0 and the close equal (1e-9) to the row before."""
    return [False] + [volume[i] == 0 and abs(close[i] - close[i - 1]) <= 1e-9 * abs(close[i - 1])
                      for i in range(1, len(close))]


def plain_loud(frame: pd.DataFrame) -> bool:
    """What ``Stacked.quiet`` must not call quiet: a volume 0, a one-day move of LOOSE_MOVE or
    more either way, or a close outside its day's range (high and low both given)."""
    close, volume = frame["close"].tolist(), frame["volume"].tolist()
    if any(v == 0 for v in volume):
        return True
    moves = [b / a for a, b in zip(close, close[1:], strict=False)]
    if any(not (1 / LOOSE_MOVE < m < LOOSE_MOVE) for m in moves):
        return True
    if "high" in frame and "low" in frame:
        for c, v, h, lo in zip(close, volume, frame["high"], frame["low"], strict=True):
            if (v > 0 and lo > 0 and h >= lo
                    and (c > h * (1 + RANGE_TOLERANCE) or c < lo * (1 - RANGE_TOLERANCE))):
                return True
    return False


def plain_day0(dates: dict[pd.Timestamp, int], holes: list[bool], day: pd.Timestamp,
               market: tuple[pd.Timestamp, pd.Timestamp, set[pd.Timestamp]],
               trade_to_trade: bool = True) -> str | None:
    """The day-0 screen of an event, row by row (docs/quality.md): ``dates`` the stock's (date:
    row),
    ``holes`` its ``plain_holes``, ``market`` the index's first and last date and its dates."""
    at = dates.get(day)
    if at is None:
        return None
    if holes[at] and trade_to_trade:
        stock = list(dates)
        nxt = next((stock[j] for j in range(at, len(stock)) if not holes[j]), None)
        return ("placeholder_day0" if nxt is None or (nxt - day).days > MAX_DAY0_SHIFT_DAYS
                else None)
    first, last, dates_of_market = market
    if first <= day <= last and day not in dates_of_market:
        return "index_no_price"
    return None


# --- data ----------------------------------------------------------------------------------

def _write(folder: Path, ticker: str, frame: pd.DataFrame) -> None:
    frame.rename_axis("date").to_csv(folder / f"{ticker}.csv")


@pytest.fixture(scope="module")
def bundled_panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled real panel as a folder of price files (close, volume), with the bundled
    real ^HSI."""
    folder = tmp_path_factory.mktemp("hk190")
    table = pd.read_parquet(BUNDLED_PANEL)
    for ticker, rows in table.groupby("ticker", observed=True):
        _write(folder, str(ticker), rows.set_index("date")[["close", "volume"]])
    shutil.copy(BUNDLED_HSI, folder / "^HSI.csv")
    return folder


def synthetic_dirty_universe(folder: Path, seed: int = 0) -> dict[str, tuple[Event, set[str]]]:
    """Seeded synthetic HK prices (every number random, none real) on HKEX sessions, each
    ticker with one kind of dirt, and a synthetic ^HSI missing one session; returns per ticker
    its event and the checks its event must be reported with."""
    rng = np.random.default_rng(seed)
    days = session_index("XHKG")
    days = days[(days >= "2019-01-02") & (days <= "2021-06-30")]
    half = int(days.get_loc(pd.Timestamp("2020-12-24")))
    assert pd.Timestamp("2020-12-24") in early_close_index("XHKG")

    def series(level: float) -> pd.DataFrame:
        close = level * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        spread = rng.uniform(0.001, 0.01, len(days))
        return pd.DataFrame({"high": close * (1 + spread), "low": close * (1 - spread),
                             "close": close, "volume": rng.integers(10**5, 10**6, len(days))
                             .astype(float)}, index=days)

    def hold(frame: pd.DataFrame, rows: slice) -> None:  # placeholder rows: a suspension
        start = rows.start
        frame.iloc[rows, frame.columns.get_indexer(["close", "high", "low"])] = (
            frame["close"].iloc[start - 1])
        frame.iloc[rows, frame.columns.get_loc("volume")] = 0.0

    def scale(frame: pd.DataFrame, rows: slice, by: float) -> None:
        cols = frame.columns.get_indexer(["close", "high", "low"])
        frame.iloc[rows, cols] = frame.iloc[rows, cols] * by

    out: dict[str, tuple[pd.DataFrame, int, set[str]]] = {}
    out["9901.HK"] = (series(10.0), 400, set())
    out["9902.HK"] = (series(100.0), 400, set())  # 10x the price of the one before it
    f = series(10.0)
    hold(f, slice(398, 402))  # day 0 on a placeholder, trading again 3 sessions later
    out["9903.HK"] = (f, 400, set())
    f = series(10.0)
    hold(f, slice(380, 420))  # day 0 in a suspension of 40 sessions
    out["9904.HK"] = (f, 400, {"placeholder_day0"})
    f = series(10.0)
    scale(f, slice(300, 301), 2.5)  # a spike in the estimation window
    out["9905.HK"] = (f, 400, {"spike"})
    f = series(10.0)
    scale(f, slice(350, None), 0.5)  # a 2-for-1 split not adjusted
    out["9906.HK"] = (f, 400, {"split"})
    f = series(10.0)
    f.iloc[half, f.columns.get_loc("volume")] = 0.0  # volume 0 on a half day, close moved
    out["9907.HK"] = (f, half + 2, {"half_day_volume"})
    f = series(10.0)
    f.iloc[250, f.columns.get_loc("close")] = f["high"].iloc[250] * 1.2
    out["9908.HK"] = (f, 400, {"outside_range"})
    f = series(10.0)
    f.iloc[260, f.columns.get_loc("volume")] = 0.0
    scale(f, slice(260, 261), 1.2)  # a 20% move with no trade
    out["9909.HK"] = (f, 400, {"no_volume_jump"})
    f = series(10.0)
    scale(f, slice(320, None), 3.5)  # a jump, no split ratio, the day's range flat
    out["9910.HK"] = (f, 400, {"jump"})
    out["9911.HK"] = (series(10.0).iloc[:404], 400, {"window_past_data"})
    out["9912.HK"] = (series(10.0), 420, {"index_no_price"})
    f = series(10.0)
    hold(f, slice(398, None))  # placeholders to the end: no trade follows day 0
    out["9913.HK"] = (f, 400, {"placeholder_day0"})
    f = series(10.0)
    f.iloc[0, f.columns.get_loc("volume")] = 0.0  # volume 0 on its first row: loud, not a hole
    out["9914.HK"] = (f, 400, set())
    market = series(20000.0).drop(index=days[420])
    _write(folder, "^HSI", market)
    for ticker, (frame, _, _) in out.items():
        _write(folder, ticker, frame)
    return {t: (Event(t, days[row]), checks) for t, (_, row, checks) in out.items()}


def _loader(folder: Path) -> tuple[PriceLoader, list[str]]:
    tickers = sorted(p.stem for p in folder.glob("*.csv") if not p.stem.startswith("^"))
    loader = PriceLoader(offline=True, data=folder)
    loader.prefetch([*tickers, "^HSI"])
    return loader, tickers


def _folders() -> list[Path]:
    return [QUALITY, *([SHARED] if SHARED.is_dir() else [])]


# --- the stack against the plain loops -------------------------------------------------------

def test_placeholder_mask_of_series_end_to_end_is_each_series_mask() -> None:
    table = pd.read_parquet(BUNDLED_PANEL)
    parts = [rows for _, rows in table.groupby("ticker", observed=True)]
    close = np.concatenate([p["close"].to_numpy(float) for p in parts])
    volume = np.concatenate([p["volume"].to_numpy(float) for p in parts])
    starts = np.cumsum([0, *(len(p) for p in parts)])[:-1]
    expected = np.concatenate([plain_holes(p["close"].tolist(), p["volume"].tolist())
                               for p in parts])
    assert expected.sum() > 1000  # Yahoo's placeholders are there
    assert (placeholder_mask(close, volume, starts) == expected).all()
    # a series starting with volume 0 at the close the one before it ended at: not a placeholder
    seam = placeholder_mask(np.array([1.0, 2.0, 2.0, 2.0]), np.array([5.0, 5.0, 0.0, 0.0]),
                            np.array([0, 2]))
    assert seam.tolist() == [False, False, False, True]


def _check_stack(loader: PriceLoader, tickers: list[str]) -> None:
    stack = loader_stack(loader, tickers)
    assert set(stack.tickers) == set(tickers)
    frames = {t: loader.load(t) for t in tickers}
    holes = {t for t, f in frames.items()
             if any(plain_holes(f["close"].tolist(), f["volume"].tolist()))}
    assert stack.with_holes() == holes
    loud = {t for t, f in frames.items() if plain_loud(f)}
    assert stack.quiet() == set(tickers) - loud
    for ticker in stack.quiet():  # what the screens of a quiet ticker find: nothing
        screen = screen_series(frames[ticker], ticker, calendar_code(ticker))
        assert not (screen.findings or screen.suspect or screen.unknown_volume)
    on_stack = Screens(loader.load, calendar_code, loader_arrays(loader), stack)
    alone = Screens(loader.load, calendar_code)
    for ticker in tickers:
        a, b = on_stack(ticker), alone(ticker)
        assert a is not None and b is not None
        assert (a.findings, list(a.suspect.items()), a.unknown_volume) == (
            b.findings, list(b.suspect.items()), b.unknown_volume)


def test_stack_finds_what_plain_loops_find_on_the_bundled_real_panel(
        bundled_panel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stacked_module, "CHUNK_ROWS", 5000)  # many chunks, seams between
    loader, tickers = _loader(bundled_panel)
    _check_stack(loader, tickers)
    assert loader_stack(loader, tickers).with_holes()  # Yahoo's placeholder rows are there


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
def test_stack_finds_what_plain_loops_find_with_high_and_low(folder: Path) -> None:
    loader, tickers = _loader(folder)
    _check_stack(loader, tickers)


def test_stack_finds_what_plain_loops_find_on_synthetic_dirt(tmp_path: Path) -> None:
    truth = synthetic_dirty_universe(tmp_path)
    loader, tickers = _loader(tmp_path)
    _check_stack(loader, tickers)
    stack = loader_stack(loader, list(truth))  # 9901 then 9902: 10x apart at the seam
    assert {"9901.HK", "9902.HK", "9911.HK", "9912.HK"} <= stack.quiet()
    assert stack.with_holes() == {"9903.HK", "9904.HK", "9913.HK"}


def test_stack_leaves_out_tickers_without_arrays() -> None:
    loader, tickers = _loader(QUALITY)
    stack = Stacked.of([*tickers, "NOPE.HK", "bad ticker!"], loader_arrays(loader))
    assert list(stack.tickers) == tickers
    assert not Stacked.of(tickers, no_arrays).tickers


# --- day 0 (before the panel) ---------------------------------------------------------------

def _day0_events(folder: Path, loader: PriceLoader, tickers: list[str], seed: int
                 ) -> list[Event]:
    """Per ticker: placeholder days, days the index has no price on, random days."""
    rng = np.random.default_rng(seed)
    market = pd.DatetimeIndex(loader.load("^HSI").index)
    events = []
    for ticker in tickers:
        frame = loader.load(ticker)
        dates = pd.DatetimeIndex(frame.index)
        holes = np.array(plain_holes(frame["close"].tolist(), frame["volume"].tolist()))
        gaps = dates[~dates.isin(market) & (dates >= market[0]) & (dates <= market[-1])]
        picks = [*rng.choice(dates[holes], min(4, int(holes.sum())), replace=False),
                 *gaps[:3], *rng.choice(dates, 3, replace=False),
                 dates[-1] + pd.Timedelta(days=1)]
        events += [Event(ticker, pd.Timestamp(d)) for d in picks]
    return events


def _check_day0(folder: Path, loader: PriceLoader, events: list[Event]) -> set[str]:
    index = list(loader.load("^HSI").index)
    market_dates = (index[0], index[-1], set(index))
    dates = {t: {d: i for i, d in enumerate(loader.load(t).index)}
             for t in {e.ticker for e in events}}
    market = lambda t: "^HSI"  # noqa: E731
    holes = {t: plain_holes(f["close"].tolist(), f["volume"].tolist())
             for t in {e.ticker for e in events} for f in [loader.load(t)]}
    found_checks: set[str] = set()
    for trade_to_trade in (True, False):
        fast = before_panel(events, loader.load, market, trade_to_trade, loader_arrays(loader))
        plain = before_panel(events, loader.load, market, trade_to_trade)  # no stack: as before
        assert fast == plain
        kept, skips, found = fast
        expected = {e.event_id: plain_day0(dates[e.ticker], holes[e.ticker], e.session,
                                           market_dates, trade_to_trade) for e in events}
        expected = {k: v for k, v in expected.items() if v is not None}
        assert {f.event_id: f.check for f in found} == expected
        assert [s.event_id for s in skips] == [f.event_id for f in found]
        assert [e.event_id for e in kept] == [e.event_id for e in events
                                              if e.event_id not in expected]
        found_checks |= set(expected.values())
    return found_checks


def test_day0_screen_is_the_plain_loop_on_the_bundled_real_panel(bundled_panel: Path) -> None:
    loader, tickers = _loader(bundled_panel)
    events = _day0_events(bundled_panel, loader, tickers, 1)
    checks = _check_day0(bundled_panel, loader, events)
    assert checks == {"index_no_price", "placeholder_day0"}


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
def test_day0_screen_is_the_plain_loop_with_high_and_low(folder: Path) -> None:
    loader, tickers = _loader(folder)
    _check_day0(folder, loader, _day0_events(folder, loader, tickers, 2))


def test_day0_screen_is_the_plain_loop_on_synthetic_dirt(tmp_path: Path) -> None:
    truth = synthetic_dirty_universe(tmp_path)
    loader, _ = _loader(tmp_path)
    _check_day0(tmp_path, loader, [e for e, _ in truth.values()])


# --- a whole study: with the stack and without (the per-ticker path of before) -------------

def _without_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    import eventstudy.studies.core as core

    monkeypatch.setattr(core, "loader_stack", lambda loader, tickers: Stacked.of((), no_arrays))


def _same_study(events: list[Event], folder: Path, monkeypatch: pytest.MonkeyPatch,
                **options: object) -> pd.DataFrame:
    fast = event_study(events, loader=_loader(folder)[0], **STUDY, **options)  # type: ignore
    with monkeypatch.context() as patch:
        _without_stack(patch)
        plain = event_study(events, loader=_loader(folder)[0], **STUDY, **options)  # type: ignore
    pd.testing.assert_frame_equal(fast.quality, plain.quality)
    pd.testing.assert_frame_equal(fast.skipped, plain.skipped)
    pd.testing.assert_frame_equal(fast.car, plain.car)
    return fast.quality


@pytest.mark.parametrize("keep_suspect", [False, True])
def test_study_reports_every_planted_dirt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          keep_suspect: bool) -> None:
    truth = synthetic_dirty_universe(tmp_path)
    quality = _same_study([e for e, _ in truth.values()], tmp_path, monkeypatch,
                          keep_suspect=keep_suspect)
    per_event = quality[quality["event_id"] != ""]
    for ticker, (event, checks) in truth.items():
        rows = per_event[per_event["event_id"] == event.event_id]
        assert set(rows["check"]) == checks, ticker
        skipped = rows["action"].str.startswith("skipped")
        day0 = checks & {"placeholder_day0", "index_no_price"}
        suspect = checks & {"spike", "split", "outside_range", "no_volume_jump", "jump"}
        assert skipped.any() == bool(day0 or (suspect and not keep_suspect)), ticker


def test_study_on_the_bundled_real_panel_is_the_same_with_the_stack(
        bundled_panel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loader, tickers = _loader(bundled_panel)
    rng = np.random.default_rng(3)
    events = []
    for ticker in tickers[::3]:
        dates = pd.DatetimeIndex(loader.load(ticker).index)
        events += [Event(ticker, pd.Timestamp(d))
                   for d in rng.choice(dates[250:], 2, replace=False)]
    quality = _same_study(events, bundled_panel, monkeypatch)
    assert {"placeholder_day0", "suspension", "window_past_data"} & set(quality["check"])
