"""Lock-up tranches, their presets, and the law that picks them (exchange, issuer type, board).

Hong Kong, offshore issuer (``red_chip``, e.g. a Cayman holding company): cornerstone and pre-IPO
investors 6 months, controlling shareholders 6 months (Main Board Rule 10.07(1)(a)) and 12 months
(10.07(1)(b)). PRC joint stock company listing H shares (``h_share``): shares issued before the
offer are locked one year from listing (PRC Company Law art. 160 of the 2023 revision, art. 141
of 2013/2018, art. 142 of 2005), controlling shareholders' included. An A+H issuer's pre-offering
A shares have long been listed, so only Rule 10.07 binds them. A ``secondary`` listing has no IPO
lock-ups. Chapter 18C (specialist technology companies) follows Rules 18C.14 ff. United States:
underwriters' lock-up agreements of 180 days after the prospectus (Practical Law, "Lock-up
Agreement"; Pinedo, Mayer Brown, "Market Trends 2017/18: Lock-Up Agreements").

First free day: HKEX announcements give "the date which is N months from the Listing Date" as
the last locked day, the day before the calendar-month anniversary (Mech-Mind 9615: listed
1 Sep 2026, locked to 31 Aug 2027), so holders may sell from listing date + N months; a US
lock-up runs "through the close of trading on the date that is 180 days after the date of the
Prospectus", dated the evening before the first trade, so holders may sell from first trading
day + 180 days. Day 0 is the first session on or after that date (data/research/calendar/rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

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
    days: int = 0  # a lock-up of N calendar days (US: 180) instead of ``months``
    basis: str = ""  # law (Listing Rules, PRC Company Law) | contract (investment agreements)
    free_from: date | None = None  # an explicit first free day (staggered or early release)

    @property
    def length(self) -> str:
        """``6m``, ``180d`` or ``to 2025-08-15`` (an explicit date)."""
        if self.free_from is not None:
            return f"to {self.free_from.isoformat()}"
        return f"{self.days}d" if self.days else f"{self.months}m"


CORNERSTONE_RULE = ("cornerstone investment agreements (HKEX Guide for New Listing Applicants "
                    "4.15; Guidance Letter HKEX-GL43-12)")


STANDARD_HK_TRANCHES: tuple[Tranche, ...] = (
    Tranche("cornerstone", "cornerstone investors", 6, CORNERSTONE_RULE, basis="contract"),
    Tranche("pre_ipo", "pre-IPO investors", 6,
            "pre-IPO investment terms (HKEX Guide for New Listing Applicants 4.2)",
            basis="contract"),
    Tranche("controlling_6m", "controlling shareholders", 6, "Main Board Listing Rule 10.07(1)(a)",
            basis="law"),
    Tranche("controlling_12m", "controlling shareholders (only the shares that keep control)", 12,
            "Main Board Listing Rule 10.07(1)(b): in months 7-12 controlling shareholders may "
            "sell only what keeps them controlling", basis="law"),
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
                rule, basis="law"),
        Tranche(f"controlling_{insiders}m", "controlling shareholders", insiders, rule,
                basis="law"),
        Tranche(f"key_persons_{insiders}m",
                "key persons (founders, WVR beneficiaries, executive directors, senior management,"
                " key technical staff)", insiders, rule, basis="law"),
    )


TRANCHE_PRESETS: dict[str, tuple[Tranche, ...]] = {
    "standard": STANDARD_HK_TRANCHES,
    "18c-commercial": chapter_18c_tranches("commercial"),
    "18c-pre-commercial": chapter_18c_tranches("pre-commercial"),
}


PRC_COMPANY_LAW = ("PRC Company Law art. 160 (2023 rev.; art. 141 before): shares issued before "
                   "the offer locked one year from listing")


PRE_IPO_12M = Tranche("pre_ipo_12m", "shareholders before the offer (controlling shareholders "
                      "included)", 12, PRC_COMPANY_LAW, basis="law")


US_RULE = ("underwriters' lock-up agreements: 180 days after the prospectus (Practical Law, "
           "'Lock-up Agreement'; Mayer Brown, 'Market Trends 2017/18: Lock-Up Agreements'). "
           "Early-release terms are common (e.g. release after an earnings announcement: "
           "CoreWeave's lock-up ended on 2025-08-15, not day 180): give the actual date with "
           "free_from")


US_180D = (Tranche("lockup_180d", "pre-IPO shareholders, directors and officers", 0, US_RULE,
                   days=180, basis="contract"),)


# GEM Listing Rule 13.16A: controlling shareholders locked 12 months after listing (24 months
# before the GEM reform of 1 January 2024; Charltons, "HKEX consults on GEM listing reforms",
# Oct 2023: "shorten the 24-month post-listing lock-up of GEM controlling shareholders to 12
# months")
GEM_RULE = "GEM Listing Rule 13.16A (12 months since the 2024 GEM reform)"


GEM_TRANCHES = (STANDARD_HK_TRANCHES[0],
                Tranche("controlling_12m", "controlling shareholders", 12, GEM_RULE, basis="law"))


H_SHARE_TRANCHES = (STANDARD_HK_TRANCHES[0], PRE_IPO_12M, STANDARD_HK_TRANCHES[3])


A_PLUS_H_TRANCHES = (STANDARD_HK_TRANCHES[0], *STANDARD_HK_TRANCHES[2:])


TRANCHE_PRESETS.update({
    "hk-offshore": STANDARD_HK_TRANCHES,
    "hk-h-share": H_SHARE_TRANCHES,
    "hk-a-plus-h": A_PLUS_H_TRANCHES,
    "us-180d": US_180D,
    "hk-gem": GEM_TRANCHES,
    "none": (),
})


ISSUER_TYPES = {
    "red_chip": "offshore holding company (Cayman Islands, BVI, Bermuda...) of a mainland or "
                "Hong Kong business: no PRC statutory lock-up",
    "h_share": "PRC joint stock company listing H shares: pre-IPO shares locked one year "
               "(PRC Company Law art. 160)",
    "a_plus_h": "PRC joint stock company whose A shares already trade in Shanghai/Shenzhen: "
                "its pre-offering shares are not newly listed",
    "secondary": "secondary or dual-primary listing of an issuer listed elsewhere: no IPO "
                 "lock-ups",
    "other": "any other issuer (e.g. a US company listing in the US)",
}


def not_applicable(issuer_type: str) -> str:
    """Why a listing has no IPO lock-up events ('' if it may have some)."""
    if issuer_type == "secondary":
        return ("a secondary listing (issuer_type: secondary): IPO lock-ups do not apply, so "
                "there is no lock-up event")
    return ""


def law_tranches(exchange: str, issuer_type: str = "", board: str = "",
                 category: str = "") -> tuple[Tranche, ...]:
    """The lock-ups the law and market practice set for a listing (``tranches: standard``).

    ``exchange`` is the ticker's exchange key (``HK``, ``US``); an HK listing of unknown issuer
    type gets the offshore-issuer lock-ups (the old ``standard``), a US one the 180-day preset.
    """
    if issuer_type == "secondary":
        return ()
    if exchange == "US":
        return US_180D
    if exchange != "HK":
        raise BadInput(f"no lock-up preset for exchange {exchange}: list the tranches")
    if "18c" in board.lower().replace(" ", ""):  # Rule 18C.14 replaces Rule 10.07
        base = chapter_18c_tranches(category) if category else STANDARD_HK_TRANCHES[:1]
        if issuer_type != "h_share":
            return base
        # Pathfinder SIIs hold pre-offering shares: the PRC one-year rule outlasts 18C's 6 months
        return (*(replace(t, months=12, rule=f"{t.rule}; {PRC_COMPANY_LAW}")
                  if t.name == "pathfinder_sii" and t.months < 12 else t for t in base),
                PRE_IPO_12M)
    if "gem" in board.lower():
        return (*GEM_TRANCHES, PRE_IPO_12M) if issuer_type == "h_share" else GEM_TRANCHES
    if issuer_type == "h_share":
        return H_SHARE_TRANCHES
    if issuer_type == "a_plus_h":
        return A_PLUS_H_TRANCHES
    return STANDARD_HK_TRANCHES
