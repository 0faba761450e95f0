"""The report as data: sections of paragraphs, bullet lists, tables (DataFrames) and figures, and
its markdown rendering. Every string is text, escaped where it is rendered (``report.escape``);
a figure is a file this run wrote, named by the writer, never a path taken from text."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd

from eventstudy.report.escape import clean, frame_cells, md


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    """A DataFrame shown as a table; ``header=False``: no column labels (a card of label -> value
    rows); ``wrap``: long text cells wrap (else every cell stays on one line)."""

    frame: pd.DataFrame
    index: bool = True
    floatfmt: str = ".4g"
    caption: str = ""
    header: bool = True
    wrap: bool = False


@dataclass
class Image:
    """A figure file of the report folder, written by this run (``name`` has no folder)."""

    name: str
    title: str


@dataclass
class Section:
    """A titled part of the report; a ``folded`` one is shown closed (HTML ``<details>``)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    folded: bool = False

    @property
    def anchor(self) -> str:
        return slug(self.title)


Block = str | Bullets | Table | Image | Section


@dataclass
class Document:
    """A report: its title, the ``headline`` shown first (above the contents), the sections."""

    title: str
    sections: list[Section]
    headline: list[Block] = field(default_factory=list)


def slug(text: str) -> str:
    """An id for a heading: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", clean(text).lower()).strip("-") or "section"


def cell_text(value: Any, floatfmt: str) -> str:
    """A table cell as text: numbers with ``floatfmt``, missing values empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, floatfmt)
    try:
        if pd.api.types.is_integer(value):
            return str(int(value))
        if pd.api.types.is_float(value):
            return cell_text(float(value), floatfmt)
    except (TypeError, ValueError):  # pragma: no cover - exotic scalars
        pass
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return str(value)


def text_frame(table: Table, escape: Any) -> pd.DataFrame:
    """The table's frame with every cell and label as escaped text."""
    frame = table.frame.map(lambda v: cell_text(v, table.floatfmt)) if len(
        table.frame.columns) else table.frame
    frame = frame.copy()
    frame.columns = pd.Index([cell_text(c, table.floatfmt) for c in table.frame.columns])
    frame.index = pd.Index([cell_text(i, table.floatfmt) for i in table.frame.index],
                           name=table.frame.index.name)
    return frame_cells(frame, escape)


def to_markdown(doc: Document) -> str:
    """The document as CommonMark with GitHub tables."""
    lines = [f"# {md(doc.title)}", ""]
    for block in doc.headline:
        _markdown_block(block, 2, lines)
    for section in doc.sections:
        _markdown_section(section, 2, lines)
    return "\n".join(lines).rstrip() + "\n"


def _markdown_section(section: Section, level: int, lines: list[str]) -> None:
    lines += [f"{'#' * min(level, 6)} {md(section.title)}", ""]
    for block in section.blocks:
        _markdown_block(block, level, lines)


def _markdown_block(block: Block, level: int, lines: list[str]) -> None:
    if isinstance(block, Section):
        _markdown_section(block, level + 1, lines)
    elif isinstance(block, str):
        lines += [md(block), ""]
    elif isinstance(block, Bullets):
        lines += [*[f"- {md(item)}" for item in block.items], ""]
    elif isinstance(block, Table):
        lines += _markdown_table(block)
    elif isinstance(block, Image) and block.name.endswith(".pdf"):
        lines += [f"[{md(block.title)}]({quote(block.name)})", ""]
    elif isinstance(block, Image):
        lines += [f"![{md(block.title)}]({quote(block.name)})", ""]


def _markdown_table(table: Table) -> list[str]:
    caption = [md(table.caption), ""] if table.caption else []
    if table.frame.empty:
        return [*caption, "(none)", ""]
    frame = text_frame(table, md)
    if not table.header:
        frame.columns = pd.Index([""] * len(frame.columns))
        frame.index.name = None
    return [*caption, frame.to_markdown(index=table.index, disable_numparse=True), ""]
