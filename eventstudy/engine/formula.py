"""Regression formulas as data: ``car ~ runup + C(tranche) + np.log(offer_price)`` is parsed by
an allow-list grammar and the design matrix is built from the parse tree with numpy and pandas.
No part of the text is ever handed to an evaluator (patsy, ``eval``, formulaic): a name is a
column or an error, a function is one of ``FUNCTIONS`` or an error.

Grammar (the term algebra of Wilkinson & Rogers 1973 as patsy writes it, a subset)::

    formula := outcome '~' terms          outcome: one numeric factor
    terms   := product (('+' | '-') product)*
    product := inter ('*' inter)*         a*b = a + b + a:b
    inter   := atom (':' atom)*
    atom    := '(' terms ')' | '1' | '0' | factor
    factor  := NAME | 'C(' NAME ')' | FUNC '(' arith ')' | 'I(' arith ')'
    arith   := numbers, column names, FUNC(arith), + - * / ** and parentheses

A constant is included unless ``- 1`` or ``+ 0`` removes it. Terms are ordered and coded as
patsy orders and codes them: terms without a numeric factor first, then grouped by their numeric
factors; a categorical factor gets treatment contrasts against its first sorted level when the
lower-order term is already in the model, full dummy coding otherwise. An interaction of two
categorical factors needs both main effects (``C(a)*C(b)``). Rows with a missing or non-finite
value in any factor are left out."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from eventstudy.errors import BadInput

FUNCTIONS = {"log": np.log, "log1p": np.log1p, "log10": np.log10, "exp": np.exp,
             "sqrt": np.sqrt, "abs": np.abs}
MAX_LENGTH = 1000
MAX_DEPTH = 40
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)"
                    r"|(?P<op>\*\*|[~+\-*/:()]))")

Arith = tuple[Any, ...]  # ("num", x) | ("col", name) | ("neg", a) | ("fn", f, a) | (op, a, b)


@dataclass(frozen=True)
class Factor:
    """One factor of a term: ``kind`` "num" (``arith`` evaluated on columns) or "cat" (the
    levels of ``column``); ``name`` is its label in the coefficient names."""

    kind: str
    name: str
    arith: Arith = ()
    column: str = ""


Term = tuple[Factor, ...]  # () is the constant


@dataclass
class Formula:
    """A parsed formula: the outcome factor and the right-hand terms in the order written."""

    text: str
    outcome: Factor
    terms: list[Term]

    def columns(self) -> set[str]:
        return _names(self.outcome) | {n for t in self.terms for f in t for n in _names(f)}


def _names(factor: Factor) -> set[str]:
    if factor.kind == "cat":
        return {factor.column}
    return set(_arith_names(factor.arith))


def _arith_names(node: Arith) -> list[str]:
    if node[0] == "col":
        return [node[1]]
    return [n for part in node[1:] if isinstance(part, tuple) for n in _arith_names(part)]


def bad_formula(text: str, why: str) -> BadInput:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return BadInput(f"bad regression formula {shown!r}: {why}")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    stripped = text.rstrip()
    while at < len(stripped):
        match = _TOKEN.match(stripped, at)
        if match is None or match.end() == at:
            raise bad_formula(text, f"unexpected {stripped[at:at + 10].strip()[:1]!r} at character "
                             f"{at + 1} (allowed: column names, C(), I(), "
                             f"{', '.join(FUNCTIONS)}, + - * / ** : ~ and parentheses)")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


class _Parser:
    """Recursive descent over the tokens; builds terms and arithmetic trees, evaluates nothing."""

    def __init__(self, text: str) -> None:
        self.text, self.toks, self.at, self.depth = text, _tokens(text), 0, 0

    def peek(self) -> str | None:
        return self.toks[self.at][1] if self.at < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.toks):
            expected = f" (expected {want!r})" if want else ""
            raise bad_formula(self.text, f"it ends too early{expected}")
        tok = self.toks[self.at]
        if want is not None and tok[1] != want:
            raise bad_formula(self.text, f"expected {want!r}, found {tok[1]!r}")
        self.at += 1
        return tok

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise bad_formula(self.text, f"nested more than {MAX_DEPTH} deep")

    # -- terms --------------------------------------------------------------------------
    def terms(self, top: bool = False) -> list[Term | None]:
        """The terms of a sum; at the top the constant is there unless removed (None in a
        list is the '0' of '+ 0')."""
        self.nest()
        out: list[Term | None] = [()] if top else []
        op = self.take()[1] if self.peek() in ("+", "-") else "+"
        while True:
            right = self.product()
            if None in right and not top:
                raise bad_formula(self.text, "write '+ 0' or '- 1' outside parentheses")
            out = _plus(out, right) if op == "+" else _minus(out, right)
            if self.peek() not in ("+", "-"):
                break
            op = self.take()[1]
        self.depth -= 1
        return out

    def product(self) -> list[Term | None]:
        out = self.inter()
        while self.peek() == "*":
            self.take()
            right = self.inter()
            out = _plus(_plus(out, right), _interact(self.text, out, right))
        return out

    def inter(self) -> list[Term | None]:
        out = self.atom()
        while self.peek() == ":":
            self.take()
            out = _interact(self.text, out, self.atom())
        return out

    def atom(self) -> list[Term | None]:
        kind, value = self.toks[self.at] if self.at < len(self.toks) else ("", "")
        if value == "(":
            self.take()
            out = self.terms()
            self.take(")")
            return out
        if kind == "num" and value in ("0", "1"):
            self.take()
            return [None] if value == "0" else [()]
        return [(self.factor(),)]

    def factor(self) -> Factor:
        kind, value = self.take()
        if kind != "name":
            raise bad_formula(self.text, f"expected a column name, found {value!r}")
        if self.peek() != "(":
            if "." in value:
                raise bad_formula(self.text, f"{value!r} is not a column name")
            return Factor("auto", value, ("col", value))
        self.take("(")
        if value == "C":
            kind, column = self.take()
            if kind != "name" or "." in column:
                raise bad_formula(self.text, "C() takes one column name")
            self.take(")")
            return Factor("cat", f"C({column})", column=column)
        func = _function(self.text, value)
        arg = self.arith()
        self.take(")")
        if func == "I":
            return Factor("num", f"I({_show(arg)})", arg)
        return Factor("num", f"{value}({_show(arg)})", ("fn", func, arg))

    # -- arithmetic inside I() and functions --------------------------------------------
    def arith(self) -> Arith:
        self.nest()
        out = self.arith_term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            out = (op, out, self.arith_term())
        self.depth -= 1
        return out

    def arith_term(self) -> Arith:
        out = self.arith_unary()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            out = (op, out, self.arith_unary())
        return out

    def arith_unary(self) -> Arith:
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            self.nest()
            inner = self.arith_unary()
            self.depth -= 1
            return ("neg", inner) if op == "-" else inner
        base = self.arith_atom()
        if self.peek() == "**":
            self.take()
            self.nest()
            exponent = self.arith_unary()
            self.depth -= 1
            return ("**", base, exponent)
        return base

    def arith_atom(self) -> Arith:
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if value == "(":
            out = self.arith()
            self.take(")")
            return out
        if kind != "name":
            raise bad_formula(self.text, f"unexpected {value!r}")
        if self.peek() != "(":
            if "." in value:
                raise bad_formula(self.text, f"{value!r} is not a column name")
            return ("col", value)
        self.take("(")
        func = _function(self.text, value)
        if func == "I":
            raise bad_formula(self.text, "I() inside an expression")
        arg = self.arith()
        self.take(")")
        return ("fn", func, arg)


def _function(text: str, name: str) -> str:
    """The allowed function ``name`` stands for (``np.log`` and ``numpy.log`` are ``log``)."""
    module, _, bare = name.rpartition(".")
    if name == "I" or (module in ("", "np", "numpy") and bare in FUNCTIONS):
        return bare
    raise bad_formula(text, f"unknown function {name!r} (allowed: C, I, {', '.join(FUNCTIONS)})")


def _show(node: Arith) -> str:
    if node[0] == "num":
        return repr(int(node[1])) if float(node[1]).is_integer() else repr(node[1])
    if node[0] == "col":
        return str(node[1])
    if node[0] == "neg":
        return f"-{_show_inner(node[1])}"
    if node[0] == "fn":
        return f"np.{node[1]}({_show(node[2])})"
    return f"{_show_inner(node[1])} {node[0]} {_show_inner(node[2])}"


def _show_inner(node: Arith) -> str:
    return _show(node) if node[0] in ("num", "col", "fn") else f"({_show(node)})"


def _same(a: Term, b: Term) -> bool:
    return frozenset(a) == frozenset(b)


def _plus(left: list[Term | None], right: list[Term | None]) -> list[Term | None]:
    out = list(left)
    for term in right:
        if term is None:  # '+ 0': no constant
            out = [t for t in out if t != ()]
        elif not any(t is not None and _same(t, term) for t in out):
            out.append(term)
    return out


def _minus(left: list[Term | None], right: list[Term | None]) -> list[Term | None]:
    out = list(left)
    for term in right:
        if term is None:  # '- 0': keep the constant
            out = out if () in out else [(), *out]
        else:
            out = [t for t in out if t is None or not _same(t, term)]
    return out


def _interact(text: str, left: list[Term | None], right: list[Term | None]
              ) -> list[Term | None]:
    if None in left or None in right:
        raise bad_formula(text, "0 cannot be part of an interaction")
    out: list[Term | None] = []
    for a, b in itertools.product(left, right):
        assert a is not None and b is not None
        term = tuple(dict.fromkeys((*a, *b)))
        if not any(t is not None and _same(t, term) for t in out):
            out.append(term)
    return out


def parse_formula(text: str) -> Formula:
    """The parse tree of ``text`` (BadInput naming the problem when it is not in the grammar)."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise BadInput(f"a regression formula is text of at most {MAX_LENGTH} characters")
    if "~" not in text:
        raise bad_formula(text, "it needs 'outcome ~ terms'")
    parser = _Parser(text)
    outcome = parser.factor()
    parser.take("~")
    if parser.peek() is None:
        raise bad_formula(text, "no term after '~'")
    found = parser.terms(top=True)
    if parser.peek() is not None:
        raise bad_formula(text, f"unexpected {parser.peek()!r}")
    terms: list[Term] = [t for t in found if t is not None]
    terms.sort(key=lambda t: t != ())  # the constant first
    if not terms:
        raise bad_formula(text, "no term on the right-hand side")
    return Formula(text=text, outcome=outcome, terms=terms)
