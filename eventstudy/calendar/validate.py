"""Checking a listings file (``eventstudy listings validate``): every entry parsed, its problems
and warnings (stale expected listings, dates in the future) collected into a report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.listings import Listing, _load_entries, _where, parse_listing
from eventstudy.errors import ConfigError


def listing_warnings(listing: Listing, today: pd.Timestamp | None = None) -> list[str]:
    """Things worth a look that do not make the calendar unusable."""
    today = today if today is not None else pd.Timestamp.today().normalize()
    out = []
    if not listing.source:
        out.append(f"{listing.ticker}: no source for the listing date")
    if not listing.issuer_type and listing.ticker.endswith(".HK"):
        out.append(f"{listing.ticker}: no issuer_type (h_share, red_chip, ...): its standard "
                   "lock-ups assume an offshore issuer")
    if listing.issuer_type == "h_share" and not any(
            t.name.startswith("pre_ipo") for t in listing.tranches):
        out.append(f"{listing.ticker}: H-share issuer without a 12-month pre-IPO tranche "
                   "(PRC Company Law art. 160)")
    if listing.status == "expected" and listing.listing_date < today:
        out.append(f"{listing.ticker}: expected listing date {listing.listing_date.date()} has "
                   "passed: confirm it (status: listed) or update it")
    return out


@dataclass
class ValidationReport:
    """What ``validate_file`` found: the entries that parsed, one-line errors and warnings."""

    path: Path
    listings: list[Listing]
    errors: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_file(path: str | Path, today: pd.Timestamp | None = None) -> ValidationReport:
    """Check every entry of a calendar file; all problems, not only the first, one line each."""
    path = Path(path)
    try:
        entries = _load_entries(path)
    except ConfigError as exc:
        return ValidationReport(path, [], [str(exc)], [])
    return _validate_entries(path, entries, today)


def _validate_entries(path: Path, entries: list[Any],
                      today: pd.Timestamp | None = None) -> ValidationReport:
    listings, errors, warnings = [], [], []
    seen: dict[str, int] = {}
    for i, raw in enumerate(entries):
        try:
            listing = parse_listing(raw, _where(path, i, raw))
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if listing.ticker in seen:
            errors.append(f"{path}: duplicate ticker {listing.ticker} (listings "
                          f"{seen[listing.ticker] + 1} and {i + 1})")
            continue
        seen[listing.ticker] = i
        listings.append(listing)
        warnings += listing_warnings(listing, today)
    return ValidationReport(path, listings, errors, warnings)
