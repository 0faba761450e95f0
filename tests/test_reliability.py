"""Bad input never crashes and never gives a silent NaN: a one-line error naming the problem (CLI:
exit 2 or 3, no traceback), or, in a batch, a reported skip while the other events are studied.

Named cases first, then property-based tests (hypothesis, bounded) that throw messy price tables at
``clean_prices``/``frame_from_table``, at a whole study through ``event_study(..., data=file)`` and
at the panel and model functions, then a small load test (a batch equals its events run singly).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli as run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy.calendar.events import Event, make_event, read_events
from eventstudy.calendar.listings import load_listings
from eventstudy.data.cache import PriceCache
from eventstudy.data.clean import clean_prices, frame_from_table
from eventstudy.data.files import bundled_source
from eventstudy.data.loader import PriceLoader
from eventstudy.engine.models import MODEL_NAMES, fit_model
from eventstudy.engine.panel import build_panel
from eventstudy.engine.series import align
from eventstudy.errors import BadInput, ConfigError, DataUnavailable, EventStudyError
from eventstudy.results.result import EventStudyResult
from eventstudy.studies.batch import batch_study
from eventstudy.studies.lockup import event_study

ROOT = Path(__file__).resolve().parent.parent
TICKER = "8888.HK"
BOUNDED = settings(max_examples=40, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])


@lru_cache(maxsize=1)
def hsi() -> pd.DataFrame:
    return bundled_source().load("^HSI")


def sessions() -> pd.DatetimeIndex:
    """Real ^HSI sessions 2012-2024: the dates a made-up stock trades on."""
    index = hsi().index
    return index[(index >= "2012-01-01") & (index < "2025-01-01")]




def one_line_error(code: int, err: str, expected_code: int, words: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, err
    assert words in lines[0], err


def prices_csv(path: Path, close: object, dates: object = None, volume: object = None,
               **columns: object) -> Path:
    """A plain date,close[,volume] file on real ^HSI sessions."""
    close = list(close)  # type: ignore[call-overload]
    days = sessions()[-len(close):] if dates is None else dates
    table = pd.DataFrame({"date": [str(d)[:10] for d in days], "close": close})  # type: ignore
    if volume is not None:
        table["volume"] = volume
    for name, values in columns.items():
        table[name] = values
    table.to_csv(path, index=False)
    return path


def walk(n: int, seed: int = 0, sigma: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 20.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))


def assert_no_silent_nan(result: EventStudyResult, asked: list[Event], json: bool = True
                         ) -> None:
    """Every event asked for is studied or skipped with a reason; a studied event has a finite
    AR(0), finite ARs on every day with data and finite CARs (with a positive, finite standard
    error) over every window whose days all have data."""
    studied = set(result.events["event_id"])
    skipped = set(result.skipped["event_id"])
    for event in asked:
        assert event.event_id in studied | skipped, event.event_id
    assert all(isinstance(r, str) and r.strip() for r in result.skipped["reason"])
    assert result.events["event_id"].is_unique
    assert np.isfinite(result.events["ar_0"].to_numpy(float)).all(), result.events["ar_0"]
    assert np.isfinite(result.events["t_0"].to_numpy(float)).all()
    ar = result.abnormal_returns
    has_data = ar["date"].notna()
    assert np.isfinite(ar.loc[has_data, "ar"].to_numpy(float)).all()
    days_with_data = ar[has_data].groupby("event_id")["day"].apply(set)
    for row in result.car.itertuples():
        if set(range(row.start, row.end + 1)) <= days_with_data[row.event_id]:
            assert np.isfinite(row.car) and np.isfinite(row.se) and row.se > 0, row
    if json:  # allow_nan=False: anything non-finite must be an explicit null
        result.to_json()


# --------------------------------------------------------------------------------------------
# Named bad price files: through the CLI, one line, exit 2 or 3


def _gap_rows(path: Path) -> Path:
    close = [f"{c:.4f}" for c in walk(300)]
    close[100:110] = ["null"] * 10
    return prices_csv(path, close)


BAD_FILES: dict[str, tuple[Callable[[Path], object], int, str]] = {
    "empty file": (lambda p: p.write_bytes(b""), 3, "empty file"),
    "header only": (lambda p: p.write_text("date,close,volume\n"), 3, "empty file"),
    "all NaN": (lambda p: prices_csv(p, ["null"] * 300), 3, "empty or all missing"),
    "duplicate dates": (lambda p: prices_csv(p, walk(300), dates=[
        *sessions()[-300:-150], sessions()[-151], *sessions()[-150:-1]]), 2, "duplicate date"),
    "unsorted dates": (lambda p: prices_csv(p, walk(300), dates=sessions()[-300:][::-1]),
                       2, "dates are not sorted ascending"),
    "zero price": (lambda p: prices_csv(p, [*walk(299), 0.0]), 2, "zero or negative price on"),
    "negative price": (lambda p: prices_csv(p, [*walk(150), -3.0, *walk(149)]), 2,
                       "zero or negative price on"),
    "infinite price": (lambda p: prices_csv(p, [*walk(299), "inf"]), 2, "infinite price"),
    "infinite return": (lambda p: prices_csv(p, [*walk(298), 1e-320, 5.0]), 2,
                        "non-finite return on"),
    "single row": (lambda p: prices_csv(p, [10.0]), 3, "share 1 dates"),
    "constant prices": (lambda p: prices_csv(p, [7.5] * 300, volume=[100] * 300), 2,
                        "constant returns in the estimation window"),
    "no close column": (lambda p: p.write_text("date,volume\n2024-01-02,5\n"), 2,
                        "no close column"),
    "close twice": (lambda p: p.write_text("date,Close,close\n2024-01-02,1,2\n"), 2,
                    "column 'close' appears twice"),
    "one column": (lambda p: p.write_text("date;close\n2024-01-02;1\n"), 2, "one column only"),
    "unreadable number": (lambda p: prices_csv(p, [*walk(150), "1,234.5", *walk(149)]), 2,
                          "unreadable price '1,234.5' on"),
    "missing date": (lambda p: p.write_text("date,close\n2024-01-02,1\n,2\n"), 2,
                     "missing or unreadable date"),
    "latin-1": (lambda p: p.write_bytes("date,close,note\n2024-01-02,1,Caf\xe9\n".encode(
        "latin-1")), 2, "not a UTF-8 text file"),
    "UTF-16": (lambda p: p.write_bytes("date,close\n2024-01-02,1\n".encode("utf-16")), 2,
               "not a UTF-8 text file"),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 4), 2, "not a UTF-8 text file"),
    "not a date": (lambda p: p.write_text("date,close\nyesterday,1\n"), 2, "unreadable date"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_price_file_is_one_line_and_an_exit_code(tmp_path: Path, case: str) -> None:
    make, expected, words = BAD_FILES[case]
    path = tmp_path / f"{TICKER}.csv"
    make(path)
    code, out, err = run("lockup", TICKER, "--offline", "--data", str(path), "--no-report")
    one_line_error(code, err, expected, words)
    assert out == ""


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_price_file_is_a_reported_skip_in_a_batch(tmp_path: Path, case: str) -> None:
    """The same files in a folder next to a good one: the good ticker is studied."""
    make, expected, words = BAD_FILES[case]
    make(tmp_path / f"{TICKER}.csv")
    bundled_source().load("0020.HK").to_csv(tmp_path / "0020.HK.csv")
    good = make_event("0020.HK", "2022-06-30")
    bad = Event(TICKER, sessions()[-30])
    result = event_study([bad, good], data=tmp_path, offline=True)
    assert list(result.events["event_id"]) == [good.event_id]
    [skip] = result.skipped.itertuples()
    assert skip.event_id == bad.event_id and words in skip.reason and skip.exit_code == expected
    assert_no_silent_nan(result, [bad, good])


# --------------------------------------------------------------------------------------------
# Awkward but valid price data: studied, with finite results


def test_nan_gaps_are_dropped_and_the_return_spans_the_gap(tmp_path: Path) -> None:
    path = _gap_rows(tmp_path / f"{TICKER}.csv")
    frame = PriceLoader(offline=True, data=path).load(TICKER)
    assert len(frame) == 290
    day = sessions()[-1]
    result = event_study([Event(TICKER, day)], data=path, offline=True)
    assert_no_silent_nan(result, [Event(TICKER, day)])


def test_timezone_aware_and_naive_dates_give_the_same_study(tmp_path: Path) -> None:
    close, days = walk(300, seed=3), sessions()[-300:]
    spellings = {"naive": [str(d.date()) for d in days],
                 "aware": [f"{d.date()}T00:00:00+08:00" for d in days],
                 "utc": [f"{(d - pd.Timedelta(hours=8)).isoformat()}Z" for d in days]}
    paths = []
    for name, stamps in spellings.items():  # the last is HK midnight written in UTC
        paths.append(tmp_path / f"{TICKER}_{name}.csv")
        pd.DataFrame({"Date": stamps, "Close": close}).to_csv(paths[-1], index=False)
    event = Event(TICKER, days[-25])
    results = [event_study([event], loader=PriceLoader(offline=True, data=p, data_ticker=TICKER))
               for p in paths]
    for result in results:
        assert_no_silent_nan(result, [event])
        assert result.events["day0"].iloc[0] == days[-25]
    for other in results[1:]:
        np.testing.assert_allclose(other.car["car"], results[0].car["car"], rtol=1e-12)


def test_timezone_aware_frame_keeps_local_dates() -> None:
    days = sessions()[-5:]
    for tz in ("Asia/Hong_Kong", "UTC", "America/New_York"):
        index = pd.DatetimeIndex(days).tz_localize("Asia/Hong_Kong").tz_convert(tz)
        frame = clean_prices(pd.DataFrame({"close": walk(5)}, index=index), TICKER, "t", "a")
        assert frame.index.tz is None and list(frame.index) == list(days)


def test_extra_columns_are_ignored_and_missing_volume_is_nan(tmp_path: Path) -> None:
    path = prices_csv(tmp_path / f"{TICKER}.csv", walk(300), note=["x"] * 300,
                      currency=["HKD"] * 300)
    frame = PriceLoader(offline=True, data=path).load(TICKER)
    assert list(frame.columns) == ["close", "volume"] and frame["volume"].isna().all()
    event = Event(TICKER, sessions()[-30])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy noise on the user's terminal
        result = event_study([event], data=path, offline=True)
    assert_no_silent_nan(result, [event])
    assert result.events["volume_ratio"].isna().all()  # n/a, not 0 or inf


@pytest.mark.parametrize("volume", [[0] * 300, [0] * 280 + [1000] * 20, [500] * 300],
                         ids=["all zero", "zero before the event", "constant"])
def test_a_volume_of_zeros_gives_finite_returns_and_no_infinite_volume_statistics(
        tmp_path: Path, volume: list[int]) -> None:
    path = prices_csv(tmp_path / f"{TICKER}.csv", walk(300), volume=volume)
    event = Event(TICKER, sessions()[-30])
    result = event_study([event], data=path, offline=True)
    assert_no_silent_nan(result, [event])
    for column in ("volume_ratio", "abnormal_log_volume", "t"):
        values = result.volume[column].to_numpy(float)
        assert not np.isinf(values).any(), column  # a ratio against no volume is n/a
    assert not np.isinf(result.events["volume_ratio"].to_numpy(float)).any()


def test_a_market_series_that_does_not_overlap_the_stock(tmp_path: Path) -> None:
    old = sessions()[:300]
    prices_csv(tmp_path / f"{TICKER}.csv", walk(300), dates=sessions()[-300:])
    prices_csv(tmp_path / "^HSI.csv", walk(300, seed=1), dates=old)
    code, _, err = run("lockup", TICKER, "--offline", "--data", str(tmp_path), "--no-report")
    one_line_error(code, err, 3, "do not overlap")


@pytest.mark.parametrize("market", [[18000.0] * 300, list(18000.0 * 1.001 ** np.arange(300))],
                         ids=["flat", "a constant +0.1% a day"])
@pytest.mark.parametrize("model", ["market", "dimson", "scholes_williams"])
def test_a_constant_market_is_named_and_other_models_still_work(
        tmp_path: Path, market: list[float], model: str) -> None:
    """A constant market return (zero, or +0.1% a day: var ~ 1e-30 by rounding, not 0) makes
    X'X singular: named, exit 2, never a beta of -5e12."""
    prices_csv(tmp_path / f"{TICKER}.csv", walk(300))
    prices_csv(tmp_path / "^HSI.csv", market)
    event = Event(TICKER, sessions()[-30])
    with pytest.raises(BadInput, match="constant market returns in the estimation window"):
        event_study([event], data=tmp_path, offline=True, model=model)
    first = pd.read_csv(tmp_path / f"{TICKER}.csv").iloc[0, 0]  # where ^HSI starts too: give it
    code, _, err = run("lockup", TICKER, "--offline", "--data", str(tmp_path), "--no-report",
                       "--model", model, "--listing-date", str(first)[:10])
    one_line_error(code, err, 2, "constant market returns")
    for model in ("constant_mean", "market_adjusted"):
        assert_no_silent_nan(event_study([event], data=tmp_path, offline=True, model=model),
                             [event])


def test_an_absurd_price_in_the_estimation_window_is_named(tmp_path: Path) -> None:
    path = prices_csv(tmp_path / f"{TICKER}.csv", [*walk(150), 1e300, *walk(149)])
    with pytest.raises(BadInput, match=r"suspect return in the estimation or event window: "
                                       r"one-day x\S+e\+298 that reverses"):  # issue 21
        event_study([Event(TICKER, sessions()[-30])], data=path, offline=True)


def test_a_five_digit_hong_kong_code(tmp_path: Path) -> None:
    path = prices_csv(tmp_path / "09868.HK.csv", walk(300))  # leading zero: 9868.HK
    event = make_event("09868.hk", sessions()[-30])
    assert event is not None and event.ticker == "9868.HK"
    result = event_study([event], data=path, offline=True)
    assert_no_silent_nan(result, [event])
    five = prices_csv(tmp_path / "12345.HK.csv", walk(300))
    event = make_event("12345.HK", sessions()[-30])
    assert event is not None and event.ticker == "12345.HK"
    assert_no_silent_nan(event_study([event], data=five, offline=True), [event])
    one_line_error(*run("lockup", "12345.HK", "--offline", "--no-report")[::2], 3,
                   "no bundled data for 12345.HK")
    one_line_error(*run("lockup", "123456.HK", "--offline", "--no-report")[::2], 2,
                   "not a Hong Kong stock code")


# --------------------------------------------------------------------------------------------
# Events: bad ones are reported skips, the others are studied


def test_bad_events_are_skipped_with_reasons_and_the_rest_studied() -> None:
    good = make_event("0020.HK", "2022-06-30")
    overlapping = make_event("0020.HK", "2022-07-05")  # same firm, windows overlap
    assert good is not None and overlapping is not None
    holiday = Event("0020.HK", pd.Timestamp("2022-07-01"))  # HKSAR day: no session
    asked = [
        Event("0020.HK", pd.Timestamp("2021-06-30")),  # before the listing (and the data)
        Event("0020.HK", pd.Timestamp("2022-01-04")),  # listed days ago: no estimation window
        Event("0020.HK", pd.Timestamp("2026-06-30")),  # after the data
        holiday,
        good,
        make_event("0020.HK", "2022-06-30"),  # the same event twice
        overlapping,
        Event("9999.HK", pd.Timestamp("2022-06-30")),  # no data at all
    ]
    result = event_study(asked, offline=True)  # type: ignore[arg-type]
    assert list(result.events["event_id"]) == [good.event_id, overlapping.event_id]
    text = "\n".join(f"{r.event_id}: {r.reason}" for r in result.skipped.itertuples())
    for words in ("event day 0 2021-06-30 is before the data (0020.HK starts 2021-12-30)",
                  "the event window of 0020.HK:event:2022-01-04 (from day -20) starts before",
                  "event day 0 2026-06-30 is after the data",
                  "has no price on event day 0 2022-07-01",
                  "duplicate event", "no bundled data for 9999.HK"):
        assert words in text, text
    assert len(result.skipped) == 6
    assert_no_silent_nan(result, asked)  # type: ignore[arg-type]


def test_holiday_event_dates_follow_the_policy(tmp_path: Path) -> None:
    moved = make_event("0020.HK", "2022-07-01")
    assert moved is not None and moved.session == pd.Timestamp("2022-07-04")
    back = make_event("0020.HK", "2022-07-01", policy="previous")
    assert back is not None and back.session == pd.Timestamp("2022-06-30")
    assert make_event("0020.HK", "2022-07-01", policy="skip") is None
    path = tmp_path / "events.csv"
    path.write_text("ticker,date\n0020.HK,2022-07-01\n0020.HK,2022-06-30\n")
    events, skips = read_events(path, "skip")
    assert [e.session for e in events] == [pd.Timestamp("2022-06-30")]
    assert [s.reason for s in skips] == ["event date is not a session (policy: skip)"]


def test_an_event_date_outside_the_exchange_calendar_is_bad_input() -> None:
    with pytest.raises(BadInput, match="outside the XHKG calendar"):
        make_event("0020.HK", "2099-01-02")


def test_a_batch_with_only_bad_events_is_one_error_with_the_first_reason() -> None:
    asked = [Event("0020.HK", pd.Timestamp("2026-06-30")),
             Event("0020.HK", pd.Timestamp("2021-06-30"))]
    with pytest.raises(DataUnavailable, match=r"after the data .* \(and 1 more skipped\)"):
        event_study(asked, offline=True)


# --------------------------------------------------------------------------------------------
# Malformed configuration files and CLI options


EVENT_FILES: dict[str, tuple[str, bytes, str]] = {
    "yaml syntax": ("e.yaml", b"events:\n  - ticker: [0020.HK\n", "not valid YAML at line"),
    "yaml not a list": ("e.yaml", b"events: {ticker: 0020.HK}\n", "expected a list of events"),
    "csv no date": ("e.csv", b"ticker,when\n0020.HK,2022-06-30\n", "missing column 'date'"),
    "csv semicolons": ("e.csv", b"ticker;date\n0020.HK;2022-06-30\n", "missing column 'date'"),
    "csv bad date": ("e.csv", b"ticker,date\n0020.HK,30/13/2022\n", "row 2: not a"),
    "csv bad ticker": ("e.csv", b"ticker,date\n$$,2022-06-30\n", "row 2: not a ticker"),
    "csv empty": ("e.csv", b"", "no events (empty file)"),
    "csv header only": ("e.csv", b"ticker,date\n", "no events"),
    "csv latin-1": ("e.csv", "ticker,date,group\n0020.HK,2022-06-30,Caf\xe9\n".encode("latin-1"),
                    "not a UTF-8 text file"),
    "csv UTF-16": ("e.csv", "ticker,date\n0020.HK,2022-06-30\n".encode("utf-16"),
                   "not a UTF-8 text file"),
}


@pytest.mark.parametrize("case", sorted(EVENT_FILES))
def test_malformed_events_file(tmp_path: Path, case: str) -> None:
    name, body, words = EVENT_FILES[case]
    path = tmp_path / name
    path.write_bytes(body)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_events(path)
    code, _, err = run("batch", str(path), "--offline", "--no-report")
    one_line_error(code, err, 2, words)


LISTINGS_FILES: dict[str, str] = {
    "yaml syntax": "listings:\n  - ticker: [0020.HK\n",
    "unknown key": "listings:\n  - ticker: 0020.HK\n    listing_date: 2021-12-30\n    x: 1\n",
    "bad date": "listings:\n  - ticker: 0020.HK\n    listing_date: someday\n",
    "not a mapping": "- just\n- a list\n",
}


@pytest.mark.parametrize("case", sorted(LISTINGS_FILES))
def test_malformed_listings_file(tmp_path: Path, case: str) -> None:
    path = tmp_path / "listings.yaml"
    path.write_text(LISTINGS_FILES[case])
    with pytest.raises(ConfigError) as info:
        load_listings(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    code, _, err = run("lockup", "0020.HK", "--offline", "--no-report", "--listings", str(path))
    one_line_error(code, err, 2, str(path))


@pytest.mark.parametrize(("args", "expected", "words"), [
    (["lockup", "0020.HK", "--bogus"], 2, "No such option '--bogus'"),
    (["frobnicate"], 2, "No such command 'frobnicate'"),
    (["lockup"], 2, "Missing argument"),
    (["lockup", "0020.HK", "--min-estimation", "1"], 2, "Invalid value for '--min-estimation'"),
    (["lockup", "0020.HK", "--min-estimation", "many"], 2, "Invalid value for '--min-estimation'"),
    (["batch", "--holiday", "sometimes"], 2, "Invalid value for '--holiday'"),
    (["lockup", "0020.HK", "--window", "1,2,3"], 2, "bad window '1,2,3'"),
    (["lockup", "0020.HK", "--window", "20,-10"], 2, "it ends before it starts"),
    (["lockup", "0020.HK", "--car-windows", "0,x"], 2, "bad CAR window '0,x'"),
    (["lockup", "0020.HK", "--estimation", "-5"], 2, "bad estimation window '-5'"),
    (["lockup", "0020.HK", "--market", "$$"], 2, "not a ticker: '$$'"),
    (["lockup", "0020.HK", "--data", "no/such/file.csv"], 3, "no such file"),
    (["lockup", "0020.HK", "--listings", "no/such.yaml"], 2, "no such listings file"),
    (["batch", "no/such/events.csv"], 2, "no such events file"),
    (["fetch", "0020.HK", "--cache-dir", "/proc/no/such/dir"], 2, "cannot write the cache"),
])
def test_bad_cli_options_and_values(args: list[str], expected: int, words: str) -> None:
    code, out, err = run(*args, "--offline", *(["--no-report"] if args[0] != "fetch" else []))
    assert code == expected, err
    assert words in err and "Traceback" not in err
    assert out == ""


# --------------------------------------------------------------------------------------------
# Property-based: messy price tables


MUTATIONS = ("nan", "null", "dup", "swap", "zero", "neg", "inf", "tiny", "huge", "flat",
             "garbage", "blank date")


@st.composite
def messy_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    """A price table as a user's CSV might hold it, plus the session dates it was built on."""
    days = sessions()
    n = draw(st.integers(0, 330))
    start = draw(st.integers(0, len(days) - 331))
    seed = draw(st.integers(0, 2**32 - 1))
    sigma = draw(st.sampled_from([0.0, 1e-12, 0.02, 0.4]))
    dates = list(days[start:start + n])
    close: list[object] = [f"{c:.6g}" for c in walk(n, seed, sigma)]
    volume: list[object] = [str(v) for v in np.random.default_rng(seed).integers(0, 10**6, n)]
    for kind, where in draw(st.lists(st.tuples(st.sampled_from(MUTATIONS),
                                               st.floats(0, 1, exclude_max=True)), max_size=4)):
        if not close:
            break
        i = int(where * len(close))
        if kind in ("nan", "null"):
            close[i] = "" if kind == "nan" else "null"
        elif kind == "dup":
            dates.insert(i, dates[i])
            close.insert(i, close[i])
            volume.insert(i, volume[i])
        elif kind == "swap" and i + 1 < len(dates):
            dates[i], dates[i + 1] = dates[i + 1], dates[i]
        elif kind in ("zero", "neg", "inf", "tiny", "huge", "garbage"):
            close[i] = {"zero": "0", "neg": "-1.5", "inf": "inf", "tiny": "1e-320",
                        "huge": "1e300", "garbage": "n.a."}[kind]
        elif kind == "flat":
            close[i:] = [close[i]] * (len(close) - i)
        elif kind == "blank date":
            dates[i] = None  # type: ignore[call-overload]
    zone = draw(st.sampled_from(["naive", "+08:00", "Z"]))
    text = [None if d is None else
            str(d.date()) if zone == "naive" else
            f"{d.date()}T00:00:00+08:00" if zone == "+08:00" else
            f"{(d - pd.Timedelta(hours=8)).isoformat()}Z" for d in dates]
    table = pd.DataFrame({"Date": text, "Close": close})
    shape = draw(st.sampled_from(["close+volume", "close", "zero volume", "extra", "adj close"]))
    if shape in ("close+volume", "extra", "adj close"):
        table["Volume"] = volume
    if shape == "zero volume":
        table["Volume"] = "0"
    if shape == "extra":
        table["Note"] = "x"
    if shape == "adj close":
        table["Adj Close"] = table["Close"]
        table["Close"] = "999"
    return table, list(days[start:start + n])


@BOUNDED
@given(messy=messy_tables())
def test_messy_tables_clean_or_fail_with_one_line(messy: tuple[pd.DataFrame, list]) -> None:
    table, _ = messy
    try:
        frame = frame_from_table(table, TICKER, where="generated")
    except EventStudyError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is None
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    close = frame["close"].to_numpy(float)
    assert np.isfinite(close).all() and (close > 0).all()
    given_close = table["Adj Close" if "Adj Close" in table else "Close"]
    present = ~given_close.isin(["", "null"])
    assert len(frame) == int(present.sum())  # no row with a price was silently dropped
    dates = pd.to_datetime(table.loc[present, "Date"], utc=True, format="mixed")
    local = dates.dt.tz_convert("Asia/Hong_Kong").dt.tz_localize(None).dt.normalize()
    assert list(frame.index) == list(local)  # local session dates, not the UTC day before


@BOUNDED
@given(messy=messy_tables(), picks=st.lists(st.one_of(
    st.floats(0, 1, exclude_max=True), st.integers(-400, 400)), min_size=1, max_size=4))
def test_messy_tables_never_crash_a_study_or_give_silent_nans(
        messy: tuple[pd.DataFrame, list], picks: list[float | int]) -> None:
    table, days = messy
    all_days = sessions()
    events = []
    for pick in picks:  # a day of the data, or any session near it (before, after, a gap)
        if isinstance(pick, float) and days:
            day = days[int(pick * len(days))]
        else:
            anchor = all_days.get_loc(days[0]) if days else len(all_days) // 2
            day = all_days[int(np.clip(anchor + int(pick), 0, len(all_days) - 1))]
        events.append(Event(TICKER, pd.Timestamp(day)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{TICKER}.csv"
        table.to_csv(path, index=False)
        cache = PriceCache(Path(folder) / "cache")
        cache.write(hsi())
        loader = PriceLoader(offline=True, data=path, cache_dir=cache.root)
        try:
            result = event_study(events, loader=loader)
        except EventStudyError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        assert_no_silent_nan(result, events)


def _stock(close: np.ndarray, days: pd.DatetimeIndex, ticker: str = TICKER) -> pd.DataFrame:
    frame = pd.DataFrame({"close": close, "volume": np.ones(len(close))}, index=days)
    return clean_prices(frame, ticker, "generated", "none")


@BOUNDED
@given(n=st.integers(2, 320), seed=st.integers(0, 2**32 - 1),
       flat_stock=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1)),
       flat_market=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1)),
       gaps=st.floats(0, 0.5), sigma=st.sampled_from([0.0, 1e-10, 0.02, 0.3]),
       model=st.sampled_from(sorted(set(MODEL_NAMES) - {"factors"})),
       min_estimation=st.integers(3, 120),
       day0=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5))
def test_panel_and_models_give_a_finite_fit_or_a_reason(
        n: int, seed: int, flat_stock: tuple[float, float], flat_market: tuple[float, float],
        gaps: float, sigma: float, model: str, min_estimation: int, day0: list[float]) -> None:
    rng = np.random.default_rng(seed)
    days = sessions()[-n:]
    stock, market = walk(n, seed, sigma), walk(n, seed + 1, 0.01)
    for series, (a, b) in ((stock, flat_stock), (market, flat_market)):
        lo, hi = sorted((int(a * n), int(b * n)))
        series[lo:hi] = series[min(lo, n - 1)]  # a flat stretch: constant returns
    keep = rng.random(n) >= gaps  # suspensions: the stock misses days the market has
    keep[0] = True
    try:
        aligned = align(_stock(stock[keep], days[keep]), _stock(market, days, "^HSI"))
    except EventStudyError:
        return
    events = [Event(TICKER, pd.Timestamp(aligned.dates[int(f * len(aligned.dates))]))
              for f in day0]
    panel = build_panel(events, lambda _: aligned, window=(-5, 5), estimation=(-150, -6))
    assert len(panel.skipped) + panel.n_events == len(events)
    ar = fit_model(panel, model, min_estimation=min_estimation)
    for row in range(panel.n_events):
        if row in ar.problems:
            assert ar.problems[row]
            continue
        assert np.isfinite(ar.sigma2[row]) and ar.sigma2[row] > 0
        assert np.isfinite([ar.alpha[row], ar.beta[row]]).all()
        has = ~np.isnat(panel.dates[row])
        if model == "dimson":  # no lag on the first day, no lead on the last day with data
            has[np.flatnonzero(has)[[0, -1]]] = False
        assert np.isfinite(ar.ar[row, has]).all()
        assert np.isfinite(ar.ar_var[row, has]).all() and (ar.ar_var[row, has] > 0).all()
        car, var = ar.car((-1, 1))
        if has[4:7].all():
            assert np.isfinite(car[row]) and np.isfinite(var[row]) and var[row] > 0


# --------------------------------------------------------------------------------------------
# Load: a batch gives the same numbers as its events one by one


BUNDLED_TICKERS = ("0020.HK", "0700.HK", "1024.HK", "2432.HK", "2533.HK", "3690.HK", "6682.HK",
                   "9660.HK", "9880.HK", "9988.HK")


def random_events(count: int, seed: int) -> list[Event]:
    """``count`` events on random real sessions of the bundled tickers (seeded)."""
    rng = np.random.default_rng(seed)
    frames = {t: bundled_source().load(t) for t in BUNDLED_TICKERS}
    events: dict[str, Event] = {}
    while len(events) < count:
        ticker = BUNDLED_TICKERS[int(rng.integers(len(BUNDLED_TICKERS)))]
        index = frames[ticker].index
        day = index[int(rng.integers(len(index)))]
        event = Event(ticker, pd.Timestamp(day))
        events[event.event_id] = event
    return list(events.values())


def test_a_batch_of_300_matches_20_events_run_singly() -> None:
    """benchmarks/bench_load.py does the same with 2,000 events and 50 singles."""
    events = random_events(300, seed=2024)
    loader = PriceLoader(offline=True)
    # the same engine: events run alone have no other event of their firm to leave out
    batch = batch_study(events, loader=loader, keep_other_events=True)
    assert batch.n_events + len(batch.skipped) == 300
    assert batch.n_events > 200
    assert_no_silent_nan(batch, events, json=False)  # to_json: ~15 ms per event, elsewhere
    rng = np.random.default_rng(7)
    sample = rng.choice(batch.events["event_id"].to_numpy(), size=20, replace=False)
    by_id = {e.event_id: e for e in events}
    for event_id in sample:
        single = event_study([by_id[event_id]], loader=loader)
        assert single.events["event_id"].tolist() == [event_id]
        assert single.events["ar_0"].iloc[0] == pytest.approx(
            batch.events.set_index("event_id").loc[event_id, "ar_0"], abs=1e-12, rel=0)
        mine = batch.car[batch.car.event_id == event_id].set_index("window")
        alone = single.car.set_index("window")
        np.testing.assert_allclose(alone["car"], mine["car"], atol=1e-12, rtol=0)
        np.testing.assert_allclose(alone["se"], mine["se"], atol=1e-12, rtol=0)
