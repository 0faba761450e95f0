"""``write_report`` and ``write_volatility_report``: build a report folder in a temporary sibling
(``report.folder``) and move it into place. The markdown and the HTML are rendered from one
``Document``; the HTML embeds exactly the figure files this run wrote."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventstudy.report.content import report_document
from eventstudy.report.document import Bullets, Document, Image, Section, to_markdown
from eventstudy.report.figures import write_figures
from eventstudy.report.folder import building
from eventstudy.report.html import html_report
from eventstudy.report.volatility import volatility_blocks

if TYPE_CHECKING:
    from eventstudy.results.result import EventStudyResult
from eventstudy.results.export import write_tables


def write_report(result: EventStudyResult, out: str | Path,
                 extra: Callable[[Path], list[tuple[str, str]]] | None = None,
                 inputs: Iterable[Path | None] = (), fmt: str = "png",
                 formats: Sequence[str] = ("csv",)) -> Path:
    """Write the report folder ``out`` atomically, figures as ``fmt`` (png, svg, pdf); returns
    its path.

    ``extra(folder)`` may write more figures into the folder and return (file, title) pairs for
    them. ``out`` must be new, empty or a previous report (see ``report.folder``) and hold none
    of ``inputs`` (the run's data files or folders). Every table is written as CSV, and as
    ``tables.xlsx`` / ``<table>.tex`` if ``formats`` says (``eventstudy.results.export``).
    """
    with building(Path(out), inputs) as tmp:
        written: dict[str, Path] = {}
        images, volatility = write_figures(result, tmp, written, _format(fmt))
        if extra is not None:
            images += _extra_images(extra(tmp), tmp, written)
        doc = report_document(result, images, volatility)
        _write_pages(tmp, doc, written)
        write_tables(result, tmp, formats)
        (tmp / "summary.json").write_text(result.to_json(indent=2), encoding="utf-8")
    return Path(out)


def _extra_images(pairs: list[tuple[str, str]], folder: Path, written: dict[str, Path]
                  ) -> list[Image]:
    """Figures an ``extra`` callback wrote: only plain file names inside the folder."""
    images = []
    for name, title in pairs:
        path = folder / name
        if "/" not in name and name not in (".", "..") and path.is_file() \
                and not path.is_symlink():
            written[name] = path
            images.append(Image(name, title))
    return images


def _write_pages(folder: Path, doc: Document, written: dict[str, Path]) -> None:
    (folder / "report.md").write_text(to_markdown(doc), encoding="utf-8")
    (folder / "report.html").write_text(html_report(doc, written), encoding="utf-8")


def _format(fmt: str) -> str:
    from eventstudy.errors import BadInput
    from eventstudy.report.figures import FORMATS

    if fmt not in FORMATS:
        raise BadInput(f"unknown figure format {fmt!r} (use {', '.join(FORMATS)})")
    return fmt


def write_volatility_report(vol: Any, out: str | Path, inputs: Iterable[Path | None] = (),
                            fmt: str = "png") -> Path:
    """A report folder for one GARCH volatility study: report.md/html, plots, volatility.json."""
    from eventstudy.plotting.volatility import model_name
    from eventstudy.report.figures import save_jobs, volatility_figures, volatility_stem

    fmt = _format(fmt)
    with building(Path(out), inputs) as tmp:
        written: dict[str, Path] = {}
        images = save_jobs(volatility_figures(vol, volatility_stem(vol)), tmp, written, fmt)
        fallback = " (GARCH fallback)" if vol.fit is None else ""
        doc = Document(f"{model_name(vol)} volatility{fallback}: {vol.label or 'series'}", [
            Section("Model and tests", volatility_blocks(vol)),
            Section("Plots", list(images)),
            Section("Method", [Bullets(GARCH_METHOD)])])
        _write_pages(tmp, doc, written)
        (tmp / "volatility.json").write_text(json.dumps(vol.to_dict(), indent=2,
                                                        allow_nan=False), encoding="utf-8")
    return Path(out)


GARCH_METHOD = [
    "GARCH(1,1) (Bollerslev 1986), GJR-GARCH(1,1,1) (Glosten, Jagannathan & Runkle 1993) and "
    "EGARCH(1,1) (Nelson 1991) with normal, Student-t and skew-t errors through arch; chosen by "
    "BIC among fits that converge and are not at a boundary",
    "parameters estimated up to day -11; the event window filtered through them: conditional "
    "variance given information up to t-1",
    "volatility ratio: mean conditional sigma [+1,+20] / [-20,-1] with an F test; likelihood-"
    "ratio test of a post-event variance dummy",
    "a fit that does not converge or sits on a boundary falls back to EWMA (RiskMetrics, "
    "lambda 0.94)",
]
