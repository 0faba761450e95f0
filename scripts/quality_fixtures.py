"""Write the real-row fixtures of tests/test_quality.py (tests/data/quality/): lines copied
unchanged (header included) from the real files named in tests/data/quality/PROVENANCE.md.

    python scripts/quality_fixtures.py [/work/shared/data]

Only the ^HSI file of ``index_gap/`` leaves one real row out (the class-6 case: an index
without a price on a day the stock traded); nothing is ever changed or made up."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "quality"
HSI = ROOT / "data" / "prices" / "^HSI_1986-12-31_2023-10-20.csv"

# (target, source file in the panel, first date, last date)
SLICES = [
    ("0081.HK.csv", "0081.HK.csv", "2009-04-01", "2009-10-30"),  # class 1: suspension
    ("2607.HK.csv", "2607.HK.csv", "2009-01-02", "2009-03-31"),  # class 2: download start
    ("2233.HK.csv", "2233.HK.csv", "2010-06-01", "2011-01-31"),  # class 3: x100 then x0.14
    ("3709.HK.csv", "3709.HK.csv", "2019-06-05", "2019-06-19"),  # class 3: close > high
    ("0336.HK.csv", "0336.HK.csv", "2022-01-17", "2022-01-28"),  # a real crash: not flagged
    ("0001.HK.csv", "0001.HK.csv", "2020-06-01", "2020-12-31"),  # classes 4 and 5
    ("index_gap/0001.HK.csv", "0001.HK.csv", "2020-06-01", "2020-12-31"),  # class 6
]
HSI_SPANS = [("2009-01-02", "2011-01-31"), ("2020-06-01", "2020-12-31")]
INDEX_GAP_DAY = "2020-11-16"


def _rows(path: Path, spans: list[tuple[str, str]], header: int, leave_out: str = "") -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body = [x for x in lines[header:]
            if any(a <= x[:10] <= b for a, b in spans) and not x.startswith(leave_out or "\0")]
    return "".join(lines[:header] + body)


def main(shared: Path) -> None:
    panel = shared / "prices_hk_panel"
    for target, source, first, last in SLICES:
        path = OUT / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_rows(panel / source, [(first, last)], 3), encoding="utf-8")
    (OUT / "^HSI.csv").write_text(_rows(HSI, HSI_SPANS, 1), encoding="utf-8")
    (OUT / "index_gap" / "^HSI.csv").write_text(
        _rows(HSI, HSI_SPANS[1:], 1, leave_out=INDEX_GAP_DAY), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data"))
