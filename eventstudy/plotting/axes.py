"""Where a plot draws: the user's Axes, or a new figure made without pyplot.

The convention of every ``plot_*`` function in ``eventstudy.plotting`` (as in alphalens): a
one-panel plot takes ``ax=`` (draw into that Axes), a multi-panel plot takes ``axes=`` (one Axes
per panel, e.g. from the user's own grid); when none is given it makes a new
``matplotlib.figure.Figure`` (constrained layout; not registered with pyplot, so nothing is kept
open and no backend is chosen). Every plot returns the Figure its axes belong to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from eventstudy.errors import BadInput


def new_figure(width: float, height: float) -> Figure:
    """A new constrained-layout Figure of ``width`` x ``height`` inches, outside pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


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


def figure_of(ax: Axes) -> Figure:
    """The Figure holding ``ax`` (the top figure when ``ax`` is in a SubFigure)."""
    fig = ax.figure
    while isinstance(fig, SubFigure):
        fig = fig.figure
    assert isinstance(fig, Figure)
    return fig
