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
                        help="--market ipo-index: fewest constituents for a day's index "
                             "return (fewer: missing).")(func)
    return click.option("--ipo-index-months", type=click.IntRange(1, 600), default=24,
                        show_default=True,
                        help="--market ipo-index: constituents are the listings of the last N "
                             "months (the event's own firm excluded).")(func)


def ipo_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The IPO-index options, passed on only with ``--market ipo-index``."""
    return {"ipo_index_months": params["ipo_index_months"],
            "ipo_index_min": params["ipo_index_min"]}


@main.command()
@click.argument("tickers", nargs=-1, required=True)
@event_options(
    tranche_help="Only these tranches (repeatable): cornerstone, pre_ipo, controlling_6m, ...",
    listings_help="Your listings calendar, merged over the bundled one.",
    garch=click.option("--garch/--no-garch", default=None,
                       help="GARCH volatility section (default: on for one ticker)."),
    executor="serial")
@ipo_index_options
@guarded
def lockup(tickers: tuple[str, ...], tranches: tuple[str, ...], listings: Path | None,
           garch: bool | None, executor: str, out: Path | None, no_report: bool, as_json: bool,
           fig_format: str, xlsx: bool = False, latex: bool = False, **params: Any) -> None:
    """Lock-up expiry study of TICKERS (e.g. 0020.HK): AR, CARs, abnormal volume, GARCH
    volatility, report; with several tickers also CAAR and the cross-event tests."""
    from eventstudy.studies.lockup import lockup_study

    name = tickers[0] if len(tickers) == 1 else f"{len(tickers)}_tickers"
    default_out = Path("reports") / f"lockup_{name}"
    inputs = (params["data"], params["cache_dir"], listings)
    check_report_out(out, default_out, no_report, inputs)
    check_exports(no_report, xlsx, latex)
    result = lockup_study(list(tickers), tranches=list(tranches) or None, listings=listings,
                          volatility=garch, executor=executor,
                          progress=not (as_json or quiet()),
                          **study_kwargs(params), **ipo_kwargs(params))
    emit(result, as_json=as_json, out=out, default_out=default_out, no_report=no_report,
         inputs=inputs, fig_format=fig_format, xlsx=xlsx, latex=latex)


@main.command()
@click.argument("events", required=False, type=click.Path(dir_okay=False, path_type=Path))
@event_options(
    tranche_help="Only these tranches (repeatable).",
    listings_help="Study every lock-up of every listing in this calendar (default: bundled).",
    extra=(click.option("--group-by", default="group", show_default=True,
                        help="Column of the events to group the tests by (tranche, group, any "
                             "column)."),
           click.option("--holiday", type=click.Choice(["next", "previous", "skip"]),
                        default="next", show_default=True,
                        help="Events file dates that are not sessions."),
           click.option("--regress", multiple=True,
                        help="Cross-sectional regression (repeatable), e.g. "
                             "'car ~ runup + C(tranche)': outcomes car, car_t, abnormal_volume."),
           click.option("--regress-window", default="0,1", show_default=True,
                        help="Event days of the regression outcomes."),
           click.option("--calendar-time",
                        help="Calendar-time portfolio over these event days, e.g. 0,20."),
           click.option("--weight-col",
                        help="Value-weight the calendar-time portfolio by this events-file or "
                             "calendar column (e.g. market_cap; market_cap without such a "
                             "column: shares_outstanding x close on day -1)."),
           click.option("--bootstrap", type=click.IntRange(0, 10**6), default=9999,
                        show_default=True, help="Wild-bootstrap resamples of CAAR (0: off).")),
    garch=click.option("--garch", is_flag=True,
                       help="GARCH volatility per firm-day and the GARCH-standardised BMP test."),
    executor="local")
@ipo_index_options
@guarded
def batch(events: Path | None, listings: Path | None, tranches: tuple[str, ...], group_by: str,
          holiday: str, garch: bool, regress: tuple[str, ...], regress_window: str,
          calendar_time: str | None, weight_col: str | None, bootstrap: int, executor: str,
          out: Path | None,
          no_report: bool, as_json: bool, fig_format: str, xlsx: bool = False,
          latex: bool = False, **params: Any) -> None:
    """Many events: CAAR, BHAR and every test. EVENTS is a CSV/YAML of ticker,date[,tranche,
    group,...]; without it, every lock-up of every listing in --listings (or the bundled
    calendar)."""
    from eventstudy.studies.batch import batch_study

    default_out = Path("reports") / f"batch_{events.stem if events else 'listings'}"
    inputs = (params["data"], params["cache_dir"], listings, events)
    check_report_out(out, default_out, no_report, inputs)
    check_exports(no_report, xlsx, latex)
    result = batch_study(events, listings=listings, tranches=list(tranches) or None,
                         group_by=group_by, holiday_policy=holiday,  # type: ignore[arg-type]
                         volatility=garch, executor=executor,
                         progress=not (as_json or quiet()),
                         regress=regress, regress_window=parse_window(regress_window),
                         calendar_time=parse_window(calendar_time, "--calendar-time days")
                         if calendar_time else None, calendar_weight_col=weight_col,
                         bootstrap=bootstrap,
                         **study_kwargs(params), **ipo_kwargs(params))
    emit(result, as_json=as_json, out=out, default_out=default_out, no_report=no_report,
         inputs=inputs, fig_format=fig_format, xlsx=xlsx, latex=latex)


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
        folder = write_volatility_report(result, out or default_out, inputs, fmt=fig_format)
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
@click.option("--model", type=click.Choice(["market", "market_adjusted", "constant_mean", "dimson",
                                   "scholes_williams", "factors"]),
              default="market", show_default=True,
              help="factors: the real ^HSI return plus two SYNTHETIC seeded factors (no Hong "
                   "Kong factor data are shipped): a check of the K-factor machinery.")
@click.option("--pool", type=click.IntRange(50, None), default=5000, show_default=True,
              help="Pseudo-events drawn from the bundled panel.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--designs", default="independent,clustered,single", show_default=True,
              help="independent dates, clustered (one date per sample), single (N = 1).")
@click.option("--cluster-size", type=click.IntRange(3, None), default=5, show_default=True,
              help="Stocks per clustered sample (all on one calendar date).")
@click.option("--garch", "garch_draws", type=click.IntRange(0, None), default=0,
              show_default=True,
              help="Also the size of the GARCH event tests on this many no-event draws (slow: "
                   "about 0.5 s each).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reports/simulate.csv"), show_default=True)
@click.option("--json", "as_json", is_flag=True)
@guarded
def simulate(samples: int, n_events: int, shifts: str, variance_ratios: str, window: str,
             model: str, pool: int, seed: int, designs: str, cluster_size: int, garch_draws: int,
             out: Path, as_json: bool) -> None:
    """Brown & Warner (1985) specification check on the bundled real panel: how often each test
    rejects at 5% with no abnormal return (size) and with one added (power), for events on
    independent dates, events clustered on one date, and single events."""
    from eventstudy.engine.simulate import brown_warner, summary
    from eventstudy.fileio import atomic_write_text
    from eventstudy.formatting import csv_text

    table = brown_warner(n_samples=samples, n_events=n_events,
                         shifts=parse_floats(shifts, "--shifts"),
                         variance_ratios=parse_floats(variance_ratios, "--variance-ratios"),
                         window=parse_window(window), model=model, pool_size=pool, seed=seed,
                         designs=[d.strip() for d in designs.split(",") if d.strip()],
                         cluster_size=cluster_size, progress=not (as_json or quiet()))
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


@main.command()
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
@click.option("--min-estimation", type=click.IntRange(3, None), default=MIN_ESTIMATION,
              show_default=True,
              help="Fewest estimation sessions for the market model.")
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
