"""The self-contained HTML report: the ``Document`` rendered by a jinja2 template (autoescape on)
with real tables from the DataFrames and the figure files this run wrote embedded by name."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from eventstudy.report.document import Bullets, Document, Image, Section, Table, text_frame
from eventstudy.report.escape import clean

MIME = {".png": "image/png", ".svg": "image/svg+xml"}


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("eventstudy.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def html_report(doc: Document, written: dict[str, Path]) -> str:
    """``doc`` as one HTML page; ``written`` maps each figure name to the file this run wrote
    (an ``Image`` not in it is left out: nothing else is ever read)."""
    template = _environment().get_template("report.html.j2")
    ids: dict[str, int] = {}
    headline = [_block(b, 1, written, ids) for b in doc.headline]
    sections = [_section(s, 2, written, ids) for s in doc.sections]
    return str(template.render(title=clean(doc.title), sections=sections, headline=headline,
                               toc=[(s["title"], s["anchor"]) for s in sections]))


def _section(section: Section, level: int, written: dict[str, Path],
             ids: dict[str, int]) -> dict[str, Any]:
    anchor = section.anchor
    ids[anchor] = ids.get(anchor, 0) + 1
    if ids[anchor] > 1:
        anchor = f"{anchor}-{ids[anchor]}"
    return {"title": clean(section.title), "anchor": anchor, "level": min(level, 6),
            "folded": section.folded,
            "blocks": [_block(b, level, written, ids) for b in section.blocks]}


def _block(block: Any, level: int, written: dict[str, Path],
           ids: dict[str, int]) -> dict[str, Any]:
    if isinstance(block, Section):
        return {"kind": "section", **_section(block, level + 1, written, ids)}
    if isinstance(block, Bullets):
        return {"kind": "bullets", "items": [clean(i) for i in block.items]}
    if isinstance(block, Table):
        return {"kind": "table", "caption": clean(block.caption), "html": _table(block),
                "wrap": block.wrap}
    if isinstance(block, Image):
        return {"kind": "image", **_image(block, written)}
    return {"kind": "text", "text": clean(block)}


def _table(table: Table) -> Markup:
    """A real HTML table, every cell and label escaped; the cells of a text column (most of its
    cells start with a letter) carry class ``text`` (left-aligned; numbers align right)."""
    if table.frame.empty:
        return Markup("<p>(none)</p>")
    frame, index = text_frame(table, clean), table.index
    if index and frame.index.name:  # the index label in the header row, not a row of its own
        frame, index = frame.reset_index(), False
    text = [_is_text(frame.iloc[:, i]) for i in range(len(frame.columns))]
    rows = [f'<table class="{"data" if table.header else "data card"}">']
    if table.header:
        labels = ([("", False)] if index else []) + list(zip(map(str, frame.columns), text,
                                                              strict=True))
        rows.append("<thead><tr>" + "".join(f'<th class="text">{escape(c)}</th>' if t
                                            else f"<th>{escape(c)}</th>" for c, t in labels)
                    + "</tr></thead>")
    rows.append("<tbody>")
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None),
                             strict=True):
        head = f"<th>{escape(str(label))}</th>" if index else ""
        cells = "".join(f'<td class="text">{escape(str(v))}</td>' if t
                        else f"<td>{escape(str(v))}</td>" for v, t in zip(values, text,
                                                                          strict=True))
        rows.append(f"<tr>{head}{cells}</tr>")
    rows.append("</tbody></table>")
    return Markup("\n".join(rows))  # noqa: S704 - every piece escaped above


def _is_text(column: pd.Series) -> bool:
    cells = [str(v).strip() for v in column if str(v).strip()]
    return bool(cells) and sum(c[0].isalpha() for c in cells) * 2 > len(cells)


def _image(image: Image, written: dict[str, Path]) -> dict[str, Any]:
    path = written.get(image.name)
    out = {"title": clean(image.title), "name": clean(image.name), "src": "", "link": ""}
    if path is None:
        return out
    mime = MIME.get(path.suffix.lower())
    if mime is None:  # PDF: linked beside the report, browsers do not show it in <img>
        out["link"] = path.name
    else:
        out["src"] = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
    return out
