"""``eventstudy listings list|validate|add`` and ``eventstudy upcoming``: click shells over
``eventstudy.calendar``; the library is imported inside each command."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from eventstudy.cli.base import _calendar_option, _warn, data_options, guarded, main
from eventstudy.engine.windows import parse_window
from eventstudy.errors import BadInput


@main.group("listings", short_help="List, check and edit the listings calendar.")
def listings_group() -> None:
    """The listings calendar: list it, validate a file, add an entry to your own file."""


@listings_group.command("list", short_help="List the merged listings calendar.")
@_calendar_option
@click.option("--tag", "tags", multiple=True,
              help="List only listings with this tag or sector (repeatable).")
@click.option("--board", "boards", multiple=True,
              help="List only this board, e.g. '18C' (repeatable).")
@click.option("--status", type=click.Choice(["listed", "expected"]),
              help="List only listings with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
@guarded
def listings_list(calendar_path: Path | None, tags: tuple[str, ...], boards: tuple[str, ...],
                  status: str | None, as_json: bool) -> None:
    """List the merged calendar (bundled + $EVENTSTUDY_LISTINGS + --listings)."""
    import json

    import pandas as pd

    from eventstudy.calendar.listings import listings_frame, load_listings
    from eventstudy.calendar.text import one_line
    from eventstudy.calendar.upcoming import _wanted

    calendar = {t: x for t, x in load_listings(calendar_path).items()
                if _wanted(x, tags, boards) and (status is None or x.status == status)}
    frame = listings_frame(calendar)
    if as_json:
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    shown = frame.drop(columns=["source", "currency"]).fillna("")
    shown = shown.map(lambda v: one_line(v) if isinstance(v, str) else v)  # no escapes
    shown["name"] = shown["name"].str.slice(0, 32)
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        click.echo(shown.to_string(index=False))


@listings_group.command("validate", short_help="Check listings calendar files.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True,
              help="Treat warnings, such as an entry without a source, as errors.")
@guarded
def listings_validate(files: tuple[Path, ...], strict: bool) -> None:
    """Check calendar FILES (default: the bundled one and $EVENTSTUDY_LISTINGS): unknown keys,
    bad dates, duplicate tickers, tranche lengths. Exit code 2 if any is invalid."""
    from eventstudy.calendar.listings import listing_paths
    from eventstudy.calendar.validate import validate_file

    bad = False
    for path in files or tuple(listing_paths()):
        report = validate_file(path)
        errors = report.errors + (report.warnings if strict else [])
        for line in errors:
            click.echo(f"error: {line}", err=True)
        if not strict:
            _warn(report.warnings)
        failed = bool(report.errors) or (strict and bool(report.warnings))
        bad = bad or failed
        click.echo(f"{path}: {len(report.listings)} listing(s), "
                   f"{'INVALID' if failed else 'ok'}")
    if bad:
        sys.exit(2)


def _tranche_spec(text: str) -> dict[str, Any]:
    """``NAME:MONTHS[:LOCKED_SHARES]`` -> a calendar tranche entry."""
    parts = text.split(":")
    try:
        entry: dict[str, Any] = {"name": parts[0], "holder": parts[0], "months": int(parts[1])}
        if len(parts) > 2:
            entry["locked_shares"] = float(parts[2])
    except (IndexError, ValueError):
        raise BadInput(f"bad --tranche {text!r}: expected NAME:MONTHS[:LOCKED_SHARES]") from None
    if len(parts) > 3 or not parts[0]:
        raise BadInput(f"bad --tranche {text!r}: expected NAME:MONTHS[:LOCKED_SHARES]")
    return entry


@listings_group.command("add", short_help="Add a listing to your calendar file.")
@click.argument("ticker")
@click.option("--date", "listing_date", required=True,
              help="The listing date, YYYY-MM-DD (for an expected listing, the expected "
                   "date).")
@click.option("--source", required=True,
              help="Say where the date and price come from, e.g. the URL of the prospectus "
                   "or allotment results.")
@click.option("--name", help="The company name (default: the ticker).")
@click.option("--status", type=click.Choice(["listed", "expected"]), default="listed",
              show_default=True, help="Whether the company is listed or expected to list.")
@click.option("--offer-price", type=float, help="The final offer price.")
@click.option("--currency", default="HKD", show_default=True,
              help="The currency of the offer price.")
@click.option("--board", help="The board or listing chapter (default: Main Board, or Chapter "
                              "18C with --category).")
@click.option("--category", type=click.Choice(["commercial", "pre-commercial"]),
              help="The Chapter 18C category.")
@click.option("--sector", help="The sector tag, e.g. AI.")
@click.option("--tag", "tags", multiple=True, help="Add this tag (repeatable).")
@click.option("--tranches", "preset",
              help="Use this tranche preset: standard, 18c-commercial, 18c-pre-commercial or "
                   "none (default: 18c-CATEGORY with --category, else standard).")
@click.option("--tranche", "extra", multiple=True,
              help="Add a tranche NAME:MONTHS[:LOCKED_SHARES] (repeatable).")
@click.option("--shares-outstanding", type=float,
              help="The shares outstanding at listing.")
@click.option("--float-shares", type=float, help="The free-float shares at listing.")
@click.option("--notes", help="Keep this free-text note with the entry.")
@click.option("--replace", is_flag=True, help="Replace an entry of the same ticker.")
@click.option("--listings", "calendar_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this calendar file (default: $EVENTSTUDY_LISTINGS; the bundled "
                   "calendar only if named here).")
@guarded
def listings_add(ticker: str, listing_date: str, source: str, name: str | None, status: str,
                 offer_price: float | None, currency: str, board: str | None,
                 category: str | None, sector: str | None, tags: tuple[str, ...],
                 preset: str | None, extra: tuple[str, ...], shares_outstanding: float | None,
                 float_shares: float | None, notes: str | None, replace: bool,
                 calendar_path: Path | None) -> None:
    """Add TICKER to your calendar file (written atomically; created if missing)."""
    from eventstudy.calendar.edit import add_listing, user_calendar_path
    from eventstudy.calendar.sessions import user_date
    from eventstudy.calendar.validate import listing_warnings

    path = user_calendar_path(calendar_path)
    preset = preset or (f"18c-{category}" if category else "standard")
    tranches: list[Any] = [] if preset == "none" else [preset]
    tranches += [_tranche_spec(t) for t in extra]
    if not tranches:
        raise BadInput("no tranches: give --tranches PRESET or --tranche NAME:MONTHS")
    entry = {"ticker": ticker, "name": name, "listing_date": str(
                 user_date(listing_date, "--date").date()),
             "board": board or ("Chapter 18C" if category else "Main Board"),
             "category": category, "sector": sector, "tags": list(tags),
             "offer_price": offer_price, "currency": currency, "status": status,
             "source": source, "shares_outstanding": shares_outstanding,
             "float_shares": float_shares, "notes": notes,
             "tranches": tranches[0] if len(tranches) == 1 and isinstance(tranches[0], str)
             else tranches}
    listing = add_listing(path, {k: v for k, v in entry.items() if v not in (None, "", [])},
                          replace=replace)
    _warn(listing_warnings(listing))
    click.echo(f"{'replaced' if replace else 'added'} {listing.ticker} ({listing.status}, "
               f"listed {listing.listing_date.date()}) in {path}")


@listings_group.command("sync", short_help="Propose calendar entries from HKEX's new-listing "
                                            "documents.")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True,
              help="Show the proposed changes (default); write nothing.")
@click.option("--apply", "mode", flag_value="apply", help="Write the proposed changes into your "
              "calendar file (under its lock, comments kept).")
@click.option("--base-url", help="Read HKEXnews from this base URL (default: "
                                 "$EVENTSTUDY_HKEX_URL or https://www2.hkexnews.hk).")
@click.option("--max-documents", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Read at most this many allotment results announcements.")
@_calendar_option
@guarded
def listings_sync(mode: str, base_url: str | None, max_documents: int,
                  calendar_path: Path | None) -> None:
    """Read HKEXnews new listings and their allotment results announcements; propose new or
    changed calendar entries with their source URLs. Needs the network (exit 3 without it)."""
    from eventstudy.calendar.edit import user_calendar_path
    from eventstudy.calendar.sync import apply, describe, propose

    path = user_calendar_path(calendar_path) if mode == "apply" else calendar_path
    report = propose(base_url, listings=path, max_documents=max_documents)
    for line in describe(report):
        click.echo(line)
    if mode == "apply":
        written = apply(report, path) if path is not None else []
        click.echo(f"{path}: {len(written)} entr{'y' if len(written) == 1 else 'ies'} written")
    else:
        click.echo(f"{len(report.pending)} change(s) proposed (dry run: nothing written; "
                   "--apply writes them)")


@listings_group.command("import", short_help="Add the rows of a CSV or XLSX table to your "
                                              "calendar.")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", help="Give this source to every row without a 'source' cell "
                               "(required unless the table has a source column).")
@click.option("--replace", is_flag=True, help="Replace entries of tickers already listed.")
@click.option("--listings", "calendar_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this calendar file (default: $EVENTSTUDY_LISTINGS).")
@guarded
def listings_import(table: Path, source: str | None, replace: bool,
                    calendar_path: Path | None) -> None:
    """Add the rows of TABLE (CSV/XLSX: ticker, name, listing date, offer price, board; optional
    source, issuer type, category, status, currency, sector) to your calendar with the standard
    tranches. Exit 2 if a row was rejected (the valid rows are still added)."""
    from eventstudy.calendar.edit import import_listings, user_calendar_path

    path = user_calendar_path(calendar_path)
    report = import_listings(path, table, source=source, replace=replace)
    for listing in report.added:
        click.echo(f"added {listing.ticker} ({listing.status}, listed "
                   f"{listing.listing_date.date()})")
    for label, reason in report.skipped:
        click.echo(f"skipped {label}: {reason}", err=True)
    for label, reason in report.rejected:
        click.echo(f"rejected {label}: {reason}", err=True)
    click.echo(f"{path}: {len(report.added)} added, {len(report.skipped)} already there, "
               f"{len(report.rejected)} rejected")
    if report.rejected:
        sys.exit(2)


@main.command(short_help="List the lock-up expiries of the coming days.")
@click.option("--as-of", help="Look from this date, YYYY-MM-DD (default: today).")
@click.option("--within", type=click.IntRange(0, 3660), default=30, show_default=True,
              help="Look this many days ahead (at most 3660).")
@click.option("--tag", "tags", multiple=True,
              help="Show only listings with this tag or sector (repeatable).")
@click.option("--board", "boards", multiple=True,
              help="Show only this board, e.g. '18C' (repeatable).")
@click.option("--tranche", "tranches", multiple=True,
              help="Show only tranches with this name or name prefix, e.g. controlling.")
@_calendar_option
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path),
              help="Show each tranche's mean historical reaction from this JSON of a saved "
                   "study (eventstudy batch EVENTS --json > FILE).")
@click.option("--history-window", default="-1,1", show_default=True,
              help="Take the --history reaction as the CAR over this window.")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="Remember reported expiries in this state file and report only those not "
                   "reported by an earlier run.")
@click.option("--ics", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every expiry of the window to this iCalendar file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--no-prices", is_flag=True,
              help="Skip the price run-up, so that no price data are needed.")
@data_options
@guarded
def upcoming(as_of: str | None, within: int, tags: tuple[str, ...], boards: tuple[str, ...],
             tranches: tuple[str, ...], calendar_path: Path | None, history: Path | None,
             history_window: str, state: Path | None, ics: Path | None, as_json: bool,
             as_csv: bool, no_prices: bool, offline: bool, data: Path | None,
             cache_dir: Path | None) -> None:
    """Lock-up expiries in the next --within days, for cron and CI schedules.

    Exit code 10 when something (with --state: something new) expires in the window, 0 when
    nothing does; 2 for bad input, 3 for unavailable data. Deterministic for a given --as-of.
    """
    from eventstudy.calendar.alerts import (
        only_new,
        read_state,
        table_text,
        to_csv,
        to_json,
        write_state,
    )
    from eventstudy.calendar.ics import refuse_foreign_ics, write_ics
    from eventstudy.calendar.lock import locked
    from eventstudy.calendar.upcoming import EXIT_NOTHING, EXIT_UPCOMING, upcoming_expiries
    from eventstudy.engine.windows import window_label

    if as_json and as_csv:
        raise BadInput("choose one of --json and --csv")
    if ics is not None:
        refuse_foreign_ics(ics)
    frame = upcoming_expiries(
        as_of, within, tags=tags, boards=boards, tranches=tranches, listings=calendar_path,
        offline=offline, data=data, cache_dir=cache_dir, history=history,
        history_window=window_label(parse_window(history_window, "history window")),
        prices=not no_prices)
    _warn(frame.attrs.get("notes", []))
    if ics is not None:
        write_ics(ics, frame)

    def render(shown: Any) -> str:
        if as_json:
            return to_json(shown, total=len(frame)) + "\n"
        if as_csv:
            return to_csv(shown)
        return table_text(shown, None if state is None else len(frame)) + "\n"

    if state is None:
        _deliver(render(frame))
        sys.exit(EXIT_UPCOMING if len(frame) else EXIT_NOTHING)
    with locked(state):  # read, report, then remember: concurrent runs never lose an update
        seen = read_state(state)
        shown = only_new(frame, seen)
        _deliver(render(shown))
        write_state(state, frame, seen, frame.attrs["as_of"])
    sys.exit(EXIT_UPCOMING if len(shown) else EXIT_NOTHING)


def _deliver(text: str) -> None:
    """Print ``text`` and flush; if stdout fails (disk full, closed pipe) say so on stderr and
    exit 1 before anything is remembered in the state file."""
    import os

    stream = sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):  # nothing more to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        click.echo(f"error: cannot write the output ({exc.strerror or exc}); the state file "
                   "is unchanged", err=True)
        sys.exit(1)
