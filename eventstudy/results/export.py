"""Every table of a study, exported: CSV files (always, in a report folder), one Excel workbook
(one sheet per table, openpyxl) and LaTeX tables (``eventstudy.results.latex``).

Files are flat in one folder (``<table>.csv``, ``<table>.tex``, ``tables.xlsx``), as a report
folder needs. Writes are atomic (``eventstudy.fileio``) and never replace a file eventstudy did
not write: ``export(folder)`` keeps a manifest (``.eventstudy-export``: file -> SHA-256 of what it
wrote) and overwrites a file only if it is unchanged since, if a report folder's
``.eventstudy-report`` marker lists it, or with ``force``; ``to_excel(path)`` refuses an existing
file unless ``force``."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput
from eventstudy.fileio import atomic_write, atomic_write_bytes, atomic_write_text
from eventstudy.formatting import csv_text
from eventstudy.results.data import StudyData
from eventstudy.results.latex import LATEX_TABLES, latex_table
from eventstudy.results.tables import study_tables

FORMATS = ("csv", "xlsx", "latex")
MANIFEST = ".eventstudy-export"
REPORT_MARKER = ".eventstudy-report"
WORKBOOK = "tables.xlsx"

SHEET_NAMES = {"abnormal_returns": "AR", "car": "CAR", "caar": "CAAR", "bhar": "BHAR"}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(folder: Path) -> dict[str, str] | None:
    """What eventstudy wrote into ``folder`` (file -> SHA-256); None if the manifest is there
    but not one eventstudy wrote."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        return None
    return {str(k): v for k, v in doc.items()}


def report_files(folder: Path) -> set[str] | None:
    """The files a report folder's ``.eventstudy-report`` marker lists as written by a run (the
    marker ``eventstudy.report`` writes), or None if ``folder`` has no such marker."""
    try:
        doc = json.loads((folder / REPORT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) and doc.get("tool") == "eventstudy" \
        else None
    return {f for f in files if isinstance(f, str)} if isinstance(files, list) else None


def _refuse_foreign(folder: Path, names: Iterable[str], force: bool) -> None:
    """BadInput if writing ``names`` into ``folder`` would replace a file eventstudy did not
    write (or that was changed since): the user's files are never overwritten."""
    if force:
        return
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{folder} is a file, not a folder")
    ours = _manifest(folder)
    if ours is None:
        raise BadInput(f"{folder / MANIFEST} was not written by eventstudy: not overwriting it "
                       "(use force=True / --force)")
    report = report_files(folder) or set()
    for name in names:
        path = folder / name
        if name in report and path.is_file() and not path.is_symlink():
            continue
        if path.exists() and (not path.is_file() or ours.get(name) != _digest(path)):
            raise BadInput(f"{path} exists and was not written by eventstudy (or was changed "
                           "since): not overwriting it (use force=True / --force)")


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return csv_text(frame).encode("utf-8")


def _cell(value: Any) -> Any:
    """A value openpyxl writes as data: NaN/NaT -> empty, numpy -> python, categories -> text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table written to ``path`` (no checks: see ``to_excel``): a frozen header
    row, columns wide enough for their header and values, dates as Excel dates, numbers with a
    number format by kind (``number_format``). Strings are cells of type text, so a value such
    as ``=1+1`` from a user's events file stays data, never a formula."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    book.properties.creator = "eventstudy"
    for name, frame in tables.items():
        sheet = book.create_sheet(SHEET_NAMES.get(name, name)[:31])
        frame = with_dates(frame)
        sheet.append([str(c) for c in frame.columns])
        for values in frame.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in values])
        for row in sheet.iter_rows(min_row=1):
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula
        _format_sheet(sheet, frame)
        sheet.freeze_panes = "A2"
    book.save(path)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def with_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text column whose every value is a date (``YYYY-MM-DD`` text or a
    date object, e.g. an events file's dates) as a datetime column: Excel dates, not text."""
    out = frame
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        present = values.dropna()
        if not (len(present) and all(_is_date(v) for v in present)):
            continue
        try:
            dates = pd.to_datetime(values.astype(object).map(
                lambda v: v.strip() if isinstance(v, str) else v), format="mixed")
        except (ValueError, OverflowError):  # e.g. 2022-13-45: stays text
            continue
        out = out.copy() if out is frame else out
        out[column] = dates
    return out


def _is_date(value: Any) -> bool:
    if isinstance(value, str):
        return ISO_DATE.fullmatch(value.strip()) is not None
    return isinstance(value, date | datetime) and not isinstance(value, bool)


DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
WIDTH_ROWS = 1000  # column widths from the header and the first rows
MAX_WIDTH = 60


def number_format(column: str, values: pd.Series) -> str | None:
    """The Excel number format of a column: dates, integers, p-values (4 decimals), large
    numbers (volumes, prices: 2 decimals with thousands separators), other numbers (returns,
    statistics: 6 decimals); None for text. The values are stored in full either way."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dropna()
        return DATE_FORMAT if (stamps == stamps.dt.normalize()).all() else DATETIME_FORMAT
    if pd.api.types.is_integer_dtype(values):
        return "0"
    if not pd.api.types.is_float_dtype(values):
        return None
    if column == "p" or column.startswith("p_") or column.endswith(("_p", "pvalue")):
        return "0.0000"
    finite = values[np.isfinite(values)]
    if len(finite) and (finite == finite.round()).all():
        return "0"  # counts stored as floats (a missing one makes the column float)
    return "#,##0.00" if len(finite) and finite.abs().max() >= 1000 else "0.000000"


def _format_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    from openpyxl.utils import get_column_letter

    for i, column in enumerate(frame.columns, start=1):
        values = frame[column]
        fmt = number_format(str(column), values)
        letter = get_column_letter(i)
        if fmt is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                if cell.value is not None and not isinstance(cell.value, str):
                    cell.number_format = fmt
        shown = values.head(WIDTH_ROWS)
        longest = (len(fmt) if fmt in (DATE_FORMAT, DATETIME_FORMAT)
                   else 12 if fmt is not None
                   else max((len(str(v)) for v in shown if not _missing(v)), default=0))
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(len(str(column)),
                                                                   longest) + 2)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def to_excel(result: StudyData, path: str | Path, *, force: bool = False) -> Path:
    """Every table of ``result`` as one Excel workbook at ``path``, one sheet per table; an
    existing file is not overwritten unless ``force``."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BadInput(f"{path}: an Excel workbook needs the .xlsx suffix")
    if path.exists() and not force:
        raise BadInput(f"{path} exists: not overwriting it (use force=True / --force)")
    tables = study_tables(result)
    atomic_write(path, lambda tmp: write_workbook(tables, tmp))
    return path


def table_files(result: StudyData, formats: Sequence[str]) -> dict[str, bytes]:
    """Relative file name -> content of every export in ``formats`` (CSV always)."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise BadInput(f"unknown export format {unknown[0]!r} (use {', '.join(FORMATS)})")
    tables = study_tables(result)
    files = {f"{name}.csv": _csv_bytes(frame) for name, frame in tables.items()}
    if "latex" in formats:
        for name in [n for n in tables if n in LATEX_TABLES or n.startswith("regression_")]:
            text = latex_table(result, name, tables[name])
            files[f"{name}.tex"] = text.encode("utf-8")
    return files


def write_tables(result: StudyData, folder: Path, formats: Sequence[str] = ("csv",),
                 files: dict[str, bytes] | None = None) -> list[str]:
    """Write the exports into ``folder``, a folder eventstudy is building (a report folder in
    its temporary place): no overwrite checks. Returns the relative file names."""
    files = table_files(result, formats) if files is None else files
    for name, content in files.items():
        atomic_write_bytes(folder / name, content)
    names = list(files)
    if "xlsx" in formats:
        tables = study_tables(result)
        atomic_write(folder / WORKBOOK, lambda tmp: write_workbook(tables, tmp))
        names.append(WORKBOOK)
    return names


def export(result: StudyData, folder: str | Path, formats: Sequence[str] = ("csv",),
           *, force: bool = False) -> list[Path]:
    """Every table of ``result`` into ``folder``: ``<table>.csv`` always, ``tables.xlsx`` with
    ``"xlsx"``, ``<table>.tex`` with ``"latex"``. Refuses (before writing anything) to replace a
    file eventstudy did not write, unless ``force``. Returns the paths written. In a report
    folder the manifest is not written (the report's marker stays the folder's one list)."""
    folder = Path(folder)
    files = table_files(result, formats)
    names = [*files, *([WORKBOOK] if "xlsx" in formats else [])]
    _refuse_foreign(folder, names, force)
    written = write_tables(result, folder, formats, files)
    if report_files(folder) is not None:
        return [folder / name for name in written]
    ours = _manifest(folder) or {}
    ours.update({name: _digest(folder / name) for name in written})
    atomic_write_text(folder / MANIFEST, json.dumps(ours, indent=1, sort_keys=True))
    return [folder / name for name in written]
