"""The screens on the loader's columnar arrays (issue 25): the same findings as on the frames,
on real HK prices (tests/data/quality, copied from ../shared/data/prices_hk_panel, and the whole
panel when it is there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.events import Event
from eventstudy.calendar.sessions import is_early_close, session_index
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import calendar_code
from eventstudy.quality.events import Screens, before_panel, loader_arrays
from eventstudy.quality.screens import SeriesScreen, half_day_mask

HERE = Path(__file__).resolve().parent / "data" / "quality"
PANEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices_hk_panel"
FOLDERS = [HERE, *([PANEL] if PANEL.is_dir() else [])]


def _loader(folder: Path) -> tuple[PriceLoader, list[str]]:
    tickers = sorted(p.stem for p in folder.glob("*.csv") if not p.stem.startswith("^"))
    loader = PriceLoader(offline=True, data=folder)
    loader.prefetch(tickers)
    return loader, tickers


def _same(a: SeriesScreen | None, b: SeriesScreen | None) -> None:
    assert a is not None and b is not None
    assert a.findings == b.findings
    assert list(a.suspect.items()) == list(b.suspect.items())
    assert a.unknown_volume == b.unknown_volume


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_screens_on_the_columns_find_what_the_frames_find(folder: Path) -> None:
    loader, tickers = _loader(folder)
    arrays = loader_arrays(loader)
    assert all(arrays(t) is not None for t in tickers)  # the arrays path is taken
    on_columns = Screens(loader.load, calendar_code, arrays)
    on_frames = Screens(loader.load, calendar_code)
    for ticker in tickers:
        _same(on_columns(ticker), on_frames(ticker))
    checks = {f.check for t in tickers for s in [on_columns(t)] if s is not None
              for f in [*s.findings, *s.suspect.values()]}
    assert {"half_day_volume", "suspension", "outside_range"} <= checks  # real dirt was seen


def test_half_day_mask_is_is_early_close_on_every_date() -> None:
    """Every HKEX session and every date of 0001.HK: one ``np.isin`` against the early closes
    gives what the per-day lookup ``is_early_close`` gives."""
    loader, _ = _loader(HERE)
    dates = session_index("XHKG").union(pd.DatetimeIndex(loader.load("0001.HK").index))
    mask = half_day_mask(dates.to_numpy(), "XHKG")
    expected = np.array([is_early_close("XHKG", d) for d in dates])
    assert expected.sum() > 10
    assert (mask == expected).all()
    assert not half_day_mask(dates.to_numpy(), None).any()


def test_before_panel_on_the_columns_skips_what_it_skips_on_the_frames() -> None:
    """0081.HK 2009-08-10: day 0 in a suspension (tests/test_quality.py); the other events
    are kept either way."""
    loader, _ = _loader(HERE)
    events = [Event("0081.HK", pd.Timestamp("2009-08-10")),
              Event("0081.HK", pd.Timestamp("2009-10-20")),
              Event("0001.HK", pd.Timestamp("2020-12-22"))]
    market = lambda t: "^HSI"  # noqa: E731
    on_columns = before_panel(events, loader.load, market, True, loader_arrays(loader))
    on_frames = before_panel(events, loader.load, market, True)
    assert on_columns == on_frames
    assert [f.check for f in on_columns[2]] == ["placeholder_day0"]
