"""The lean constraint Jacobians of eventstudy.volatility.slsqp give what scipy gives, bit for bit.

Checked against scipy's own forward differences (``approx_derivative`` with SLSQP's arguments)
on random linear constraints at points inside, on and outside the bounds, and against plain
arch fits (every candidate model on real bundled returns): same parameters, log-likelihood and
iteration count. A mismatch means a scipy upgrade changed its differences: drop the fast path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.univariate import base as arch_base
from scipy.optimize import minimize
from scipy.optimize._numdiff import approx_derivative

from eventstudy.data.loader import load_prices
from eventstudy.volatility.base import DISTS, SCALE, VOLS, _frame
from eventstudy.volatility.garch import ModelSpec, _arch_model, _volatility_process
from eventstudy.volatility.slsqp import _SLSQP_EPS, forward_jacobians, lean_constraint_jacobians


def _scipy_jacobian(fun, x, lb, ub):  # noqa: ANN001, ANN202 - what SLSQP's cjac does
    x = np.clip(x, lb, ub)
    return approx_derivative(fun, x, method="2-point", abs_step=_SLSQP_EPS, bounds=(lb, ub))


def _linear(coeff: np.ndarray, val: float):  # noqa: ANN202 - arch's constraint function
    return lambda params: np.dot(coeff, params) - val


@pytest.mark.parametrize("seed", range(6))
def test_jacobians_equal_scipy_forward_differences(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    lb = rng.uniform(-2, 0, n)
    ub = lb + rng.uniform(1e-9, 3, n)
    lb[0], ub[-1] = -np.inf, np.inf
    funs = [_linear(rng.normal(size=n) * (rng.random(n) < 0.6), float(rng.normal()))
            for _ in range(4)]
    jacs = forward_jacobians(funs, lb, ub)
    points = [rng.uniform(lb.clip(-3), ub.clip(max=3)),  # inside
              np.where(rng.random(n) < 0.5, lb, ub).clip(-3, 3),  # on the bounds
              rng.uniform(-5, 5, n),  # partly outside: clipped
              ub.clip(max=3) - 1e-10,  # a step past the upper bound flips
              np.full(n, 1e12).clip(lb, ub)]  # a step lost to rounding
    for x in points:
        for fun, jac in zip(funs, jacs, strict=True):
            np.testing.assert_array_equal(jac(x), _scipy_jacobian(fun, x, lb, ub))


def test_minimize_of_a_constrained_problem_is_unchanged() -> None:
    a = np.array([[-1.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
    b = np.array([-1.0, 0.05])

    def cons():  # noqa: ANN202
        return [{"type": "ineq", "fun": _linear(a[i], b[i])} for i in range(2)]

    def fun(x: np.ndarray) -> float:
        return float((x[0] - 0.7) ** 2 + (x[1] - 0.6) ** 2 + np.exp(x[2]) - x[2])

    bounds = [(0.0, 1.0), (0.0, None), (-2.0, 2.0)]
    plain = minimize(fun, [0.1, 0.1, 1.0], method="SLSQP", bounds=bounds, constraints=cons())
    with lean_constraint_jacobians():
        lean = arch_base.minimize(fun, [0.1, 0.1, 1.0], method="SLSQP", bounds=bounds,
                                  constraints=cons())
    assert arch_base.minimize is minimize
    np.testing.assert_array_equal(lean.x, plain.x)
    assert (lean.nit, lean.nfev, lean.fun) == (plain.nit, plain.nfev, plain.fun)


def _fit(frame: pd.DataFrame, spec: ModelSpec):  # noqa: ANN202
    model = _arch_model(frame, spec, _volatility_process(spec.vol))
    return model.fit(disp="off", show_warning=False)  # non-converged candidates must match too


@pytest.mark.parametrize("ticker", ["0020.HK", "9988.HK"])
def test_arch_fits_are_bit_identical(ticker: str, tmp_path) -> None:  # noqa: ANN001
    stock = load_prices(ticker, offline=True, cache_dir=tmp_path)["close"].pct_change()
    hsi = load_prices("^HSI", offline=True, cache_dir=tmp_path)["close"].pct_change()
    both = pd.concat([stock, hsi], axis=1, join="inner").dropna().iloc[-250:]
    frame = _frame(both.iloc[:, 0], both.iloc[:, 1]) * SCALE
    for vol in VOLS:
        for dist in DISTS:
            spec = ModelSpec(vol, dist, "market")
            plain = _fit(frame, spec)
            with lean_constraint_jacobians():
                lean = _fit(frame, spec)
            np.testing.assert_array_equal(lean.params.to_numpy(), plain.params.to_numpy())
            assert lean.loglikelihood == plain.loglikelihood
            assert lean.optimization_result.nit == plain.optimization_result.nit
