"""The fast paths of issue 12 give the same numbers as the straightforward ones they replace.

* ``engine.series.align`` (binary search of int64 dates) against a pandas inner join written
  here, on the real bundled prices and on stocks with suspensions;
* ``engine.panel.build_panel`` (one vectorised gather) against a per-event slice copy written
  here, on every lock-up of the bundled calendar;
* ``data.clean.plain_frame`` (the numpy path of a plain CSV) against ``frame_from_table`` (the
  cell-by-cell path), on generated tables: equal frames, or None when the table is not plain;
* Holm and Benjamini-Hochberg against statsmodels' ``multipletests``;
* the Kolari-Pynnonen r-bar by sets of estimation days against the n x n pairwise matrices;
* ``formatting.json_text`` against ``json.dumps(indent=...)`` (the same text) and the
  column-wise JSON records against cell-by-cell ``finite_or_none``.
No test here measures time."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy.calendar.listings import load_listings
from eventstudy.data.clean import drop_placeholder_rows, frame_from_table, plain_frame
from eventstudy.data.files import _read_csv
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import market_for
from eventstudy.engine.crosssection import bh, holm
from eventstudy.engine.panel import build_panel
from eventstudy.engine.prepare import event_time_z
from eventstudy.engine.rbar import _rbar_by_day_sets, _rbar_pairwise
from eventstudy.engine.series import align
from eventstudy.formatting import finite_or_none, json_text
from eventstudy.results.serialize import _records
from eventstudy.studies.batch import listing_events

BUNDLED = ("0020.HK", "0700.HK", "1024.HK", "2432.HK", "9988.HK", "9660.HK", "6682.HK")


def joined(stock: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """The old way: placeholder rows dropped, a pandas inner join, returns by pct_change."""
    stock = drop_placeholder_rows(stock)[0]
    joint = stock[["close", "volume"]].join(market["close"].rename("mclose"), how="inner")
    joint["ret"] = joint["close"].pct_change()
    joint["mkt"] = joint["mclose"].pct_change()
    return joint


@pytest.fixture(scope="module")
def loader() -> PriceLoader:
    return PriceLoader(offline=True)


@pytest.mark.parametrize("ticker", BUNDLED)
def test_align_equals_a_pandas_join_on_real_prices(loader: PriceLoader, ticker: str) -> None:
    stock, market = loader.load(ticker), loader.load(market_for(ticker))
    rng = np.random.default_rng(7)
    holed = stock[rng.random(len(stock)) > 0.1]  # suspensions: days the market has
    for frame in (stock, holed):
        got, want = align(frame, market), joined(frame, market)
        assert (got.dates == want.index.to_numpy("datetime64[ns]")).all()
        np.testing.assert_array_equal(got.close, want["close"].to_numpy())
        np.testing.assert_array_equal(got.vol, want["volume"].to_numpy())
        np.testing.assert_allclose(got.ret, want["ret"].to_numpy(), rtol=1e-15, atol=0)
        np.testing.assert_allclose(got.mkt, want["mkt"].to_numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("chunk", [3, 1 << 18])
def test_panel_gather_equals_per_event_slices(loader: PriceLoader, chunk: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventstudy.engine.panel.CHUNK_ROWS", chunk)  # 3: an event a chunk
    events, _ = listing_events(load_listings())
    series = {}

    def load(ticker: str):  # noqa: ANN202
        if ticker not in series:
            series[ticker] = align(loader.load(ticker), loader.load(market_for(ticker)))
        return series[ticker]

    panel = build_panel(events, load, window=(-10, 20), estimation=(-260, -11),
                        max_estimation=250)
    assert panel.n_events > 10
    length = panel.est_ret.shape[1]
    for i, (event_id, row) in enumerate(panel.events.iterrows()):
        s = series[row["ticker"]]
        day0 = int(np.searchsorted(s.dates, np.datetime64(row["day0"], "ns")))
        lo, hi = day0 - 10, min(day0 + 21, len(s.dates))
        np.testing.assert_array_equal(panel.ret[i, :hi - lo], s.ret[lo:hi], err_msg=event_id)
        assert np.isnan(panel.ret[i, hi - lo:]).all()
        start = int(np.searchsorted(s.dates, np.datetime64(row["estimation_start"], "ns")))
        end = int(np.searchsorted(s.dates, np.datetime64(row["estimation_end"], "ns")))
        n = end - start + 1
        assert n == row["estimation_days"]
        np.testing.assert_array_equal(panel.est_mkt[i, length - n:], s.mkt[start:end + 1])
        np.testing.assert_array_equal(panel.est_vol[i, length - n:], s.vol[start:end + 1])
        assert np.isnan(panel.est_ret[i, :length - n]).all()
        assert (panel.est_dates[i, length - n:] == s.dates[start:end + 1]).all()


CELLS = st.one_of(st.floats(0.01, 1e6, allow_nan=False).map(repr), st.integers(0, 10**9).map(str),
                  st.sampled_from(["", "null", "NaN", "-", "n/a", "1,000", "abc", "-5", "0",
                                   "inf", " 7.5", "True"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(1, 12), start=st.integers(0, 5000), step=st.sampled_from([1, 1, 2, -1]),
       extra=st.sampled_from([(), ("volume",), ("open", "volume"), ("Volume",), ("adj close",)]),
       header=st.sampled_from(["date", "Date", "DATE ", "day"]), data=st.data())
def test_plain_frame_equals_the_cell_by_cell_path(rows: int, start: int, step: int,
                                                  extra: tuple[str, ...], header: str,
                                                  data: st.DataObject) -> None:
    days = pd.Timestamp("2000-01-03") + pd.to_timedelta(start + step * np.arange(rows), "D")
    columns = {header: [str(d.date()) for d in days]}
    for name in ("close", *extra):
        columns[name] = [data.draw(CELLS) if data.draw(st.booleans()) else
                         repr(float(data.draw(st.integers(1, 999)))) for _ in range(rows)]
    text = pd.DataFrame(columns).to_csv(index=False)
    path = io.StringIO(text)
    fast_table = pd.read_csv(io.StringIO(text), dtype={header: str}, keep_default_na=False,
                             na_values={n: _na() for n in list(columns)[1:]})
    strict_table = pd.read_csv(path, dtype=str, keep_default_na=False)
    fast = plain_frame(fast_table, "X", "generated")
    try:
        strict = frame_from_table(strict_table, "X", where="generated")
    except Exception as exc:  # noqa: BLE001 - the strict path names the problem
        assert fast is None, f"fast path accepted what the strict path rejects: {exc}"
        return
    if fast is not None:
        pd.testing.assert_frame_equal(fast, strict, check_exact=True, check_freq=False)
        assert fast.attrs == strict.attrs


def _na() -> list[str]:
    from eventstudy.data.files import NA_CELLS

    return NA_CELLS


def test_read_csv_keeps_the_date_column_as_text(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "X.csv"
    path.write_text("date,close\n20200102,1.5\n20200103,null\n", encoding="utf-8")
    table = _read_csv(path)
    assert table["date"].tolist() == ["20200102", "20200103"]
    assert np.isnan(table["close"].iloc[1])


@pytest.mark.parametrize("m", [1, 2, 7, 300])
def test_holm_and_bh_equal_statsmodels(m: int) -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(m)
    p = np.round(rng.random(m) ** 2, 2)  # ties included
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-15)
    np.testing.assert_allclose(bh(p), multipletests(p, method="fdr_bh")[1], rtol=1e-15)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=False, allow_infinity=False),
                         st.text(alphabet=st.sampled_from('ab{}[],:"\\\x00\x01\n é'), max_size=6))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES, indent=st.sampled_from([1, 2, 4]))
def test_json_text_equals_json_dumps_with_indent(value: object, indent: int) -> None:
    assert json_text(value, indent) == json.dumps(value, indent=indent, allow_nan=False)


def test_json_text_refuses_what_json_refuses() -> None:
    for bad in ({"x": float("nan")}, [[float("inf")]], {"a": [{"b": object()}]}):
        with pytest.raises((ValueError, TypeError)):
            json_text(bad)


def test_records_equal_cell_by_cell_cleaning() -> None:
    frame = pd.DataFrame({
        "f": [1.5, np.nan, np.inf, -0.0], "i": np.arange(4), "b": [True, False, True, False],
        "d": pd.to_datetime(["2022-06-30", None, "1969-12-31", "2100-01-01"]),
        "s": ["a", None, "c", "d"], "o": [1, "x", None, pd.Timestamp("2020-01-02")]})
    want = [{k: finite_or_none(v) for k, v in zip(frame.columns, row, strict=True)}
            for row in frame.itertuples(index=False)]
    assert _records(frame, list(frame.columns)) == want


@pytest.mark.parametrize("seed", range(12))
def test_kp_rbar_by_day_sets_equals_the_pairwise_matrices(seed: int) -> None:
    """Unequal estimation windows (right-aligned, different lengths), interior gaps and
    near-constant stretches: the O(G n L) grouping gives the n x n pairwise r-bar."""
    rng = np.random.default_rng(seed)
    n, days = int(rng.integers(2, 80)), int(rng.integers(3, 60))
    x = rng.standard_normal((n, days)) + rng.standard_normal(days) * rng.random()
    for i, k in enumerate(rng.integers(1, days + 1, n)):
        x[i, :days - k] = np.nan
    if seed % 3 == 0:
        x[rng.random((n, days)) < 0.05] = np.nan
    if seed % 4 == 0:
        x[0, -5:] = 1.0
    z, ok = event_time_z(x)
    grouped, pairwise = _rbar_by_day_sets(z, ok), _rbar_pairwise(z, ok)
    assert grouped is not None
    np.testing.assert_allclose(grouped, pairwise, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_kp_rbar_blocked_pairs_equal_a_pearson_loop(seed: int, monkeypatch) -> None:
    """More day sets than MAX_DAY_SETS (every event its own holes): r-bar from blocks of rows
    (bounded memory) equals the mean of scipy's Pearson r over every pair's common days."""
    from scipy import stats

    from eventstudy.engine import rbar

    monkeypatch.setattr(rbar, "MAX_DAY_SETS", 1)
    monkeypatch.setattr(rbar, "PAIR_BLOCK", 50)  # a few rows per block
    rng = np.random.default_rng(100 + seed)
    n, days = int(rng.integers(5, 40)), int(rng.integers(8, 40))
    x = rng.standard_normal((n, days)) + rng.standard_normal(days) * rng.random()
    x[rng.random((n, days)) < 0.2] = np.nan
    z, ok = event_time_z(x)
    total, pairs = 0.0, 0
    for i in range(n):
        for j in range(n):
            both = ~np.isnan(x[i]) & ~np.isnan(x[j])
            if i != j and both.sum() >= 2:
                total += stats.pearsonr(x[i][both], x[j][both]).statistic
                pairs += 1
    assert float(rbar.kp_rbar(z, ok)) == pytest.approx(total / pairs, rel=1e-10, abs=0)
    np.testing.assert_allclose(rbar.kp_rbar(z, ok), _rbar_pairwise(z, ok), rtol=1e-12)
