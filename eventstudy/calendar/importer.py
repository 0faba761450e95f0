"""Reading a listings table a user exports (CSV or XLSX: ticker, name, listing date, offer
price, board; optional source, issuer type, category, status, currency, sector) into calendar
entries for ``eventstudy listings import``. Only rows that parse are returned as entries; the
others come back with their row number and the reason."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventstudy.calendar.listings import parse_listing
from eventstudy.errors import BadInput, ConfigError

ALIASES = {"date": "listing_date", "listed": "listing_date", "listing": "listing_date",
           "price": "offer_price", "ipo_price": "offer_price", "offer": "offer_price",
           "company": "name", "code": "ticker", "stock_code": "ticker", "type": "issuer_type"}
COLUMNS = ("ticker", "name", "listing_date", "offer_price", "board", "source", "issuer_type",
           "category", "status", "currency", "sector", "notes")
REQUIRED = ("ticker", "listing_date")


@dataclass
class TableRows:
    """Entries built from a table, and the rows that could not be used: (row label, reason)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _column(name: object) -> str:
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def read_table(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or XLSX file as dicts of normalised column names (blank cells left
    out); BadInput for a file that is not a readable table."""
    import pandas as pd

    if not path.is_file():
        raise BadInput(f"no such file (or not a regular file): {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif suffix in (".xlsx", ".xlsm"):
            return _xlsx_rows(path)
        else:
            raise BadInput(f"{path}: a listings table must be .csv or .xlsx")
    except (ValueError, OSError, KeyError, pd.errors.ParserError) as exc:
        if isinstance(exc, BadInput):
            raise
        raise BadInput(f"{path}: not a readable {suffix[1:]} table "
                       f"({type(exc).__name__})") from None
    frame.columns = [_column(c) for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise BadInput(f"{path}: missing column {missing[0]!r} (need ticker, listing date; "
                       f"have {', '.join(map(str, frame.columns))})")
    return [{k: v for k, v in row.items() if k in COLUMNS and not _blank(v)}
            for row in frame.to_dict("records")]


def _xlsx_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of an xlsx table read by ``xlsxsafe`` (bounded, no DTD); a row with a formula
    cell lacking its saved value carries the reason under ``PROBLEM``."""
    from eventstudy.calendar.xlsxsafe import read_xlsx

    header, rows, problems = read_xlsx(path)
    names = [_column(c) for c in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise BadInput(f"{path}: missing column {missing[0]!r} (need ticker, listing date; "
                       f"have {', '.join(n for n in names if n != 'none')})")
    out = []
    for values in rows:
        row = {k: v for k, v in zip(names, values, strict=False)
               if k in COLUMNS and not _blank(v)}
        if any(not _blank(v) for v in values):
            out.append(row)
    for problem in problems:  # "row N: ..." (N counts the header as row 1)
        number = int(problem.split(":")[0].removeprefix("row "))
        if 2 <= number <= len(rows) + 1:
            index = sum(1 for v in rows[:number - 2] if any(not _blank(x) for x in v))
            if index < len(out):
                out[index][PROBLEM] = problem.split(": ", 1)[1]
    return out


PROBLEM = "!problem"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip()) or str(value) == "NaT"


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return value  # parse_listing names it
    return value


EXCEL_EPOCH = "1899-12-30"  # day 0 of Excel's 1900 date system (serial 45720 = 2025-03-04)


def excel_serial(value: Any) -> Any:
    """A listing date given as a number (a spreadsheet cell formatted as a number, or its text
    in a CSV) is an Excel serial date: days since 1899-12-30. Anything else is returned as is."""
    import pandas as pd

    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 5:
        number = float(value.strip())
    if number is None or not math.isfinite(number) or not 1 <= number < 100_000:
        return value
    return (pd.Timestamp(EXCEL_EPOCH) + pd.Timedelta(days=int(number))).date()


def entry_of(row: dict[str, Any], source: str | None) -> dict[str, Any]:
    """A calendar entry for one table row: the standard tranches (Chapter 18C: those of its
    category; with an issuer type: the calendar's default for that type)."""
    if PROBLEM in row:
        raise ConfigError(str(row[PROBLEM]))
    entry = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
    raw = entry["ticker"]
    if isinstance(raw, int | float) or (isinstance(raw, str) and raw.isdigit()):
        number = float(raw)
        code = f"{int(number):04d}.HK" if number.is_integer() and number > 0 else "0700.HK"
        raise ConfigError(f"ticker {raw!s} is a bare number: write the market too (e.g. "
                          f"{code} for Hong Kong)")
    entry["listing_date"] = excel_serial(entry["listing_date"])
    if hasattr(entry["listing_date"], "date") and not isinstance(entry["listing_date"], str):
        entry["listing_date"] = entry["listing_date"].date()
    entry["ticker"] = str(entry["ticker"])
    entry.setdefault("source", source)
    if entry.get("offer_price") is not None:
        entry["offer_price"] = price = _number(entry["offer_price"])
        if isinstance(price, int | float) and not math.isfinite(price):
            raise ConfigError(f"offer price {price} is not a finite number")
    category = entry.get("category")
    entry.setdefault("board", "Chapter 18C" if category else "Main Board")
    if "issuer_type" not in entry:
        entry["tranches"] = f"18c-{category}" if category else "standard"
    return {k: v for k, v in entry.items() if v is not None}


def table_entries(path: str | Path, source: str | None = None) -> TableRows:
    """Entries of every usable row of the table ``path``; a row without a source (no
    ``source`` column value and no ``source`` given) is rejected: a calendar entry needs one."""
    path = Path(path)
    out = TableRows()
    seen: dict[str, str] = {}
    rows = read_table(path)
    if not source and not any("source" in row for row in rows):
        raise BadInput(f"{path}: no source column: give --source (every calendar entry needs "
                       "the source of its date)")
    for number, row in enumerate(rows, start=2):
        label = f"row {number} ({row.get('ticker', '?')})"
        try:
            entry = entry_of(row, source)
            if not entry.get("source"):
                raise ConfigError("no source (add a source column or give --source)")
            listing = parse_listing(entry, label)
        except (BadInput, KeyError) as exc:
            text = str(exc)
            out.rejected.append((label, text.removeprefix(f"{label}: ")))
            continue
        if listing.ticker in seen:
            out.rejected.append((label, f"{listing.ticker} repeats {seen[listing.ticker]}"))
            continue
        seen[listing.ticker] = label
        out.entries.append(entry)
        out.rows.append(label)
    return out
