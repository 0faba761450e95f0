"""``eventstudy lockup|batch|garch|simulate|fetch|listing``: click shells over
``eventstudy.studies`` and ``eventstudy.engine.simulate``; the library is imported inside each
command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from eventstudy.cli.base import (
    _calendar_option,
    _warn,
    check_exports,
    check_report_out,
    data_options,
    emit,
    event_options,
    gc_frozen,
    guarded,
    headless,
    main,
    output_options,
    parse_floats,
    quiet,
    study_kwargs,
)
from eventstudy.engine.windows import MIN_ESTIMATION, parse_window, parse_windows
from eventstudy.errors import BadInput, EventStudyError

Window = tuple[int, int]


def ipo_index_options(func: Any) -> Any:
    """--ipo-index-months and --ipo-index-min, for ``--market ipo-index``."""
    func = click.option("--ipo-index-min", type=click.IntRange(1, 10_000), default=5,
                        show_default=True,
                        help="With --market ipo-index, the fewest constituents a day's index "
                             "return needs (with fewer it is missing).")(func)
    return click.option("--ipo-index-months", type=click.IntRange(1, 600), default=24,
                        show_default=True,
                        help="With --market ipo-index, the index holds the listings of the "
                             "last N months (the event's own firm left out).")(func)


def ipo_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The IPO-index options, passed on only with ``--market ipo-index``."""
    return {"ipo_index_months": params["ipo_index_months"],
            "ipo_index_min": params["ipo_index_min"]}


@main.command(short_help="Study the lock-up expiries of one or more tickers.")
@click.argument("tickers", nargs=-1, required=True)
@event_options(
    tranche_help="Study only this tranche, e.g. cornerstone, pre_ipo or controlling_6m "
                 "(repeatable; default: every tranche of the calendar).",
    listings_help="Use your listings calendar, merged over the bundled one.",
    garch=click.option("--garch/--no-garch", default=None,
                       help="Add or leave out the GARCH volatility section (default: on for "
                            "one ticker)."),
    executor="serial")
@ipo_index_options
@click.option("--listing-date", help="Use this listing date, YYYY-MM-DD, for a ticker the "
                                     "listings calendar does not know (one ticker; default: the "
                                     "first row of its prices when that is a plausible listing "
                                     "day).")
@guarded
def lockup(tickers: tuple[str, ...], tranches: tuple[str, ...], listings: Path | None,
           garch: bool | None, executor: str, workers: int | None, out: Path | None,
           no_report: bool, as_json: bool, fig_format: str, xlsx: bool = False,
           latex: bool = False, listing_date: str | None = None, **params: Any) -> None:
    """Lock-up expiry study of TICKERS (e.g. 0020.HK): AR, CARs, abnormal volume, GARCH
    volatility, report; with several tickers also CAAR and the cross-event tests."""
    from eventstudy.studies.lockup import lockup_study

    name = tickers[0] if len(tickers) == 1 else f"{len(tickers)}_tickers"
    default_out = Path("reports") / f"lockup_{name}"
    inputs = (params["data"], params["cache_dir"], listings)
    check_report_out(out, default_out, no_report, inputs)
    check_exports(no_report, xlsx, latex)
    result = lockup_study(list(tickers), tranches=list(tranches) or None, listings=listings,
                          volatility=garch, executor=executor, workers=workers,
                          progress=not (as_json or quiet()), listing_date=listing_date,
                          **study_kwargs(params), **ipo_kwargs(params))
    emit(result, as_json=as_json, out=out, default_out=default_out, no_report=no_report,
         inputs=inputs, fig_format=fig_format, xlsx=xlsx, latex=latex)


@main.command(short_help="Study many events: CAAR, BHAR and every cross-event test.")
@click.argument("events", required=False, type=click.Path(dir_okay=False, path_type=Path))
@event_options(
    tranche_help="Study only this tranche (repeatable; default: every tranche).",
    listings_help="Study every lock-up of every listing in this calendar (default: the bundled "
                  "one).",
    extra=(click.option("--group-by", default="group", show_default=True,
                        help="Group the tests by this column of the events (tranche, group or "
                             "any other column)."),
           click.option("--holiday", type=click.Choice(["next", "previous", "skip"]),
                        default="next", show_default=True,
                        help="Move an events-file date that is not a session to the next or "
                             "previous session, or skip the event."),
           click.option("--regress", multiple=True,
                        help="Run this cross-sectional regression (repeatable), e.g. "
                             "'car ~ runup + C(tranche)'; outcomes are car, car_t and "
                             "abnormal_volume."),
           click.option("--regress-window", default="0,1", show_default=True,
                        help="Measure the regression outcomes over these event days."),
           click.option("--calendar-time",
                        help="Form a calendar-time portfolio over these event days, e.g. "
                             "0,20."),
           click.option("--weight-col",
                        help="Value-weight the calendar-time portfolio by this events-file or "
                             "calendar column, e.g. market_cap (without such a column, "
                             "market_cap is shares_outstanding x close on day -1)."),
           click.option("--bootstrap", type=click.IntRange(0, 10**6), default=9999,
                        show_default=True,
                        help="Draw this many wild-bootstrap resamples of CAAR (0 turns it "
                             "off).")),
    garch=click.option("--garch", is_flag=True,
                       help="Add GARCH volatility per firm-day and the GARCH-standardised BMP "
                            "test."),
    executor="serial")
@ipo_index_options
@guarded
def batch(events: Path | None, listings: Path | None, tranches: tuple[str, ...], group_by: str,
          holiday: str, garch: bool, regress: tuple[str, ...], regress_window: str,
          calendar_time: str | None, weight_col: str | None, bootstrap: int, executor: str,
          workers: int | None, out: Path | None,
          no_report: bool, as_json: bool, fig_format: str, xlsx: bool = False,
          latex: bool = False, **params: Any) -> None:
    """Study many events: CAAR, BHAR and every cross-event test. EVENTS is a CSV or YAML file
    with the columns ticker and date, and optionally tranche, group and any other column to
    group or regress by; without it, every lock-up of every listing in --listings (or the
    bundled calendar) is studied."""
    from eventstudy.studies.batch import batch_study

    default_out = Path("reports") / f"batch_{events.stem if events else 'listings'}"
    inputs = (params["data"], params["cache_dir"], listings, events)
    check_report_out(out, default_out, no_report, inputs)
    check_exports(no_report, xlsx, latex)
    result = batch_study(events, listings=listings, tranches=list(tranches) or None,
                         group_by=group_by, holiday_policy=holiday,  # type: ignore[arg-type]
                         volatility=garch, executor=executor, workers=workers,
                         progress=not (as_json or quiet()),
                         regress=regress, regress_window=parse_window(regress_window),
                         calendar_time=parse_window(calendar_time, "--calendar-time days")
                         if calendar_time else None, calendar_weight_col=weight_col,
                         bootstrap=bootstrap,
                         **study_kwargs(params), **ipo_kwargs(params))
    emit(result, as_json=as_json, out=out, default_out=default_out, no_report=no_report,
         inputs=inputs, fig_format=fig_format, xlsx=xlsx, latex=latex)


@main.command(short_help="Model GARCH volatility around one event of a ticker.")
@click.argument("ticker")
@click.option("--date", help="Use this event date, YYYY-MM-DD (default: the expiry of "
                             "--tranche).")
@click.option("--tranche", default="cornerstone", show_default=True,
              help="Take the event date from the expiry of this tranche.")
@click.option("--market", help="Use this market index in the mean equation (default: by "
                               "exchange).")
@click.option("--listings", type=click.Path(dir_okay=False, path_type=Path),
              help="Use your listings calendar, merged over the bundled one.")
@click.option("--listing-date", help="Use this listing date, YYYY-MM-DD, for a ticker the "
                                     "listings calendar does not know.")
@click.option("--keep-suspect", is_flag=True,
              help="Fit even if the returns hold an impossible one (see docs/quality.md).")
@data_options
@output_options
@guarded
def garch(ticker: str, date: str | None, tranche: str, market: str | None,
          listings: Path | None, out: Path | None, no_report: bool, as_json: bool,
          fig_format: str, xlsx: bool = False, latex: bool = False, **params: Any) -> None:
    """GARCH volatility around an event of TICKER: model chosen by BIC, the volatility ratio
    around day 0 with its tests, GARCH-standardised ARs, plots."""
    import json

    from eventstudy.report.writer import write_volatility_report
    from eventstudy.studies.garch import garch_study

    default_out = Path("reports") / f"garch_{ticker}"
    inputs = (params["data"], params["cache_dir"], listings)
    check_report_out(out, default_out, no_report, inputs)
    if xlsx or latex:
        raise BadInput("garch has no event-study tables to export: use lockup ... --xlsx/--latex")
    result = garch_study(ticker, date=date, tranche=tranche, market=market, listings=listings,
                         **params)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if not no_report:
        headless()
        with gc_frozen():
            folder = write_volatility_report(result, out or default_out, inputs, fmt=fig_format)
        click.echo(f"report: {folder}/report.html", err=True)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary())


@main.command(short_help="Check each test's size and power (Brown & Warner 1985).")
@click.option("--samples", type=click.IntRange(1, None), default=1000, show_default=True,
              help="Draw this many samples per design and shift.")
@click.option("--events", "n_events", type=click.IntRange(3, None), default=50,
              show_default=True, help="Put this many events in each sample.")
@click.option("--shifts", default="0,-0.01,-0.02,-0.05", show_default=True,
              help="Add these abnormal returns on day 0 (comma-separated).")
@click.option("--variance-ratios", default="1,2", show_default=True,
              help="Multiply the event-day variance by these factors (comma-separated).")
@click.option("--window", default="0,0", show_default=True,
              help="Test the CAR over this event window, in sessions.")
@click.option("--model", type=click.Choice(["market", "market_adjusted", "constant_mean", "dimson",
                                   "scholes_williams", "factors"]),
              default="market", show_default=True,
              help="Fit this normal-return model; factors uses the real ^HSI return plus "
                   "two SYNTHETIC seeded factors (no Hong Kong factor data are shipped), a "
                   "check of the K-factor machinery.")
@click.option("--pool", type=click.IntRange(50, None), default=5000, show_default=True,
              help="Build the pool from this many pseudo-events of the bundled panel.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed the random draws (the same seed gives the same table).")
@click.option("--designs", default="independent,clustered,single", show_default=True,
              help="Run these designs: independent dates, clustered (one date per sample), "
                   "single (N = 1), young6 / young12 (6 / 12 months after a listing, lock-up "
                   "estimation rule), thin (the stocks with the most no-trade days); NAME:N for "
                   "N events per sample, e.g. independent:100,clustered:30.")
@click.option("--panel", "source", type=click.Choice(["bundled", "hk190"]), default="bundled",
              show_default=True,
              help="Real stocks to draw from: the 10 bundled ones, or 190 more HK stocks "
                   "(data/panel/hk_panel_190.parquet).")
@click.option("--cluster-size", type=click.IntRange(3, None), default=5, show_default=True,
              help="Put this many stocks in each cluster of a clustered sample (all on one "
                   "calendar date).")
@click.option("--garch", "garch_draws", type=click.IntRange(0, None), default=0,
              show_default=True,
              help="Also measure the size of the GARCH event tests on this many no-event "
                   "draws (slow: about 0.5 s each).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reports/simulate.csv"), show_default=True,
              help="Write the full table to this CSV file.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the table as JSON on stdout.")
@guarded
def simulate(samples: int, n_events: int, shifts: str, variance_ratios: str, window: str,
             model: str, pool: int, seed: int, designs: str, source: str, cluster_size: int,
             garch_draws: int, out: Path, as_json: bool) -> None:
    """Brown & Warner (1985) specification check on the bundled real panel: how often each test
    rejects at 5% with no abnormal return (size) and with one added (power), for events on
    independent dates, events clustered on one date, and single events."""
    from eventstudy.engine.significance import REPORTED_TESTS
    from eventstudy.engine.simulate import brown_warner, summary
    from eventstudy.fileio import atomic_write_text
    from eventstudy.formatting import csv_text

    table = brown_warner(n_samples=samples, n_events=n_events,
                         shifts=parse_floats(shifts, "--shifts"),
                         variance_ratios=parse_floats(variance_ratios, "--variance-ratios"),
                         window=parse_window(window), model=model, pool_size=pool, seed=seed,
                         designs=[d.strip() for d in designs.split(",") if d.strip()],
                         cluster_size=cluster_size, source=source, tests=REPORTED_TESTS,
                         progress=not (as_json or quiet()))
    atomic_write_text(out, csv_text(table))
    click.echo(f"table: {out}", err=True)
    if "factor_data" in table.attrs:
        click.echo(f"factor model on {table.attrs['factor_data']}", err=as_json)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
    else:
        click.echo(summary(table).to_string())
        flagged = table.loc[table["size_flag"], ["design", "test"]].drop_duplicates()
        if len(flagged):
            where = ", ".join(f"{t} ({d})" for d, t in flagged.itertuples(index=False))
            click.echo(f"size outside [3%, 7%] on this panel: {where}")
    if garch_draws:
        _garch_size(garch_draws, seed, out, as_json)


def _garch_size(draws: int, seed: int, out: Path, as_json: bool) -> None:
    """The GARCH tests' size on no-event draws (``eventstudy.volatility.size``)."""
    from eventstudy.fileio import atomic_write_text
    from eventstudy.formatting import csv_text
    from eventstudy.volatility.size import garch_size

    table = garch_size(n_draws=draws, seed=seed)
    target = out.with_name(f"{out.stem}_garch{out.suffix or '.csv'}")
    atomic_write_text(target, csv_text(table.attrs["draws"]))
    click.echo(f"GARCH draws: {target}", err=True)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
    else:
        click.echo(f"GARCH event tests, size at 5% on {draws} no-event draws (seed {seed}; "
                   f"{table.attrs['beta_at_bound']} chosen fits with beta at its bound):")
        click.echo(table.to_string(index=False))


@main.command(short_help="Fill the price cache with tickers.")
@click.argument("tickers", nargs=-1, required=True)
@data_options
@guarded
def fetch(tickers: tuple[str, ...], offline: bool, data: Path | None,
          cache_dir: Path | None) -> None:
    """Fill the cache with TICKERS (from Yahoo, or from --data, or --offline: bundled)."""
    from eventstudy.data.tickers import normalise_ticker
    from eventstudy.studies.core import make_loader

    names = [normalise_ticker(t) for t in tickers]
    loader = make_loader(offline=offline, data=data, cache_dir=cache_dir,
                         data_ticker=names[0] if data and len(names) == 1 else None)
    failed = 0
    for ticker in names:
        seen = len(loader.notes)
        try:
            frame, path = loader.fetch(ticker)
        except EventStudyError as exc:
            failed = max(failed, exc.exit_code)
            click.echo(f"error: {exc}", err=True)
            continue
        finally:
            _warn(loader.notes[seen:])  # a partial answer that kept the cache, ...
        click.echo(f"{ticker}: {len(frame)} rows {frame.index[0].date()}..{frame.index[-1].date()}"
                   f" from {frame.attrs['source']} -> {path}")
    if failed:
        sys.exit(failed)


@main.command("check", short_help="Run the data-quality screens on a price file or folder.")
@click.argument("data", type=click.Path(path_type=Path))
@guarded
def check(data: Path) -> None:
    """Run the data-quality screens on a price file or folder and print what they find,
    without studying anything: exit 0 if clean, 4 if a screen finds something a study would
    skip or refuse (docs/quality.md)."""
    from eventstudy.quality.check import FINDINGS_EXIT, check_data, check_lines

    lines, bad = check_lines(check_data(data))
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(f"{data}: clean")
    if bad:
        sys.exit(FINDINGS_EXIT)


@main.command("listing", short_help="Study the first trading days of newly listed tickers.")
@click.argument("tickers", nargs=-1, required=True)
@click.option("--model", type=click.Choice(["market", "market_adjusted"]),
              default="market_adjusted", show_default=True,
              help="Fit this normal-return model (the other one is shown as a robustness row).")
@click.option("--market", help="Use this market index ticker (default: by exchange, .HK -> "
                               "^HSI).")
@click.option("--window", default="0,20", show_default=True,
              help="Study this event window, in sessions from the listing day (day 0).")
@click.option("--estimation", default="30,150", show_default=True,
              help="Estimate the model over these sessions after listing.")
@click.option("--car-windows", default="0,0;0,1;0,5;0,10;0,20", show_default=True,
              help="Compute CARs over these windows, separated by ';'.")
@click.option("--horizons", default="20,60,120", show_default=True,
              help="Compute BHARs over [0,+h] for these horizons h, in sessions.")
@click.option("--first-days", type=click.IntRange(1, None), default=5, show_default=True,
              help="Show market-adjusted returns for this many first sessions.")
@click.option("--min-estimation", type=click.IntRange(3, None), default=MIN_ESTIMATION,
              show_default=True,
              help="Fit the market model only with at least this many estimation sessions.")
@_calendar_option
@data_options
@output_options
@guarded
def listing(tickers: tuple[str, ...], model: str, market: str | None, window: str,
            estimation: str, car_windows: str, horizons: str, first_days: int,
            min_estimation: int, calendar_path: Path | None, out: Path | None, no_report: bool,
            as_json: bool, fig_format: str, offline: bool, data: Path | None,
            cache_dir: Path | None, xlsx: bool = False, latex: bool = False) -> None:
    """Listing-day study of TICKERS: first-day return, market-adjusted returns, BHARs, report."""
    from eventstudy.studies.listing import listing_study

    name = tickers[0] if len(tickers) == 1 else f"{len(tickers)}_tickers"
    default_out = Path("reports") / f"listing_{name}"
    inputs = (data, cache_dir, calendar_path)
    check_report_out(out, default_out, no_report, inputs)
    check_exports(no_report, xlsx, latex)
    try:
        spans = tuple(int(h) for h in horizons.split(",") if h.strip())
    except ValueError:
        spans = ()
    if not spans:
        raise BadInput(f"bad --horizons {horizons[:40]!r}: expected integers like 20,60,120")
    result = listing_study(
        list(tickers), model=model, market=market, window=parse_window(window),
        estimation=parse_window(estimation, "estimation window"),
        car_windows=parse_windows(car_windows), horizons=spans, first_days=first_days,
        min_estimation=min_estimation, offline=offline, data=data, cache_dir=cache_dir,
        listings=calendar_path)
    emit(result, as_json=as_json, out=out, default_out=default_out, no_report=no_report,
         inputs=inputs, fig_format=fig_format, xlsx=xlsx, latex=latex)
