"""The `eventstudy upcoming` table cuts names by terminal width, not by character count: a
Chinese character takes two columns, so a 28-character cut of a CJK name was wider than the
column and shifted the row; the cut never falls inside a grapheme. Real names from
configs/listings.yaml; widths computed here from unicodedata, independently of the code."""

from __future__ import annotations

import unicodedata

from eventstudy.calendar.alerts import NAME_WIDTH, table_text
from eventstudy.calendar.listings import load_listings
from eventstudy.calendar.text import clip_width, graphemes
from eventstudy.calendar.upcoming import upcoming_expiries


def _width(text: str) -> int:
    """Columns of a string without combining marks: 2 for East Asian wide/full-width."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) == "W" for c in text)


def test_real_names_are_cut_to_the_column_width() -> None:
    names = sorted({x.name for x in load_listings().values()})
    cut = [n for n in names if _has_cjk(n) and _width(n) > NAME_WIDTH]
    assert len(cut) >= 5  # the calendar has long names with Chinese characters
    for name in names:
        shown = clip_width(name, NAME_WIDTH)
        assert name.startswith(shown)
        assert _width(shown) <= NAME_WIDTH
        if shown != name:  # the longest start that fits: the next character would not
            assert _width(name[:len(shown) + 1]) > NAME_WIDTH
    assert clip_width("Shenzhen Xunce Technology (迅策科技)", NAME_WIDTH) == \
        "Shenzhen Xunce Technology ("  # 27 columns: 迅 would make 29


def test_the_table_columns_line_up_with_chinese_names() -> None:
    frame = upcoming_expiries("2026-06-15", 30, offline=True, prices=False)
    assert sum(_has_cjk(n) for n in frame["name"]) >= 5
    lines = table_text(frame).split("\n")[2:]  # the column header and one line per expiry
    assert len(lines) == len(frame) + 1
    assert len({_width(line) for line in lines}) == 1
    starts = set()
    for line, status in zip(lines[1:], frame["status"], strict=True):
        at = line.index(f" {status} ", 8)  # after the ticker; names hold no status word
        starts.add(_width(line[:at]))
    assert len(starts) == 1  # the status column begins at one terminal column on every row


def test_a_cut_never_splits_a_grapheme() -> None:
    name = next(x.name for x in load_listings().values() if x.name.startswith("Shanghai Iluv"))
    accented = name[:27] + "e\u0301" + name[27:]  # e + combining acute: one character on screen
    assert clip_width(accented, 28) == name[:27] + "e\u0301"
    assert clip_width(accented, 27) == name[:27]
    wide = name[:27] + "\u8fc5\u0301"  # a CJK character with a mark: two columns, one grapheme
    assert clip_width(wide, 28) == name[:27]
    assert clip_width(wide, 29) == wide
    flags = "\U0001F1ED\U0001F1F0\U0001F1FA\U0001F1F8"  # HK, US: two flags of two code points
    assert graphemes(flags) == [flags[:2], flags[2:]]
    assert clip_width(name[:25] + flags, 28) == name[:25] + flags[:2]
