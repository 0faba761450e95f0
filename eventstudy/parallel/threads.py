"""One BLAS thread inside every task of an executor (a GARCH fit, a chunk of a batch), so that a
result does not depend on where it runs.

arch's optimiser (SLSQP with numerical derivatives) is sensitive to the last bits of the BLAS
reductions it calls, and OpenBLAS sums in a different order with 2 threads than with 1 (a dask
worker's nanny sets 1, a plain process uses every core). On a flat likelihood the optimiser then
stops at a different point: SARs differed by up to 6.6e-4 between the serial and dask executors.
``one_blas_thread`` limits every loaded BLAS (numpy's and scipy's OpenBLAS, MKL...) to one thread
for the duration of a fit (threadpoolctl), in whatever process runs it: serial, a local worker
process, a dask worker.

A BLAS thread limit is process-wide, so it is set only where it cannot reach a caller's own
computations: inside worker processes (a local pool's, a dask worker, the one fresh process of
``isolated``), or, for the fits of a serial run, in the caller's process while it runs no other
thread (``alone``), restored when the fit returns. A caller with other (non-daemon) threads
alive (a user's ``arch_model(...).fit()`` in a thread) gets its fits run in one worker process
instead, its BLAS untouched. (Always using a worker process cost a serial run about 10 s of
start-up on a loaded 2-core machine, against 0.3 s for three fits in-process.)"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_controller: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread (restored afterwards)."""
    global _controller
    from threadpoolctl import ThreadpoolController

    if _controller is None:  # inspecting the loaded libraries once per process is enough
        import numpy  # noqa: F401  # its BLAS is loaded before the controller looks
        import scipy.linalg  # noqa: F401

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


def alone() -> bool:
    """True when this process runs no other Python thread but daemon threads (the service
    threads of Jupyter, dask, tqdm): a BLAS limit set now is seen by nothing but our own
    computation. A caller's worker threads (``threading.Thread``, ``ThreadPoolExecutor``) are
    not daemons."""
    me = threading.current_thread()
    return not any(t is not me and t.is_alive() and not t.daemon for t in threading.enumerate())


def blas_single() -> bool:
    """Does every BLAS loaded in this process already run one thread (``OPENBLAS_NUM_THREADS=1``
    in the environment, a dask worker, a caller's own limit)? Then a one-BLAS-thread task can run
    here as it is: nothing to limit, nothing changed."""
    import numpy  # noqa: F401  # its BLAS is loaded before the controller looks
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    found = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return bool(found) and all(n == 1 for n in found)


def _limited(func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    with one_blas_thread():
        return func(*args, **kwargs)


def isolated(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` with one BLAS thread, in one fresh worker process
    (``python -m eventstudy.parallel.worker``: the caller keeps its BLAS, its ``__main__`` is
    not imported). The worker's errors are raised here."""
    import pickle
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "eventstudy.parallel.worker"],
                          input=pickle.dumps((func, args, kwargs)), stdout=subprocess.PIPE,
                          check=False)
    try:
        status, value = pickle.loads(proc.stdout)  # noqa: S301 - our own worker's answer
    except Exception:  # noqa: BLE001 - a worker killed or out of memory
        raise RuntimeError(f"the eventstudy worker process failed (exit {proc.returncode})"
                           ) from None
    if status == "error":
        raise value
    return value  # type: ignore[no-any-return]
