"""The ``eventstudy`` command: thin click shells over ``eventstudy.study`` and friends.

Every error eventstudy raises on purpose becomes one line on stderr and exit code 2 (bad input or
usage) or 3 (data unavailable); anything unexpected is one line and exit code 1 (``--debug``
shows the traceback).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from eventstudy.errors import BadInput, EventStudyError

F = TypeVar("F", bound=Callable[..., Any])
Window = tuple[int, int]


def parse_window(text: str, what: str = "window") -> Window:
    """``"-10,20"`` or ``"-10:20"`` -> (-10, 20)."""
    parts = text.replace(":", ",").replace("[", "").replace("]", "").split(",")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise BadInput(f"bad {what} {text!r}: expected two integers like -10,20") from None
    if lo > hi:
        raise BadInput(f"bad {what} {text!r}: it ends before it starts")
    return lo, hi


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"0,0;-1,1;0,5"`` -> ((0, 0), (-1, 1), (0, 5))."""
    return tuple(parse_window(p, "CAR window") for p in text.split(";") if p.strip())


def guarded(func: F) -> F:
    """Run a command; turn errors into one line on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except EventStudyError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
            if debug:
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(f"error: unexpected {type(exc).__name__}: {first} (rerun with --debug "
                       "for the traceback)", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(package_name="eventstudy")
def main(debug: bool, quiet: bool) -> None:
    """Event studies around IPO lock-up expiries and listing dates."""
    level = logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="warning: %(message)s", stream=sys.stderr)
    for noisy in ("yfinance", "curl_cffi", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    # Notes about data sources are printed by `emit` from the result, not through logging.
    logging.getLogger("eventstudy.sources").setLevel(logging.ERROR)
    click.get_current_context().obj = {"quiet": quiet}


def data_options(func: F) -> F:
    """Where prices come from: --offline, --data, --cache-dir."""
    func = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Cache folder (default: the user cache dir, or "
                             "$EVENTSTUDY_CACHE_DIR).")(func)
    func = click.option("--data", type=click.Path(path_type=Path),
                        help="A price file (CSV/parquet) or a folder of TICKER.csv files.")(func)
    func = click.option("--offline", is_flag=True,
                        help="Never use the network: cache, then the bundled data.")(func)
    return func


def study_options(func: F) -> F:
    """Model and windows shared by every study command."""
    options = [
        click.option("--model", type=click.Choice(["market", "market_adjusted", "constant_mean"]),
                     default="market", show_default=True, help="Normal-return model."),
        click.option("--market", help="Market index ticker (default: by exchange, .HK -> ^HSI)."),
        click.option("--window", default="-10,20", show_default=True,
                     help="Event window, relative sessions."),
        click.option("--estimation", help="Estimation window, relative sessions (e.g. -260,-11)."),
        click.option("--car-windows", default="0,0;0,1;-1,1;-5,5;0,5;0,10;0,20",
                     show_default=True, help="CAR windows, ';'-separated."),
        click.option("--min-estimation", type=click.IntRange(3, None), default=60,
                     show_default=True, help="Fewest estimation sessions for the model."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(func: F) -> F:
    func = click.option("--json", "as_json", is_flag=True,
                        help="Print the summary as JSON on stdout.")(func)
    func = click.option("--no-report", is_flag=True, help="Do not write the report folder.")(func)
    func = click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                        help="Report folder (default: reports/<kind>_<ticker>).")(func)
    return func


def study_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """CLI option values -> keyword arguments of the study functions."""
    kwargs: dict[str, Any] = {
        "model": params["model"], "market": params["market"],
        "window": parse_window(params["window"]),
        "car_windows": parse_windows(params["car_windows"]),
        "min_estimation": params["min_estimation"],
        "offline": params["offline"], "data": params["data"], "cache_dir": params["cache_dir"],
    }
    if params.get("estimation"):
        kwargs["estimation"] = parse_window(params["estimation"], "estimation window")
    return kwargs


def emit(result: Any, *, as_json: bool, out: Path | None, default_out: Path,
         no_report: bool, write: Callable[[Any, Path], Path] | None = None) -> None:
    """Print the result (text or JSON) and write its report folder."""
    from eventstudy.report import write_report

    quiet = (click.get_current_context().find_root().obj or {}).get("quiet", False)
    for note in [] if quiet else getattr(result, "notes", []):
        click.echo(f"warning: {note}", err=True)
    if not no_report:
        folder = (write or write_report)(result, out or default_out)
        click.echo(f"report: {folder}/report.html", err=True)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(result.summary())


@main.command()
@click.argument("tickers", nargs=-1, required=True)
@click.option("--tranche", "tranches", multiple=True,
              help="Only these tranches (repeatable): cornerstone, pre_ipo, controlling_6m, ...")
@click.option("--listings", type=click.Path(dir_okay=False, path_type=Path),
              help="Your listings calendar, merged over the bundled one.")
@click.option("--garch/--no-garch", default=None,
              help="GARCH volatility section (default: on for one ticker).")
@click.option("--executor", default="serial", show_default=True,
              help="GARCH fits: serial, local (processes) or dask://HOST:PORT.")
@study_options
@data_options
@output_options
@guarded
def lockup(tickers: tuple[str, ...], tranches: tuple[str, ...], listings: Path | None,
           garch: bool | None, executor: str, out: Path | None, no_report: bool, as_json: bool,
           **params: Any) -> None:
    """Lock-up expiry study of TICKERS (e.g. 0020.HK): AR, CARs, abnormal volume, GARCH
    volatility, report; with several tickers also CAAR and the cross-event tests."""
    from eventstudy.study import lockup_study

    result = lockup_study(list(tickers), tranches=list(tranches) or None, listings=listings,
                          volatility=garch, executor=executor, progress=not as_json,
                          **study_kwargs(params))
    name = tickers[0] if len(tickers) == 1 else f"{len(tickers)}_tickers"
    emit(result, as_json=as_json, out=out, default_out=Path("reports") / f"lockup_{name}",
         no_report=no_report)


@main.command()
@click.argument("events", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--listings", type=click.Path(dir_okay=False, path_type=Path),
              help="Study every lock-up of every listing in this calendar (default: bundled).")
@click.option("--tranche", "tranches", multiple=True, help="Only these tranches (repeatable).")
@click.option("--group-by", default="group", show_default=True,
              help="Column of the events to group the tests by (tranche, group, any column).")
@click.option("--holiday", type=click.Choice(["next", "previous", "skip"]), default="next",
              show_default=True, help="Events file dates that are not sessions.")
@click.option("--garch", is_flag=True, help="GARCH volatility per firm-day and Savickas test.")
@click.option("--executor", default="local", show_default=True,
              help="GARCH fits: serial, local (processes) or dask://HOST:PORT.")
@study_options
@data_options
@output_options
@guarded
def batch(events: Path | None, listings: Path | None, tranches: tuple[str, ...], group_by: str,
          holiday: str, garch: bool, executor: str, out: Path | None, no_report: bool,
          as_json: bool, **params: Any) -> None:
    """Many events: CAAR, BHAR and every test. EVENTS is a CSV/YAML of ticker,date[,tranche,
    group,...]; without it, every lock-up of every listing in --listings (or the bundled
    calendar)."""
    from eventstudy.study import batch_study

    result = batch_study(events, listings=listings, tranches=list(tranches) or None,
                         group_by=group_by, holiday_policy=holiday,  # type: ignore[arg-type]
                         volatility=garch, executor=executor, progress=not as_json,
                         **study_kwargs(params))
    name = events.stem if events else "listings"
    emit(result, as_json=as_json, out=out, default_out=Path("reports") / f"batch_{name}",
         no_report=no_report)


@main.command()
@click.argument("ticker")
@click.option("--date", help="Event date (default: the expiry of --tranche).")
@click.option("--tranche", default="cornerstone", show_default=True)
@click.option("--market", help="Market index for the mean (default: by exchange).")
@click.option("--listings", type=click.Path(dir_okay=False, path_type=Path))
@data_options
@output_options
@guarded
def garch(ticker: str, date: str | None, tranche: str, market: str | None,
          listings: Path | None, out: Path | None, no_report: bool, as_json: bool,
          **params: Any) -> None:
    """GARCH volatility around an event of TICKER: model chosen by BIC, the volatility ratio
    around day 0 with its tests, GARCH-standardised ARs, plots."""
    import json

    from eventstudy.report import write_volatility_report
    from eventstudy.study import garch_study

    result = garch_study(ticker, date=date, tranche=tranche, market=market, listings=listings,
                         **params)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if not no_report:
        folder = write_volatility_report(result, out or Path("reports") / f"garch_{ticker}")
        click.echo(f"report: {folder}/report.html", err=True)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary())


@main.command()
@click.option("--samples", type=click.IntRange(1, None), default=1000, show_default=True)
@click.option("--events", "n_events", type=click.IntRange(3, None), default=50,
              show_default=True, help="Events per sample.")
@click.option("--shifts", default="0,-0.01,-0.02,-0.05", show_default=True,
              help="Abnormal returns added on day 0.")
@click.option("--variance-ratios", default="1,2", show_default=True,
              help="Event-day variance multipliers.")
@click.option("--window", default="0,0", show_default=True)
@click.option("--model", type=click.Choice(["market", "market_adjusted", "constant_mean"]),
              default="market", show_default=True)
@click.option("--pool", type=click.IntRange(50, None), default=5000, show_default=True,
              help="Pseudo-events drawn from the bundled panel.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reports/simulate.csv"), show_default=True)
@click.option("--json", "as_json", is_flag=True)
@guarded
def simulate(samples: int, n_events: int, shifts: str, variance_ratios: str, window: str,
             model: str, pool: int, seed: int, out: Path, as_json: bool) -> None:
    """Brown & Warner (1985) specification check on the bundled real panel: how often each test
    rejects at 5% with no abnormal return (size) and with one added (power)."""
    from eventstudy.cache import atomic_write_text
    from eventstudy.simulate import brown_warner, summary

    table = brown_warner(n_samples=samples, n_events=n_events, shifts=parse_floats(shifts),
                         variance_ratios=parse_floats(variance_ratios),
                         window=parse_window(window), model=model, pool_size=pool, seed=seed,
                         progress=not as_json)
    atomic_write_text(out, table.to_csv(index=False))
    click.echo(f"table: {out}", err=True)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
    else:
        click.echo(summary(table).to_string())
        flagged = sorted(set(table.loc[table["size_flag"], "test"]))
        if flagged:
            click.echo(f"size outside [3%, 7%] on this panel: {', '.join(flagged)}")


def parse_floats(text: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise BadInput(f"expected comma-separated numbers, got {text!r}") from None


@main.command()
@click.argument("tickers", nargs=-1, required=True)
@data_options
@guarded
def fetch(tickers: tuple[str, ...], offline: bool, data: Path | None,
          cache_dir: Path | None) -> None:
    """Fill the cache with TICKERS (from Yahoo, or from --data, or --offline: bundled)."""
    from eventstudy.sources import normalise_ticker
    from eventstudy.study import make_loader

    names = [normalise_ticker(t) for t in tickers]
    loader = make_loader(offline=offline, data=data, cache_dir=cache_dir,
                         data_ticker=names[0] if data and len(names) == 1 else None)
    failed = 0
    for ticker in names:
        try:
            frame, path = loader.fetch(ticker)
        except EventStudyError as exc:
            failed = max(failed, exc.exit_code)
            click.echo(f"error: {exc}", err=True)
            continue
        click.echo(f"{ticker}: {len(frame)} rows {frame.index[0].date()}..{frame.index[-1].date()}"
                   f" from {frame.attrs['source']} -> {path}")
    if failed:
        sys.exit(failed)



# --------------------------------------------------------------------------------------------
# The listings calendar, scheduled checks of upcoming lock-up expiries, listing-day studies


def _calendar_option(func: F) -> F:
    return click.option("--listings", "calendar_path",
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="Your calendar file, merged over the bundled one "
                             "(default: $EVENTSTUDY_LISTINGS).")(func)


def _warn(lines: list[str]) -> None:
    if not (click.get_current_context().find_root().obj or {}).get("quiet", False):
        for line in dict.fromkeys(lines):
            click.echo(f"warning: {line}", err=True)


@main.group("listings")
def listings_group() -> None:
    """The listings calendar: list it, validate a file, add an entry to your own file."""


@listings_group.command("list")
@_calendar_option
@click.option("--tag", "tags", multiple=True, help="Only listings with this tag or sector.")
@click.option("--board", "boards", multiple=True, help="Only this board (e.g. '18C').")
@click.option("--status", type=click.Choice(["listed", "expected"]), help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
@guarded
def listings_list(calendar_path: Path | None, tags: tuple[str, ...], boards: tuple[str, ...],
                  status: str | None, as_json: bool) -> None:
    """List the merged calendar (bundled + $EVENTSTUDY_LISTINGS + --listings)."""
    import json

    import pandas as pd

    from eventstudy.listings import listings_frame, load_listings
    from eventstudy.upcoming import _wanted

    calendar = {t: x for t, x in load_listings(calendar_path).items()
                if _wanted(x, tags, boards) and (status is None or x.status == status)}
    frame = listings_frame(calendar)
    if as_json:
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    shown = frame.drop(columns=["source", "currency"]).fillna("")
    shown["name"] = shown["name"].str.slice(0, 32)
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        click.echo(shown.to_string(index=False))


@listings_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings (no source, ...) as errors.")
@guarded
def listings_validate(files: tuple[Path, ...], strict: bool) -> None:
    """Check calendar FILES (default: the bundled one and $EVENTSTUDY_LISTINGS): unknown keys,
    bad dates, duplicate tickers, tranche lengths. Exit code 2 if any is invalid."""
    from eventstudy.listings import listing_paths, validate_file

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


@listings_group.command("add")
@click.argument("ticker")
@click.option("--date", "listing_date", required=True,
              help="Listing date YYYY-MM-DD (for an expected listing: the expected date).")
@click.option("--source", required=True, help="Where the date and price come from (URL...).")
@click.option("--name", help="Company name (default: the ticker).")
@click.option("--status", type=click.Choice(["listed", "expected"]), default="listed",
              show_default=True)
@click.option("--offer-price", type=float, help="Final offer price.")
@click.option("--currency", default="HKD", show_default=True)
@click.option("--board", help="Board / listing chapter (default: Main Board, or Chapter 18C "
                              "with --category).")
@click.option("--category", type=click.Choice(["commercial", "pre-commercial"]),
              help="Chapter 18C category.")
@click.option("--sector", help="Sector tag, e.g. AI.")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--tranches", "preset",
              help="Tranche preset: standard, 18c-commercial, 18c-pre-commercial or none "
                   "(default: 18c-CATEGORY with --category, else standard).")
@click.option("--tranche", "extra", multiple=True,
              help="Extra tranche NAME:MONTHS[:LOCKED_SHARES] (repeatable).")
@click.option("--shares-outstanding", type=float)
@click.option("--float-shares", type=float, help="Free-float shares at listing.")
@click.option("--notes")
@click.option("--replace", is_flag=True, help="Replace an entry of the same ticker.")
@click.option("--listings", "calendar_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Calendar file to write (default: $EVENTSTUDY_LISTINGS; the bundled "
                   "calendar only if named here).")
@guarded
def listings_add(ticker: str, listing_date: str, source: str, name: str | None, status: str,
                 offer_price: float | None, currency: str, board: str | None,
                 category: str | None, sector: str | None, tags: tuple[str, ...],
                 preset: str | None, extra: tuple[str, ...], shares_outstanding: float | None,
                 float_shares: float | None, notes: str | None, replace: bool,
                 calendar_path: Path | None) -> None:
    """Add TICKER to your calendar file (written atomically; created if missing)."""
    from eventstudy.calendar import to_timestamp
    from eventstudy.listings import add_listing, listing_warnings, user_calendar_path

    path = user_calendar_path(calendar_path)
    preset = preset or (f"18c-{category}" if category else "standard")
    tranches: list[Any] = [] if preset == "none" else [preset]
    tranches += [_tranche_spec(t) for t in extra]
    if not tranches:
        raise BadInput("no tranches: give --tranches PRESET or --tranche NAME:MONTHS")
    entry = {"ticker": ticker, "name": name, "listing_date": str(
                 to_timestamp(listing_date, "listing date").date()),
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


@main.command()
@click.option("--as-of", help="Look from this date (YYYY-MM-DD; default: today).")
@click.option("--within", type=click.IntRange(0, None), default=30, show_default=True,
              help="Days ahead.")
@click.option("--tag", "tags", multiple=True, help="Only listings with this tag or sector.")
@click.option("--board", "boards", multiple=True, help="Only this board (e.g. '18C').")
@click.option("--tranche", "tranches", multiple=True,
              help="Only tranches with this name or name prefix (e.g. controlling).")
@_calendar_option
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON of a saved study (eventstudy batch ... --json > FILE): the mean "
                   "historical reaction of each tranche.")
@click.option("--history-window", default="-1,1", show_default=True,
              help="CAR window of --history.")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="State file: report only expiries not reported by an earlier run.")
@click.option("--ics", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every expiry of the window to this iCalendar file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--no-prices", is_flag=True, help="Skip the price run-up (no data needed).")
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
    from eventstudy import upcoming as up
    from eventstudy.statistics import window_label

    if as_json and as_csv:
        raise BadInput("choose one of --json and --csv")
    frame = up.upcoming_expiries(
        as_of, within, tags=tags, boards=boards, tranches=tranches, listings=calendar_path,
        offline=offline, data=data, cache_dir=cache_dir, history=history,
        history_window=window_label(parse_window(history_window, "history window")),
        prices=not no_prices)
    _warn(frame.attrs.get("notes", []))
    if ics is not None:
        up.write_ics(ics, frame)
    shown = frame
    if state is not None:
        seen = up.read_state(state)
        shown = up.only_new(frame, seen)
        up.write_state(state, frame, seen, frame.attrs["as_of"])
    if as_json:
        click.echo(up.to_json(shown, total=len(frame)))
    elif as_csv:
        click.echo(up.to_csv(shown), nl=False)
    else:
        click.echo(up.table_text(shown, None if state is None else len(frame)))
    sys.exit(up.EXIT_UPCOMING if len(shown) else up.EXIT_NOTHING)


@main.command("listing")
@click.argument("tickers", nargs=-1, required=True)
@click.option("--model", type=click.Choice(["market", "market_adjusted"]), default="market",
              show_default=True, help="Normal-return model.")
@click.option("--market", help="Market index ticker (default: by exchange, .HK -> ^HSI).")
@click.option("--window", default="0,20", show_default=True, help="Event window from day 0.")
@click.option("--estimation", default="30,150", show_default=True,
              help="Estimation window after listing, relative sessions.")
@click.option("--car-windows", default="0,0;0,1;0,5;0,10;0,20", show_default=True,
              help="CAR windows, ';'-separated.")
@click.option("--horizons", default="20,60,120", show_default=True,
              help="BHAR horizons in sessions: BHAR over [0,+h].")
@click.option("--first-days", type=click.IntRange(1, None), default=5, show_default=True,
              help="First sessions shown with market-adjusted returns.")
@click.option("--min-estimation", type=click.IntRange(3, None), default=60, show_default=True,
              help="Fewest estimation sessions for the market model.")
@_calendar_option
@data_options
@output_options
@guarded
def listing(tickers: tuple[str, ...], model: str, market: str | None, window: str,
            estimation: str, car_windows: str, horizons: str, first_days: int,
            min_estimation: int, calendar_path: Path | None, out: Path | None, no_report: bool,
            as_json: bool, offline: bool, data: Path | None, cache_dir: Path | None) -> None:
    """Listing-day study of TICKERS: first-day return, market-adjusted returns, BHARs, report."""
    from eventstudy.ipo import listing_study

    try:
        spans = tuple(int(h) for h in horizons.split(",") if h.strip())
    except ValueError:
        raise BadInput(f"bad --horizons {horizons!r}: expected integers like 20,60,120") from None
    result = listing_study(
        list(tickers), model=model, market=market, window=parse_window(window),
        estimation=parse_window(estimation, "estimation window"),
        car_windows=parse_windows(car_windows), horizons=spans, first_days=first_days,
        min_estimation=min_estimation, offline=offline, data=data, cache_dir=cache_dir,
        listings=calendar_path)
    name = tickers[0] if len(tickers) == 1 else f"{len(tickers)}_tickers"
    emit(result, as_json=as_json, out=out, default_out=Path("reports") / f"listing_{name}",
         no_report=no_report)


if __name__ == "__main__":  # pragma: no cover
    main()
