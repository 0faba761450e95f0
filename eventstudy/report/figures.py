"""The figures a report contains: per firm-day price/volume and AR/CAR plots, the CAAR plot, the
volatility plots, and saving them into the report folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.studies.result import EventStudyResult
from eventstudy.studies.summary import firm_days, label_of

PLOT_LIMIT = 12  # up to this many firm-days, each gets its own price and AR/CAR plots


def _figures(result: EventStudyResult) -> list[tuple[str, str, Figure]]:
    from eventstudy.plotting.events import ar_car_figure, price_volume_figure

    figures = []
    if not result.caar.empty:
        figures.append(("caar.png", "CAAR with 95% confidence band", caar_plot(result)))
    positions = {e: i for i, e in enumerate(result.event_ids())}
    view = result.ar.window_view(result.options.window)
    days = firm_days(result)
    for ticker, day, ids in days if len(days) <= PLOT_LIMIT else []:
        row, label = positions[ids[0]], label_of(result, ids)
        stem = f"{ticker}_{day}".replace("^", "")
        figures.append((f"price_volume_{stem}.png", f"Price and volume: {label}",
                        price_volume_figure(view, row, f"{label}: price and volume")))
        figures.append((f"ar_car_{stem}.png", f"Abnormal returns and CAR: {label}",
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


def _save_figures(folder: Path, figures: list[tuple[str, str, Figure]]) -> None:
    import matplotlib.pyplot as plt

    for name, _, fig in figures:
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)


def _volatility_images(result: EventStudyResult, folder: Path) -> list[tuple[str, str]]:
    from eventstudy.plotting.volatility import save_volatility_plots

    images = []
    for event_id, vol in (result.extras.get("volatility") or {}).items():
        for path in save_volatility_plots(vol, folder):
            images.append((path.name, f"GARCH: {event_id}: {path.stem.split('_garch_')[-1]}"))
    return images
