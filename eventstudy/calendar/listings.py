"""The listings calendar (``configs/listings.yaml``): listings, their lock-up tranches, expiries.

A listing has a ticker, name, listing date, board and lock-up tranches. ``tranches: standard``
expands to the standard Hong Kong lock-ups (see ``STANDARD_HK_TRANCHES``); ``18c-commercial`` and
``18c-pre-commercial`` to the lock-ups of Main Board Chapter 18C (specialist technology companies,
see ``chapter_18c_tranches``). A list of tranches may mix such preset names with explicit
tranches. A user's own calendar file is merged over the bundled one, entry by entry (same ticker:
the user's wins); ``add_listing`` and ``validate_file`` are the library side of ``eventstudy
listings add|validate``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eventstudy.calendar.sessions import add_months
from eventstudy.calendar.tranches import (
    BOARD_18C,
    CATEGORIES,
    CHAPTER_18C_MONTHS,
    RULE_18C,
    STANDARD_HK_TRANCHES,
    TRANCHE_PRESETS,
    Tranche,
)
from eventstudy.data.files import PACKAGE_ROOT
from eventstudy.data.tickers import normalise_ticker
from eventstudy.errors import BadInput, ConfigError

BUNDLED_LISTINGS = Path(os.environ.get("EVENTSTUDY_BUNDLED_LISTINGS",
                                       PACKAGE_ROOT / "configs" / "listings.yaml"))


LISTINGS_ENV = "EVENTSTUDY_LISTINGS"


LISTING_KEYS = {"ticker", "name", "listing_date", "board", "sector", "tags", "offer_price",
                "currency", "status", "source", "tranches", "shares_outstanding", "notes",
                "category", "float_shares"}


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
    category: str = ""  # Chapter 18C: commercial | pre-commercial
    float_shares: float | None = None  # shares free to trade at listing (not locked up)
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
    name, months = raw.get("name"), raw.get("months")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a tranche needs a name")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 60:
        raise ConfigError(f"{where}: tranche {name!r} months must be 1..60, not {months!r}")
    return Tranche(name=name, holder=str(raw.get("holder", name)), months=months,
                   rule=str(raw.get("rule", "")),
                   locked_shares=_number(raw.get("locked_shares"), where, "locked_shares"),
                   source=str(raw.get("source", "")))


def _preset(name: str, where: str) -> tuple[Tranche, ...]:
    if name not in TRANCHE_PRESETS:
        raise ConfigError(f"{where}: unknown tranche preset {name!r} "
                          f"(use {', '.join(TRANCHE_PRESETS)} or a list)")
    return TRANCHE_PRESETS[name]


def _parse_tranches(raw: Any, where: str) -> tuple[Tranche, ...]:
    if raw is None:
        return STANDARD_HK_TRANCHES
    if isinstance(raw, str):
        return _preset(raw, where)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: tranches must be a preset ({', '.join(TRANCHE_PRESETS)}) "
                          "or a non-empty list")
    tranches = tuple(t for item in raw for t in (
        _preset(item, where) if isinstance(item, str) else (_parse_tranche(item, where),)))
    names = [t.name for t in tranches]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate tranche name in {names}")
    return tranches


def parse_listing(raw: Any, where: str) -> Listing:
    """One entry of the calendar -> Listing, or ConfigError naming the problem."""
    _check_keys(raw, where, LISTING_KEYS)
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
    listing = Listing(
        ticker=ticker, name=str(raw.get("name") or ticker),
        listing_date=_date(raw["listing_date"], where), board=str(raw.get("board", "")),
        sector=str(raw.get("sector", "")), tags=tuple(str(t) for t in tags),
        offer_price=_number(raw.get("offer_price"), where, "offer_price"),
        currency=str(raw.get("currency", "")), status=status, source=str(raw.get("source", "")),
        shares_outstanding=_number(raw.get("shares_outstanding"), where, "shares_outstanding"),
        tranches=_parse_tranches(raw.get("tranches"), where), notes=str(raw.get("notes", "")),
        category=category, float_shares=_number(raw.get("float_shares"), where, "float_shares"),
    )
    problems = listing_problems(listing)
    if problems:
        raise ConfigError(f"{where}: {problems[0]}")
    return listing


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
    if listing.category and not is_18c(listing):
        problems.append(f"category {listing.category!r} applies to {BOARD_18C} listings only "
                        f"(board is {listing.board or 'not given'!r})")
    if listing.category and is_18c(listing):
        for tranche in listing.tranches:
            least = _min_18c_months(tranche.name, listing.category)
            if least is not None and tranche.months < least:
                problems.append(f"tranche {tranche.name!r} is {tranche.months} months but "
                                f"{RULE_18C} requires at least {least} for a {listing.category} "
                                "company")
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
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no such listings file: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: bad date or value ({exc})") from None
    entries = doc.get("listings") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a top-level 'listings:' list")
    return entries


def listings_frame(calendar: dict[str, Listing]) -> pd.DataFrame:
    """One row per listing, sorted by listing date: what ``eventstudy listings list`` shows."""
    rows = [{
        "ticker": x.ticker, "name": x.name, "listing_date": str(x.listing_date.date()),
        "status": x.status, "board": x.board, "category": x.category, "sector": x.sector,
        "tags": ",".join(x.tags), "offer_price": x.offer_price, "currency": x.currency,
        "tranches": ", ".join(f"{t.name} {t.months}m" for t in x.tranches), "source": x.source,
    } for x in calendar.values()]
    columns = ["ticker", "name", "listing_date", "status", "board", "category", "sector", "tags",
               "offer_price", "currency", "tranches", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["listing_date", "ticker"], ignore_index=True)
