"""Regression formulas are data (issue 24): the allow-list grammar of ``engine/formula.py`` gives
the same OLS numbers as statsmodels on a design matrix built independently here, and no text
(the issue's attacks, or anything hypothesis makes up) ever reaches an evaluator."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from eventstudy.engine.formula import parse_formula
from eventstudy.engine.regression import cross_sectional_regression
from eventstudy.errors import BadInput


def _events() -> pd.DataFrame:
    rng = np.random.default_rng(24)  # synthetic event characteristics
    n = 48
    return pd.DataFrame({
        "car": rng.normal(0, 0.05, n), "runup": rng.normal(0.1, 0.3, n),
        "offer_price": rng.uniform(1, 80, n),
        "tranche": np.tile(["cornerstone", "pre_ipo", "controlling"], n // 3),
        "board": np.repeat(["main", "18C"], n // 2),
        "day0": np.repeat(pd.date_range("2024-01-01", periods=n // 2), 2)})


def _dummies(values: pd.Series, levels: list[str]) -> list[np.ndarray]:
    return [(values == v).to_numpy(dtype=float) for v in levels]


def _independent_designs(d: pd.DataFrame) -> dict[str, tuple[list[str], np.ndarray]]:
    """Formula -> (coefficient names, design matrix), written out by hand."""
    one, r = np.ones(len(d)), d.runup.to_numpy()
    pre, ctl = _dummies(d.tranche, ["pre_ipo", "cornerstone"])  # levels sorted: controlling first
    c_ctl, c_cor, c_pre = _dummies(d.tranche, ["controlling", "cornerstone", "pre_ipo"])
    b18 = (d.board == "main").to_numpy(dtype=float)
    return {
        "car ~ runup + C(tranche)": (
            ["Intercept", "C(tranche)[T.cornerstone]", "C(tranche)[T.pre_ipo]", "runup"],
            np.column_stack([one, ctl, pre, r])),
        "car ~ runup * C(tranche)": (
            ["Intercept", "C(tranche)[T.cornerstone]", "C(tranche)[T.pre_ipo]", "runup",
             "runup:C(tranche)[T.cornerstone]", "runup:C(tranche)[T.pre_ipo]"],
            np.column_stack([one, ctl, pre, r, r * ctl, r * pre])),
        "car ~ 0 + C(tranche) + board": (
            ["C(tranche)[controlling]", "C(tranche)[cornerstone]", "C(tranche)[pre_ipo]",
             "board[T.main]"], np.column_stack([c_ctl, c_cor, c_pre, b18])),
        "car ~ np.log(offer_price) + I(runup ** 2)": (
            ["Intercept", "np.log(offer_price)", "I(runup ** 2)"],
            np.column_stack([one, np.log(d.offer_price.to_numpy()), r ** 2])),
        "car ~ C(tranche):runup": (
            ["Intercept", "C(tranche)[controlling]:runup", "C(tranche)[cornerstone]:runup",
             "C(tranche)[pre_ipo]:runup"], np.column_stack([one, c_ctl * r, c_cor * r, c_pre * r])),
    }


@pytest.mark.parametrize("formula", list(_independent_designs(_events())))
def test_formula_numbers_match_statsmodels_on_a_hand_built_design(formula: str) -> None:
    import statsmodels.api as sm

    d = _events()
    names, X = _independent_designs(d)[formula]
    res = cross_sectional_regression(d, formula)
    assert list(res.coef["term"]) == names
    hc3 = sm.OLS(d.car.to_numpy(), X).fit(cov_type="HC3")
    groups = pd.factorize(d.day0)[0]
    cl = sm.OLS(d.car.to_numpy(), X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(res.coef["coef"], hc3.params, rtol=1e-10)
    np.testing.assert_allclose(res.coef["se_hc3"], hc3.bse, rtol=1e-10)
    # small samples: t(n - k) for HC3, t(G - 1) for G date clusters (Cameron & Miller 2015)
    n, k, g = X.shape[0], X.shape[1], len(set(groups))
    np.testing.assert_allclose(res.coef["p_hc3"], 2 * stats.t.sf(np.abs(hc3.tvalues), n - k),
                               rtol=1e-8)
    np.testing.assert_allclose(res.coef["se_cluster"], cl.bse, rtol=1e-10)
    np.testing.assert_allclose(res.coef["p_cluster"], 2 * stats.t.sf(np.abs(cl.tvalues), g - 1),
                               rtol=1e-8)
    assert res.rsquared == pytest.approx(hc3.rsquared, rel=1e-10, abs=0)


def test_a_non_finite_transform_leaves_the_row_out_with_a_note() -> None:
    d = _events()
    d.loc[[2, 7], "offer_price"] = [0.0, -1.0]  # log: -inf and NaN
    res = cross_sectional_regression(d, "car ~ np.log(offer_price)")
    assert res.nobs == len(d) - 2
    assert any("2 events" in n for n in res.notes)


ATTACKS = [
    "car ~ __import__('os').system('touch PWNED')",
    "car ~ I(__import__('os').system('touch PWNED'))",
    "car ~ C(tranche, __import__('os').system('touch PWNED'))",
    "car ~ I(open('/etc/passwd').read())",
    "car ~ np.os.system('touch PWNED')",
    "car ~ runup.__class__",
    "car ~ os.system(runup)",
    "car ~ " + "(" * 200 + "runup" + ")" * 200,
    "car ~ runup\n+ __import__('os')",
    "car ~ eval(runup)",
    "car ~ C(lambda)",
]


@pytest.mark.parametrize("formula", ATTACKS)
def test_a_formula_outside_the_grammar_is_refused_and_runs_nothing(formula: str) -> None:
    with pytest.raises(BadInput, match="regression formula"):
        cross_sectional_regression(_events(), formula)
    assert not Path("PWNED").exists()


class Evaluators:
    """eval/exec record a call whose code holds the text under test (then run as usual: the
    test tools use them too); patsy's formula entry points record any call."""

    def __init__(self) -> None:
        self.text = ""
        self.calls: list[str] = []

    def watch(self, name: str, original):  # type: ignore[no-untyped-def]
        def call(*args: object, **kwargs: object) -> object:
            text = self.text.strip()
            if len(text) >= 3 and any(text in str(a) for a in args):
                self.calls.append(name)
            return original(*args, **kwargs)
        return call

    def refuse(self, name: str):  # type: ignore[no-untyped-def]
        def call(*args: object, **kwargs: object) -> None:
            self.calls.append(name)
            raise AssertionError(f"{name} called")
        return call


@pytest.fixture
def evaluators(monkeypatch: pytest.MonkeyPatch) -> Evaluators:
    import patsy

    ev = Evaluators()
    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, ev.watch(name, getattr(builtins, name)))
    monkeypatch.setattr(patsy, "dmatrices", ev.refuse("patsy.dmatrices"))
    monkeypatch.setattr(patsy, "dmatrix", ev.refuse("patsy.dmatrix"))
    monkeypatch.setattr(patsy.ModelDesc, "from_formula", ev.refuse("patsy.ModelDesc"))
    monkeypatch.setattr(patsy.EvalEnvironment, "eval", ev.refuse("patsy.EvalEnvironment"))
    return ev


PIECES = st.sampled_from([
    "car", "runup", "tranche", "board", "offer_price", "~", " ~ ", "+", "-", "*", ":", "/",
    "**", "(", ")", "C(", "I(", "np.log(", "log(", "sqrt(", "0", "1", "2", ".5", " ",
    "__import__", "'os'", ".system", "open", "[0]", ",", ";", "`", "\n", "lambda x: x"])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.lists(PIECES, max_size=14).map("".join), st.text(max_size=40)))
def test_no_formula_text_reaches_an_evaluator(evaluators: Evaluators, text: str) -> None:
    data = _events()
    evaluators.text = text
    try:
        res = cross_sectional_regression(data, text)
    except BadInput:
        pass
    else:
        assert np.isfinite(res.coef["coef"]).all()
        names = parse_formula(text).columns()
        assert names <= set(data.columns)
    assert evaluators.calls == []


def test_regress_attack_through_the_cli_is_exit_2_and_creates_nothing() -> None:
    from conftest import run_cli

    code, _, err = run_cli("-q", "batch", "--offline", "--no-report", "--regress",
                           "car ~ __import__('os').system('touch PWNED')")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not Path("PWNED").exists()


def test_a_column_without_values_is_one_clear_error() -> None:
    d = _events().assign(offer_price=None)  # a calendar without offer prices
    with pytest.raises(BadInput, match="no event has a value"):
        cross_sectional_regression(d, "car ~ np.log(offer_price)")
    with pytest.raises(BadInput, match="not numeric"):
        cross_sectional_regression(_events(), "car ~ np.log(tranche)")
