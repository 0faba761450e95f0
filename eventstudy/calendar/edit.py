"""Writing a user's listings calendar: ``add_listing`` (``eventstudy listings add``) and the entry
-> YAML round trip it uses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from eventstudy.calendar.listings import LISTINGS_ENV, Listing, parse_listing
from eventstudy.calendar.tranches import TRANCHE_PRESETS, Tranche
from eventstudy.calendar.validate import _validate_entries, validate_file
from eventstudy.errors import ConfigError


def _preset_name(tranches: tuple[Tranche, ...]) -> str | None:
    return next((name for name, preset in TRANCHE_PRESETS.items() if preset == tranches), None)


def _tranche_dict(tranche: Tranche) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tranche.name, "holder": tranche.holder}
    out.update({"days": tranche.days} if tranche.days else {"months": tranche.months})
    for key in ("rule", "locked_shares", "source"):
        value = getattr(tranche, key)
        if value not in (None, ""):
            out[key] = value
    return out


def listing_to_dict(listing: Listing) -> dict[str, Any]:
    """A calendar entry (the YAML form) of ``listing``: empty fields left out."""
    out: dict[str, Any] = {"ticker": listing.ticker, "name": listing.name,
                           "listing_date": listing.listing_date.date()}
    for key in ("board", "category", "issuer_type", "issuer_type_source", "sector", "offer_price",
                "currency", "status", "source", "shares_outstanding", "float_shares", "notes"):
        value = getattr(listing, key)
        if value not in (None, ""):
            out[key] = value
    if listing.tags:
        out["tags"] = list(listing.tags)
    if listing.sources:
        out["sources"] = [{"url": u, "supports": w} if w else {"url": u}
                          for u, w in listing.sources]
    preset = _preset_name(listing.tranches)
    out["tranches"] = preset or [_tranche_dict(t) for t in listing.tranches]
    return out


def user_calendar_path(explicit: str | Path | None = None) -> Path:
    """The user's calendar file: ``explicit`` or ``$EVENTSTUDY_LISTINGS``; never a default."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(LISTINGS_ENV)
    if env:
        return Path(env)
    raise ConfigError(f"no calendar file to write to: give --listings PATH or set ${LISTINGS_ENV} "
                      "(the bundled calendar is only edited when named explicitly)")


def _entry_yaml(entry: dict[str, Any]) -> str:
    text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"  {line}\n" for line in text.splitlines())


def add_listing(path: str | Path, entry: dict[str, Any], *, replace: bool = False) -> Listing:
    """Add ``entry`` (a calendar entry dict) to the calendar file ``path``, written atomically.

    A new file is created if needed. An existing ticker is an error unless ``replace``. The
    existing text (and its comments) is kept when the entry can simply be appended; otherwise
    the file is rewritten from its parsed entries.
    """
    from eventstudy.fileio import atomic_write_text

    path = Path(path)
    listing = parse_listing(entry, f"new listing ({entry.get('ticker', '?')})")
    clean = listing_to_dict(listing)
    if not path.exists():
        text = ("# eventstudy listings calendar (see configs/listings.yaml for the keys)\n"
                f"listings:\n{_entry_yaml(clean)}")
        atomic_write_text(path, _checked(path, text, listing))
        return listing
    report = validate_file(path)
    if not report.ok:
        raise ConfigError(f"{report.errors[0]} (fix the file before adding to it)")
    tickers = [x.ticker for x in report.listings]
    if listing.ticker in tickers and not replace:
        raise ConfigError(f"{path}: {listing.ticker} is already listed (use --replace)")
    kept = [clean if x.ticker == listing.ticker else listing_to_dict(x) for x in report.listings]
    if listing.ticker not in tickers:
        kept.append(clean)
        old = path.read_text(encoding="utf-8")
        appended = old + ("" if old.endswith("\n") else "\n") + _entry_yaml(clean)
        if _holds(appended, listing, len(kept)):
            atomic_write_text(path, appended)
            return listing
    text = yaml.safe_dump({"listings": kept}, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(path, _checked(path, text, listing))
    return listing


def _holds(text: str, listing: Listing, count: int) -> bool:
    """Whether ``text`` is a valid calendar of ``count`` entries, one of them ``listing``."""
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):
        return False
    entries = doc.get("listings") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or len(entries) != count:
        return False
    report = _validate_entries(Path("calendar"), entries)
    return report.ok and listing in report.listings


def _checked(path: Path, text: str, listing: Listing) -> str:
    doc = yaml.safe_load(text)
    report = _validate_entries(path, doc["listings"])
    if not report.ok or listing not in report.listings:  # pragma: no cover - parsed above
        raise ConfigError(report.errors[0] if report.errors else f"{path}: cannot add "
                          f"{listing.ticker}")
    return text
