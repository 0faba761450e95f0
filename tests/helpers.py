"""Helpers shared by test modules: a loader over frames in memory and the real HK panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendar.events import make_event
from eventstudy.data.loader import PriceLoader
from eventstudy.errors import BadInput, DataUnavailable


class MemoryLoader(PriceLoader):
    """A loader over frames held in memory (synthetic, or read from the real panel)."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        super().__init__(offline=True)
        self.frames = frames

    def load(self, ticker: str) -> pd.DataFrame:
        return self.frames[ticker] if ticker in self.frames else super().load(ticker)


def hk190_events(step: int = 400) -> tuple[dict[str, pd.DataFrame], list]:
    """The real 190-stock HK panel (close, volume) and events every ``step`` sessions of each
    stock's history from its 300th (real prices; the event days are a fixed rule)."""
    from eventstudy.engine.realpanel import HK_PANEL

    if not HK_PANEL.is_file():
        pytest.skip("the real HK panel is not installed")
    table = pd.read_parquet(HK_PANEL)
    frames, events = {}, []
    for i, (ticker, rows) in enumerate(table.groupby("ticker", observed=True, sort=True)):
        frame = rows.set_index(pd.DatetimeIndex(rows["date"], name="date"))[["close", "volume"]]
        frame = frame[~frame.index.duplicated()].astype(float)
        frames[str(ticker)] = frame
        for pos in range(300, len(frame) - 130, step):
            events.append(make_event(str(ticker), frame.index[pos], group="ab"[i % 2]))
    return frames, [e for e in events if e is not None]


PANEL_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices_hk_panel"


def panel_folder_sample(cache: Path, rng: np.random.Generator, count: int
                        ) -> tuple[PriceLoader, list[tuple[str, pd.DatetimeIndex]]]:
    """``count`` stocks drawn by ``rng`` from the real HK panel folder, read by a loader with
    ``^HSI``: the loader and each stock's dates (the stocks it cannot load are left out)."""
    names = sorted(p.name[:-4] for p in PANEL_FOLDER.glob("*.HK.csv"))
    chosen = [names[i] for i in sorted(rng.choice(len(names), count, replace=False))]
    loader = PriceLoader(offline=True, data=PANEL_FOLDER, cache_dir=cache)
    loader.prefetch([*chosen, "^HSI"])
    found = []
    for ticker in chosen:
        try:
            found.append((ticker, loader.load(ticker).index))
        except (BadInput, DataUnavailable):
            continue
    return loader, found
