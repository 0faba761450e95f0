"""The figures a report shows and their files: per firm-day price/volume and AR/CAR plots, the
CAAR plot, the calendar-time portfolio, and per event the volatility plots, named and titled by
the variance model actually used (``..._garch_volatility`` or, after the EWMA fallback,
``..._ewma_volatility``). Drawing is ``eventstudy.plotting`` (through the result's plot
adapters); this module only chooses and saves, each file written atomically."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventstudy.errors import BadInput
from eventstudy.fileio import atomic_write
from eventstudy.report.document import Image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.results.result import EventStudyResult
from eventstudy.results.summary import firm_days, label_of

PLOT_LIMIT = 12  # up to this many firm-days, each gets its own price and AR/CAR plots
FORMATS = ("png", "svg", "pdf")
DPI = 150  # PNG resolution of report figures (1350-1800 px wide: sharp in the 1150 px page)

# (file stem, title, draw): one figure of a report, drawn when ``draw()`` is called
Job = tuple[str, str, Callable[[], "Figure"]]


def safe_name(stem: str) -> str:
    """A file-name stem of letters, digits, '_', '.', '-' only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "figure"


def event_figures(result: EventStudyResult) -> list[Job]:
    """The CAAR plot, the calendar-time portfolio, and per firm-day (up to ``PLOT_LIMIT``) the
    price/volume and AR/CAR plots."""
    from eventstudy.results import plots

    figures: list[Job] = []
    if not result.caar.empty:
        figures.append(("caar", "CAAR with 95% confidence band", partial(plots.plot_caar, result)))
    if result.designs.get("calendar_time") is not None:
        figures.append(("calendar_time", "Calendar-time portfolio",
                        partial(plots.plot_calendar_time, result)))
    days = firm_days(result)
    for ticker, day, ids in days if len(days) <= PLOT_LIMIT else []:
        label, stem = label_of(result, ids), safe_name(f"{ticker}_{day}")
        figures.append((f"price_volume_{stem}", f"Price and volume: {label}",
                        partial(plots.plot_price_volume, result, ids[0])))
        figures.append((f"ar_car_{stem}", f"Abnormal returns and CAR: {label}",
                        partial(plots.plot_car, result, ids[0])))
    return figures


def volatility_figures(vol: Any, stem: str, name: str = "") -> list[Job]:
    """The two figures of one volatility study ``vol`` (an ``EventVolatility``): conditional
    volatility and residual diagnostics, files ``{stem}_{model}_volatility|diagnostics``
    (model: garch, gjr_garch, egarch, or ewma after the fallback)."""
    from eventstudy.plotting.volatility import (
        model_name,
        model_stem,
        plot_conditional_volatility,
        plot_std_resid_diagnostics,
    )

    model, what = model_stem(vol), model_name(vol)
    suffix = f": {name}" if name else ""
    return [(f"{stem}_{model}_volatility", f"Conditional volatility ({what}){suffix}",
             partial(plot_conditional_volatility, vol)),
            (f"{stem}_{model}_diagnostics",
             f"Standardised residual diagnostics ({what}, estimation sample){suffix}",
             partial(plot_std_resid_diagnostics, vol))]


def _metadata(fmt: str) -> dict[str, str | None]:
    """No creation date in SVG/PDF files, so that one study gives the same files."""
    return {"Date": None} if fmt in ("svg", "pdf") else {}


def save_figure(fig: Figure, folder: Path, stem: str, written: dict[str, Path],
                fmt: str = "png") -> str:
    """Save ``fig`` atomically as ``stem``.``fmt`` into ``folder``, record it in ``written``;
    return the file name."""
    name = f"{safe_name(stem)}.{fmt}"
    atomic_write(folder / name, lambda tmp: fig.savefig(tmp, dpi=DPI, format=fmt,
                                                        metadata=_metadata(fmt)))
    written[name] = folder / name
    return name


def save_jobs(jobs: list[Job], folder: Path, written: dict[str, Path],
              fmt: str = "png") -> list[Image]:
    """Draw and save every job; the report's Images, in order."""
    return [Image(save_figure(draw(), folder, stem, written, fmt), title)
            for stem, title, draw in jobs]


def write_figures(result: EventStudyResult, folder: Path, written: dict[str, Path],
                  fmt: str = "png") -> tuple[list[Image], dict[str, list[Image]]]:
    """Write every figure of ``result`` into ``folder`` as ``fmt``: the event figures and, by
    event id, the volatility figures; each written file is recorded in ``written``."""
    images = save_jobs(event_figures(result), folder, written, fmt)
    volatility = {
        event_id: save_jobs(volatility_figures(vol, safe_name(event_id), event_id), folder,
                            written, fmt)
        for event_id, vol in (result.extras.get("volatility") or {}).items()}
    return images, volatility


def volatility_stem(vol: Any) -> str:
    """'{label}_{day 0}' of a volatility study (day 0 as a date, or its position)."""
    day0 = vol.event_date.date() if vol.event_date is not None else vol.event_position
    return safe_name(f"{vol.label or 'series'}_{day0}")


def save_volatility_plots(vol: Any, folder: str | Path, fmt: str = "png") -> list[Path]:
    """Write the volatility and diagnostics figures of ``vol`` into ``folder`` (files named
    ``{label}_{day 0}_{model}_...``); never replaces an existing file. Returns the paths."""
    out = Path(folder)
    jobs = volatility_figures(vol, volatility_stem(vol))
    taken = [stem for stem, _, _ in jobs if (out / f"{safe_name(stem)}.{fmt}").exists()]
    if taken:
        raise BadInput(f"{out / taken[0]}.{fmt} exists: choose another folder")
    written: dict[str, Path] = {}
    save_jobs(jobs, out, written, fmt)
    return list(written.values())
