"""The forward-difference Jacobians of arch's SLSQP constraints, without scipy's per-call overhead.

``arch``'s ``ARCHModel.fit`` gives scipy's SLSQP (Kraft 1988) one Python function per linear
inequality constraint (alpha >= 0, alpha + beta < 1, nu > 2...) and no Jacobian, so at every
iteration scipy approximates each row's gradient with ``approx_derivative`` (2-point forward
differences): for a dot product, about 35% of a GARCH fit's time goes to that routine's set-up.
Inside :func:`lean_constraint_jacobians` each constraint carries a Jacobian that computes the same
forward differences as scipy's SLSQP does -- the same clipping of x to the bounds, the same
absolute step ``eps`` with the same fallback for a step lost to rounding, the same sign flips and
shortened steps at a bound, the same calls of the constraint function and the same arithmetic --
so the optimiser's path and every fitted number stay bit for bit what scipy alone gives
(``tests/test_slsqp.py`` checks the Jacobians against ``approx_derivative`` and whole fits against
plain arch). Problems this does not cover (a variable fixed by its bounds, a Jacobian already
given, other methods) go to scipy untouched.

Kraft, D. (1988). A software package for sequential quadratic programming. DFVLR-FB 88-28.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from arch.univariate import base as arch_base

_SCIPY_MINIMIZE = arch_base.minimize
_SLSQP_EPS = float(np.sqrt(np.finfo(np.float64).eps))  # SLSQP's default absolute step
_REL_STEP = np.finfo(np.float64).eps ** 0.5  # approx_derivative's 2-point relative step
_lock = threading.Lock()
_depth = 0


def _bounds(bounds: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(lb, ub) as SLSQP sees them after scipy's old -> new -> old -> new conversions."""
    lows, highs = [], []
    for low, high in bounds:
        lo = -np.inf if low is None else float(low)
        hi = np.inf if high is None else float(high)
        lows.append(lo if lo > -np.inf else -np.inf)
        highs.append(hi if hi < np.inf else np.inf)
    return np.array(lows), np.array(highs)


def _steps(x0: np.ndarray, eps: float, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """approx_derivative's 2-point steps for an absolute step ``eps`` within [lb, ub]."""
    sign = (x0 >= 0).astype(float) * 2 - 1
    h = np.where(((x0 + eps) - x0) == 0, _REL_STEP * sign * np.maximum(1.0, np.abs(x0)), eps)
    if np.all((lb == -np.inf) & (ub == np.inf)):
        return h
    adjusted = h.copy()
    lower, upper = x0 - lb, ub - x0
    x = x0 + h
    violated = (x < lb) | (x > ub)
    fitting = np.abs(h) <= np.maximum(lower, upper)
    adjusted[violated & fitting] *= -1
    forward = (upper >= lower) & ~fitting
    adjusted[forward] = upper[forward]
    backward = (upper < lower) & ~fitting
    adjusted[backward] = -lower[backward]
    return adjusted


class _Points:
    """The clipped point, its steps and its perturbed points, shared by the constraints of one
    problem (SLSQP asks for every constraint's Jacobian at the same x in turn)."""

    def __init__(self, lb: np.ndarray, ub: np.ndarray, eps: float) -> None:
        self.lb, self.ub, self.eps = lb, ub, eps
        self.x = np.empty(0)
        self.x0 = np.empty(0)
        self.dx = np.empty(0)
        self.moved: list[np.ndarray] = []

    def at(self, x: np.ndarray) -> _Points:
        """Set up for ``x`` unless it is the point of the previous call."""
        if self.x.shape == np.shape(x) and np.array_equal(self.x, x):
            return self
        self.x = np.array(x, dtype=np.float64)
        if (x < self.lb).any() or (x > self.ub).any():
            x = np.clip(x, self.lb, self.ub)
        x0 = np.array(x, dtype=np.float64)
        h = _steps(x0, self.eps, self.lb, self.ub)
        self.x0, self.dx = x0, (x0 + h) - x0
        self.moved = []
        for i in range(x0.size):
            x1 = x0.copy()
            x1[i] = x0[i] + h[i]
            self.moved.append(x1)
        return self


def forward_jacobians(funs: Sequence[Callable[..., Any]], lb: np.ndarray, ub: np.ndarray,
                      eps: float = _SLSQP_EPS) -> list[Callable[..., np.ndarray]]:
    """The Jacobians SLSQP approximates for the constraints ``funs`` (module docstring)."""
    points = _Points(lb, ub, eps)

    def make(fun: Callable[..., Any]) -> Callable[..., np.ndarray]:
        def jac(x: np.ndarray, *args: Any) -> np.ndarray:
            p = points.at(x)
            f0 = np.atleast_1d(fun(p.x0.copy(), *args))
            out = np.empty((p.x0.size, f0.size))
            for i, x1 in enumerate(p.moved):
                out[i] = (np.atleast_1d(fun(x1.copy(), *args)) - f0) / p.dx[i]
            return np.ravel(out) if f0.size == 1 else out.T
        return jac

    return [make(fun) for fun in funs]


def _minimize(fun: Callable[..., Any], x0: Any, args: tuple[Any, ...] = (),
              method: str | None = None, jac: Any = None, bounds: Any = None,
              constraints: Any = (), tol: float | None = None, callback: Any = None,
              options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """scipy's ``minimize``, with lean constraint Jacobians where they are exact replicas."""
    cons = constraints
    if (method == "SLSQP" and jac is None and bounds is not None and not kwargs
            and isinstance(constraints, (list, tuple))
            and all(isinstance(c, dict) and c.get("type") == "ineq" and "jac" not in c
                    for c in constraints)):
        lb, ub = _bounds(bounds)
        if lb.size == np.size(x0) and not np.any(lb == ub):
            eps = float((options or {}).get("eps", _SLSQP_EPS))
            jacs = forward_jacobians([c["fun"] for c in constraints], lb, ub, eps)
            cons = [{**c, "jac": j} for c, j in zip(constraints, jacs, strict=True)]
    return _SCIPY_MINIMIZE(fun, x0, args=args, method=method, jac=jac, bounds=bounds,
                           constraints=cons, tol=tol, callback=callback, options=options,
                           **kwargs)


@contextmanager
def lean_constraint_jacobians() -> Iterator[None]:
    """arch fits inside the block use :func:`forward_jacobians` for their constraints (same
    numbers, less time). Nested and concurrent use is safe: either way a fit gets the same
    Jacobians."""
    global _depth
    with _lock:
        if _depth == 0:
            arch_base.minimize = _minimize
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                arch_base.minimize = _SCIPY_MINIMIZE
