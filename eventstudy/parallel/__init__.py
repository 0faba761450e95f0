"""Executors for whole batches and GARCH fits: ``run(fn, items, executor)`` serially, in local
worker processes (``workers``, default the usable CPUs) or on a dask cluster, in input order."""

from eventstudy.parallel.executors import (
    check_executor,
    check_workers,
    in_parallel,
    run,
    usable_cpus,
)

__all__ = ["check_executor", "check_workers", "in_parallel", "run", "usable_cpus"]
