"""Every user-supplied string in a report is data, never markup: control characters stripped,
markdown syntax backslash-escaped (CommonMark 0.31, section 2.4), HTML escaped by jinja2."""

from __future__ import annotations

import numbers
import re
import unicodedata
from typing import Any

import pandas as pd

# bidirectional overrides/isolates can make text read differently from what it is
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&!])")  # emphasis, code, links, HTML, tables
# a heading, list item, rule or setext underline at the start of the text
_MD_BLOCK = re.compile(r"^(?:([#+\-=])(?=[\s#+\-=]|$)|(\d{1,9})([.)])(?=\s|$))")


def _allowed(char: str) -> bool:
    code = ord(char)
    if code in _BIDI or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return False
    return unicodedata.category(char) not in ("Cc", "Cs")


def clean(text: Any) -> str:
    """``text`` as one line: line breaks and tabs become spaces, other control characters,
    surrogates, non-characters and bidi overrides are removed."""
    value = re.sub(r"[\r\n\t\v\f\x85\u2028\u2029]+", " ", str(text))
    return "".join(c for c in value if _allowed(c))


def md(text: Any) -> str:
    """``text`` cleaned, inline markdown syntax backslash-escaped, and a leading block marker
    (heading, list, rule) escaped, so it reads as the same text and never as markup."""
    value = _MD_INLINE.sub(r"\\\1", clean(text)).strip()
    return _MD_BLOCK.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", value)


def frame_cells(frame: pd.DataFrame, escape: Any = clean) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell, column and index label passed through
    ``escape`` (numbers stay numbers)."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        return value if _numeric(value) else escape(value)

    out = frame.map(cell) if len(frame.columns) else frame.copy()
    out.columns = pd.Index([escape(c) for c in frame.columns])
    out.index = pd.Index([escape(i) if not _numeric(i) else i for i in frame.index],
                         name=escape(frame.index.name) if frame.index.name else None)
    return out


def _numeric(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)
