"""The figures a report contains: per firm-day price/volume and AR/CAR plots, the CAAR plot, the
volatility plots, saved into the report folder; the writer embeds exactly these files."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from eventstudy.report.document import Image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.results.result import EventStudyResult
from eventstudy.results.summary import firm_days, label_of

PLOT_LIMIT = 12  # up to this many firm-days, each gets its own price and AR/CAR plots


def safe_name(stem: str) -> str:
    """A file-name stem of letters, digits, '_', '.', '-' only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "figure"


def _figures(result: EventStudyResult) -> list[tuple[str, str, Callable[[], Figure]]]:
    """(file stem, title, draw): the CAAR plot, and per firm-day (up to ``PLOT_LIMIT``) the
    price/volume and AR/CAR plots, drawn by the result's plot methods when called."""
    figures: list[tuple[str, str, Callable[[], Figure]]] = []
    if not result.caar.empty:
        figures.append(("caar", "CAAR with 95% confidence band", result.plot_caar))
    calendar_time = result.designs.get("calendar_time")
    if calendar_time is not None:
        figures.append(("calendar_time", "Calendar-time portfolio", calendar_time.plot))
    days = firm_days(result)
    for ticker, day, ids in days if len(days) <= PLOT_LIMIT else []:
        label, stem = label_of(result, ids), safe_name(f"{ticker}_{day}")
        figures.append((f"price_volume_{stem}", f"Price and volume: {label}",
                        partial(result.plot_price_volume, ids[0])))
        figures.append((f"ar_car_{stem}", f"Abnormal returns and CAR: {label}",
                        partial(result.plot_car, ids[0])))
    return figures


def caar_plot(result: EventStudyResult) -> Figure:
    """The CAAR figure (kept for notebooks: ``result.plot_caar()``)."""
    return result.plot_caar()


FORMATS = ("png", "svg", "pdf")
DPI = 200  # PNG resolution of report figures


def save_figure(fig: Figure, folder: Path, stem: str, written: dict[str, Path],
                fmt: str = "png") -> str:
    """Save ``fig`` as ``stem``.``fmt`` into ``folder``, close it, record it in ``written``."""
    import matplotlib.pyplot as plt

    name = f"{safe_name(stem)}.{fmt}"
    fig.savefig(folder / name, dpi=DPI, format=fmt, metadata=_metadata(fmt))
    plt.close(fig)
    written[name] = folder / name
    return name


def _metadata(fmt: str) -> dict[str, str | None]:
    """No creation date in SVG/PDF files, so that one study gives the same files."""
    return {"Date": None} if fmt in ("svg", "pdf") else {}


def _draw_and_save(draw: Callable[[], Figure], folder: Path, stem: str, fmt: str) -> str:
    return save_figure(draw(), folder, stem, {}, fmt)


def _jobs(result: EventStudyResult) -> list[tuple[str, str, Callable[[], Figure], str | None]]:
    """(file stem, title, draw, event id of a volatility figure or None) of every figure."""
    from eventstudy.plotting.volatility import plot_std_resid_diagnostics

    jobs: list[tuple[str, str, Callable[[], Figure], str | None]] = [
        (stem, title, draw, None) for stem, title, draw in _figures(result)]
    for event_id, vol in (result.extras.get("volatility") or {}).items():
        stem = safe_name(f"{event_id}")
        jobs.append((f"{stem}_garch_volatility", f"Conditional volatility: {event_id}",
                     partial(result.plot_volatility, event_id), event_id))
        jobs.append((f"{stem}_garch_diagnostics",
                     f"Standardised residual diagnostics: {event_id}",
                     partial(plot_std_resid_diagnostics, vol), event_id))
    return jobs


def write_figures(result: EventStudyResult, folder: Path, written: dict[str, Path],
                  fmt: str = "png") -> tuple[list[Image], dict[str, list[Image]]]:
    """Write every figure of ``result`` into ``folder`` as ``fmt``: the event figures and, by
    event id, the volatility figures; each written file is recorded in ``written``."""
    jobs = _jobs(result)
    names = [_draw_and_save(draw, folder, stem, fmt) for stem, _, draw, _ in jobs]
    images: list[Image] = []
    volatility: dict[str, list[Image]] = {}
    for (_, title, _, event_id), name in zip(jobs, names, strict=True):
        written[name] = folder / name
        image = Image(name, title)
        if event_id is None:
            images.append(image)
        else:
            volatility.setdefault(event_id, []).append(image)
    return images, volatility
