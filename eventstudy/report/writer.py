"""``write_report``: build a report folder in a temporary sibling and move it into place."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventstudy.errors import BadInput

if TYPE_CHECKING:

    from eventstudy.studies.result import EventStudyResult
from eventstudy.report.figures import _figures, _save_figures, _volatility_images
from eventstudy.report.html import html_report
from eventstudy.report.markdown import markdown_report


def write_report(result: EventStudyResult, out: str | Path,
                 extra: Callable[[Path], list[tuple[str, str]]] | None = None) -> Path:
    """Write the report folder ``out`` atomically; returns its path.

    ``extra(folder)`` may write more PNGs into the folder and return (file, title) pairs for them.
    """
    with building(Path(out)) as tmp:
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


@contextmanager
def building(out: Path) -> Iterator[Path]:
    """A temporary sibling folder of ``out`` that replaces ``out`` when the block succeeds and
    is removed when it fails: a report folder is never half-written."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out} is a file, not a report folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an existing folder with as small a gap as possible."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


def write_volatility_report(vol: Any, out: str | Path) -> Path:
    """A report folder for one GARCH volatility study: report.md/html, plots, volatility.json."""
    from eventstudy.plotting.volatility import save_volatility_plots

    with building(Path(out)) as tmp:
        paths = save_volatility_plots(vol, tmp)
        text = "\n".join([f"# GARCH volatility: {vol.label}", "", "```", vol.summary(), "```",
                          "", *[f"![{p.stem}]({p.name})\n" for p in paths]])
        (tmp / "report.md").write_text(text, encoding="utf-8")
        (tmp / "report.html").write_text(html_report(text, tmp), encoding="utf-8")
        (tmp / "volatility.json").write_text(json.dumps(vol.to_dict(), indent=2,
                                                        allow_nan=False), encoding="utf-8")
    return Path(out)
