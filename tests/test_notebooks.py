"""The notebooks in notebooks/ are tutorials committed with their outputs (so that they read on
GitHub, figures included), and still execute headless from a clean kernel, without the network:
every cell tagged ``plot`` shows a figure (an image/png output), once."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
PLOT_CALL = re.compile(r"\b(\w+_figure|\w+_plot|plot_\w+)\(")


def code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.cell_type == "code"]


def is_plot(cell: nbformat.NotebookNode) -> bool:
    return "plot" in cell.get("metadata", {}).get("tags", [])


def images(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["image/png"] for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def errors(notebook: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [o for c in code_cells(notebook) for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def test_every_notebook_is_numbered_and_there_is_a_paper_tables_one() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names[:5] == ["01_sensetime_lockup.ipynb", "02_hk_lockups_cross_section.ipynb",
                         "03_garch_volatility.ipynb", "04_upcoming_and_listing.ipynb",
                         "05_lockup_paper_tables.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_executed_with_its_figures(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    cells = code_cells(notebook)
    assert all(c.get("execution_count") for c in cells), "commit notebooks executed, in order"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run top to bottom from a fresh kernel"
    assert not errors(notebook)
    for cell in cells:
        assert not cell.source.rstrip().endswith(";"), f"';' hides the output: {cell.source}"
        if PLOT_CALL.search(cell.source):
            assert is_plot(cell), f"tag the plot cell 'plot': {cell.source[:60]}"
        if is_plot(cell):
            assert images(cell), f"committed without its figure: {cell.source[:60]}"
    assert not re.search(r"/work/|/home/|/tmp/|/Users/", path.read_text(encoding="utf-8")), \
        "a machine's path in a committed output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_and_plot_cells_show_one_image_each(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in code_cells(notebook):
        cell.outputs = []
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    assert not errors(notebook)
    plots = [c for c in code_cells(notebook) if is_plot(c)]
    assert plots, "every tutorial shows at least one figure"
    for cell in plots:
        shown = images(cell)
        assert shown, f"no figure from: {cell.source[:60]}"
        assert len(set(shown)) == len(shown), f"a figure shown twice: {cell.source[:60]}"
