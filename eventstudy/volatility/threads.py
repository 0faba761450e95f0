"""One BLAS thread inside every GARCH fit, so that a result does not depend on where it runs.

arch's optimiser (SLSQP with numerical derivatives) is sensitive to the last bits of the BLAS
reductions it calls, and OpenBLAS sums in a different order with 2 threads than with 1 (a dask
worker's nanny sets 1, a plain process uses every core). On a flat likelihood the optimiser then
stops at a different point: SARs differed by up to 6.6e-4 between the serial and dask executors.
``one_blas_thread`` limits every loaded BLAS (numpy's and scipy's OpenBLAS, MKL...) to one thread
for the duration of a fit (threadpoolctl), in whatever process runs it: serial, a local worker
process, a dask worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
