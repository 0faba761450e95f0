"""Where a plot draws: the user's Axes, or a new figure made without pyplot.

The convention of every ``plot_*`` function in ``eventstudy.plotting`` (as in alphalens): a
one-panel plot takes ``ax=`` (draw into that Axes), a multi-panel plot takes ``axes=`` (one Axes
per panel, e.g. from the user's own grid); when none is given it makes a new
``matplotlib.figure.Figure`` (not registered with pyplot, so nothing is kept open and no backend
is chosen). Every plot returns the Figure its axes belong to.

A new figure is laid out by ``MarginLayout``: fixed margins in inches, the left one (and the gap
between columns) widened to the y tick labels and label the plot ends up with, measured from
their text (not by drawing the figure first, as constrained layout does twice per save)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import LayoutEngine
from matplotlib.text import Text

from eventstudy.errors import BadInput

PAD = 0.06  # inches between the figure's edge (or the next panel) and its outermost text


class MarginLayout(LayoutEngine):
    """Subplot margins in inches: ``right``, ``top`` (without titles), ``bottom`` (without an
    x label), ``hgap`` (between rows); the left margin and the gap between columns fit the
    widest y tick label and the y label, measured from their text at draw time."""

    _adjust_compatible = True
    _colorbar_gridspec = True

    def __init__(self, *, right: float = 0.12, top: float = 0.03, bottom: float = 0.31,
                 hgap: float = 0.13, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._params = {"right": right, "top": top, "bottom": bottom, "hgap": hgap}

    def set(self, **kwargs: Any) -> None:
        self._params.update(kwargs)

    def execute(self, fig: Any) -> None:
        """Set the subplot parameters of ``fig`` (its Axes made by ``subplots``)."""
        grid = [(ax, ax.get_subplotspec()) for ax in fig.axes]
        grid = [(ax, spec) for ax, spec in grid if spec is not None]
        if not grid:
            return
        p = self._params
        width, height = fig.get_size_inches()
        shape = grid[0][1].get_gridspec().get_geometry()
        top_row = [ax for ax, spec in grid if spec.rowspan.start == 0]
        bottom_row = [ax for ax, spec in grid if spec.rowspan.stop == shape[0]]
        top = p["top"] + max(_title_height(ax) for ax in top_row) + _suptitle_height(fig, p["top"])
        bottom = p["bottom"] + max(_x_label_height(ax) for ax in bottom_row)
        # heights first: how many y ticks (so which labels) an axis gets depends on its height
        fig.subplots_adjust(bottom=bottom / height, top=1 - top / height,
                            hspace=_space(p["hgap"], shape[0], height - top - bottom))
        first = [ax for ax, spec in grid if spec.colspan.start == 0]
        later = [ax for ax, spec in grid if spec.colspan.start > 0]
        left = PAD + max(y_label_width(ax) for ax in first)
        wgap = PAD + max((y_label_width(ax) for ax in later), default=0.0) + 0.1
        fig.subplots_adjust(left=left / width, right=1 - p["right"] / width,
                            wspace=_space(wgap, shape[1], width - left - p["right"]))


def _space(gap: float, n: int, total: float) -> float:
    """matplotlib's wspace/hspace (a fraction of the mean panel size) for a ``gap`` in inches
    between ``n`` panels sharing ``total`` inches."""
    return 0.0 if n < 2 else gap * n / max(total - gap * (n - 1), 1e-6)


def _text_size(text: str, size: float) -> tuple[float, float]:
    """(width, height) in inches of one line of ``text`` at ``size`` points (the default
    font, as matplotlib's text path measures it)."""
    from matplotlib.textpath import text_to_path

    if not text:
        return 0.0, 0.0
    prop = FontProperties(size=size)
    math = text.count("$") >= 2 and not rcParams["text.usetex"]
    w, h, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=math)
    return w / 72, max(h, size) / 72


def y_label_width(ax: Axes) -> float:
    """Inches left of ``ax`` its y tick labels, ticks and y label take (with small slack)."""
    axis = ax.yaxis
    lo, hi = sorted(ax.get_ylim())
    slack = 1e-9 * (hi - lo)
    locs = [x for x in axis.get_majorticklocs() if lo - slack <= x <= hi + slack]
    size = FontProperties(size=rcParams["ytick.labelsize"]).get_size_in_points()
    labels = axis.get_major_formatter().format_ticks(locs) if locs else []
    ticks = max((_text_size(t, size)[0] for t in labels), default=0.0)
    ticks *= 1.05  # hinting in the Agg renderer
    width = ticks + (rcParams["ytick.major.size"] + rcParams["ytick.major.pad"]) / 72
    label = ax.get_ylabel()
    if label:
        lines = label.count("\n") + 1
        width += lines * 1.2 * _points(axis.label) / 72 + axis.labelpad / 72
    return width


def _x_label_height(ax: Axes) -> float:
    """Inches the x label takes below the tick labels (a line for a date offset without it)."""
    label = ax.get_xlabel()
    if not label:
        return 0.17
    lines = label.count("\n") + 1
    return lines * 1.2 * _points(ax.xaxis.label) / 72 + 0.02


def _points(text: Text) -> float:
    """The font size of ``text`` in points."""
    return float(text.get_fontproperties().get_size_in_points())


def _title_height(ax: Axes) -> float:
    if not ax.get_title():
        return 0.0
    return 1.17 * _points(ax.title) / 72 + rcParams["axes.titlepad"] / 72


def _suptitle_height(fig: Figure, top: float) -> float:
    """Inches the suptitle takes, placed ``top`` inches below the edge unless a y was given."""
    title = getattr(fig, "_suptitle", None)  # the suptitle Text, or None
    if title is None or not title.get_text():
        return 0.0
    if getattr(title, "_autopos", False):
        title.set_y(1 - top / fig.get_size_inches()[1])
    return 1.2 * _points(title) / 72


def new_figure(width: float, height: float) -> Figure:
    """A new Figure of ``width`` x ``height`` inches laid out by ``MarginLayout``, outside
    pyplot."""
    return Figure(figsize=(width, height), layout=MarginLayout())


def one_axes(ax: Axes | None, width: float, height: float) -> Axes:
    """``ax``, or the single Axes of a new ``width`` x ``height`` figure."""
    if ax is not None:
        return ax
    made: Axes = new_figure(width, height).subplots()
    return made


def panel_axes(axes: Sequence[Axes] | None, shape: tuple[int, int], width: float,
               height: float, **subplots: Any) -> list[Axes]:
    """The user's ``axes`` (as many as the panels), or those of a new figure of ``shape``."""
    count = shape[0] * shape[1]
    if axes is None:
        grid = new_figure(width, height).subplots(*shape, squeeze=False, **subplots)
        return list(np.ravel(grid))
    given = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(given) != count or not all(isinstance(a, Axes) for a in given):
        raise BadInput(f"this plot has {count} panels: pass axes= as {count} matplotlib Axes")
    return given


def bar_collection(ax: Axes, x: Any, heights: Any, *, width: float, zorder: float = 1.0,
                   **style: Any) -> PolyCollection:
    """Bars as one PolyCollection: the rectangles ``ax.bar`` draws (from 0 to each height,
    ``width`` wide, centred on ``x``, in the axis units: dates or numbers; no edges, 0 kept
    in view), without one Rectangle artist per bar (a plot of a year of days has hundreds)."""
    ax.xaxis.update_units(x)
    centre = np.asarray(ax.convert_xunits(x), dtype=float)
    top = np.asarray(heights, dtype=float)
    left, right = centre - width / 2, centre + width / 2
    zero = np.zeros_like(top)
    corners = np.stack([np.column_stack(c) for c in ((left, zero), (left, top), (right, top),
                                                      (right, zero))], axis=1)
    bars = PolyCollection(list(corners), edgecolors="none", zorder=zorder, **style)
    bars.sticky_edges.y.append(0)
    ax.add_collection(bars)
    ax.autoscale_view()
    return bars


def figure_of(ax: Axes) -> Figure:
    """The Figure holding ``ax`` (the top figure when ``ax`` is in a SubFigure)."""
    fig = ax.figure
    while isinstance(fig, SubFigure):
        fig = fig.figure
    assert isinstance(fig, Figure)
    return fig
