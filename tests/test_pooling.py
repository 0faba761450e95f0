"""Issue 25: the chunked study's pooled cross-event tests equal one pass over every event.

Each comparison runs the ordinary one-pass study (``event_study``) and ``chunked_study`` on the
same events and prices and compares the whole tests table and CAAR: values rel 1e-10, p-values
rel 1e-9 (``pytest.approx``, never an absolute tolerance), counts exactly; plus the per-event
tables. On synthetic prices (a seeded generator, ``synthetic_prices``) and on the real
190-stock HK panel (``data/panel/hk_panel_190.parquet``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.events import Event, make_event
from eventstudy.data.loader import PriceLoader
from eventstudy.engine.pooling import BlockSummary
from eventstudy.studies.chunked import blocks_of, chunked_study, study_block
from eventstudy.studies.lockup import event_study
from tests.helpers import MemoryLoader, hk190_events

MARKET = "^SYN"
ESTIMATION = (-250, -11)
WINDOW = (-10, 10)
CAR_WINDOWS = ((-10, 10), (-1, 1), (0, 0))


def synthetic_prices(n: int, seed: int = 0, rows: int = 420, short: float = 0.0,
                     second: float = 0.0) -> tuple[dict[str, pd.DataFrame], list[Event]]:
    """Seeded synthetic market-model prices on business days (not market data): ``n`` tickers
    with one -3% event each; a share ``short`` of them with a shorter estimation history and a
    few missing days, a share ``second`` with a second event 5 sessions later (a firm whose
    other event enters the windows) or on the same day (one firm-day, two tranches)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2000-01-03", periods=3000)
    mret = rng.normal(3e-4, 0.01, len(days))
    factor = rng.normal(0.0, 0.004, len(days))
    frames = {MARKET: pd.DataFrame({"close": 1000.0 * np.cumprod(1.0 + mret),
                                    "volume": np.exp(rng.normal(20, 0.3, len(days)))},
                                   index=pd.DatetimeIndex(days, name="date"))}
    events = []
    for i in range(n):
        start = int(rng.integers(0, len(days) - rows))
        idx = np.arange(start, start + rows)
        pos = 262
        if rng.random() < short:
            cut = int(rng.integers(60, 200))
            idx, pos = idx[cut:], pos - cut
        noise = rng.standard_t(5, len(idx)) * 0.012
        ret = 2e-4 + rng.uniform(0.5, 1.5) * mret[idx] + factor[idx] + noise
        ret[pos] -= 0.03
        frame = pd.DataFrame({"close": rng.uniform(5, 50) * np.cumprod(1.0 + ret),
                              "volume": np.exp(rng.normal(13.0, 0.6, len(idx)))},
                             index=pd.DatetimeIndex(days[idx], name="date"))
        if pos < 250:
            frame = frame.drop(frame.index[rng.integers(1, pos - 20, 3)])
        ticker = f"S{i:05d}"
        frames[ticker] = frame
        group = "ab"[i % 2]
        events.append(make_event(ticker, days[idx][pos], group=group))
        u = rng.random()
        if u < second / 2:
            events.append(make_event(ticker, days[idx][pos + 5], tranche="late", group=group))
        elif u < second:
            events.append(make_event(ticker, days[idx][pos], tranche="two", group="b"))
    return frames, [e for e in events if e is not None]


def _study(events: list[Event], loader: PriceLoader, chunk: int | None):
    kwargs = {"loader": loader, "market": MARKET, "window": WINDOW, "estimation": ESTIMATION,
              "car_windows": CAR_WINDOWS}
    if chunk is None:
        return event_study(events, **kwargs)
    return chunked_study(events, chunk_size=chunk, **kwargs)


P_COLUMNS = ("p_value", "p_holm", "p_bh")
VALUE_COLUMNS = ("estimate", "effect", "statistic")


def assert_same_tests(one: pd.DataFrame, pooled: pd.DataFrame) -> None:
    """Equal tests tables: identical keys and counts, values rel 1e-10, p-values rel 1e-9."""
    assert list(one.columns) == list(pooled.columns)
    assert len(one) == len(pooled)
    keys = ["group", "window", "start", "end", "test", "n", "merged", "reference", "valid"]
    pd.testing.assert_frame_equal(one[keys].reset_index(drop=True),
                                  pooled[keys].reset_index(drop=True))
    for col in (*VALUE_COLUMNS, *P_COLUMNS):
        a, b = one[col].to_numpy(float), pooled[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        ok = ~np.isnan(a)
        rel = 1e-9 if col in P_COLUMNS else 1e-10
        assert b[ok] == pytest.approx(a[ok], rel=rel, abs=0), col


def assert_same_result(one, pooled) -> None:  # noqa: ANN001
    assert_same_tests(one.tests, pooled.tests)
    pd.testing.assert_frame_equal(one.caar, pooled.caar, check_exact=False, rtol=1e-10)
    for name in ("car", "bhar", "volume", "events", "parameters"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(pooled, name), obj=name)
    assert pooled.tests["test"].nunique() == 11  # every test the study reports
    assert [n for n in pooled.notes if not n.startswith("studied in")] == list(one.notes)


@pytest.fixture(scope="module")
def synthetic_10k():
    frames, events = synthetic_prices(10_000, seed=7)
    loader = MemoryLoader(frames)
    return events, loader, _study(events, loader, None)


@pytest.mark.parametrize("chunk", [10_000, 3_001, 997])
def test_pooled_tests_equal_one_pass_at_10000_synthetic_events(synthetic_10k, chunk) -> None:
    events, loader, one = synthetic_10k
    assert one.tests["n"].max() == 10_000
    assert_same_result(one, _study(events, loader, chunk))


def test_pooled_tests_with_short_histories_missing_days_and_merged_firm_days() -> None:
    """Unequal estimation windows and missing days (KP's r-bar over pairwise-common days, blocks
    of different widths), second events of a firm and tranches on one firm-day, two groups."""
    frames, events = synthetic_prices(600, seed=3, short=0.4, second=0.3)
    loader = MemoryLoader(frames)
    one = _study(events, loader, None)
    assert one.tests["merged"].max() > 0 and set(one.tests["group"]) == {"all", "a", "b"}
    for chunk in (600, 128, 41):
        assert_same_result(one, _study(events, loader, chunk))


def test_blocks_keep_whole_tickers_in_input_order() -> None:
    frames, events = synthetic_prices(50, seed=1, second=0.5)
    blocks = blocks_of(events, 7)
    seen = [e for b in blocks for e in b]
    assert sorted(e.event_id for e in seen) == sorted(e.event_id for e in events)
    owner = {e.ticker: i for i, b in enumerate(blocks) for e in b}
    assert all(owner[e.ticker] == i for i, b in enumerate(blocks) for e in b)
    assert all(len(b) <= 8 for b in blocks)


def test_study_block_is_a_plain_function_of_picklable_inputs() -> None:
    import pickle

    frames, events = synthetic_prices(20, seed=2)
    from eventstudy.results.result import StudyOptions

    options = StudyOptions(market=MARKET, window=WINDOW, estimation=ESTIMATION,
                           car_windows=CAR_WINDOWS)
    block = pickle.loads(pickle.dumps(study_block))(events, options, MemoryLoader(frames))
    assert isinstance(block.summary, BlockSummary) and block.summary.n_events == 20
    assert len(pickle.dumps(block)) > 0


def test_pooled_tests_equal_one_pass_on_the_real_hk_panel() -> None:
    """190 real HK stocks against the bundled ^HSI, Yahoo's dirt included (placeholder rows,
    missing days, suspensions): the screens, the cleaning and KP's pairwise r-bar all run."""
    frames, events = hk190_events()
    loader = MemoryLoader(frames)
    kwargs = {"loader": loader, "market": "^HSI", "window": WINDOW, "estimation": ESTIMATION,
              "car_windows": CAR_WINDOWS}
    one = event_study(events, **kwargs)
    assert one.tests["n"].max() > 500
    for chunk in (1_000, 333):
        assert_same_result(one, chunked_study(events, chunk_size=chunk, **kwargs))


@pytest.mark.parametrize("market", ["ipo-index", "IPO_index", " ipo-index "])
def test_chunked_study_refuses_the_ipo_index_benchmark(market: str) -> None:
    """A block does not see every listing of the study, so the IPO index cannot be built per
    block: one clear error, not a benchmark made of one block's listings."""
    from eventstudy.errors import BadInput

    events = [make_event("0020.HK", "2022-06-30")]
    with pytest.raises(BadInput, match="IPO-index"):
        chunked_study(events, market=market, offline=True)
