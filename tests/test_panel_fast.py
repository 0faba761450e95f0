"""The panel built at once (``AlignedSeries.prefetch`` -> ``build_panel``: ``align_many``,
``same_day``, ``locate_many``, chunked gathers) against a straightforward per-event computation
written here with pandas: each stock's placeholder rows dropped, joined with its index on the
shared dates, simple returns, then each event's windows cut by position. On the real bundled
prices, on the real HK panel of ../shared/data when present (Yahoo's dirt included), and on
seeded synthetic tickers with holes, suspensions, placeholder rows, day 0 off the data, and
windows before the first and after the last row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.events import Event, make_event
from eventstudy.calendar.listings import load_listings
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import index_ticker
from eventstudy.engine.panel import MARGIN, build_panel, locate, locate_many, same_day, traded_day0
from eventstudy.engine.placeholders import move_off_placeholder
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.studies.aligned import AlignedSeries
from eventstudy.studies.batch import listing_events
from tests.helpers import PANEL_FOLDER, panel_folder_sample

PANEL = PANEL_FOLDER
WINDOW, ESTIMATION = (-10, 20), (-120, -11)


def reference(frame: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """The stock's aligned rows, by pandas: placeholder rows (zero volume, close unchanged from
    the row before) dropped, inner join with the index, close_t / close_t-1 - 1 for both."""
    stock = frame[["close"]].astype(float)
    stock["vol"] = frame["volume"].astype(float) if "volume" in frame else np.nan
    same = np.isclose(stock["close"], stock["close"].shift(1), rtol=1e-9, atol=0.0)
    stock = stock[~((stock["vol"] == 0) & same)]
    out = stock.join(market[["close"]].rename(columns={"close": "mclose"}), how="inner")
    out["ret"] = out["close"] / out["close"].shift(1) - 1.0
    out["mkt"] = out["mclose"] / out["mclose"].shift(1) - 1.0
    return out


def cut(values: np.ndarray, at: np.ndarray, ok: np.ndarray, missing: object) -> np.ndarray:
    out = np.full(len(at), missing, dtype=values.dtype)
    out[ok] = values[at[ok]]
    return out


def check_panel(panel, frames: dict[str, pd.DataFrame], market_of) -> int:  # noqa: ANN001
    """Every row of ``panel`` against the per-event cut of its ticker's reference rows."""
    length = panel.est_ret.shape[1]
    width = panel.ret.shape[1]
    nat = np.datetime64("NaT", "ns")
    for i, (event_id, row) in enumerate(panel.events.iterrows()):
        ref = reference(frames[row["ticker"]], frames[market_of(row["ticker"])])
        dates = ref.index.to_numpy("datetime64[ns]")
        day0 = int(np.searchsorted(dates, np.datetime64(row["day0"], "ns")))
        start = int(np.searchsorted(dates, np.datetime64(row["estimation_start"], "ns")))
        end = int(np.searchsorted(dates, np.datetime64(row["estimation_end"], "ns")))
        assert dates[day0] == np.datetime64(row["day0"], "ns"), event_id
        assert end - start + 1 == row["estimation_days"], event_id
        last = len(dates) - 1
        blocks = [("", day0 + WINDOW[0] + np.arange(width), 0, last),
                  ("est_", end - (length - 1) + np.arange(length), start, end)]
        for prefix, at, lo, hi in blocks:
            ok = (at >= lo) & (at <= hi)
            for name, col in (("ret", "ret"), ("mkt", "mkt"), ("vol", "vol")):
                np.testing.assert_array_equal(getattr(panel, prefix + name)[i],
                                              cut(ref[col].to_numpy(), at, ok, np.nan),
                                              err_msg=f"{event_id} {prefix}{name}")
            np.testing.assert_array_equal(getattr(panel, prefix + "dates")[i],
                                          cut(dates, at, ok, nat), err_msg=event_id)
        at = day0 + WINDOW[0] + np.arange(width)
        ok = (at >= 0) & (at <= last)
        np.testing.assert_array_equal(panel.close[i], cut(ref["close"].to_numpy(), at, ok,
                                                          np.nan), err_msg=event_id)
        for wide, first, size in ((panel.est_mkt_wide, end - (length - 1), length),
                                  (panel.mkt_wide, day0 + WINDOW[0], width)):
            at = first - MARGIN + np.arange(size + 2 * MARGIN)
            ok = (at >= 0) & (at <= last)
            np.testing.assert_array_equal(wide[i], cut(ref["mkt"].to_numpy(), at, ok, np.nan),
                                          err_msg=f"{event_id} wide")
    return panel.n_events


def per_event(events: list[Event], load) -> tuple[list[str], dict[str, str]]:  # noqa: ANN001
    """The event ids placed and the skip reasons, event by event as ``build_panel`` did
    before it located all events at once: duplicates, ``traded_day0``,
    ``move_off_placeholder``, ``locate``."""
    placed, reasons, seen = [], {}, set()
    for event in events:
        try:
            if event.event_id in seen:
                raise BadInput("duplicate event: the same ticker, tranche and day 0 appear "
                               "earlier in the events")
            seen.add(event.event_id)
            series = load(event.ticker)
            for step in ("traded", "placeholder"):
                event, note = (traded_day0(event, series.dates) if step == "traded" else
                               move_off_placeholder(event, series.dates, series.placeholders))
                if note:
                    if event.event_id in seen:
                        raise BadInput(f"duplicate event: {note}, where another event is")
                    seen.add(event.event_id)
            locate(series, event, WINDOW, ESTIMATION, None)
            placed.append(event.event_id)
        except (BadInput, DataUnavailable) as exc:
            reasons[event.event_id] = str(exc)
    return placed, reasons


def study(loader: PriceLoader, market: str | None, events: list[Event]):  # noqa: ANN201
    load = AlignedSeries(loader, market)
    load.prefetch([e.ticker for e in events])
    return load, build_panel(events, load, window=WINDOW, estimation=ESTIMATION)


def test_bundled_listing_events() -> None:
    loader = PriceLoader(offline=True)
    events, _ = listing_events(load_listings())
    load, panel = study(loader, None, events)
    frames = {t: loader.load(t) for t in {*panel.events["ticker"], "^HSI", "^GSPC"}}
    assert check_panel(panel, frames, lambda t: index_ticker(None, t)) > 10
    placed, reasons = per_event(events, load)
    assert list(panel.events.index) == placed
    assert {s.event_id: s.reason for s in panel.skipped} == reasons


def _sessions(start: str, n: int) -> pd.DatetimeIndex:
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start="2015-01-02", end="2024-12-31")
    days = cal.sessions.tz_localize(None)
    return days[days >= pd.Timestamp(start)][:n]


def synthetic_folder(folder: Path, seed: int = 11) -> dict[str, pd.DataFrame]:
    """Seeded synthetic prices (``SYN*``, NYSE sessions) and a synthetic index ``^SYNIDX``:
    holes (suspensions), placeholder rows, a stock on days the index lacks."""
    rng = np.random.default_rng(seed)
    days = _sessions("2016-01-04", 900)
    frames = {"^SYNIDX": pd.DataFrame({"close": 1000 * np.cumprod(1 + rng.normal(0, 0.01, 900)),
                                       "volume": 0.0}, index=days).drop(days[[300, 301]])}
    for k in range(8):
        n = int(rng.integers(150, 600))
        first = int(rng.integers(0, 900 - n))
        idx = days[first:first + n]
        close = rng.uniform(5, 50) * np.cumprod(1 + rng.normal(0, 0.02, n))
        volume = np.exp(rng.normal(12, 1, n)).round()
        for at in rng.choice(np.arange(1, n), size=n // 20, replace=False):  # placeholders
            close[at], volume[at] = close[at - 1], 0.0
        frame = pd.DataFrame({"close": close, "volume": volume}, index=idx)
        if k % 2:  # a suspension of 3 weeks and random holes
            gap = int(rng.integers(30, n - 30))
            frame = frame.drop(idx[gap:gap + 15])
            frame = frame[rng.random(len(frame)) > 0.05]
        frames[f"SYN{k}"] = frame
    for name, frame in frames.items():
        out = frame.rename_axis("date").reset_index()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        out.to_csv(folder / f"{name}.csv", index=False)
    return frames


def synthetic_events(frames: dict[str, pd.DataFrame], seed: int = 5) -> list[Event]:
    """Event days anywhere from before the first row to after the last, some on holes, some
    with a listing date; NYSE sessions (``make_event``)."""
    rng = np.random.default_rng(seed)
    out = []
    for ticker, frame in frames.items():
        if ticker.startswith("^"):
            continue
        index = frame.index
        picks = [index[0], index[5], index[-1], index[-3], index[0] - pd.Timedelta(days=30),
                 index[-1] + pd.Timedelta(days=30),
                 *index[rng.integers(0, len(index), 12)],
                 *(index[rng.integers(0, len(index), 6)] + pd.Timedelta(days=1))]
        for k, day in enumerate(picks):
            listed = index[0] if k % 3 == 0 else None
            event = make_event(ticker, day, tranche=f"t{k}", listing_date=listed)
            if event is not None:
                out.append(event)
    return out


def test_synthetic_tickers_with_gaps(tmp_path: Path) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    frames = synthetic_folder(folder)
    events = synthetic_events(frames)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    load, panel = study(loader, "^SYNIDX", events)
    clean = {t: loader.load(t) for t in frames}
    assert check_panel(panel, clean, lambda t: "^SYNIDX") > 40
    placed, reasons = per_event(events, load)
    assert list(panel.events.index) == placed
    assert {s.event_id: s.reason for s in panel.skipped} == reasons
    assert len(reasons) > 10  # before the data, after it, windows off its start
    assert panel.events["day0_note"].str.contains("the next session").any()


def test_locate_many_is_locate_event_by_event(tmp_path: Path) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    events = synthetic_events(synthetic_folder(folder, seed=3), seed=9)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    load = AlignedSeries(loader, "^SYNIDX")
    load.prefetch([e.ticker for e in events])
    placed = [(e, load(e.ticker)) for e in events]
    for kw in ({}, {"max_estimation": 50}, {"min_start": 12, "stabilisation": 5}):
        for window, estimation in ((WINDOW, ESTIMATION), ((0, 5), (10, 60))):
            spots, said = locate_many(placed, window, estimation, kw.get("max_estimation"),
                                      kw.get("min_start", 1), kw.get("stabilisation", 30))
            for j, (event, series) in enumerate(placed):
                try:
                    want = locate(series, event, window, estimation,
                                  kw.get("max_estimation"), kw.get("min_start", 1),
                                  kw.get("stabilisation", 30))
                except (BadInput, DataUnavailable) as exc:
                    got = said.get(j)
                    assert type(got) is type(exc) and str(got) == str(exc), event.event_id
                    continue
                assert tuple(spots[j]) == (want.day0, want.est_start, want.est_end)
                assert getattr(said.get(j), "note", "") == want.note


def test_same_day_is_the_timestamp_test() -> None:
    rng = np.random.default_rng(2)
    base = pd.Timestamp("2020-03-02")
    events = []
    for k in range(200):
        session = base + pd.Timedelta(days=int(rng.integers(0, 30)))
        date = session + pd.Timedelta(hours=float(rng.choice([0, 5.5, 23.9, -0.5, 24, -24])))
        tz = "Asia/Hong_Kong" if k % 7 == 0 else None
        events.append(Event("0020.HK", session, tranche=f"t{k}",
                            date=None if k % 11 == 0 else date.tz_localize(tz) if tz else date))
    want = [e.date is None or e.session == e.date.normalize() for e in events]
    assert same_day(events).tolist() == want
    assert 0 < sum(want) < len(want)


@pytest.mark.skipif(not PANEL.is_dir(), reason="the real HK panel of ../shared/data is absent")
def test_real_hk_panel(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    loader, found = panel_folder_sample(tmp_path / "cache", rng, 40)
    events = []
    for ticker, index in found:
        for k, at in enumerate(rng.integers(0, len(index), 6).tolist() + [0, len(index) - 1]):
            event = make_event(ticker, index[at], tranche=f"t{k}")
            if event is not None:
                events.append(event)
    load, panel = study(loader, None, events)
    frames = {t: loader.load(t) for t in {*panel.events["ticker"], "^HSI"}}
    assert check_panel(panel, frames, lambda t: "^HSI") > 100
    placed, reasons = per_event(events, load)
    assert list(panel.events.index) == placed
    assert {s.event_id: s.reason for s in panel.skipped} == reasons


def _panel_nbytes(panel) -> int:  # noqa: ANN001
    """The bytes of every array a Panel holds (dates as held: int32 day numbers)."""
    from eventstudy.engine.panel import ARRAY_FIELDS

    held = [panel.held(name) for name in ARRAY_FIELDS]
    extra = [a for a in (panel.close, panel.positions, panel.est_mkt_wide, panel.mkt_wide)
             if a is not None]
    return sum(a.nbytes for a in (*held, *extra))


def test_compact_panel_is_the_wide_panel(tmp_path: Path) -> None:
    """``wide=False`` (a model without leads and lags) gives the same arrays without the wide
    market blocks; the dates are held as int32 day numbers and read back as the dates; the
    panel's bytes per event are 8 per float cell and 4 per date cell, no more."""
    from eventstudy.engine.panel import NO_DAY

    folder = tmp_path / "prices"
    folder.mkdir()
    frames = synthetic_folder(folder, seed=23)
    events = synthetic_events(frames, seed=4)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    load, panel = study(loader, "^SYNIDX", events)
    slim = build_panel(events, load, window=WINDOW, estimation=ESTIMATION, wide=False)
    assert slim.est_mkt_wide is None and slim.mkt_wide is None
    assert panel.est_mkt_wide is not None and slim.market_shift(1, True) is None
    for name in ("ret", "mkt", "vol", "dates", "est_ret", "est_mkt", "est_vol", "est_dates",
                 "close", "positions"):
        np.testing.assert_array_equal(getattr(slim, name), getattr(panel, name), err_msg=name)
    pd.testing.assert_frame_equal(slim.events, panel.events)
    for name in ("dates", "est_dates"):
        held, read = slim.held(name), getattr(slim, name)
        assert held.dtype == np.int32 and read.dtype == np.dtype("datetime64[ns]")
        want = np.where(np.isnat(read), NO_DAY,  # days since 1970 by pandas, independently
                        (pd.DatetimeIndex(read.reshape(-1)) - pd.Timestamp("1970-01-01")).days
                        .to_numpy().reshape(read.shape))
        np.testing.assert_array_equal(held, want)
        assert np.isnat(read).any() and not read.flags.writeable  # a write would be lost
    n, width, length = slim.n_events, slim.ret.shape[1], slim.est_ret.shape[1]
    per_event = 8 * (4 * width + 3 * length) + 4 * (width + length) + 8 * 4
    assert _panel_nbytes(slim) == n * per_event
    assert np.shares_memory(panel.mkt, panel.mkt_wide)  # a view: counted once
    assert (panel.events["estimation_days"] < length).any()  # short windows: est_mkt its own
    assert not np.shares_memory(panel.est_mkt, panel.est_mkt_wide)
    assert _panel_nbytes(panel) - panel.mkt.nbytes == n * (per_event + 8 * (length + 4 * MARGIN))


def test_day_numbers_round_trip_and_keep_times() -> None:
    """Midnights (NaT, before 1970, far ahead) become int32 days and come back exact; a
    date with a time of day keeps datetime64[ns] (nothing rounded)."""
    from eventstudy.engine.panel import as_dates, day_numbers

    rng = np.random.default_rng(8)
    days = rng.integers(-20_000, 60_000, size=(40, 7))
    stamps = (days.astype("datetime64[D]").astype("datetime64[ns]"))
    stamps[rng.random(stamps.shape) < 0.2] = np.datetime64("NaT")
    held = day_numbers(stamps)
    assert held.dtype == np.int32
    np.testing.assert_array_equal(as_dates(held), stamps)
    timed = stamps.copy()
    timed[3, 2] = np.datetime64("2021-05-04T09:30:00", "ns")
    kept = day_numbers(timed)
    assert kept.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(as_dates(kept), timed)


def _days_by_pandas(dates: list[np.ndarray]) -> np.ndarray | None:
    """Days since 1970 of ``dates`` end to end by pandas; None if one is not a midnight."""
    stamps = pd.DatetimeIndex(np.concatenate(dates))
    if not (stamps == stamps.normalize()).all():
        return None
    return (stamps - pd.Timestamp("1970-01-01")).days.to_numpy().astype(np.int32)


def test_day_numbers_of_shared_dates() -> None:
    """Dates that are views of one array (the market's, as ``align_many`` gives them) get the
    day numbers of their concatenation, computed independently by pandas; so do strided views,
    copies, and views of an array with a time of day outside (or inside) the slices used."""
    from eventstudy.engine.panel import _day_numbers

    rng = np.random.default_rng(21)
    base = (np.arange(3000, dtype=np.int64) - 1000) * 86_400 * 10**9
    timed = base.copy()
    timed[2990] += 3_600 * 10**9  # 01:00 on one day past every slice below
    for whole in (base, timed):
        dates = whole.view("datetime64[ns]")
        spans = [(int(a), int(n)) for a, n in zip(rng.integers(0, 2500, 60),
                                                   rng.integers(1, 400, 60), strict=True)]
        shared = [dates[a:a + n] for a, n in spans]
        cases = [shared, [*shared[:30], dates[5:80].copy(), *shared[30:]],
                 [dates[a:a + 2 * n:2] for a, n in spans], [dates[10:2995]]]
        for views in cases:
            known: dict = {}
            got = _day_numbers(views, known)
            want = _days_by_pandas(views)
            if want is None:
                assert got is None
            else:
                assert got is not None and got.dtype == np.int32
                np.testing.assert_array_equal(got, want)
    assert _day_numbers([timed.view("datetime64[ns]")[10:2995]], {}) is None


def test_views_and_in_place_clean_estimation(tmp_path: Path) -> None:
    """A window view shares the panel's memory (no copy); ``clean_estimation(copy=False)``
    gives the numbers of the copying one, and the copying one leaves its input unchanged."""
    from eventstudy.engine.estimation import clean_estimation

    folder = tmp_path / "prices"
    folder.mkdir()
    frames = synthetic_folder(folder, seed=31)
    events = synthetic_events(frames, seed=6)
    loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
    load, panel = study(loader, "^SYNIDX", events)
    view = panel.window_view((-2, 5))
    for name in ("ret", "mkt", "vol", "dates", "est_ret", "est_dates"):
        assert np.shares_memory(view.held(name), panel.held(name)), name
    np.testing.assert_array_equal(view.dates, panel.dates[:, panel.column(-2):panel.column(5) + 1])
    before = panel.est_ret.copy()
    copied = clean_estimation(panel, events, load, (-5, 5))
    np.testing.assert_array_equal(panel.est_ret, before)
    assert (copied.events["estimation_excluded"] > 0).any()
    _, fresh = study(loader, "^SYNIDX", events)
    in_place = clean_estimation(fresh, events, load, (-5, 5), copy=False)
    assert in_place is fresh
    for name in ("est_ret", "est_vol", "est_mkt", "ret", "est_dates"):
        np.testing.assert_array_equal(getattr(in_place, name), getattr(copied, name))
    pd.testing.assert_frame_equal(in_place.events, copied.events)


def test_study_panel_keeps_wide_blocks_for_any_model() -> None:
    """Every study's panel carries the wide market blocks (a lead/lag model fitted later on a
    market-adjusted study's panel, tests/test_regressor_models.py, needs them), and its event
    block's market returns are a view of the wide block, not a second copy."""
    from eventstudy import event_study

    events = [make_event("0020.HK", "2022-06-30", tranche="cornerstone")]
    result = event_study([e for e in events if e is not None], offline=True)
    panel = result.ar.panel
    assert panel.mkt_wide is not None and panel.est_mkt_wide is not None
    assert np.shares_memory(panel.mkt, panel.mkt_wide)
    np.testing.assert_array_equal(panel.mkt, panel.market_shift(0, False))
    full = bool((panel.events["estimation_days"] + panel.events["estimation_excluded"]
                 == panel.est_ret.shape[1]).all())
    assert full and np.shares_memory(panel.est_mkt, panel.est_mkt_wide)  # no short window
    np.testing.assert_array_equal(panel.est_mkt, panel.market_shift(0, True))
