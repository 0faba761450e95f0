"""A whole batch on an executor gives the serial result, number for number (issue 25).

``batch_study(executor=...)`` splits the events by ticker into chunks, runs each chunk's
per-event stage (load, align, place, clean, screen) on the executor and gathers the panels back
in the events' order; the model, the tables and the cross-event tests run on the gathered panel.
The JSON document (``--json``) must be identical, apart from its ``generated`` time, whichever
executor and however many chunks ran it: on the bundled batch (every lock-up of the bundled
calendar: real HK prices) and on a seeded synthetic batch built to exercise every path (several
events per firm interleaved, extra columns with blanks, a missing ticker, days outside the data,
a duplicate, a suspect return skipped by the screens)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.results.result import EventStudyResult
from eventstudy.studies.batch import batch_study

MARKET = "^SYN"


def _json(result: EventStudyResult) -> dict[str, str]:
    """Each part of the JSON document, as text (``generated`` is the run's clock time)."""
    doc = result.to_dict()
    doc.pop("generated")
    return {k: json.dumps(v, sort_keys=True, default=str) for k, v in doc.items()}


def _same(a: EventStudyResult, b: EventStudyResult) -> None:
    ja, jb = _json(a), _json(b)
    assert ja.keys() == jb.keys()
    assert [k for k in ja if ja[k] != jb[k]] == []


def synthetic_batch(folder: Path, seed: int = 25) -> pd.DataFrame:
    """Seeded synthetic prices (``S00..S13`` and the index ``^SYN`` on weekdays of 2019-2023)
    written to ``folder``, and an events frame for them (synthetic: no real firm)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2019-01-02", "2023-12-29")
    mret = rng.normal(3e-4, 0.01, len(days))
    mret[0] = 0.0
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"),
                          "close": 1000 * np.cumprod(1 + mret),
                          "volume": rng.integers(10**8, 2 * 10**8, len(days))})
    frame.to_csv(folder / f"{MARKET}.csv", index=False)
    rows = []
    for i in range(14):
        start = int(rng.integers(0, 300))
        ret = 1e-4 + rng.uniform(0.5, 1.5) * mret + rng.standard_t(5, len(days)) * 0.012
        if i == 5:
            ret[start + 400] = -0.97  # an impossible day: the screens skip its events
        sl = slice(start, len(days) - int(rng.integers(0, 200)))
        ret[sl.start] = 0.0
        volume = np.exp(rng.normal(13, 0.6, len(days))).astype(np.int64)
        pd.DataFrame({"date": days[sl].strftime("%Y-%m-%d"),
                      "close": rng.uniform(5, 50) * np.cumprod(1 + ret[sl]),
                      "volume": volume[sl]}).to_csv(folder / f"S{i:02d}.csv", index=False)
        for j in range(int(rng.integers(1, 5))):  # several events per firm, some close together
            at = sl.start + 130 + int(rng.integers(0, 650)) + 15 * j
            if i in (2, 9):  # young firms: estimation windows shorter than 250 sessions
                at = sl.start + 150 + 25 * j
            rows.append({"ticker": f"S{i:02d}", "date": str(days[min(at, len(days) - 1)].date()),
                         "group": "ab"[i % 2],
                         "sector": "" if (i + j) % 3 == 0 else f"sector{i % 4}"})
    rows += [{"ticker": "S99", "date": "2022-03-01", "group": "a", "sector": "x"},  # no file
             {"ticker": "S03", "date": "2019-01-10", "group": "b", "sector": ""},  # no estimation
             {**rows[4]}]  # a duplicate
    order = rng.permutation(len(rows))  # tickers interleaved
    return pd.DataFrame([rows[k] for k in order])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("synthetic_prices")
    return folder, synthetic_batch(folder)


def _synthetic_study(synthetic: tuple[Path, pd.DataFrame], **kw: object) -> EventStudyResult:
    folder, events = synthetic
    return batch_study(events, data=folder, market=MARKET, offline=True, group_by="sector",
                       **kw)  # type: ignore[arg-type]


def test_the_synthetic_batch_exercises_every_path(synthetic: tuple[Path, pd.DataFrame]
                                                  ) -> None:
    serial = _synthetic_study(synthetic, executor="serial")
    reasons = " ".join(serial.skipped["reason"])
    assert serial.n_events >= 20 and len(serial.skipped) >= 4
    assert "duplicate" in reasons and "suspect" in reasons
    assert serial.events["sector"].isna().any() or (serial.events["sector"] == "").any()
    assert serial.events["ticker"].tolist() != sorted(serial.events["ticker"])  # interleaved
    young = serial.events[serial.events["ticker"].isin(["S02", "S09"])]
    assert (young["estimation_end"] - young["estimation_start"]).dt.days.max() < 300


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_chunks_gathered_in_this_process_give_the_serial_json(
        synthetic: tuple[Path, pd.DataFrame], workers: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The gathering alone: ``4 * workers`` chunks run here, one after the other."""
    from eventstudy.studies import batch

    serial = _synthetic_study(synthetic, executor="serial")
    monkeypatch.setattr(batch, "in_parallel", lambda executor, workers: True)
    _same(serial, _synthetic_study(synthetic, executor="serial", workers=workers))


def test_local_workers_give_the_serial_json_on_a_synthetic_batch(
        synthetic: tuple[Path, pd.DataFrame]) -> None:
    serial = _synthetic_study(synthetic, executor="serial")
    local = _synthetic_study(synthetic, executor="local", workers=2)
    _same(serial, local)


def test_serial_local_and_dask_give_the_same_json_on_the_bundled_batch() -> None:
    distributed = pytest.importorskip("distributed")
    serial = batch_study(offline=True, executor="serial")
    local = batch_study(offline=True, executor="local", workers=2)
    _same(serial, local)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        remote = batch_study(offline=True, executor=f"dask://{address}")
    _same(serial, remote)
    assert serial.n_events > 20
