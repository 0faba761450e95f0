"""The design matrix of a parsed regression formula (``engine/formula.py``), built with numpy and
pandas from the parse tree: columns looked up by name, the allowed functions applied, categories
coded as patsy codes them (treatment contrasts against the first sorted level when the
lower-order term is in the model, full dummy coding otherwise). Nothing is evaluated as code."""

from __future__ import annotations

import itertools
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Floats
from eventstudy.engine.formula import FUNCTIONS, Arith, Factor, Formula, Term, bad_formula
from eventstudy.errors import BadInput


def _evaluate(node: Arith, data: pd.DataFrame) -> Floats:
    """The numeric values of an arithmetic tree: columns looked up by name, operators and the
    allowed functions applied with numpy (invalid results become NaN)."""
    kind = node[0]
    if kind == "num":
        return np.full(len(data), float(node[1]))
    if kind == "col":
        column = cast(pd.Series, data[node[1]])
        numbers = pd.to_numeric(column, errors="coerce")
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
                or int(numbers.notna().sum()) == int(column.notna().sum())):
            raise BadInput(f"regression formula: column {node[1]!r} is not numeric (use "
                           f"C({node[1]}) for categories)")
        return cast(Floats, numbers.astype(float).to_numpy(dtype=float, na_value=np.nan))
    if kind == "neg":
        return -_evaluate(node[1], data)
    if kind == "fn":
        return np.asarray(FUNCTIONS[node[1]](_evaluate(node[2], data)), dtype=float)
    a, b = _evaluate(node[1], data), _evaluate(node[2], data)
    ops = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
    return np.asarray(ops[kind](a, b), dtype=float)


def _resolve(factor: Factor, data: pd.DataFrame) -> Factor:
    """A bare column name is numeric when its column is, a category otherwise (as in patsy)."""
    if factor.kind != "auto":
        return factor
    column = data[factor.name]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return Factor("num", factor.name, factor.arith)
    return Factor("cat", factor.name, column=factor.name)


def _label(level: object) -> str:
    if isinstance(level, np.generic):
        level = level.item()
    return level if isinstance(level, str) else repr(level)


def _levels(values: pd.Series) -> list[Any]:
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if (present == c).any()]
    unique = list(pd.unique(present))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=lambda v: (type(v).__name__, str(v)))


def _ordered(terms: list[Term]) -> list[Term]:
    """patsy's order: terms grouped by their numeric factors (the group without first), each
    group by the number of factors."""
    buckets: dict[frozenset[Factor], list[Term]] = {}
    for term in terms:
        buckets.setdefault(frozenset(f for f in term if f.kind == "num"), []).append(term)
    keys = sorted(buckets, key=lambda k: len(k) > 0)
    return [t for k in keys for t in sorted(buckets[k], key=len)]


def _codings(text: str, terms: list[Term]) -> list[dict[Factor, bool]]:
    """Per term, each categorical factor's coding: True full dummies, False treatment
    contrasts (patsy's rule: full coding unless the lower-order term spans it)."""
    out: list[dict[Factor, bool]] = []
    used: dict[frozenset[Factor], set[frozenset[Factor]]] = {}
    for term in terms:
        spanned = used.setdefault(frozenset(f for f in term if f.kind == "num"), set())
        cats = [f for f in term if f.kind == "cat"]
        subsets = [frozenset(s) for k in range(len(cats) + 1)
                   for s in itertools.combinations(cats, k)]
        new = [s for s in subsets if s not in spanned]
        spanned.update(new)
        if len(cats) <= 1:
            out.append({c: frozenset() in new for c in cats})
        elif new == [frozenset(cats)]:
            out.append(dict.fromkeys(cats, False))
        else:
            names = ", ".join(c.name for c in cats)
            raise bad_formula(text, f"an interaction of categories ({names}) needs each of them "
                             f"in the model too (write {'*'.join(c.name for c in cats)})")
    return out


def _factor_columns(factor: Factor, full: bool, values: Floats | pd.Series
                    ) -> list[tuple[str, Floats]]:
    if not isinstance(values, pd.Series):  # a numeric factor (kind "num"): one column
        return [(factor.name, values)]
    levels = _levels(values)
    shown = levels if full else levels[1:]
    prefix = "" if full else "T."
    return [(f"{factor.name}[{prefix}{_label(v)}]", (values == v).to_numpy(dtype=float))
            for v in shown]


def design(formula: Formula, data: pd.DataFrame) -> tuple[Floats, pd.DataFrame]:
    """The outcome and the design matrix (named columns, index of the rows kept) of
    ``formula`` on ``data``; rows with a missing or non-finite value in a factor are left
    out. BadInput for a column the data lack or a category used as a number."""
    unknown = sorted(formula.columns() - set(map(str, data.columns)))
    if unknown:
        raise BadInput(f"regression formula uses {', '.join(unknown)}, not a column of the "
                       f"events (have: {', '.join(map(str, data.columns))})")
    data = data.loc[:, ~data.columns.duplicated()]
    outcome = _resolve(formula.outcome, data)
    if outcome.kind != "num":
        raise BadInput(f"regression formula: the outcome {outcome.name!r} is not numeric")
    terms = _ordered([tuple(dict.fromkeys(_resolve(f, data) for f in t))
                      for t in formula.terms])
    factors = list(dict.fromkeys(f for t in terms for f in t))
    with np.errstate(all="ignore"):
        values: dict[Factor, Floats | pd.Series] = {
            f: _evaluate(f.arith, data) if f.kind == "num" else data[f.column] for f in factors}
        y = _evaluate(outcome.arith, data)
    keep = np.isfinite(y)
    for v in values.values():
        keep &= ~pd.isna(v).to_numpy() if isinstance(v, pd.Series) else np.isfinite(v)
    if not keep.any():
        raise BadInput(f"regression formula {formula.text[:80]!r}: no event has a value for "
                       "every variable it uses")
    values = {f: v[keep] for f, v in values.items()}
    columns: dict[str, Floats] = {}
    for term, coding in zip(terms, _codings(formula.text, terms), strict=True):
        if term == ():
            columns["Intercept"] = np.ones(int(keep.sum()))
            continue
        parts = [_factor_columns(f, coding.get(f, False), values[f]) for f in term]
        for combo in itertools.product(*parts[::-1]):  # the first factor varies fastest
            pieces = combo[::-1]
            columns[":".join(name for name, _ in pieces)] = np.prod(
                [col for _, col in pieces], axis=0)
    X = pd.DataFrame(columns, index=data.index[keep])
    return y[keep], X
