"""Moved to ``eventstudy.parallel.threads`` (issue 25); kept for the imports of
``studies/garch.py`` until they name the new home."""

from eventstudy.parallel.threads import isolated, one_blas_thread

__all__ = ["isolated", "one_blas_thread"]
