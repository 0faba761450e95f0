"""Plots (issue 14): importing eventstudy never changes the matplotlib backend (only the CLI picks
Agg, when it writes a report); result.plot_* return Figures drawn from the result's numbers;
``--format png|svg|pdf`` and 150 dpi PNGs."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli
from matplotlib.figure import Figure

from eventstudy.calendar.events import make_event
from eventstudy.errors import BadInput
from eventstudy.studies.lockup import event_study, lockup_study

IMPORT_ALL = """
import importlib, pkgutil, sys
import matplotlib
matplotlib.use("svg")
import eventstudy
names = [m.name for m in pkgutil.walk_packages(eventstudy.__path__, "eventstudy.")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from eventstudy.studies.lockup import lockup_study  # noqa: F401
import matplotlib.pyplot as plt
print(len(names), matplotlib.get_backend(), plt.get_backend())
"""


def test_importing_eventstudy_keeps_the_backend() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL], env=env, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    count, backend, pyplot_backend = done.stdout.split()
    assert int(count) > 40
    assert backend == pyplot_backend == "svg"


def test_only_the_cli_chooses_a_backend() -> None:
    pattern = re.compile(r"\b(matplotlib|mpl)\.use\(|switch_backend|rcParams\[.backend.\]")
    users = [str(p.relative_to(ROOT)) for p in (ROOT / "eventstudy").rglob("*.py")
             if pattern.search(p.read_text())]
    assert users == ["eventstudy/cli/base.py"]


@pytest.fixture(scope="module")
def sensetime():
    return lockup_study("0020.HK", offline=True, volatility=True)


def test_plot_methods_return_figures_drawn_from_the_result(sensetime) -> None:
    import matplotlib.pyplot as plt

    event = "0020.HK:cornerstone:2022-06-30"
    fig = sensetime.plot_car(event)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = np.array([p.get_height() for p in ax.patches])
    ar = sensetime.abnormal_returns.query("event_id == @event")["ar"].to_numpy()
    np.testing.assert_allclose(bars, 100 * ar)  # AR bars in percent
    car_line = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(car_line, 100 * np.cumsum(ar))
    ax.set_title("restyled")  # a user can restyle and save it
    fig.savefig(os.devnull, format="png")
    for fig in (sensetime.plot_price_volume(0), sensetime.plot_volatility(event),
                sensetime.plot_volatility("0020.HK:pre_ipo:2022-06-30"),
                sensetime.plot_car(-1)):
        assert isinstance(fig, Figure) and fig.axes
    with pytest.raises(BadInput):
        sensetime.plot_car("nope")
    plt.close("all")


def test_plot_caar_of_one_firm_is_the_mean_car_over_its_firm_days(sensetime) -> None:
    """SenseTime's lock-ups expire on two days (three tranches on 2022-06-30, one on
    2022-12-30): the CAAR is the mean of the two firm-days' CARs, with a Student t(1) band."""
    from scipy import stats

    ars = sensetime.abnormal_returns.merge(sensetime.events[["event_id", "ticker", "day0"]],
                                           on="event_id")
    firm_days = ars.drop_duplicates(["ticker", "day0"])["event_id"].tolist()
    assert len(firm_days) == 2
    cars = np.array([np.cumsum(ars.loc[ars["event_id"] == e, "ar"].to_numpy())
                     for e in firm_days])
    days = ars.loc[ars["event_id"] == firm_days[0], "day"].to_numpy()
    fig = sensetime.plot_caar()
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), days)
    np.testing.assert_allclose(line.get_ydata(), 100 * cars.mean(axis=0))
    half = stats.t.ppf(0.975, 1) * cars.std(axis=0, ddof=1) / np.sqrt(2)
    band = ax.collections[0].get_paths()[0].vertices
    at0 = band[band[:, 0] == 0, 1]
    k = int(np.flatnonzero(days == 0)[0])
    np.testing.assert_allclose([at0.min(), at0.max()],
                               100 * (cars.mean(axis=0)[k] + np.array([-half[k], half[k]])))
    assert "2 firm-days" in ax.get_title()


def test_plot_caar_across_firms() -> None:
    events = [make_event("0020.HK", "2022-06-30"), make_event("9660.HK", "2025-04-24")]
    result = event_study([e for e in events if e is not None], offline=True)
    fig = result.plot_caar()
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), 100 * result.caar["caar"].to_numpy())
    with pytest.raises(BadInput, match="volatility"):
        result.plot_volatility()


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_report_figure_formats(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "r"
    args = ["lockup", "0020.HK", "--offline", "--tranche", "cornerstone", "--no-garch"]
    code, _, err = run_cli(*args, "--format", fmt, "--out", str(out))
    assert code == 0, err
    figures = sorted(p for p in out.iterdir() if p.suffix in (".png", ".svg", ".pdf"))
    assert figures and all(p.suffix == f".{fmt}" for p in figures)
    html = (out / "report.html").read_text()
    if fmt == "png":
        assert png_size(out / "ar_car_0020.HK_2022-06-30.png") == (9 * 150, int(4.5 * 150))
    if fmt == "svg":
        assert html.count("data:image/svg+xml;base64,") == len(figures)
    if fmt == "pdf":
        assert all(f'href="{p.name}"' in html for p in figures)
        assert all(p.read_bytes().startswith(b"%PDF") for p in figures)
