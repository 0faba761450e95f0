"""Lock-up tranches and their presets.

``standard`` = the Hong Kong Main Board lock-ups: cornerstone and pre-IPO investors 6 months,
controlling shareholders 6 months (Rule 10.07(1)(a)) and 12 months (10.07(1)(b)); the Chapter 18C
presets (specialist technology companies) follow Rule 18C.14-18C.16."""

from __future__ import annotations

from dataclasses import dataclass

from eventstudy.errors import BadInput


@dataclass(frozen=True)
class Tranche:
    """One lock-up: who is locked, for how many calendar months, under which rule."""

    name: str
    holder: str
    months: int
    rule: str = ""
    locked_shares: float | None = None
    source: str = ""


STANDARD_HK_TRANCHES: tuple[Tranche, ...] = (
    Tranche("cornerstone", "cornerstone investors", 6,
            "cornerstone investment agreements (HKEX Guide for New Listing Applicants 4.15)"),
    Tranche("pre_ipo", "pre-IPO investors", 6,
            "pre-IPO investment terms (HKEX Guide for New Listing Applicants 4.2)"),
    Tranche("controlling_6m", "controlling shareholders", 6, "Main Board Listing Rule 10.07(1)(a)"),
    Tranche("controlling_12m", "controlling shareholders", 12,
            "Main Board Listing Rule 10.07(1)(b)"),
)


# Chapter 18C (Specialist Technology Companies, in force since 31 March 2023): controlling
# shareholders and key persons (founders, WVR beneficiaries, executive directors, senior management,
# key technical staff) may not dispose for 12 months (Commercial Company) or 24 months
# (Pre-Commercial Company) from listing; Pathfinder SIIs for 6 or 12 months. Source: Main Board
# Listing Rules Chapter 18C lock-up rules (18C.14 ff.) as summarised by EY Law, "Hong Kong's listing
# regime for specialist technology companies" (Feb 2023, https://www.eylaw.com.hk/en_hk/
# publications/our-latest-thinking/2023/feb/tech) and Mayer Brown (27 Mar 2023).
RULE_18C = "Main Board Listing Rules Chapter 18C lock-up (rules 18C.14 ff.)"


CATEGORIES = ("commercial", "pre-commercial")


BOARD_18C = "Chapter 18C"


CHAPTER_18C_MONTHS = {  # category -> (controlling shareholders and key persons, Pathfinder SIIs)
    "commercial": (12, 6),
    "pre-commercial": (24, 12),
}


def chapter_18c_tranches(category: str) -> tuple[Tranche, ...]:
    """The lock-ups of a Chapter 18C listing of ``category`` (commercial / pre-commercial),
    with the cornerstone investors' usual 6 months."""
    if category not in CHAPTER_18C_MONTHS:
        raise BadInput(f"unknown Chapter 18C category {category!r} (use {', '.join(CATEGORIES)})")
    insiders, pathfinder = CHAPTER_18C_MONTHS[category]
    rule = f"{RULE_18C}, {category} company"
    return (
        STANDARD_HK_TRANCHES[0],
        Tranche("pathfinder_sii", "Pathfinder Sophisticated Independent Investors", pathfinder,
                rule),
        Tranche(f"controlling_{insiders}m", "controlling shareholders", insiders, rule),
        Tranche(f"key_persons_{insiders}m",
                "key persons (founders, WVR beneficiaries, executive directors, senior management,"
                " key technical staff)", insiders, rule),
    )


TRANCHE_PRESETS: dict[str, tuple[Tranche, ...]] = {
    "standard": STANDARD_HK_TRANCHES,
    "18c-commercial": chapter_18c_tranches("commercial"),
    "18c-pre-commercial": chapter_18c_tranches("pre-commercial"),
}
