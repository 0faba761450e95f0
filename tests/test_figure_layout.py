"""The fixed-margin layout of new figures (``plotting.axes.MarginLayout``): on the report's real
figures no text is cut by the figure's edge or runs over another panel, and the left margin
grows with the y tick labels the data ends up with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import read_raw_prices
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from eventstudy.plotting.axes import MarginLayout
from eventstudy.plotting.events import plot_ar_car, plot_price
from eventstudy.report.figures import event_figures, safe_name, volatility_figures


def layout_problems(fig: Figure) -> list[str]:
    """Text outside the figure (by more than a pixel), a panel's tick labels, axis labels or
    title over another panel's frame, an Axes title under the suptitle."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    edge = fig.bbox
    found = []
    suptitle = getattr(fig, "_suptitle", None)
    boxes = [(ax.get_title() or ax.get_ylabel(), ax.get_tightbbox(renderer)) for ax in fig.axes]
    if suptitle is not None:
        boxes.append(("suptitle", suptitle.get_window_extent(renderer)))
    for name, box in boxes:
        if box is None:
            continue
        if (box.x0 < edge.x0 - 1 or box.y0 < edge.y0 - 1 or box.x1 > edge.x1 + 1
                or box.y1 > edge.y1 + 1):
            found.append(f"outside the figure: {name}")
    for ax in fig.axes:
        parts = [ax.yaxis.get_tightbbox(renderer), ax.xaxis.get_tightbbox(renderer)]
        if ax.get_title():
            parts.append(ax.title.get_window_extent(renderer))
            if suptitle is not None and ax.title.get_window_extent(renderer).overlaps(
                    suptitle.get_window_extent(renderer)):
                found.append(f"title under the suptitle: {ax.get_title()}")
        for other in fig.axes:
            if other is not ax and any(p is not None and p.width > 0 and p.overlaps(other.bbox)
                                       for p in parts):
                found.append(f"over another panel: {ax.get_title() or ax.get_ylabel()}")
    return found


def _report_figures(result) -> dict[str, Figure]:
    jobs = event_figures(result)
    for event_id, vol in (result.extras.get("volatility") or {}).items():
        jobs += volatility_figures(vol, safe_name(event_id), event_id)
    return {stem: draw() for stem, _, draw in jobs}


def test_report_figures_of_a_lockup_keep_every_text_inside_and_apart() -> None:
    """SenseTime (bundled): price/volume, AR/CAR, and the EWMA-fallback volatility figures whose
    x label is a two-line note."""
    from eventstudy.studies.lockup import lockup_study

    figures = _report_figures(lockup_study("0020.HK", offline=True, volatility=True))
    assert len(figures) == 8
    assert any("Fallback" in ax.get_xlabel() for f in figures.values() for ax in f.axes)
    for stem, fig in figures.items():
        assert isinstance(fig.get_layout_engine(), MarginLayout)
        assert layout_problems(fig) == [], stem


def test_report_figures_of_a_garch_fit_and_a_batch_keep_every_text_inside_and_apart() -> None:
    """A real GARCH fit (no fallback note), the CAAR and the calendar-time portfolio."""
    from eventstudy.studies.batch import batch_study
    from eventstudy.studies.garch import garch_study

    vol = garch_study("0020.HK", offline=True)
    assert vol.fit is not None
    figures = {stem: draw() for stem, _, draw in volatility_figures(vol, "garch")}
    events = pd.DataFrame({"ticker": ["0020.HK", "9660.HK"],
                           "date": ["2022-06-30", "2025-04-24"]})
    batch = batch_study(events, calendar_time=(0, 20), offline=True, bootstrap=0)
    figures |= _report_figures(batch)
    assert {"caar", "calendar_time"} <= set(figures)
    for stem, fig in figures.items():
        assert layout_problems(fig) == [], stem


def test_the_left_margin_grows_with_long_tick_labels() -> None:
    """SenseTime's real closes of June-July 2022 divided by 10,000 (ticks like 0.00045, a
    scaled real series): a wider left margin than for the closes themselves, nothing cut."""
    raw = read_raw_prices("0020.HK").loc["2022-06-01":"2022-07-31"]
    dates, close = raw.index.to_numpy(), raw["Close"].to_numpy(dtype=float)
    plain = plot_price(dates, close, "2022-06-30")
    tiny = plot_price(dates, close / 10_000, "2022-06-30")
    assert layout_problems(plain) == [] and layout_problems(tiny) == []
    assert tiny.axes[0].get_position().x0 > plain.axes[0].get_position().x0 + 0.02


def test_the_layout_check_finds_a_cut_label() -> None:
    """The check above can fail: the same figure with its left margin taken away is flagged."""
    days = np.arange(-10, 21)
    fig = plot_ar_car(days, np.linspace(-0.1, 0.1, days.size), np.linspace(0, 1, days.size),
                      np.full(days.size, 0.1), title="AR and CAR")
    assert layout_problems(fig) == []
    fig.set_layout_engine("none")
    fig.subplots_adjust(left=0.01)
    assert layout_problems(fig) != []


@pytest.mark.parametrize("rows", [1, 2])
def test_margin_layout_leaves_the_users_own_figures_alone(rows: int) -> None:
    """Drawing into the user's axes never sets a layout on their figure."""
    days = np.arange(-10, 21)
    fig = Figure()
    axes = fig.subplots(rows, 1, squeeze=False)
    before = [ax.get_position().bounds for ax in axes.ravel()]
    plot_ar_car(days, np.zeros(days.size), np.zeros(days.size), np.ones(days.size),
                ax=axes[0, 0])
    assert fig.get_layout_engine() is None
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    assert [ax.get_position().bounds for ax in axes.ravel()] == before


def test_bars_of_one_collection_draw_the_pixels_of_axes_bar() -> None:
    """plot_residual_band draws its hundreds of daily bars as one PolyCollection: the same
    pixels as ax.bar (one Rectangle per bar) with the band, day 0 and legend drawn the same
    way, on the bundled SenseTime volatility study."""
    from eventstudy.plotting import volatility as vdraw
    from eventstudy.plotting.axes import new_figure
    from eventstudy.studies.lockup import lockup_study

    vol = lockup_study("0020.HK", offline=True, volatility=True).extras["volatility"][
        "0020.HK:cornerstone:2022-06-30"]

    def pixels(fig: Figure) -> np.ndarray:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()

    fig = new_figure(10, 2.4)
    ax = fig.subplots()
    path, x = vol.path, vdraw._x(vol)
    ax.bar(x, path["resid"], color="0.45", width=1.0, label="abnormal return")
    ax.fill_between(x, -1.96 * path["sigma"], 1.96 * path["sigma"], color="C0", alpha=0.2,
                    label="+-1.96 sigma (EWMA)")
    vdraw._mark_event(ax, vol)
    vdraw._x_axis(ax, vol)
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="lower left")
    assert len(ax.patches) > 100
    np.testing.assert_array_equal(pixels(vdraw.plot_residual_band(vol)), pixels(fig))


def test_the_left_margin_fits_the_ticks_of_the_final_panel_height() -> None:
    """A y axis gets more ticks once the layout has made its panel taller (-7.5 .. 7.5 instead
    of -5 .. 5 for a view of +-8.64, as on 0856.HK's volatility figure in the HK panel): the
    labels are measured after the panel heights are set, so the y label is not cut."""
    from eventstudy.plotting.axes import new_figure

    raw = read_raw_prices("0020.HK").loc["2022-06-01":"2022-07-31"]
    fig = new_figure(10, 6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top.plot(raw.index, raw["Close"])
    top.set_ylabel("close")
    bottom.plot(raw.index, 100 * raw["Close"].pct_change())
    bottom.set_ylim(-8.643777265748605, 8.643777265748605)
    bottom.set_ylabel("%")
    assert layout_problems(fig) == []
    assert "−7.5" in [t.get_text() for t in bottom.get_yticklabels()]
