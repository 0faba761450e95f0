"""The listings calendar (``configs/listings.yaml``): listings, their lock-up tranches, expiries.

A listing has a ticker, name, listing date, board and lock-up tranches. ``tranches: standard``
expands to the standard Hong Kong lock-ups (see ``STANDARD_HK_TRANCHES``). A user's own calendar
file is merged over the bundled one, entry by entry (same ticker: the user's wins).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eventstudy.calendar import add_months
from eventstudy.errors import BadInput, ConfigError
from eventstudy.sources import PACKAGE_ROOT, normalise_ticker

BUNDLED_LISTINGS = Path(os.environ.get("EVENTSTUDY_BUNDLED_LISTINGS",
                                       PACKAGE_ROOT / "configs" / "listings.yaml"))
LISTINGS_ENV = "EVENTSTUDY_LISTINGS"


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

LISTING_KEYS = {"ticker", "name", "listing_date", "board", "sector", "tags", "offer_price",
                "currency", "status", "source", "tranches", "shares_outstanding", "notes"}
TRANCHE_KEYS = {"name", "holder", "months", "rule", "locked_shares", "source"}
STATUSES = ("listed", "expected")


@dataclass(frozen=True)
class Listing:
    """One listing and its lock-up tranches."""

    ticker: str
    name: str
    listing_date: pd.Timestamp
    board: str = ""
    sector: str = ""
    tags: tuple[str, ...] = ()
    offer_price: float | None = None
    currency: str = ""
    status: str = "listed"
    source: str = ""
    shares_outstanding: float | None = None
    tranches: tuple[Tranche, ...] = STANDARD_HK_TRANCHES
    inferred: bool = False
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def tranche(self, name: str) -> Tranche:
        for tranche in self.tranches:
            if tranche.name == name:
                return tranche
        known = ", ".join(t.name for t in self.tranches)
        raise BadInput(f"{self.ticker} has no tranche {name!r} (has: {known})")

    def expiry(self, tranche: Tranche | str) -> pd.Timestamp:
        """Calendar date the tranche's lock-up ends: listing date + N calendar months."""
        tr = self.tranche(tranche) if isinstance(tranche, str) else tranche
        return add_months(self.listing_date, tr.months)


def inferred_listing(ticker: str, first_day: pd.Timestamp) -> Listing:
    """A listing not in the calendar: its date is the first day of its price history."""
    return Listing(ticker=ticker, name=ticker, listing_date=first_day, inferred=True,
                   source="inferred: first trading day of the price history")


# --------------------------------------------------------------------------------------------
# Parsing and validation


def _where(path: Path, index: int, entry: Any) -> str:
    ticker = entry.get("ticker", "?") if isinstance(entry, dict) else "?"
    return f"{path}: listing {index + 1} ({ticker})"


def _date(value: Any, where: str) -> pd.Timestamp:
    if isinstance(value, date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(str(value)).normalize()
    except (ValueError, TypeError):
        raise ConfigError(f"{where}: bad date {value!r} (expected YYYY-MM-DD)") from None


def _number(value: Any, where: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {what} must be a non-negative number, not {value!r}")
    return float(value)


def _parse_tranche(raw: Any, where: str) -> Tranche:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a tranche must be a mapping, not {raw!r}")
    unknown = set(raw) - TRANCHE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown tranche key {sorted(unknown)[0]!r}")
    name, months = raw.get("name"), raw.get("months")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a tranche needs a name")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 60:
        raise ConfigError(f"{where}: tranche {name!r} months must be 1..60, not {months!r}")
    return Tranche(name=name, holder=str(raw.get("holder", name)), months=months,
                   rule=str(raw.get("rule", "")),
                   locked_shares=_number(raw.get("locked_shares"), where, "locked_shares"),
                   source=str(raw.get("source", "")))


def _parse_tranches(raw: Any, where: str) -> tuple[Tranche, ...]:
    if raw is None or raw == "standard":
        return STANDARD_HK_TRANCHES
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: tranches must be 'standard' or a non-empty list")
    tranches = tuple(_parse_tranche(t, where) for t in raw)
    names = [t.name for t in tranches]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate tranche name in {names}")
    return tranches


def parse_listing(raw: Any, where: str) -> Listing:
    """One entry of the calendar -> Listing, or ConfigError naming the problem."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: an entry must be a mapping")
    unknown = set(raw) - LISTING_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in ("ticker", "listing_date"):
        if raw.get(key) in (None, ""):
            raise ConfigError(f"{where}: missing {key}")
    try:
        ticker = normalise_ticker(str(raw["ticker"]))
    except BadInput as exc:
        raise ConfigError(f"{where}: {exc}") from None
    status = raw.get("status", "listed")
    if status not in STATUSES:
        raise ConfigError(f"{where}: status must be one of {', '.join(STATUSES)}, not {status!r}")
    tags = raw.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    return Listing(
        ticker=ticker, name=str(raw.get("name") or ticker),
        listing_date=_date(raw["listing_date"], where), board=str(raw.get("board", "")),
        sector=str(raw.get("sector", "")), tags=tuple(str(t) for t in tags),
        offer_price=_number(raw.get("offer_price"), where, "offer_price"),
        currency=str(raw.get("currency", "")), status=status, source=str(raw.get("source", "")),
        shares_outstanding=_number(raw.get("shares_outstanding"), where, "shares_outstanding"),
        tranches=_parse_tranches(raw.get("tranches"), where), notes=str(raw.get("notes", "")),
    )


def read_listings_file(path: Path) -> list[Listing]:
    """Parse and validate one calendar file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no such listings file: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except ValueError as exc:  # e.g. YAML's own date parser: 2024-13-01
        raise ConfigError(f"{path}: bad date or value ({exc})") from None
    entries = doc.get("listings") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a top-level 'listings:' list")
    listings = [parse_listing(raw, _where(path, i, raw)) for i, raw in enumerate(entries)]
    seen: set[str] = set()
    for listing in listings:
        if listing.ticker in seen:
            raise ConfigError(f"{path}: duplicate ticker {listing.ticker}")
        seen.add(listing.ticker)
    return listings


def listing_paths(extra: str | Path | None = None) -> list[Path]:
    """The bundled calendar, then ``$EVENTSTUDY_LISTINGS``, then ``extra`` (later wins)."""
    paths = [BUNDLED_LISTINGS]
    env = os.environ.get(LISTINGS_ENV)
    if env:
        paths.append(Path(env))
    if extra is not None and Path(extra).resolve() != BUNDLED_LISTINGS.resolve():
        paths.append(Path(extra))
    return paths


def load_listings(extra: str | Path | None = None) -> dict[str, Listing]:
    """The merged listings calendar, keyed by ticker."""
    merged: dict[str, Listing] = {}
    for path in listing_paths(extra):
        for listing in read_listings_file(path):
            merged[listing.ticker] = listing
    return merged


def with_tranches(listing: Listing, names: list[str] | None) -> Listing:
    """The listing restricted to the named tranches (all if ``names`` is empty)."""
    if not names:
        return listing
    return replace(listing, tranches=tuple(listing.tranche(n) for n in names))
