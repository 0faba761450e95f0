"""``Summary``: what ``result.summary()`` returns, as statsmodels' ``Summary`` is: a sequence of
parts (the header, lines of text, tables) rendered as text (``str()``, what the CLI prints), HTML
(``as_html()``, ``_repr_html_`` in a notebook) or LaTeX (``as_latex()``, booktabs). Every string of
a user (a ticker's name, a group, a note) is escaped in HTML and LaTeX: data, never markup."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from eventstudy.results.latex import latex_escape

FRAME_WIDTH, FRAME_COLUMNS, CELL_WIDTH = 200, 30, 60


@dataclass(frozen=True)
class Header:
    """The statsmodels-like header: a title and (label, value) fields; ``text`` as printed."""

    title: str
    fields: tuple[tuple[str, str], ...]
    text: str


@dataclass(frozen=True, eq=False)
class Table:
    """A table of the summary; ``cell_width`` caps a printed cell (None: pandas' default)."""

    frame: pd.DataFrame
    cell_width: int | None = CELL_WIDTH

    def text(self) -> str:
        """The table as the CLI prints it (``DataFrame.to_string``, 200 characters wide)."""
        width: list[Any] = ([] if self.cell_width is None
                            else ["display.max_colwidth", self.cell_width])
        with pd.option_context("display.width", FRAME_WIDTH, "display.max_columns",
                               FRAME_COLUMNS, *width):
            return self.frame.to_string()


Part = Header | Table | str


def frame_text(frame: pd.DataFrame) -> str:
    """A summary table's text (``Table(frame).text()``)."""
    return Table(frame).text()


@dataclass(frozen=True, eq=False)
class Summary:
    """A study's summary: ``str()`` / ``as_text()`` the text the CLI prints, ``as_html()`` and
    ``as_latex()`` the same content as HTML and LaTeX."""

    parts: tuple[Part, ...]

    def as_text(self) -> str:
        """The text the CLI prints."""
        return "\n".join(_text(p) for p in self.parts)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def as_html(self) -> str:
        """An HTML fragment: the header as a table, text lines as paragraphs (several lines as
        preformatted text), tables as HTML tables; every string escaped."""
        out = ['<div class="eventstudy-summary">']
        out += [_html(p) for p in self.parts if not (isinstance(p, str) and not p.strip())]
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()

    def as_latex(self) -> str:
        """A LaTeX fragment: the header and every table as a booktabs ``tabular``
        (``\\usepackage{booktabs}``), text lines as paragraphs; every string escaped."""
        return "\n".join(_latex(p) for p in self.parts if not (isinstance(p, str)
                                                              and not p.strip()))


def _text(part: Part) -> str:
    if isinstance(part, Header):
        return part.text
    if isinstance(part, Table):
        return part.text()
    return part


def _html(part: Part) -> str:
    if isinstance(part, Header):
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in part.fields)
        return (f"<table class=\"eventstudy-header\"><caption>{html.escape(part.title)}"
                f"</caption>{rows}</table>")
    if isinstance(part, Table):
        return part.frame.to_html(escape=True, na_rep="", border=0)
    if "\n" in part:
        return f"<pre>{html.escape(part)}</pre>"
    return f"<p>{html.escape(part)}</p>"


def _latex(part: Part) -> str:
    if isinstance(part, Header):
        return (f"\\paragraph{{{latex_escape(part.title)}}}\n"
                + _tabular(["", ""], [list(f) for f in part.fields], rules=False))
    if isinstance(part, Table):
        frame = part.frame
        header = [str(frame.index.name or ""), *[str(c) for c in frame.columns]]
        rows = [[str(i), *[_cell(v) for v in row]]
                for i, row in zip(frame.index, frame.itertuples(index=False), strict=True)]
        return _tabular(header, rows)
    return "\\par\n".join(latex_escape(line) for line in part.splitlines()) + "\\par"


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _tabular(header: list[str], rows: list[list[str]], rules: bool = True) -> str:
    cells = [" & ".join(latex_escape(c) for c in row) + r" \\" for row in rows]
    top = [r"\toprule", " & ".join(latex_escape(c) for c in header) + r" \\", r"\midrule"]
    body = [*top, *cells, r"\bottomrule"] if rules else cells
    return "\n".join([f"\\begin{{tabular}}{{{'l' * len(header)}}}", *body, r"\end{tabular}",
                      ""])
