"""Writing a user's listings calendar: ``add_listing`` (``eventstudy listings add``) and the entry
-> YAML round trip it uses."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventstudy.calendar.listings import LISTINGS_ENV, Listing, parse_listing
from eventstudy.calendar.tranches import TRANCHE_PRESETS, Tranche
from eventstudy.calendar.validate import _validate_entries, validate_file
from eventstudy.calendar.yamlsafe import load_yaml
from eventstudy.errors import ConfigError


def _preset_name(tranches: tuple[Tranche, ...]) -> str | None:
    return next((name for name, preset in TRANCHE_PRESETS.items() if preset == tranches), None)


def _tranche_dict(tranche: Tranche) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tranche.name, "holder": tranche.holder}
    if tranche.free_from is not None:
        out["free_from"] = tranche.free_from
    else:
        out.update({"days": tranche.days} if tranche.days else {"months": tranche.months})
    for key in ("rule", "basis", "locked_shares", "source"):
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


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    rt = YAML()  # round trip: comments, key order, quoting and flow style are kept
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _edited_text(text: str, entries: dict[int, dict[str, Any]], appended: list[dict[str, Any]]
                 ) -> str:
    """``text`` with ``listings[i]`` replaced by ``entries[i]`` and ``appended`` added at the
    end; the rest of the document (comments, other top-level keys) is kept as written."""
    from ruamel.yaml.comments import CommentedSeq

    rt = _round_trip()
    doc = rt.load(text)
    seq = doc.get("listings")
    if not isinstance(seq, CommentedSeq) or not seq:
        doc["listings"] = seq = CommentedSeq(list(seq or []))
    for index, entry in entries.items():
        seq[index] = entry
    seq.extend(appended)
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


NEW_FILE = "# eventstudy listings calendar (see configs/listings.yaml for the keys)\nlistings:\n"


def add_listing(path: str | Path, entry: dict[str, Any], *, replace: bool = False) -> Listing:
    """Add ``entry`` (a calendar entry dict) to the calendar file ``path``; see ``add_listings``.
    An existing ticker is an error unless ``replace``."""
    added, _ = add_listings(path, [entry], replace=replace)
    return added[0]


def add_listings(path: str | Path, entries: list[dict[str, Any]], *, replace: bool = False,
                 skip_existing: bool = False) -> tuple[list[Listing], list[tuple[str, str]]]:
    """Add calendar entries to the file ``path`` (created if missing): (added, skipped).

    The read-modify-write holds the file's lock (``calendar.lock``), so concurrent adds all
    land; the file is written atomically and only if every entry is valid. The user's comments,
    layout and other top-level keys are kept (round-trip YAML). A ticker already in the file is
    replaced with ``replace``, skipped (with the reason) with ``skip_existing``, else an error.
    """
    from eventstudy.calendar.lock import locked, write_user_file

    path = Path(path)
    listings = [parse_listing(e, f"new listing ({e.get('ticker', '?')})") for e in entries]
    with locked(path):
        text, current = _current(path)
        where = {x.ticker: i for i, x in enumerate(current)}
        replaced: dict[int, dict[str, Any]] = {}
        appended: list[dict[str, Any]] = []
        added: list[Listing] = []
        skipped: list[tuple[str, str]] = []
        for listing in listings:
            clean = listing_to_dict(listing)
            if listing.ticker in where and not replace:
                if not skip_existing:
                    raise ConfigError(f"{path}: {listing.ticker} is already listed (use "
                                      "--replace)")
                skipped.append((listing.ticker, "already in the calendar"))
                continue
            if listing.ticker in where:
                replaced[where[listing.ticker]] = clean
            else:
                where[listing.ticker] = len(current) + len(appended)
                appended.append(clean)
            added.append(listing)
        if added:
            new = _edited_text(text, replaced, appended)
            _check(path, text, new, replaced, appended)
            write_user_file(path, new.encode("utf-8"))
    return added, skipped


def _current(path: Path) -> tuple[str, list[Listing]]:
    """The file's text and its listings (a valid file only: it is never rewritten otherwise)."""
    if not path.exists():
        return NEW_FILE, []
    report = validate_file(path)
    if not report.ok:
        raise ConfigError(f"{report.errors[0]} (fix the file before adding to it)")
    return path.read_text(encoding="utf-8"), report.listings


def _check(path: Path, old: str, new: str, replaced: dict[int, dict[str, Any]],
           appended: list[dict[str, Any]]) -> None:
    """The edited text must hold exactly the old document with the entries changed."""
    before, after = load_yaml(old, path) or {}, load_yaml(new, path)
    expected = list(before.get("listings") or [])
    for index, entry in replaced.items():
        expected[index] = entry
    before["listings"] = expected + appended
    entries = after.get("listings") if isinstance(after, dict) else None
    report = _validate_entries(path, entries if isinstance(entries, list) else [])
    if after != before or not report.ok:  # pragma: no cover - a round-trip bug, never written
        raise ConfigError(f"{path}: cannot edit this file safely (left unchanged)")


@dataclass
class ImportReport:
    """What ``import_listings`` did: listings added, rows skipped (already in the calendar) and
    rows rejected (invalid, no source, repeated), each with its reason."""

    added: list[Listing]
    skipped: list[tuple[str, str]]
    rejected: list[tuple[str, str]]


def import_listings(path: str | Path, table: str | Path, *, source: str | None = None,
                    replace: bool = False) -> ImportReport:
    """Add the rows of a CSV/XLSX listings table (``calendar.importer``) to the calendar file
    ``path`` in one locked, atomic edit; tickers already there are skipped unless ``replace``."""
    from eventstudy.calendar.importer import table_entries

    rows = table_entries(table, source)
    added: list[Listing] = []
    skipped: list[tuple[str, str]] = []
    if rows.entries:
        added, skipped = add_listings(path, rows.entries, replace=replace, skip_existing=True)
    return ImportReport(added, skipped, rows.rejected)
