"""Untrusted text of calendars and events files: control characters that could inject lines
(CR, LF in an iCalendar or CSV), terminal escape sequences (ESC, CSI and the other C0/C1
controls) or reorder what a reader sees (Unicode bidirectional overrides).

``one_line``/``multi_line`` strip them for output; ``first_control`` finds one so input can be
rejected with the field named."""

from __future__ import annotations

import re
import unicodedata

_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: object) -> str:
    """``text`` on one line: line breaks and tabs become spaces, other controls are removed."""
    return _CONTROLS.sub("", _BREAKS.sub(" ", str(text)).replace("\t", " "))


def multi_line(text: object) -> str:
    """``text`` with its line breaks as LF and every other control character removed."""
    lines = _BREAKS.sub("\n", str(text)).replace("\t", " ").split("\n")
    return "\n".join(_CONTROLS.sub("", line) for line in lines)


def first_control(text: str, *, newlines: bool = False) -> str | None:
    """The first control character of ``text`` (``\\n`` and tab allowed with ``newlines``)."""
    for match in _CONTROLS.finditer(text):
        if not (newlines and match.group() in "\n\t"):
            return match.group()
    return None


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF  # regional indicators: two make a flag


def _joins(cluster: str, char: str) -> bool:
    """Whether ``char`` extends the grapheme ``cluster`` (a simplified UAX #29: combining marks,
    joiners, variation selectors, emoji modifiers, Hangul vowel and final jamo, the second
    regional indicator of a flag)."""
    if _regional(char):
        return len(cluster) == 1 and _regional(cluster)
    code = ord(char)
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or char == "\u200d"
            or cluster.endswith("\u200d") or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF or 0x1F3FB <= code <= 0x1F3FF
            or 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF)


def graphemes(text: str) -> list[str]:
    """``text`` split into user-perceived characters (a base character and what extends it)."""
    out: list[str] = []
    for char in text:
        if out and _joins(out[-1], char):
            out[-1] += char
        else:
            out.append(char)
    return out


def _columns(cluster: str) -> int:
    """2 for a wide or full-width character, a flag or an emoji shown as one (VS16), else 1."""
    flag = len(cluster) == 2 and _regional(cluster[0])
    return 2 if _wide(cluster[0]) or flag or "\ufe0f" in cluster else 1


def display_width(text: str) -> int:
    """Terminal columns of ``text``: 2 per grapheme of an East Asian wide or full-width character
    (CJK), a flag or an emoji, 1 per other grapheme (East Asian ambiguous counted narrow, as
    pandas does)."""
    return sum(_columns(g) for g in graphemes(text))


def clip_width(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` terminal columns, cut between
    graphemes (never between a character and its combining mark, nor inside a CJK character)."""
    out: list[str] = []
    used = 0
    for cluster in graphemes(text):
        used += _columns(cluster)
        if used > width:
            break
        out.append(cluster)
    return "".join(out)
