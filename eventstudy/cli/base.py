"""The ``eventstudy`` click group, the option stacks shared by the study commands, and the guard
that turns every ``EventStudyError`` into one line on stderr and exit code 2 or 3."""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import logging
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

import eventstudy
from eventstudy.engine.windows import MIN_ESTIMATION, parse_window, parse_windows
from eventstudy.errors import BadInput, EventStudyError

F = TypeVar("F", bound=Callable[..., Any])


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
            if isinstance(exc, OSError) and exc.filename is not None:
                # a path that cannot be used: too long, read-only, not a folder, disk full
                click.echo(f"error: cannot use {_short(str(exc.filename))}: {exc.strerror}",
                           err=True)
                sys.exit(2)
            if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
                click.echo(f"error: cannot write the output: {exc.strerror or exc} (a full "
                           "disk or a file-size limit such as ulimit -f)", err=True)
                sys.exit(2)
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(f"error: unexpected {type(exc).__name__}: {first} (rerun with --debug "
                       "for the traceback)", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


_WRITE_ERRORS = {errno.EFBIG, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                 errno.EPERM, errno.EIO}


def _short(text: str, limit: int = 120) -> str:
    """``text`` on one line, its middle cut if longer than ``limit``."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else f"{text[:limit - 45]}...{text[-40:]}"


class _Program(click.Group):
    """The ``eventstudy`` group. Run as a program (no ``args``: the console script or ``python
    -m eventstudy.cli``), it calls ``gc.freeze()`` on the way out, so that the interpreter's
    shutdown does not walk every object of pandas, scipy and arch in its last garbage
    collections (0.2 s of a 2 s command). Nothing is skipped: atexit handlers, finalisers and
    buffered output run as before, the garbage in cycles is left to the operating system."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        try:
            return super().main(args, *rest, **kwargs)
        finally:
            if args is None:
                gc.freeze()


@click.group(cls=_Program, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("-q", "--quiet", is_flag=True,
              help="Write only errors on stderr: no warnings, notes or progress bars.")
@click.version_option(version=eventstudy.__version__, prog_name="eventstudy")
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
                        help="Keep downloaded prices in this cache folder (default: the "
                             "user cache dir, or $EVENTSTUDY_CACHE_DIR).")(func)
    func = click.option("--data", type=click.Path(path_type=Path),
                        help="Read prices from this file (CSV or parquet) or folder of "
                             "TICKER.csv files.")(func)
    func = click.option("--offline", is_flag=True,
                        help="Never use the network: read the cache, then the bundled "
                             "data.")(func)
    return func


def study_options(func: F) -> F:
    """Model and windows shared by every study command."""
    options = [
        click.option("--model", type=click.Choice(MODELS),
                     help="Fit this normal-return model (default: market_adjusted for lock-ups, "
                          "market for an events file; the other one is shown as a robustness "
                          "row)."),
        click.option("--factors", type=click.Path(dir_okay=False, path_type=Path),
                     help="Read the factors of --model factors from this file (CSV or "
                          "parquet with a date and factor columns; Ken French's daily CSVs as "
                          "served)."),
        click.option("--factor-cols", help="Use these factor columns, comma-separated "
                                           "(default: all but RF)."),
        click.option("--rf-col", help="Take the risk-free rate from this column (default: RF "
                                      "when present)."),
        click.option("--factor-units", type=click.Choice(["decimal", "percent"]),
                     default="decimal", show_default=True,
                     help="Read a plain factor file in these units (Ken French files are "
                          "detected as percent)."),
        click.option("--dimson", default="1,1", show_default=True,
                     help="Use these lags,leads of the market for --model dimson."),
        click.option("--market", help="Use this market index ticker (default: by exchange, "
                                      ".HK -> ^HSI), or ipo-index for an equal-weighted index "
                                      "of recent listings."),
        click.option("--window", default="-10,20", show_default=True,
                     help="Study this event window, in sessions relative to day 0."),
        click.option("--estimation", help="Fit the model over this window, in sessions "
                                          "relative to day 0 (default -270,-21; lock-ups: "
                                          "listing day +30 to -21)."),
        click.option("--stabilisation", type=click.IntRange(0, 1000), default=30,
                     show_default=True,
                     help="Start estimation this many sessions after the listing day (the "
                          "price-stabilisation period; events with a listing date)."),
        click.option("--car-windows", help="Compute CARs over these windows, separated by ';' "
                                           "(default: -20,-1;-10,-1;0,0;0,1;-1,1;-5,5;0,5;0,10;"
                                           "0,20, less the pre-event windows an --estimation "
                                           "window runs into)."),
        click.option("--min-estimation", type=click.IntRange(3, None), default=MIN_ESTIMATION,
                     show_default=True,
                     help="Fit the model only with at least this many estimation sessions "
                          "(else market-adjusted returns)."),
        click.option("--returns", "returns", type=click.Choice(["trade-to-trade", "lumped"]),
                     default="trade-to-trade", show_default=True,
                     help="Treat no-trade rows (zero volume, unchanged close) either as "
                          "trade-to-trade (dropped, the next return spans them; Maynes & "
                          "Rumsey 1993) or lumped (kept with return 0)."),
        click.option("--keep-other-events", is_flag=True,
                     help="Keep the event windows of the firm's other events in each estimation "
                          "window (default: left out)."),
        click.option("--keep-suspect", is_flag=True,
                     help="Study events whose estimation or event window holds an impossible "
                          "return (a spike, an unadjusted split or a jump without volume), "
                          "flagged in the quality table (default: skipped; see docs/quality.md)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class OneLineError(click.ClickException):
    """A bad option value found while parsing: ``error: ...`` on one line, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _executor(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Validate ``--executor`` before any work (a malformed dask address: exit 2)."""
    from eventstudy.parallel import check_executor

    try:
        return check_executor(value)
    except BadInput as exc:
        raise OneLineError(str(exc)) from None


def event_options(*, listings_help: str, tranche_help: str, garch: Callable[[F], F],
                  executor: str, extra: tuple[Callable[[F], F], ...] = ()) -> Callable[[F], F]:
    """The options of ``lockup`` and ``batch``: --tranche, --listings, ``extra``, ``garch``,
    --executor (default ``executor``), then the study, data and output options."""
    def decorate(func: F) -> F:
        func = study_options(data_options(output_options(func)))
        options: list[Any] = [
            click.option("--tranche", "tranches", multiple=True, help=tranche_help),
            click.option("--listings", type=click.Path(dir_okay=False, path_type=Path),
                         help=listings_help),
            *extra, garch,
            click.option("--executor", default=executor, show_default=True, callback=_executor,
                         help="Run the work serially, in local worker processes or on the "
                              "dask scheduler at dask://HOST:PORT (only that address): the "
                              "GARCH fits, and for batch its events too, in chunks of whole "
                              "tickers. Every executor gives the same numbers."),
            click.option("--workers", type=click.IntRange(1, 1024), default=None,
                         help="Use this many processes with --executor local (default: the CPUs "
                              "this process may use)."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def output_options(func: F) -> F:
    func = click.option("--latex", is_flag=True,
                        help="Also write every table as LaTeX (booktabs, stars), "
                             "<table>.tex, in the report folder.")(func)
    func = click.option("--xlsx", is_flag=True,
                        help="Also write every table into one Excel workbook, tables.xlsx, in "
                             "the report folder.")(func)
    func = click.option("--json", "as_json", is_flag=True,
                        help="Print the summary as JSON on stdout.")(func)
    func = click.option("--no-report", is_flag=True, help="Do not write the report folder.")(func)
    func = click.option("--format", "fig_format", type=click.Choice(["png", "svg", "pdf"]),
                        default="png", show_default=True,
                        help="Draw the report figures as PNG (150 dpi), SVG or PDF.")(func)
    func = click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                        help="Write the report into this folder, which must be new, empty or "
                             "an earlier report (default: reports/<kind>_<ticker>).")(func)
    return func


def study_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """CLI option values -> keyword arguments of the study functions."""
    kwargs: dict[str, Any] = {
        "model": params["model"], "market": params["market"],
        "window": parse_window(params["window"]),
        "car_windows": (None if params["car_windows"] is None
                        else parse_windows(params["car_windows"])),
        "min_estimation": params["min_estimation"],
        "keep_other_events": params["keep_other_events"],
        "stabilisation": params["stabilisation"],
        "keep_suspect": params["keep_suspect"],
        "returns": params["returns"].replace("-", "_"),
        "offline": params["offline"], "data": params["data"], "cache_dir": params["cache_dir"],
    }
    if params.get("estimation"):
        kwargs["estimation"] = parse_window(params["estimation"], "estimation window")
    return kwargs | model_kwargs(params)


MODELS = ["market", "market_adjusted", "constant_mean", "factors", "dimson", "scholes_williams"]


def model_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The factor-file and Dimson options, for the models that use them."""
    model = params.get("model")
    if params.get("factors") and model != "factors":
        raise BadInput("--factors is for --model factors")
    if model == "factors":
        from eventstudy.data.factors import read_factors

        if not params.get("factors"):
            raise BadInput("--model factors needs a factor file (--factors FILE)")
        cols = [c.strip() for c in (params.get("factor_cols") or "").split(",") if c.strip()]
        return {"factors": read_factors(params["factors"],
                                        percent=params.get("factor_units") == "percent"),
                "factor_cols": tuple(cols), "rf_col": params.get("rf_col") or None}
    if model == "dimson":
        text = params.get("dimson") or "1,1"
        try:
            lags, leads = (int(p) for p in text.split(","))
        except ValueError:
            raise BadInput(f"bad --dimson {text!r}: expected lags,leads like 1,1") from None
        return {"dimson": (lags, leads)}
    return {}


def check_report_out(out: Path | None, default_out: Path, no_report: bool,
                     inputs: Iterable[Path | None]) -> None:
    """Before a study runs: refuse an ``--out`` that is not a new, empty or own report folder,
    or that holds an input of the run (exit 2)."""
    if not no_report:
        from eventstudy.report.folder import check_out

        check_out(out or default_out, inputs)


def check_exports(no_report: bool, xlsx: bool, latex: bool) -> list[str]:
    """The export formats of the report folder; --xlsx/--latex need one (checked up front)."""
    if no_report and (xlsx or latex):
        raise BadInput("--xlsx and --latex write into the report folder: drop --no-report")
    return ["csv", *(["xlsx"] if xlsx else []), *(["latex"] if latex else [])]


def emit(result: Any, *, as_json: bool, out: Path | None, default_out: Path,
         no_report: bool, inputs: Iterable[Path | None] = (), fig_format: str = "png",
         xlsx: bool = False, latex: bool = False) -> None:
    """Print the result (text or JSON) and write its report folder (every table as CSV, and
    as a workbook / LaTeX with ``xlsx`` / ``latex``)."""
    from eventstudy.report.writer import write_report

    formats = check_exports(no_report, xlsx, latex)
    # Each note is said once: under "Notes:" in the text summary; with --json (a document for
    # programs on stdout) it is also a warning on stderr for the person running the command.
    for note in getattr(result, "notes", []) if as_json and not quiet() else []:
        click.echo(f"warning: {note}", err=True)
    if not no_report:
        headless()
        with gc_frozen():
            folder = write_report(result, out or default_out, inputs=inputs, fmt=fig_format,
                                  formats=formats)
        click.echo(f"report: {folder}/report.html", err=True)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(result.summary())


def quiet() -> bool:
    """Whether -q was given: no warnings, no progress bars."""
    return bool((click.get_current_context().find_root().obj or {}).get("quiet", False))


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """While the report is written, the objects made before it (the study, pandas, scipy) are
    left out of the garbage collector's full scans (``gc.freeze``; 0.25 s of the report of one
    lock-up), and put back afterwards (``gc.unfreeze``). Nothing is skipped: what the report
    drops in cycles is collected as before. A freeze the host process made is left alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def headless() -> None:
    """The only place that picks a matplotlib backend: a command writes figures to files (Agg).
    Importing eventstudy as a library never changes the backend."""
    import matplotlib

    matplotlib.use("Agg")


def parse_floats(text: str, what: str = "numbers") -> list[float]:
    """``"0,-0.01"`` -> [0.0, -0.01]: at least one finite number."""
    try:
        values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise BadInput(f"bad {what} {text[:40]!r}: expected comma-separated numbers") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise BadInput(f"bad {what} {text[:40]!r}: expected one or more finite numbers")
    return values


def _calendar_option(func: F) -> F:
    return click.option("--listings", "calendar_path",
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="Use your calendar file, merged over the bundled one "
                             "(default: $EVENTSTUDY_LISTINGS).")(func)


def _warn(lines: list[str]) -> None:
    if not (click.get_current_context().find_root().obj or {}).get("quiet", False):
        for line in dict.fromkeys(lines):
            click.echo(f"warning: {line}", err=True)
