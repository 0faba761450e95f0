"""The self-contained HTML report: the markdown report as HTML, with the figures embedded."""

from __future__ import annotations

import base64
import html
from pathlib import Path


def html_report(markdown_text: str, folder: Path) -> str:
    """A self-contained HTML page: the markdown rendered simply, images embedded as base64."""
    body: list[str] = []
    table: list[str] = []

    def flush_table() -> None:
        if not table:
            return
        rows = [r.strip().strip("|").split("|") for r in table if not set(r) <= set("|-: ")]
        cells = ["<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{html.escape(c.strip())}"
                                  f"</{'th' if i == 0 else 'td'}>" for c in row) + "</tr>"
                 for i, row in enumerate(rows)]
        body.append("<table>" + "".join(cells) + "</table>")
        table.clear()

    code: list[str] | None = None
    for line in markdown_text.splitlines():
        if line.startswith("```"):
            if code is None:
                code = []
            else:
                body.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("!["):
            name = line[line.rindex("](") + 2:line.rindex(")")]
            data = base64.b64encode((folder / name).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush_table()
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
             "tr:first-child th,tr:first-child td{background:#eef2f7;font-weight:600}"
             "img{max-width:100%}pre{background:#f6f8fa;padding:8px;font-size:12px;"
             "overflow-x:auto}")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>eventstudy report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
