"""Reading an XLSX listings table without trusting it: the zip's uncompressed size, its member
count and the sheets' row count are bounded before openpyxl parses anything (a 600 KB zip bomb
or a million-row sheet is refused at once), and no XML part may declare a DTD (billion laughs,
external entities). Cells are read in openpyxl's read-only mode; a formula cell without the
value a spreadsheet saves beside it is reported, never read as blank."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from eventstudy.errors import BadInput

MAX_UNCOMPRESSED = 64 * 2**20  # bytes, all members together
MAX_MEMBERS = 1000
MAX_ROWS = 20_000  # every listing of HKEX and the US exchanges fits
_CHUNK = 2**20
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


def _scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> tuple[int, int]:
    """(bytes read, rows) of one member, read in chunks; BadInput on a DTD or UTF-16 XML."""
    size, rows, tail = 0, 0, b""
    is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
    with zf.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > budget:
                raise BadInput(f"uncompresses to more than {MAX_UNCOMPRESSED // 2**20} MB")
            if not is_xml:
                continue
            if size == len(chunk) and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise BadInput(f"{info.filename} is not UTF-8 XML")
            buf = tail + chunk
            cut = buf.rfind(b"<")
            done, tail = (buf, b"") if cut < 0 else (buf[:cut], buf[cut:])
            if any(d in done for d in _DTD) or b"\x00" in done:
                raise BadInput(f"{info.filename} declares a DTD or entities (not allowed)")
            rows += len(_ROW.findall(done))
    if tail and (any(d in tail for d in _DTD) or b"\x00" in tail):
        raise BadInput(f"{info.filename} declares a DTD or entities (not allowed)")
    rows += len(_ROW.findall(tail + b" "))
    return size, rows


def check_xlsx(path: Path) -> None:
    """BadInput (one line naming ``path``) unless ``path`` is a zip of at most ``MAX_MEMBERS``
    members uncompressing to at most ``MAX_UNCOMPRESSED`` bytes, without DTDs, whose sheets
    hold at most ``MAX_ROWS`` rows. Reads each member once, in chunks."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise BadInput(f"has {len(infos)} parts (at most {MAX_MEMBERS})")
            if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
                raise BadInput(f"uncompresses to more than {MAX_UNCOMPRESSED // 2**20} MB")
            used = 0
            for info in infos:
                size, rows = _scan(zf, info, MAX_UNCOMPRESSED - used)
                used += size
                if info.filename.startswith("xl/worksheets/") and rows > MAX_ROWS:
                    raise BadInput(f"has more than {MAX_ROWS:,} rows in one sheet")
    except BadInput as exc:
        raise BadInput(f"{path}: not imported: the workbook {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise BadInput(f"{path}: not a readable xlsx table ({type(exc).__name__})") from None


def read_xlsx(path: Path) -> tuple[list[Any], list[list[Any]], list[str]]:
    """(header, rows, problems) of the first sheet of ``path`` after :func:`check_xlsx`.
    A formula cell without a saved value is None in its row and named in ``problems``
    (``"row 3: cell C3 is a formula without a saved value"``)."""
    from openpyxl import load_workbook

    check_xlsx(path)
    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise BadInput(f"{path}: not a readable xlsx table ({type(exc).__name__})") from None
    try:
        rows = [list(r) for r in values.worksheets[0].iter_rows(values_only=True)]
        problems = []
        for number, cells in enumerate(formulas.worksheets[0].iter_rows(), start=1):
            for cell in cells:
                col = getattr(cell, "column", None)
                if getattr(cell, "data_type", None) == "f" and col is not None and \
                        number <= len(rows) and col <= len(rows[number - 1]) and \
                        rows[number - 1][col - 1] is None:
                    problems.append(f"row {number}: cell {cell.coordinate} is a formula "
                                    "without a saved value (save it in a spreadsheet, or type "
                                    "the value)")
    finally:
        values.close()
        formulas.close()
    if not rows:
        raise BadInput(f"{path}: the first sheet is empty")
    return rows[0], rows[1:], problems
