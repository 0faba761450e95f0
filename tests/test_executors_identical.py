"""GARCH results are the same bit for bit whichever executor runs them (issue 12).

A dask worker's nanny runs with one BLAS thread, a plain process with one per core; arch's
optimiser used to stop elsewhere on flat likelihoods as a result (SARs differed by 6.6e-4).
Every fit now runs with one BLAS thread (``eventstudy.parallel.threads``), so the JSON of real
volatility studies (SenseTime's two lock-up firm-days, one Tencent year) is byte-identical
across ``serial``, ``local`` (worker processes) and ``dask`` (a LocalCluster on 127.0.0.1 with
one worker process)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from eventstudy.data.loader import PriceLoader
from eventstudy.studies.garch import return_series
from eventstudy.volatility.executors import StudyTask, fit_many


def _tasks() -> list[StudyTask]:
    loader = PriceLoader(offline=True)
    stock, market = return_series(loader, "0020.HK", listing_date=pd.Timestamp("2021-12-30"))
    tencent, hsi = return_series(loader, "0700.HK")
    forced = {"min_garch": None}  # GARCH on < MIN_GARCH_ESTIMATION returns, as `garch` does
    return [StudyTask(stock, pd.Timestamp("2022-06-30"), market, label="0020.HK 6m",
                      options=forced),
            StudyTask(stock, pd.Timestamp("2022-12-30"), market, label="0020.HK 12m",
                      options=forced),
            StudyTask(tencent.iloc[-400:], tencent.index[-60], hsi.iloc[-400:], label="0700")]


def _json(results: list) -> list[str]:
    return [json.dumps(r.to_dict(), sort_keys=True) for r in results]


def test_serial_local_and_dask_give_identical_json() -> None:
    distributed = pytest.importorskip("distributed")
    tasks = _tasks()
    serial = _json(fit_many(tasks, "serial", progress=False))
    local = _json(fit_many(tasks, "local", progress=False, max_workers=2))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        remote = _json(fit_many(tasks, f"dask://{address}", progress=False))
    assert local == serial
    assert remote == serial
