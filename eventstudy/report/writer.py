"""``write_report``: build a report folder in a temporary sibling and move it into place."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    from eventstudy.studies.result import EventStudyResult
from eventstudy.report.figures import _figures, _save_figures, _volatility_images
from eventstudy.report.folder import building
from eventstudy.report.html import html_report
from eventstudy.report.markdown import markdown_report


def write_report(result: EventStudyResult, out: str | Path,
                 extra: Callable[[Path], list[tuple[str, str]]] | None = None,
                 inputs: Iterable[Path | None] = ()) -> Path:
    """Write the report folder ``out`` atomically; returns its path.

    ``extra(folder)`` may write more PNGs into the folder and return (file, title) pairs for them.
    ``out`` must be new, empty or a previous report (see ``report.folder``) and hold none of
    ``inputs`` (the run's data files or folders).
    """
    with building(Path(out), inputs) as tmp:
        figures = _figures(result)
        _save_figures(tmp, figures)
        images = [(name, title) for name, title, _ in figures]
        images += _volatility_images(result, tmp)
        if extra is not None:
            images += extra(tmp)
        text = markdown_report(result, images)
        (tmp / "report.md").write_text(text, encoding="utf-8")
        (tmp / "report.html").write_text(html_report(text, tmp), encoding="utf-8")
        result.abnormal_returns.to_csv(tmp / "abnormal_returns.csv", index=False)
        result.car.to_csv(tmp / "car.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.to_dict(), indent=2,
                                                     allow_nan=False), encoding="utf-8")
    return Path(out)


def write_volatility_report(vol: Any, out: str | Path, inputs: Iterable[Path | None] = ()
                            ) -> Path:
    """A report folder for one GARCH volatility study: report.md/html, plots, volatility.json."""
    from eventstudy.plotting.volatility import save_volatility_plots

    with building(Path(out), inputs) as tmp:
        paths = save_volatility_plots(vol, tmp)
        text = "\n".join([f"# GARCH volatility: {vol.label}", "", "```", vol.summary(), "```",
                          "", *[f"![{p.stem}]({p.name})\n" for p in paths]])
        (tmp / "report.md").write_text(text, encoding="utf-8")
        (tmp / "report.html").write_text(html_report(text, tmp), encoding="utf-8")
        (tmp / "volatility.json").write_text(json.dumps(vol.to_dict(), indent=2,
                                                        allow_nan=False), encoding="utf-8")
    return Path(out)
