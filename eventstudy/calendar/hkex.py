"""Reading an HKEX allotment results announcement ("Announcement of (Final) Offer Price and
Allotment Results", published by every issuer on the eve of its listing day) into a calendar entry.

Since the HKEX IPO reforms of August 2025 the announcement opens with a fixed SUMMARY (stock code,
stock short name, dealings commencement date, final offer price, number of issued shares upon
listing) and ends with LOCK-UP UNDERTAKINGS tables, one per holder group (key persons, Pathfinder
SIIs, controlling or single largest shareholders, existing shareholders, cornerstone investors),
each row giving the shares locked and the "last day subject to the lock-up undertakings". The
parser reads the text of such an announcement (as extracted from the PDF) and returns only what
the text states: a field it cannot read stays empty, and a table whose rows cannot be paired with
their dates (merged cells) gives its dates without share counts.

A tranche's first free day is the day after the stated last locked day; when that is a whole
number of calendar months after the listing date the tranche gets ``months``, otherwise an
explicit ``free_from`` date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dateutil.relativedelta import relativedelta

from eventstudy.calendar.tranches import (
    CORNERSTONE_RULE,
    PRC_COMPANY_LAW,
    RULE_18C,
)
from eventstudy.errors import BadInput

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December")
DATE = rf"(?:(?:{MONTHS})\s+\d{{1,2}}\s*,\s*\d{{4}}|\d{{1,2}}\s+(?:{MONTHS})\s*,?\s*\d{{4}})"
NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
# a table row's share count: a number followed (after an optional share class and an optional
# second count, the H shares) by a percentage
# the words a share count may carry: "Class B Ordinary Shares", "H Shares", "Shares (including
# 82,868,800 H Shares)"
SHARES_WORDS = (r"(?:Class\s+[AB]\s+Ordinary\s+)?(?:H\s+)?Shares\s+"
                r"(?:\(including[^)]*\)\s+)?")
ROW = re.compile(rf"(?<![\d.,])({NUMBER})\s+(?:{SHARES_WORDS})?"
                 rf"(?:[\u2014\u2013-]\s+|(?:{NUMBER})\s+)?\d+(?:\.\d+)?\s*%")
NOTE = re.compile(r"\(?\bNotes?\s*\d+(?:\s*(?:,|and)\s*\d+)*\)?")
HEADER_END = re.compile(r"Last\s+day\s+subject\s+to\s+(?:the\s+)?lock-?\s?up\s+undertakings?",
                        re.IGNORECASE)
GROUPS = (  # (heading pattern, tranche base name, holder)
    (r"Key\s+Persons", "key_persons", "key persons (Rule 18C.14)"),
    (r"Pathfinder\s+SIIs", "pathfinder_sii", "Pathfinder SIIs"),
    (r"Controlling\s+Shareholders?", "controlling", "controlling shareholders"),
    (r"Single\s+Largest\s+(?:Group\s+of\s+)?Shareholders?", "controlling",
     "single largest shareholders"),
    (r"Existing\s+Shareholders", "pre_ipo", "existing (pre-IPO) shareholders"),
    (r"Pre-IPO\s+Investors", "pre_ipo", "pre-IPO investors"),
    (r"Cornerstone\s+Investors", "cornerstone", "cornerstone investors"),
    (r"Selling\s+Shareholders", "selling_shareholders", "selling shareholders"),
)
FIRST_PERIOD = re.compile(rf"first\s+six-\s?month\s+period\s+(?:will\s+)?ends?\s+on\s+({DATE})",
                          re.IGNORECASE)
LOCKUP_HEADING = re.compile(r"LOCK-?\s?UP\s+UNDERTAKINGS")


def _flat(text: str) -> str:
    """Whitespace (line breaks of the PDF's table cells) collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def parse_date(text: str) -> pd.Timestamp:
    """``January 8, 2027``, ``28 April 2026`` (line breaks allowed) -> Timestamp."""
    return pd.Timestamp(pd.to_datetime(_flat(text).replace(" ,", ","), format="mixed"))


def _after(flat: str, label: str, value: str) -> str | None:
    match = re.search(rf"{label}\s*:?\s*({value})", flat, re.IGNORECASE)
    return match.group(1) if match else None


def _count(text: str | None) -> float | None:
    return float(text.replace(",", "")) if text else None


@dataclass
class LockUp:
    """One holder group's lock-up ending on one day, as the announcement states it."""

    group: str
    holder: str
    last_day: pd.Timestamp
    shares: float | None
    conditional: bool = False  # "the earlier of ..." (a Stock Connect inclusion may end it first)


@dataclass
class Allotment:
    """What an allotment results announcement states (None / '' where it does not)."""

    url: str
    code: str = ""
    short_name: str = ""
    name: str = ""
    listing_date: pd.Timestamp | None = None
    offer_price: float | None = None
    issued_shares: float | None = None
    offer_shares: float | None = None
    issuer_type: str = ""
    issuer_form: str = ""  # the words of the cover ("joint stock company incorporated in ...")
    chapter_18c: bool = False
    category: str = ""
    cornerstone_shares: float | None = None
    lockups: list[LockUp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ticker(self) -> str:
        return f"{int(self.code):04d}.HK" if self.code else ""


def _issuer(flat: str) -> tuple[str, str]:
    match = re.search(r"\((?:A|a)\s+(?:company|joint stock company)[^()]{0,160}?"
                      r"(?:with limited liability|limited liability company)\)", flat)
    form = match.group(0).strip("()") if match else ""
    if re.search(r"joint stock company incorporated in the People.s Republic of China", form):
        # an A+H issuer's H shares are the same company; its pre-offering A shares already trade
        return form, ("a_plus_h" if re.search(r"\bA\s+Shares?\b", flat) else "h_share")
    if re.search(r"incorporated in the (Cayman Islands|British Virgin Islands|Bermuda)", form):
        return form, "red_chip"
    return form, ""


def _category(allot: Allotment, flat: str) -> str:
    """Chapter 18C category: a Pre-Commercial Company's stock short name carries the marker P
    (XIZHI TECH-P, MINIMAX - WP) and its announcement speaks of a Pre-Commercial Company."""
    if not allot.chapter_18c:
        return ""
    marked = bool(re.search(r"-\s*[A-Z]*P$", allot.short_name))
    if marked or "no longer be regarded as a Pre-Commercial Company" in flat:
        return "pre-commercial"
    if allot.short_name:
        return "commercial"
    return ""


def _sections(flat: str) -> list[tuple[str, str, str]]:
    """(group, holder, text) of each lock-up table after the LOCK-UP UNDERTAKINGS heading."""
    start = LOCKUP_HEADING.search(flat)
    if start is None:
        return []
    body = flat[start.end():]
    end = re.search(r"PLACEE CONCENTRATION ANALYSIS|BASIS OF ALLOCATION|"
                    r"SHAREHOLDER CONCENTRATION ANALYSIS", body)
    body = body[:end.start()] if end else body
    heads = []
    for pattern, group, holder in GROUPS:
        for match in re.finditer(rf"(?:^|\s){pattern}(?=\s*(?:\(|Name\b|Investor\b))", body):
            heads.append((match.start(), group, holder))
    heads.sort()
    out = []
    for i, (at, group, holder) in enumerate(heads):
        stop = heads[i + 1][0] if i + 1 < len(heads) else len(body)
        out.append((group, holder, body[at:stop]))
    return out


def _table_lockups(group: str, holder: str, text: str) -> list[LockUp]:
    """The lock-ups of one table: dates of the 'last day' column with the shares of their rows;
    a table whose rows and dates do not pair one to one gives its dates without shares."""
    header = HEADER_END.search(text)
    if header is None:
        return []
    rows = NOTE.sub(" ", text[header.end():])
    notes_at = re.search(r"\bNotes?\s*:", rows)
    table = rows[:notes_at.start()] if notes_at else rows
    total = re.search(rf"\b(?:Sub-?total|Total)\s+({NUMBER})\s+(?:{SHARES_WORDS})?"
                      rf"(?:[\u2014\u2013-]\s+)?\d", table)
    stated = _count(total.group(1)) if total else None
    table = table[:total.start()] + table[total.end():] if total else table
    dates = list(re.finditer(DATE, table))
    if not dates:
        return []
    segments, last = [], 0
    for match in dates:
        segments.append((table[last:match.start()], match))
        last = match.end()
    counts = [[float(m.group(1).replace(",", "")) for m in ROW.finditer(seg)]
              for seg, _ in segments]
    paired = all(len(c) <= 1 for c in counts) and not ROW.search(table[last:])
    if paired and stated is not None and len({m.group(0) for _, m in segments}) == 1:
        paired = sum(c[0] for c in counts if c) == stated  # the rows must add up to the Total
    per_day: dict[pd.Timestamp, list[float]] = {}
    conditional: set[pd.Timestamp] = set()
    for (segment, match), found in zip(segments, counts, strict=True):
        day = parse_date(match.group(0))
        if "earlier of" in segment:
            conditional.add(day)
        per_day.setdefault(day, []).extend(found[:1])
    return [LockUp(group, holder, day, _total(values) if paired else None, day in conditional)
            for day, values in per_day.items()]


def _total(values: list[float]) -> float | None:
    """Shares of the rows of one date; a row that is the sum of the others is the holder's
    aggregate interest (Mr. X, then his close associates' holdings) and is counted once."""
    if not values:
        return None
    largest, rest = max(values), sum(values) - max(values)
    return largest if len(values) > 2 and largest == rest else sum(values)


def parse_allotment(text: str, url: str) -> Allotment:
    """The facts an allotment results announcement states; BadInput if ``text`` is not one."""
    flat = _flat(text)
    if not re.search(r"ALLOTMENT\s+RESULTS", flat, re.IGNORECASE):
        raise BadInput(f"{url}: not an allotment results announcement")
    allot = Allotment(url=url)
    allot.code = (_after(flat, r"Stock\s+code", r"\d{3,5}") or "").lstrip("0")
    allot.short_name = (_after(flat, r"Stock\s+short\s+name", r"[A-Z0-9][A-Z0-9 .&'-]*?")
                        or "").strip()
    if allot.short_name:  # the regex is lazy: extend to the next label
        match = re.search(r"Stock\s+short\s+name\s+(.+?)\s+Dealings", flat, re.IGNORECASE)
        allot.short_name = _flat(match.group(1)) if match else allot.short_name
    company = re.search(r"(?:issued by|of) ((?:(?!\(the).){3,120}?)\s+(?:\([^()]*\)\s+)?"
                        r"\(the\s+.Company.\)", flat)
    allot.name = company.group(1).strip() if company else ""
    dealing = _after(flat, r"Dealings\s+commencement\s+date", DATE)
    allot.listing_date = parse_date(dealing) if dealing else None
    price = _after(flat, r"(?:Final\s+)?Offer\s+Price", r"HK\$\s*\d+(?:\.\d+)?")
    allot.offer_price = float(price.replace("HK$", "").strip()) if price else None
    issued = re.search(rf"(?:Number|No\.)\s+of\s+issued\s+shares\s+upon\s+Listing"
                       rf"(?:\s*\([^)]*\))?\s*({NUMBER})", flat, re.IGNORECASE)
    allot.issued_shares = _count(issued.group(1)) if issued else None
    offer = re.search(rf"Number\s+of\s+Offer\s+Shares(?:\s+\([^)]*\))?\s+({NUMBER})\b", flat)
    allot.offer_shares = _count(offer.group(1)) if offer else None
    allot.issuer_form, allot.issuer_type = _issuer(flat)
    allot.chapter_18c = bool(re.search(r"Rule\s+18C\.14", flat))
    allot.category = _category(allot, flat)
    cornerstone = re.search(rf"Cornerstone\s+Investors\s+Investor\b.*?\bTotal\s+({NUMBER})\s",
                            flat)
    allot.cornerstone_shares = _count(cornerstone.group(1)) if cornerstone else None
    for group, holder, section in _sections(flat):
        found = _table_lockups(group, holder, section)
        first = FIRST_PERIOD.search(section) if group == "controlling" else None
        if first and found:  # Rule 10.07(1)(a): nothing may be sold in the first six months
            day = parse_date(first.group(1))
            if all(x.last_day != day for x in found):
                found.append(LockUp(group, f"{holder} (first six-month period)", day,
                                    found[0].shares))
        allot.lockups += found
    if allot.chapter_18c and allot.category == "":
        allot.notes.append("Chapter 18C category not stated")
    return allot


def _rule(allot: Allotment, group: str, months: int | None) -> tuple[str, str]:
    """(rule, basis) of a holder group's lock-up: law (Listing Rules, PRC Company Law) or
    contract (cornerstone and pre-IPO investment agreements)."""
    if group == "cornerstone":
        return CORNERSTONE_RULE, "contract"
    if group in ("key_persons", "pathfinder_sii"):
        return f"{RULE_18C}, {allot.category or 'category not stated'} company", "law"
    if group == "controlling":
        if allot.chapter_18c:
            return f"{RULE_18C}; Main Board Listing Rule 10.07", "law"
        return ("Main Board Listing Rule 10.07(1)(a)" if months == 6 else
                "Main Board Listing Rule 10.07(1)(b): only what keeps control is locked"), "law"
    if allot.issuer_type == "h_share" and months == 12:
        return PRC_COMPANY_LAW, "law"
    return "lock-up undertakings stated in the allotment results announcement", "contract"


def _tranches(allot: Allotment) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    assert allot.listing_date is not None
    for lock in sorted(allot.lockups, key=lambda x: (x.last_day, x.group)):
        free = lock.last_day + pd.Timedelta(days=1)
        delta = relativedelta(free.date(), allot.listing_date.date())
        whole = delta.days == 0 and 0 < delta.years * 12 + delta.months <= 60
        months = delta.years * 12 + delta.months if whole else None
        name = f"{lock.group}_{months}m" if months else f"{lock.group}_{free:%Y%m%d}"
        rule, basis = _rule(allot, lock.group, months)
        entry: dict[str, Any] = {"name": name, "holder": lock.holder}
        entry.update({"months": months} if months else {"free_from": free.date()})
        entry.update(rule=rule, basis=basis)
        if lock.shares is not None:
            entry["locked_shares"] = lock.shares
        entry["source"] = (f"{allot.url}: last day subject to the lock-up "
                           f"{lock.last_day.date()}" + (" (or earlier: 'the earlier of')"
                                                        if lock.conditional else ""))
        if any(t["name"] == name for t in out):
            continue  # the same group twice (a table split across pages)
        out.append(entry)
    return out


def float_at_listing(allot: Allotment) -> float | None:
    """Shares free to trade on the listing day, where the announcement determines them: for an
    H-share or A+H issuer only the offered H shares trade in Hong Kong (pre-offering shares of a
    PRC company are locked one year by law, A shares trade in the mainland), so the float is the
    offer shares less the cornerstone investors' (locked six months; over-allotment ignored).
    For other issuers pre-IPO holders without an undertaking may sell at once: None."""
    if allot.issuer_type not in ("h_share", "a_plus_h") or allot.offer_shares is None:
        return None
    cornerstone = allot.cornerstone_shares
    if cornerstone is None:
        locks = [x.shares for x in allot.lockups if x.group == "cornerstone"]
        cornerstone = sum(x for x in locks if x is not None) if locks and None not in locks \
            else None
    if cornerstone is None:
        return None
    return allot.offer_shares - cornerstone


def calendar_entry(allot: Allotment) -> dict[str, Any]:
    """The calendar entry an announcement supports: only the fields it states (and the float
    at listing they determine, ``float_at_listing``)."""
    if not allot.code or allot.listing_date is None:
        raise BadInput(f"{allot.url}: no stock code or dealings commencement date found")
    entry: dict[str, Any] = {"ticker": allot.ticker, "name": allot.name or allot.short_name,
                             "listing_date": allot.listing_date.date(),
                             "board": "Chapter 18C" if allot.chapter_18c else "Main Board"}
    if allot.category:
        entry["category"] = allot.category
    if allot.issuer_type:
        entry["issuer_type"] = allot.issuer_type
        entry["issuer_type_source"] = f"{allot.url} ({allot.issuer_form})"
    if allot.offer_price is not None:
        entry.update(offer_price=allot.offer_price, currency="HKD")
    entry.update(status="listed", source=f"HKEX allotment results announcement, {allot.url}")
    if allot.issued_shares is not None:
        entry["shares_outstanding"] = allot.issued_shares
    free = float_at_listing(allot)
    if free is not None:
        entry["float_shares"] = free
    tranches = _tranches(allot)
    if allot.issuer_type == "h_share" and not any(
            t["name"].startswith("pre_ipo") and t.get("months") == 12 for t in tranches):
        tranches.append({"name": "pre_ipo_12m", "holder": "shareholders before the offer",
                         "months": 12, "rule": PRC_COMPANY_LAW, "basis": "law"})
    if allot.cornerstone_shares is not None and not any(
            t["name"].startswith("cornerstone") for t in tranches):
        entry["notes"] = (f"cornerstone investors were allocated {allot.cornerstone_shares:,.0f} "
                          "shares; their lock-up date is not stated in the text read")
    if tranches:
        entry["tranches"] = tranches
    entry["sources"] = [{"url": allot.url, "supports": "stock code, dealings commencement date, "
                         "final offer price, issued shares upon listing, lock-up undertakings"}]
    return entry
