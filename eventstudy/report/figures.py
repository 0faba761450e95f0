"""The figures a report contains: per firm-day price/volume and AR/CAR plots, the CAAR plot, the
volatility plots, saved into the report folder; the writer embeds exactly these files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eventstudy.report.document import Image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.studies.result import EventStudyResult
from eventstudy.studies.summary import firm_days, label_of

PLOT_LIMIT = 12  # up to this many firm-days, each gets its own price and AR/CAR plots


def safe_name(stem: str) -> str:
    """A file-name stem of letters, digits, '_', '.', '-' only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "figure"


def _figures(result: EventStudyResult) -> list[tuple[str, str, Figure]]:
    from eventstudy.plotting.events import ar_car_figure, price_volume_figure

    figures = []
    if not result.caar.empty:
        figures.append(("caar", "CAAR with 95% confidence band", caar_plot(result)))
    positions = {e: i for i, e in enumerate(result.event_ids())}
    view = result.ar.window_view(result.options.window)
    days = firm_days(result)
    for ticker, day, ids in days if len(days) <= PLOT_LIMIT else []:
        row, label = positions[ids[0]], label_of(result, ids)
        stem = safe_name(f"{ticker}_{day}")
        figures.append((f"price_volume_{stem}", f"Price and volume: {label}",
                        price_volume_figure(view, row, f"{label}: price and volume")))
        figures.append((f"ar_car_{stem}", f"Abnormal returns and CAR: {label}",
                        ar_car_figure(view, row, f"{label}: AR and CAR")))
    return figures


def caar_plot(result: EventStudyResult) -> Figure:
    from eventstudy.plotting.events import caar_figure

    caar = result.caar
    with np.errstate(invalid="ignore", divide="ignore"):
        se = (caar["caar"] / caar["caar_t"]).abs().to_numpy()
    n = int(caar["caar_n"].max())
    return caar_figure(caar["day"].to_numpy(), caar["caar"].to_numpy(), se,
                       f"CAAR across {n} firm-days (cross-sectional 95% band)")


def save_figure(fig: Figure, folder: Path, stem: str, written: dict[str, Path]) -> str:
    """Save ``fig`` as ``stem``.png into ``folder``, close it, record it in ``written``."""
    import matplotlib.pyplot as plt

    name = f"{safe_name(stem)}.png"
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    written[name] = folder / name
    return name


def write_figures(result: EventStudyResult, folder: Path, written: dict[str, Path]
                  ) -> tuple[list[Image], dict[str, list[Image]]]:
    """Write every figure of ``result`` into ``folder``: the event figures and, by event id,
    the volatility figures; each written file is recorded in ``written``."""
    from eventstudy.plotting.volatility import (
        plot_conditional_volatility,
        plot_std_resid_diagnostics,
    )

    images = [Image(save_figure(fig, folder, stem, written), title)
              for stem, title, fig in _figures(result)]
    volatility: dict[str, list[Image]] = {}
    for event_id, vol in (result.extras.get("volatility") or {}).items():
        stem = safe_name(f"{event_id}")
        volatility[event_id] = [
            Image(save_figure(plot_conditional_volatility(vol), folder,
                              f"{stem}_garch_volatility", written),
                  f"Conditional volatility: {event_id}"),
            Image(save_figure(plot_std_resid_diagnostics(vol), folder,
                              f"{stem}_garch_diagnostics", written),
                  f"Standardised residual diagnostics: {event_id}")]
    return images, volatility
