"""The listings calendar (``configs/listings.yaml``): listings, their lock-up tranches, expiries.

A listing has a ticker, name, listing date, board, issuer type and lock-up tranches.
``tranches: standard`` (or no ``tranches``) expands to the lock-ups the law sets for its exchange,
issuer type and board (``law_tranches``: H shares 12-month pre-IPO, Chapter 18C, US 180 days,
none for a secondary listing); ``18c-commercial``, ``hk-h-share``, ``us-180d``... name a preset.
A list of tranches may mix such preset names with explicit tranches. A user's own calendar file
is merged over the bundled one, entry by entry (same ticker: the user's wins); ``add_listing``
and ``validate_file`` are the library side of ``eventstudy listings add|validate``."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy.calendar.lock import read_user_text
from eventstudy.calendar.sessions import add_months, user_date
from eventstudy.calendar.text import first_control
from eventstudy.calendar.tranches import (
    BOARD_18C,
    CATEGORIES,
    CHAPTER_18C_MONTHS,
    ISSUER_TYPES,
    PRC_COMPANY_LAW,
    RULE_18C,
    STANDARD_HK_TRANCHES,
    TRANCHE_PRESETS,
    Tranche,
    law_tranches,
    not_applicable,
)
from eventstudy.calendar.yamlsafe import load_yaml
from eventstudy.data.files import BUNDLED_CONFIGS
from eventstudy.data.tickers import exchange_of, normalise_ticker
from eventstudy.errors import BadInput, ConfigError

BUNDLED_LISTINGS = Path(os.environ.get("EVENTSTUDY_BUNDLED_LISTINGS",
                                       BUNDLED_CONFIGS / "listings.yaml"))


LISTINGS_ENV = "EVENTSTUDY_LISTINGS"


LISTING_KEYS = {"ticker", "name", "listing_date", "board", "sector", "tags", "offer_price",
                "currency", "status", "source", "tranches", "shares_outstanding", "notes",
                "category", "float_shares", "issuer_type", "issuer_type_source", "sources"}


TRANCHE_KEYS = {"name", "holder", "months", "days", "rule", "locked_shares", "source", "basis",
                "free_from"}


BASES = ("law", "contract")


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
    category: str = ""  # Chapter 18C: commercial | pre-commercial
    float_shares: float | None = None  # shares free to trade at listing (not locked up)
    issuer_type: str = ""  # h_share | red_chip | a_plus_h | secondary | other (ISSUER_TYPES)
    issuer_type_source: str = ""
    sources: tuple[tuple[str, str], ...] = ()  # (url or document, what it supports)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def no_lockup_reason(self) -> str:
        """Why this listing has no lock-up events ('' if it has some)."""
        if self.tranches:
            return ""
        why = not_applicable(self.issuer_type)
        return f"{self.ticker} is {why}" if why else f"{self.ticker} has no lock-up tranches"

    def tranche(self, name: str) -> Tranche:
        if not self.tranches:
            raise BadInput(self.no_lockup_reason)
        for tranche in self.tranches:
            if tranche.name == name:
                return tranche
        known = ", ".join(t.name for t in self.tranches)
        raise BadInput(f"{self.ticker} has no tranche {name!r} (has: {known})")

    def expiry(self, tranche: Tranche | str) -> pd.Timestamp:
        """First free day of the tranche: its explicit ``free_from`` date, else listing date +
        N calendar months (or N days)."""
        tr = self.tranche(tranche) if isinstance(tranche, str) else tranche
        if tr.free_from is not None:
            return pd.Timestamp(tr.free_from)
        if tr.days:
            return self.listing_date + pd.Timedelta(days=tr.days)
        return add_months(self.listing_date, tr.months)


def inferred_listing(ticker: str, first_day: pd.Timestamp) -> Listing:
    """A listing not in the calendar: its date is the first day of its price history."""
    return Listing(ticker=ticker, name=ticker, listing_date=first_day, inferred=True,
                   source="inferred: first trading day of the price history",
                   tranches=law_tranches(exchange_of(ticker)))


def _where(path: Path, index: int, entry: Any) -> str:
    ticker = entry.get("ticker", "?") if isinstance(entry, dict) else "?"
    return f"{path}: listing {index + 1} ({ticker})"


def _date(value: Any, where: str, what: str = "listing_date") -> pd.Timestamp:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ConfigError(f"{where}: {what} {value!r} is a number (an Excel serial date?), not a "
                          "date: write it as YYYY-MM-DD")
    try:
        return user_date(value, "listing_date")
    except BadInput as exc:
        text = str(exc)
        if text.startswith("not a "):
            text = f"bad date {value!r} (expected YYYY-MM-DD)"
        raise ConfigError(f"{where}: {text}") from None


def _number(value: Any, where: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not 0 <= value < math.inf or (what == "offer_price" and value == 0):
        kind = "positive" if what == "offer_price" else "non-negative"
        raise ConfigError(f"{where}: {what} must be a {kind} finite number, not {value!r}")
    return float(value)


def _check_keys(raw: Any, where: str, keys: set[str] | frozenset[str], kind: str = "") -> None:
    """ConfigError unless ``raw`` is a mapping whose keys are all in ``keys``."""
    what = f"a {kind}" if kind else "an entry"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {what} must be a mapping, not {str(raw)[:60]!r}")
    unknown = set(raw) - keys
    if unknown:
        key = f"{kind} key" if kind else "key"
        raise ConfigError(f"{where}: unknown {key} {sorted(map(str, unknown))[0]!r}")


def _parse_tranche(raw: Any, where: str) -> Tranche:
    _check_keys(raw, where, TRANCHE_KEYS, "tranche")
    name, months, days = raw.get("name"), raw.get("months"), raw.get("days")
    free = raw.get("free_from")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a tranche needs a name")
    if [months, days, free].count(None) != 2:
        raise ConfigError(f"{where}: tranche {name!r} needs months, days or free_from (one of "
                          "them)")
    basis = str(raw.get("basis") or "")
    if basis and basis not in BASES:
        raise ConfigError(f"{where}: tranche {name!r} basis must be law or contract, "
                          f"not {basis!r}")
    for what, value, most in (("months", months, 60), ("days", days, 1830)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= most):
            raise ConfigError(f"{where}: tranche {name!r} {what} must be 1..{most}, "
                              f"not {value!r}")
    return Tranche(name=name, holder=str(raw.get("holder", name)), months=months or 0,
                   rule=str(raw.get("rule", "")),
                   locked_shares=_number(raw.get("locked_shares"), where, "locked_shares"),
                   source=str(raw.get("source", "")), days=days or 0, basis=basis,
                   free_from=None if free is None else
                   _date(free, where, f"tranche {name!r} free_from").date())


def _preset(name: str, where: str) -> tuple[Tranche, ...]:
    if name not in TRANCHE_PRESETS:
        raise ConfigError(f"{where}: unknown tranche preset {name!r} "
                          f"(use {', '.join(TRANCHE_PRESETS)} or a list)")
    return TRANCHE_PRESETS[name]


def _parse_tranches(raw: Any, where: str, law: tuple[Tranche, ...]) -> tuple[Tranche, ...]:
    """``law`` is what ``standard`` (or no ``tranches``) means for this listing."""
    if raw is None or raw == "standard":
        return law
    if isinstance(raw, str):
        return _preset(raw, where)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: tranches must be a preset ({', '.join(TRANCHE_PRESETS)}) "
                          "or a non-empty list")
    tranches = tuple(t for item in raw for t in (
        (law if item == "standard" else _preset(item, where)) if isinstance(item, str)
        else (_parse_tranche(item, where),)))
    names = [t.name for t in tranches]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate tranche name in {names}")
    return tranches


MULTILINE_KEYS = {"source", "notes", "rule"}  # free text: line breaks and tabs allowed


def _no_controls(value: Any, where: str, key: str = "entry") -> None:
    """ConfigError if a string of the entry holds a control character (ESC, CR, NUL, C1...):
    a calendar is shared text, never terminal escapes or injected lines."""
    if isinstance(value, dict):
        for k, v in value.items():
            _no_controls(str(k), where, "key")
            _no_controls(v, where, str(k))
    elif isinstance(value, list):
        for item in value:
            _no_controls(item, where, key)
    elif isinstance(value, str):
        char = first_control(value, newlines=key in MULTILINE_KEYS)
        if char is not None:
            raise ConfigError(f"{where}: {key} holds the control character {char!r} "
                              "(not allowed in a calendar)")


def parse_listing(raw: Any, where: str) -> Listing:
    """One entry of the calendar -> Listing, or ConfigError naming the problem."""
    _check_keys(raw, where, LISTING_KEYS)
    _no_controls(raw, where)
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
    category = str(raw.get("category") or "")
    if category and category not in CATEGORIES:
        raise ConfigError(f"{where}: category must be one of {', '.join(CATEGORIES)}, "
                          f"not {category!r}")
    issuer_type = str(raw.get("issuer_type") or "")
    if issuer_type and issuer_type not in ISSUER_TYPES:
        raise ConfigError(f"{where}: issuer_type must be one of {', '.join(ISSUER_TYPES)}, "
                          f"not {issuer_type!r}")
    board = str(raw.get("board", ""))
    try:
        law = law_tranches(exchange_of(ticker), issuer_type, board, category)
    except BadInput as exc:  # an exchange without a preset: the tranches must be listed
        if raw.get("tranches") in (None, "standard"):
            raise ConfigError(f"{where}: {exc}") from None
        law = ()
    listing = Listing(
        ticker=ticker, name=str(raw.get("name") or ticker),
        listing_date=_date(raw["listing_date"], where), board=board,
        sector=str(raw.get("sector", "")), tags=tuple(str(t) for t in tags),
        offer_price=_number(raw.get("offer_price"), where, "offer_price"),
        currency=str(raw.get("currency", "")), status=status, source=str(raw.get("source", "")),
        shares_outstanding=_number(raw.get("shares_outstanding"), where, "shares_outstanding"),
        tranches=_parse_tranches(raw.get("tranches"), where, law),
        notes=str(raw.get("notes", "")), category=category,
        float_shares=_number(raw.get("float_shares"), where, "float_shares"),
        issuer_type=issuer_type, issuer_type_source=str(raw.get("issuer_type_source") or ""),
        sources=_sources(raw.get("sources"), where),
    )
    problems = listing_problems(listing)
    if problems:
        raise ConfigError(f"{where}: {problems[0]}")
    return listing


def _sources(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``sources:`` a list of ``{url, supports}`` mappings (or plain strings)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: sources must be a list of {{url, supports}}")
    out = []
    for item in raw:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not item.get("url") or set(item) - {"url", "supports"}:
            raise ConfigError(f"{where}: a source needs a url (and may say what it supports)")
        out.append((str(item["url"]), str(item.get("supports") or "")))
    return tuple(out)


def is_18c(listing: Listing) -> bool:
    return "18c" in listing.board.lower().replace(" ", "")


def _min_18c_months(name: str, category: str) -> int | None:
    """The shortest lock-up Chapter 18C allows for a tranche named ``name`` (None: no rule)."""
    insiders, pathfinder = CHAPTER_18C_MONTHS[category]
    if name.startswith(("controlling", "key_person")):
        return insiders
    if name.startswith("pathfinder"):
        return pathfinder
    return None


def listing_problems(listing: Listing) -> list[str]:
    """Rule checks beyond the file format: tranche lengths of Chapter 18C listings, share counts.

    Chapter 18C: controlling shareholders and key persons locked for 12 (commercial) or 24
    (pre-commercial) months, Pathfinder SIIs for 6 or 12 (see ``CHAPTER_18C_MONTHS``).
    """
    problems = []
    if is_18c(listing) and not listing.category and listing.issuer_type != "secondary":
        problems.append(f"{BOARD_18C} listing without category: give category: commercial or "
                        "pre-commercial (it sets the 12- or 24-month lock-ups of rule 18C.14)")
    if listing.category and not is_18c(listing):
        problems.append(f"category {listing.category!r} applies to {BOARD_18C} listings only "
                        f"(board is {listing.board or 'not given'!r})")
    def shorter(tranche: Tranche, months: int) -> bool:  # ends before listing + months
        return listing.expiry(tranche) < add_months(listing.listing_date, months)

    if listing.category and is_18c(listing):
        for tranche in listing.tranches:
            least = _min_18c_months(tranche.name, listing.category)
            if least is not None and shorter(tranche, least):
                problems.append(f"tranche {tranche.name!r} is {tranche.length} but "
                                f"{RULE_18C} requires at least {least} for a "
                                f"{listing.category} company")
    if listing.issuer_type == "h_share":
        problems += [f"tranche {t.name!r} is {t.length} but an H-share issuer's pre-IPO shares "
                     f"are locked 12 months ({PRC_COMPANY_LAW})"
                     for t in listing.tranches if t.name.startswith(("pre_ipo", "pathfinder"))
                     and shorter(t, 12)]
    total = listing.shares_outstanding
    for tranche in listing.tranches:
        if total is not None and tranche.locked_shares is not None and \
                tranche.locked_shares > total:
            problems.append(f"tranche {tranche.name!r} locks {tranche.locked_shares:,.0f} "
                            f"shares, more than the {total:,.0f} outstanding")
    return problems


def read_listings_file(path: Path) -> list[Listing]:
    """Parse and validate one calendar file."""
    entries = _load_entries(path)
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


def _load_entries(path: Path) -> list[Any]:
    """The raw ``listings:`` entries of a calendar file (ConfigError for an unreadable file)."""
    try:
        doc = load_yaml(read_user_text(path), path)
    except FileNotFoundError:
        raise ConfigError(f"no such listings file: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except BadInput as exc:
        raise ConfigError(str(exc)) from None
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"{path}: bad date or value ({exc})") from None
    except IsADirectoryError:  # pragma: no cover - read_user_text refuses folders first
        raise ConfigError(f"{path}: not a regular file") from None
    entries = doc.get("listings") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a top-level 'listings:' list")
    return entries


def listings_frame(calendar: dict[str, Listing]) -> pd.DataFrame:
    """One row per listing, sorted by listing date: what ``eventstudy listings list`` shows."""
    rows = [{
        "ticker": x.ticker, "name": x.name, "listing_date": str(x.listing_date.date()),
        "status": x.status, "board": x.board, "category": x.category,
        "issuer_type": x.issuer_type, "sector": x.sector,
        "tags": ",".join(x.tags), "offer_price": x.offer_price, "currency": x.currency,
        "tranches": ", ".join(f"{t.name} {t.length}" for t in x.tranches) or "n/a",
        "source": x.source,
    } for x in calendar.values()]
    columns = ["ticker", "name", "listing_date", "status", "board", "category", "issuer_type",
               "sector", "tags", "offer_price", "currency", "tranches", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["listing_date", "ticker"], ignore_index=True)
