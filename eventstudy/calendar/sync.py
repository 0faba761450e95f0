"""``eventstudy listings sync``: read HKEXnews' new-listing page and the allotment results
announcements it links to, and propose new or changed calendar entries with their sources.

The index page (``INDEX_PATH`` under the base URL, configurable so that tests use a fake server on
127.0.0.1) is read for links whose text or address names an allotment results announcement; each
document is fetched (text, or a PDF when ``pypdf`` is installed) and parsed by
``calendar.hkex``. Nothing is written unless ``apply``: then the changes go into the user's
calendar file under its lock, comments kept (``edit.add_listings``). Without the network the sync
raises DataUnavailable (exit 3) and changes nothing."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urljoin, urlparse
from urllib.request import Request, urlopen

from eventstudy.calendar.hkex import calendar_entry, parse_allotment
from eventstudy.calendar.listings import Listing, load_listings, parse_listing
from eventstudy.errors import BadInput, DataUnavailable

DEFAULT_BASE_URL = "https://www2.hkexnews.hk"


BASE_URL_ENV = "EVENTSTUDY_HKEX_URL"


INDEX_PATH = "/New-Listings/New-Listing-Information/Main-Board?sc_lang=en"


TIMEOUT = 20.0  # seconds per request


MAX_BYTES = 20_000_000  # a document larger than this is refused


COMPARED = ("listing_date", "offer_price", "board", "category", "issuer_type",
            "shares_outstanding", "float_shares")


class _Links(HTMLParser):
    """(href, text) of every ``<a>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def _same_site(url: str, page_url: str) -> bool:
    """A document on the index's own host, or on an hkexnews.hk host (the index is on www2,
    the documents on www1): a link elsewhere is not followed."""
    host, page = urlparse(url).hostname or "", urlparse(page_url).hostname or ""
    return host == page or host == "hkexnews.hk" or host.endswith(".hkexnews.hk")


def allotment_links(html: str, page_url: str) -> list[str]:
    """Absolute URLs of the allotment results announcements linked from ``html`` (on the
    index's host or an hkexnews.hk host only)."""
    parser = _Links()
    parser.feed(html)
    out: list[str] = []
    for href, text in parser.links:
        if re.search(r"allotment", f"{text} {href}", re.IGNORECASE):
            url = urljoin(page_url, href)
            if url.startswith(("http://", "https://")) and _same_site(url, page_url) \
                    and url not in out:
                out.append(url)
    return out


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[bytes, str]:
    """(body, content type) of ``url``; DataUnavailable (exit 3) when it cannot be read."""
    request = Request(url, headers={"User-Agent": "eventstudy listings sync"})
    try:
        with urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            body = response.read(MAX_BYTES + 1)
            kind = response.headers.get("Content-Type", "")
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataUnavailable(f"listings sync needs the network: cannot read {url} "
                              f"({reason})") from None
    if len(body) > MAX_BYTES:
        raise DataUnavailable(f"{url}: larger than {MAX_BYTES:,} bytes, not read")
    return body, kind


def document_text(body: bytes, kind: str, url: str) -> str:
    """The text of a fetched announcement (plain text, HTML or PDF with pypdf)."""
    if body.startswith(b"%PDF") or "pdf" in kind.lower():
        try:
            from pypdf import PdfReader
        except ImportError:
            raise BadInput(f"{url}: a PDF; reading it needs pypdf (pip install pypdf)") from None
        reader = PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return body.decode("utf-8", errors="replace")


@dataclass
class Proposal:
    """One proposed calendar change: ``add`` a new ticker, ``change`` an existing one (the
    fields that differ) or ``same``."""

    action: str
    entry: dict[str, Any]
    listing: Listing
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass
class SyncReport:
    """What a sync found: proposals, and the documents it could not use with the reason."""

    base_url: str
    proposals: list[Proposal] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pending(self) -> list[Proposal]:
        return [p for p in self.proposals if p.action != "same"]


def _tranche_view(listing: Listing) -> list[tuple[str, str, float | None]]:
    return [(t.name, t.length, t.locked_shares) for t in listing.tranches]


def _compare(new: Listing, old: Listing) -> list[tuple[str, Any, Any]]:
    changes = [(key, getattr(old, key), getattr(new, key)) for key in COMPARED
               if getattr(new, key) not in (None, "") and getattr(new, key) != getattr(old, key)]
    if _tranche_view(new) != _tranche_view(old):
        changes.append(("tranches", _tranche_view(old), _tranche_view(new)))
    return changes


def _base(name: str) -> str:
    """A tranche name without its length: ``key_persons_24m`` -> ``key_persons``."""
    return re.sub(r"_(\d+m|\d{8})$", "", name)


def _length(tranche: dict[str, Any]) -> Any:
    return tranche.get("free_from") or tranche.get("months") or f"{tranche.get('days')}d"


def _merged(entry: dict[str, Any], old: Listing) -> dict[str, Any]:
    """The existing entry updated with what the document states (its own name, tags, sector,
    notes and source texts kept, the document added to its sources). Tranches: the document's,
    plus the existing ones it does not restate (same holder group and length), so that a table
    the document lacks is not lost."""
    from eventstudy.calendar.edit import listing_to_dict

    out = listing_to_dict(old)
    sources = out.get("sources", [])
    kept = out.get("tranches")
    own = ("name", "sources") + tuple(k for k in ("source", "issuer_type_source", "notes")
                                      if out.get(k))  # the curator's text is kept
    out.update({k: v for k, v in entry.items() if k not in own})
    out["sources"] = sources + [s for s in entry["sources"] if s not in sources]
    if isinstance(kept, str):  # a preset name: expand it
        kept = [listing_to_dict(replace(old, tranches=(t,)))["tranches"][0]
                for t in old.tranches]
    new = list(entry.get("tranches") or [])
    stated = {(_base(t["name"]), str(_length(t))) for t in new}
    names = {t["name"] for t in new}
    out["tranches"] = new + [t for t in kept or [] if t["name"] not in names
                             and (_base(t["name"]), str(_length(t))) not in stated]
    if not out["tranches"]:
        out.pop("tranches")
    return out


def propose(base_url: str | None = None, calendar: dict[str, Listing] | None = None,
            listings: str | Path | None = None, max_documents: int = 100) -> SyncReport:
    """Read the index and its allotment results announcements; compare with the calendar."""
    base = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise BadInput(f"--base-url must be an http(s) URL, not {base!r}")
    calendar = calendar if calendar is not None else load_listings(listings)
    index_url = base + INDEX_PATH
    body, _ = fetch(index_url)
    report = SyncReport(base)
    for url in allotment_links(body.decode("utf-8", errors="replace"), index_url)[:max_documents]:
        try:
            doc, kind = fetch(url)
            entry = calendar_entry(parse_allotment(document_text(doc, kind, url), url))
            new = parse_listing(entry, f"{url} ({entry['ticker']})")
        except (BadInput, DataUnavailable) as exc:
            report.skipped.append((url, str(exc)))
            continue
        old = calendar.get(new.ticker)
        if old is None:
            report.proposals.append(Proposal("add", entry, new))
            continue
        changes = _compare(new, old)
        merged = _merged(entry, old) if changes else entry
        report.proposals.append(Proposal("change" if changes else "same", merged,
                                         parse_listing(merged, url) if changes else new, changes))
    return report


def _shares(value: float | None) -> str:
    return "shares not stated" if value is None else f"{value:,.0f} shares"


def describe(report: SyncReport) -> list[str]:
    """The diff ``--dry-run`` prints: ``+`` new, ``~`` changed, ``=`` unchanged."""
    lines = []
    for p in report.proposals:
        x = p.listing
        price = f"HK${x.offer_price:g}" if x.offer_price is not None else "price not stated"
        head = {"add": "+", "change": "~", "same": "="}[p.action]
        lines.append(f"{head} {x.ticker} {x.name}: listed {x.listing_date.date()}, {price}, "
                     f"{x.board}{' ' + x.category if x.category else ''}, "
                     f"{x.issuer_type or 'issuer type not stated'}")
        if p.action == "add":
            lines += [f"    {t.name}: {t.length}, {_shares(t.locked_shares)}, "
                      f"{t.basis or 'basis not stated'} ({t.rule})" for t in x.tranches]
        for key, old, new in p.changes:
            lines.append(f"    {key}: {old!r} -> {new!r}")
        lines.append(f"    source: {p.entry['sources'][-1]['url']}")
    lines += [f"! skipped {url}: {why}" for url, why in report.skipped]
    return lines


def apply(report: SyncReport, path: str | Path) -> list[Listing]:
    """Write the pending proposals into the calendar file ``path`` (locked, atomic, comments
    kept); entries already in that file are replaced by their merged form."""
    from eventstudy.calendar.edit import add_listings

    entries = [p.entry for p in report.pending]
    if not entries:
        return []
    added, _ = add_listings(path, entries, replace=True)
    return added
