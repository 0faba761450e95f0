"""A folder of price files read at once (``FolderSource.read_many``: pyarrow's CSV reader for the
plain layout, the pandas path for anything else) gives the frames ``load`` gives, bit for bit,
on real data; the folder's columnar cache is used while the files are unchanged, rebuilt when
one changes, is added or removed, ignored when corrupt, and never written into the folder."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.data import files as files_module
from eventstudy.data import foldercache
from eventstudy.data.files import FolderSource
from eventstudy.data.foldercache import FolderCache
from eventstudy.data.loader import PriceLoader
from eventstudy.errors import BadInput, DataUnavailable

HERE = Path(__file__).resolve().parent
# Real Yahoo files, dirt included: the bundled HK stocks and the hk190 panel's copies in
# tests/data/quality (provenance in data/PROVENANCE.md and tests/data/quality/PROVENANCE.md).
REAL = sorted([*(HERE.parent / "data" / "prices").glob("*.HK.csv"),
               *(HERE / "data" / "quality").glob("*.HK.csv")], key=lambda p: p.name)
OLD = time.time() - 3600  # an mtime older than the cache's "racy" margin


def plain_copy(raw: Path, out: Path, columns: tuple[str, ...] | None = None) -> None:
    """A real yfinance CSV as the plain layout, with its cells' text unchanged: the 3-row
    header becomes ``date,close,high,low,open,volume`` and incomplete rows are left out."""
    lines = raw.read_text().splitlines()
    header = ["date", *(c.lower() for c in lines[0].split(",")[1:])]
    keep = [i for i, c in enumerate(header) if columns is None or c in ("date", *columns)]
    rows = [",".join(header[i] for i in keep)]
    for line in lines[3:]:
        cells = line.split(",")
        if len(cells) == len(header) and all(c and c != "null" for c in cells):
            rows.append(",".join(cells[i] for i in keep))
    out.write_text("\n".join(rows) + "\n")
    os.utime(out, (OLD, OLD))


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files a test writes are cached at once (the racy margin, 2 s, is tested below)."""
    monkeypatch.setattr(foldercache, "RACY_NS", 0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Real prices: half as plain CSVs (some without volume or with close only), half as the
    raw yfinance files (3-row header, ``null`` rows: the pandas path)."""
    out = tmp_path / "prices"
    out.mkdir()
    for i, raw in enumerate(REAL):
        target = out / raw.name
        if i % 2:
            target.write_bytes(raw.read_bytes())
            os.utime(target, (OLD, OLD))
        else:
            plain_copy(raw, target, ("close",) if i % 4 == 0 and i % 8 else None)
    return out


def tickers(folder: Path) -> list[str]:
    return FolderSource(folder).tickers()


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_freq=True)
    assert got.index.dtype == want.index.dtype and got.index.name == want.index.name
    assert list(got.columns) == list(want.columns) and got.attrs == want.attrs
    for column in want.columns:  # bit for bit, NaNs included
        assert got[column].to_numpy().tobytes() == want[column].to_numpy().tobytes()


def test_read_many_gives_the_frames_load_gives(folder: Path, tmp_path: Path) -> None:
    names = tickers(folder)
    got = FolderSource(folder).read_many(names, FolderCache(tmp_path / "cache", folder))
    assert sorted(got) == names
    for ticker in names:
        assert_same(got[ticker][0], FolderSource(folder).load(ticker))


def test_the_plain_files_are_read_by_pyarrow(folder: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """The plain copies never reach pandas' reader; the yfinance files all do."""
    seen: list[str] = []
    real = files_module.read_price_file

    def spy(path: Path, ticker: str) -> pd.DataFrame:
        seen.append(path.name)
        return real(path, ticker)

    monkeypatch.setattr(files_module, "read_price_file", spy)
    FolderSource(folder).read_many(tickers(folder))
    assert sorted(seen) == sorted(r.name for i, r in enumerate(REAL) if i % 2)


DIRTY = {
    "null close": "date,close,volume\n2020-01-02,1.5,10\n2020-01-03,null,0\n2020-01-06,1.6,5\n",
    "null volume": "date,close,volume\n2020-01-02,1.5,10\n2020-01-03,1.55,null\n",
    "unsorted": "date,close\n2020-01-03,1.5\n2020-01-02,1.6\n",
    "duplicate date": "date,close\n2020-01-02,1.5\n2020-01-02,1.6\n",
    "space in a number": "date,close\n2020-01-02, 1.5\n2020-01-03,1.6\n",
    "thousands": 'date,close\n2020-01-02,"1,500.5"\n2020-01-03,1.6\n',
    "capitalised header and BOM": "\ufeffDate,Close,Volume\n2020-01-02,1.5,3\n2020-01-03,1.6,4\n",
    "slash dates": "date,close\n02/01/2020,1.5\n03/01/2020,1.6\n",
    "timestamps": "date,close\n2020-01-02 00:00:00,1.5\n2020-01-03 00:00:00,1.6\n",
    "negative volume": "date,close,volume\n2020-01-02,1.5,-3\n2020-01-03,1.6,4\n",
    "zero close": "date,close\n2020-01-02,0\n2020-01-03,1.6\n",
    "infinite close": "date,close\n2020-01-02,inf\n2020-01-03,1.6\n",
    "text volume": "date,close,volume\n2020-01-02,1.5,abc\n2020-01-03,1.6,4\n",
    "boolean column": "date,close,open\n2020-01-02,1.5,true\n2020-01-03,1.6,false\n",
    "empty open column": "date,close,open\n2020-01-02,1.5,\n2020-01-03,1.6,\n",
    "repeated column": "date,close,Close\n2020-01-02,1.5,1.5\n2020-01-03,1.6,1.6\n",
    "unknown column": "date,close,foo\n2020-01-02,1.5,1\n2020-01-03,1.6,2\n",
    "ragged row": "date,close\n2020-01-02,1.5,9\n2020-01-03,1.6\n",
    "trailing commas": "date,close,\n2020-01-02,1.5,\n2020-01-03,1.6,\n",
    "header only": "date,close\n",
    "empty": "",
    "year 1800": "date,close\n1800-01-02,1.5\n1800-01-03,1.6\n",
    "invalid day": "date,close\n2020-02-30,1.5\n2020-03-02,1.6\n",
    "missing cell markers": "date,close,volume\n2020-01-02,1.5,-\n2020-01-03,1.6,N/A\n",
    "quoted numbers": 'date,close,volume\n2020-01-02,"1.5","7"\n2020-01-03,1.6,8\n',
    "exponents": "date,close,volume\n2020-01-02,1.5e0,7e2\n2020-01-03,16E-1,8\n",
    "blank lines": "date,close\n\n2020-01-02,1.5\n\n2020-01-03,1.6\n\n",
    "crlf": "date,close\r\n2020-01-02,1.5\r\n2020-01-03,1.6\r\n",
}


@pytest.mark.parametrize("name", sorted(DIRTY))
def test_dirty_files_read_as_load_reads_them(name: str, tmp_path: Path) -> None:
    """Whatever the file, read_many gives load's frame, or leaves it out where load fails."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "TEST.csv").write_bytes(DIRTY[name].encode())
    got = FolderSource(folder).read_many(["TEST"])
    try:
        want = FolderSource(folder).load("TEST")
    except (BadInput, DataUnavailable):
        assert got == {}
        return
    assert_same(got["TEST"][0], want)


def read_counting(folder: Path, cache: FolderCache, monkeypatch: pytest.MonkeyPatch
                  ) -> tuple[dict, list[str]]:
    """read_many with every file parse counted (pyarrow's and pandas')."""
    parsed: list[str] = []
    plain, real = files_module.read_plain_csv, files_module.read_price_file

    def count_plain(data: bytes) -> object:
        parsed.append("plain")
        return plain(data)

    def count_pandas(path: Path, ticker: str) -> pd.DataFrame:
        parsed.append(path.name)
        return real(path, ticker)

    with monkeypatch.context() as patch:
        patch.setattr(files_module, "read_plain_csv", count_plain)
        patch.setattr(files_module, "read_price_file", count_pandas)
        return FolderSource(folder).read_many(tickers(folder), cache), parsed


def test_second_read_comes_from_the_cache(folder: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FolderCache(tmp_path / "cache", folder)
    first, parsed = read_counting(folder, cache, monkeypatch)
    assert len(parsed) >= len(REAL) and cache.path.is_file()
    second, parsed = read_counting(folder, cache, monkeypatch)
    assert parsed == []
    assert sorted(second) == sorted(first)
    for ticker, (frame, _) in second.items():
        assert_same(frame, first[ticker][0])


def test_cache_follows_changed_added_and_removed_files(folder: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FolderCache(tmp_path / "cache", folder)
    read_counting(folder, cache, monkeypatch)
    changed = folder / REAL[0].name  # a plain copy: one close changed, same size and mtime
    text = changed.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1].split(",")
    edited = last[:]
    edited[1] = last[1][:-1] + ("1" if last[1][-1] != "1" else "2")
    changed.write_text(text.replace(",".join(last), ",".join(edited)))
    os.utime(changed, (OLD, OLD))  # same mtime as before: the ctime still moves
    (folder / REAL[1].name).unlink()
    plain_copy(REAL[0], folder / "NEW1.HK.csv")
    got, parsed = read_counting(folder, cache, monkeypatch)
    assert parsed == ["plain", "plain"]  # the changed and the new file only
    ticker = FolderSource(folder).tickers()[0]
    assert got[ticker][0]["close"].iloc[-1] == float(edited[1])
    assert_same(got["NEW1.HK"][0]["close"].to_frame(),
                FolderSource(folder).load("NEW1.HK")["close"].to_frame())
    entries = cache.read()
    assert REAL[1].name not in entries and "NEW1.HK.csv" in entries


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "other folder"])
def test_corrupt_cache_is_ignored_and_rebuilt(folder: Path, tmp_path: Path, damage: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FolderCache(tmp_path / "cache", folder)
    first, _ = read_counting(folder, cache, monkeypatch)
    data = bytearray(cache.path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "garbage":
        data = bytearray(b"not an npz file" * 10)
    elif damage == "empty":
        data = bytearray()
    else:  # a good cache file of another folder in this folder's place
        other = tmp_path / "other"
        other.mkdir()
        plain_copy(REAL[0], other / REAL[0].name)
        elsewhere = FolderCache(tmp_path / "cache2", other)
        FolderSource(other).read_many(tickers(other), elsewhere)
        data = bytearray(elsewhere.path.read_bytes())
    cache.path.write_bytes(bytes(data))
    assert cache.read() == {}
    again, parsed = read_counting(folder, cache, monkeypatch)
    assert len(parsed) >= len(REAL)  # every file read again
    for ticker, (frame, _) in again.items():
        assert_same(frame, first[ticker][0])
    assert len(cache.read()) == len(REAL)  # and the cache rebuilt


def test_bit_flip_in_the_prices_is_caught(folder: Path, tmp_path: Path) -> None:
    """A changed price inside a well-formed cache file (zip CRC redone) is refused."""
    cache = FolderCache(tmp_path / "cache", folder)
    FolderSource(folder).read_many(tickers(folder), cache)
    with np.load(cache.path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["close"] = arrays["close"].copy()
    arrays["close"][5] *= 1.01
    with open(cache.path, "wb") as handle:
        np.savez(handle, **arrays)
    assert cache.read() == {}


def test_cache_never_written_into_the_data_folder(folder: Path) -> None:
    before = sorted(p.name for p in folder.rglob("*"))
    cache = FolderCache(folder / "cache", folder)
    FolderSource(folder).read_many(tickers(folder), cache)
    assert not cache.usable()
    assert sorted(p.name for p in folder.rglob("*")) == before


def test_a_file_changed_just_now_is_not_cached(folder: Path, tmp_path: Path) -> None:
    """Within the racy margin a later change could keep size and mtime: not cached."""
    fresh = folder / "NEW2.HK.csv"
    plain_copy(REAL[0], fresh)
    soon = time.time() + 1
    os.utime(fresh, (soon, soon))  # modified as it is read
    cache = FolderCache(tmp_path / "cache", folder)
    FolderSource(folder).read_many(tickers(folder), cache)
    entries = cache.read()
    assert "NEW2.HK.csv" not in entries and len(entries) == len(REAL)


def test_a_study_over_a_folder_is_the_same_read_at_once_or_file_by_file(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole study (every table of --json) with the folder read at once, from the cache,
    and file by file (``prefetch`` disabled: the old path)."""
    from eventstudy import event_study, make_event

    names = tickers(folder)
    days = [FolderSource(folder).load(t).index for t in names]
    events = [e for t, d in zip(names, days, strict=True)
              if (e := make_event(t, str(d[len(d) // 2].date()))) is not None]
    assert len(events) == len(names)

    def run() -> str:
        loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
        result = event_study(events, loader=loader, market="^HSI")
        return re.sub(r'"generated": "[^"]*"', "", result.to_json())

    once, cached = run(), run()
    monkeypatch.setattr(PriceLoader, "prefetch", lambda self, tickers: None)
    assert once == cached == run()


def test_the_loader_columns_are_the_arrays_of_its_frames(folder: Path, tmp_path: Path) -> None:
    """What ``AlignedSeries`` takes from the columns is ``prices(frame)``, bit for bit."""
    from eventstudy.engine.columnar import prices

    names = tickers(folder)
    for run in range(2):  # read, then from the cache
        loader = PriceLoader(offline=True, data=folder, cache_dir=tmp_path / "cache")
        loader.prefetch(names)
        for ticker in names:
            columns = loader.columns(ticker)
            assert columns is not None, (run, ticker)
            want = prices(loader.load(ticker))
            assert columns.nanoseconds().tobytes() == want.dates.tobytes()
            assert columns.columns["close"].tobytes() == want.close.tobytes()
            assert columns.columns["volume"].tobytes() == want.volume.tobytes()
