"""Untrusted text of calendars and events files: control characters that could inject lines
(CR, LF in an iCalendar or CSV), terminal escape sequences (ESC, CSI and the other C0/C1
controls) or reorder what a reader sees (Unicode bidirectional overrides).

``one_line``/``multi_line`` strip them for output; ``first_control`` finds one so input can be
rejected with the field named."""

from __future__ import annotations

import re

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
