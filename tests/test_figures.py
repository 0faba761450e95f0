"""One figure layer (issue 26): every plot draws into the user's ``ax=`` (``axes=`` for the
multi-panel ones) and returns that Figure; the data drawn is the study's data, recomputed here
from the bundled SenseTime prices and the result's tables; pyplot keeps no figure of ours;
volatility figures are named and titled by the model actually used (EWMA after the fallback)."""

from __future__ import annotations

import re

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from conftest import read_raw_prices
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from eventstudy.errors import BadInput
from eventstudy.plotting import events as draw
from eventstudy.plotting import volatility as vdraw
from eventstudy.results import plots
from eventstudy.studies.lockup import lockup_study

CORNERSTONE = "0020.HK:cornerstone:2022-06-30"
DAY0 = pd.Timestamp("2022-06-30")


@pytest.fixture(scope="module")
def sensetime():
    """The bundled SenseTime lock-up study with its volatility (EWMA fallback: 71 sessions)."""
    return lockup_study("0020.HK", offline=True, volatility=True)


@pytest.fixture(scope="module")
def vol(sensetime):
    return sensetime.extras["volatility"][CORNERSTONE]


@pytest.fixture()
def ax() -> Axes:
    """An Axes of the user's own Figure (made without pyplot)."""
    return Figure().subplots()


def _window_dates(result) -> pd.DatetimeIndex:
    """The event window's sessions of the cornerstone event, from the result's AR table."""
    rows = result.abnormal_returns.query("event_id == @CORNERSTONE")
    return pd.DatetimeIndex(pd.to_datetime(rows["date"]))


def _x_dates(line) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(line.get_xdata())


def _bars(ax: Axes) -> np.ndarray:
    return np.array([p.get_height() for p in ax.patches])


def _collection_bars(ax: Axes) -> np.ndarray:
    """Bar heights of the bars drawn as one PolyCollection (after the band): each rectangle's
    second corner is (left, height)."""
    return np.array([p.vertices[1, 1] for p in ax.collections[1].get_paths()])


def _band(ax: Axes, x: float) -> np.ndarray:
    """(low, high) of the first fill_between band at x."""
    vertices = ax.collections[0].get_paths()[0].vertices
    at = vertices[np.isclose(vertices[:, 0], x), 1]
    return np.array([at.min(), at.max()])


# ------------------------------------------------------------------ events: one panel each


def test_plot_price_draws_the_bundled_closes_into_the_given_ax(sensetime, ax) -> None:
    raw = read_raw_prices("0020.HK")
    dates = _window_dates(sensetime)
    fig = draw.plot_price(dates, raw.loc[dates, "Close"].to_numpy(), DAY0, ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 2  # closes and the day-0 line
    line = ax.get_lines()[0]
    assert list(_x_dates(line)) == list(dates) and len(dates) == 31  # days -10..+20
    np.testing.assert_allclose(line.get_ydata(), raw.loc[dates, "Close"].to_numpy())
    assert ax.get_ylabel() == "close (adjusted)" and ax.get_title()


def test_plot_volume_draws_millions_of_shares(sensetime, ax) -> None:
    raw = read_raw_prices("0020.HK")
    dates = _window_dates(sensetime)
    fig = draw.plot_volume(dates, raw.loc[dates, "Volume"].to_numpy(), DAY0, ax=ax)
    assert fig is ax.figure and len(ax.patches) == len(dates)
    np.testing.assert_allclose(_bars(ax), raw.loc[dates, "Volume"].to_numpy() / 1e6)
    assert ax.get_ylabel() == "volume (m)"


def test_result_plot_price_volume_into_two_user_axes(sensetime) -> None:
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    assert plots.plot_price_volume(sensetime, CORNERSTONE, axes=[top, bottom]) is fig
    raw = read_raw_prices("0020.HK")
    dates = _window_dates(sensetime)
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), raw.loc[dates, "Close"])
    np.testing.assert_allclose(_bars(bottom), raw.loc[dates, "Volume"] / 1e6)
    assert "0020.HK" in top.get_title()
    with pytest.raises(BadInput, match="2 panels"):
        draw.plot_price_volume(dates, np.ones(31), np.ones(31), DAY0, axes=[top])


def test_plot_car_bars_are_the_ars_and_the_line_their_running_sum(sensetime, ax) -> None:
    """CAR(-10, t) = sum of ARs; the band at day -1 is CAR +/- t(0.975, n - 1) x se with the se
    of the CAR table's [-10,-1] row (71 estimation sessions: market-adjusted returns, which
    estimate only the variance, so n - 1 degrees of freedom, as the table's p uses)."""
    fig = plots.plot_car(sensetime, CORNERSTONE, ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 3  # CAR, day 0, zero
    assert len(ax.collections) == 1  # the band
    ar = sensetime.abnormal_returns.query("event_id == @CORNERSTONE")["ar"].to_numpy()
    assert len(ax.patches) == len(ar) == 31
    np.testing.assert_allclose(_bars(ax), 100 * ar)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), np.arange(-10, 21))
    np.testing.assert_allclose(line.get_ydata(), 100 * np.cumsum(ar))
    row = sensetime.car.query("event_id == @CORNERSTONE and start == -10 and end == -1").iloc[0]
    params = sensetime.parameters.set_index("event_id").loc[CORNERSTONE]
    assert params["model"] == "market-adjusted" and params["n"] == 71
    p_t70 = 2 * stats.t.sf(abs(row["car"] / row["se"]), 70)
    assert row["p"] == pytest.approx(p_t70, rel=1e-9, abs=0)
    half = stats.t.ppf(0.975, params["n"] - 1) * row["se"]
    np.testing.assert_allclose(_band(ax, -1), 100 * (row["car"] + np.array([-half, half])),
                               rtol=1e-9)
    np.testing.assert_allclose(row["car"], np.sum(ar[:10]), rtol=1e-9)
    assert ax.get_xlabel() == "event day (sessions)" and "AR and CAR" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["CAR from day -10", "95% confidence band of CAR", "AR (daily)"]


def test_plot_caar_is_the_mean_car_over_firm_days(sensetime, ax) -> None:
    ars = sensetime.abnormal_returns.merge(sensetime.events[["event_id", "ticker", "day0"]],
                                           on="event_id")
    firm_days = ars.drop_duplicates(["ticker", "day0"])["event_id"].tolist()
    cars = np.array([np.cumsum(ars.loc[ars["event_id"] == e, "ar"].to_numpy())
                     for e in firm_days])
    fig = plots.plot_caar(sensetime, ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 3 and len(ax.collections) == 1
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 100 * cars.mean(axis=0))
    half = stats.t.ppf(0.975, 1) * cars.std(axis=0, ddof=1)[-1] / np.sqrt(2)
    np.testing.assert_allclose(_band(ax, 20), 100 * (cars.mean(axis=0)[-1] + np.array(
        [-half, half])), rtol=1e-9)
    assert "2 firm-days" in ax.get_title()


def test_plot_caar_of_plain_arrays_with_a_normal_band(ax) -> None:
    days, caar, se = np.arange(-2, 3), np.array([0, .01, -.02, .03, .01]), np.full(5, .01)
    draw.plot_caar(days, caar, se, ax=ax)
    np.testing.assert_allclose(_band(ax, 1), 100 * (0.03 + np.array([-1, 1]) * .01 *
                                                    stats.norm.ppf(0.975)), rtol=1e-12)


def test_plot_calendar_time_draws_the_portfolio(sensetime) -> None:
    design = sensetime.calendar_time((0, 20))
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    assert draw.plot_calendar_time(design.portfolio, design.alpha, axes=(top, bottom)) is fig
    ars = sensetime.abnormal_returns.query("0 <= day <= 20")
    held = ars.drop_duplicates("date").groupby("date").size()  # one firm: 1 on every session
    assert len(bottom.patches) == len(held) and set(_bars(bottom)) == {1}
    excess = design.portfolio["excess_return"].to_numpy()
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), np.cumsum(excess))
    assert "alpha" in top.get_title() and bottom.get_ylabel() == "firms held"
    with pytest.raises(BadInput, match="calendar-time"):
        plots.plot_calendar_time(sensetime)


# ------------------------------------------------------------------ volatility


def test_plot_sigma_is_the_ewma_of_the_plotted_residuals_after_the_fallback(vol, ax) -> None:
    """SenseTime: 71 estimation sessions, no GARCH fit; the sigma line obeys the RiskMetrics
    recursion s2_t = 0.94 s2_(t-1) + 0.06 e_(t-1)^2 on the residuals drawn as bars."""
    assert vol.fit is None and vol.fallback_reason
    fig = vdraw.plot_sigma(vol, ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 3  # sigma, ex-ante, day 0
    sigma = np.asarray(ax.get_lines()[0].get_ydata(), dtype=float)
    band_ax = Figure().subplots()
    vdraw.plot_residual_band(vol, ax=band_ax)
    e = _collection_bars(band_ax)
    assert len(e) == len(sigma)
    np.testing.assert_allclose(sigma[1:] ** 2, 0.94 * sigma[:-1] ** 2 + 0.06 * e[:-1] ** 2,
                               rtol=1e-10)
    assert "EWMA" in ax.get_title() and "GARCH)" not in ax.get_title()
    assert "(EWMA)" in ax.get_title()


def test_plot_residual_band_draws_resid_and_196_sigma(vol, ax) -> None:
    fig = vdraw.plot_residual_band(vol, ax=ax)
    path = vol.path
    assert fig is ax.figure and len(_collection_bars(ax)) == len(path)
    np.testing.assert_allclose(_collection_bars(ax), path["resid"])
    x = np.array([p.vertices[:4, 0].mean() for p in ax.collections[1].get_paths()])
    np.testing.assert_allclose(x, mdates.date2num(path.index), rtol=0, atol=1e-9)
    k = int(np.flatnonzero(path["day"].to_numpy() == 0)[0])
    np.testing.assert_allclose(_band(ax, mdates.date2num(path.index[k])),
                               1.96 * path["sigma"].iloc[k] * np.array([-1, 1]), rtol=1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "+-1.96 sigma (EWMA)" in labels


def test_plot_conditional_volatility_into_two_user_axes(vol) -> None:
    fig = Figure()
    axes = fig.subplots(2, 1)
    assert vdraw.plot_conditional_volatility(vol, axes=axes) is fig
    assert len(fig.axes) == 2 and "Fallback:" in axes[1].get_xlabel()
    assert not fig.get_suptitle()  # the user's figure keeps its own titles


def _z(vol) -> np.ndarray:
    """Standardised residuals of the estimation sample: resid / sigma, recomputed."""
    est = vol.path[vol.path["estimation"]]
    return (est["resid"] / est["sigma"]).dropna().to_numpy()


def test_plot_std_resid_histogram_is_a_density_of_z(vol, ax) -> None:
    z = _z(vol)
    assert len(z) == vol.estimation_sessions == 71
    fig = vdraw.plot_std_resid_histogram(z, ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 1
    widths = np.array([p.get_width() for p in ax.patches])
    assert np.sum(_bars(ax) * widths) == pytest.approx(1.0, rel=1e-9, abs=0)
    assert ax.get_title() == "Standardised residuals"


def test_plot_qq_scatters_sorted_z_against_filliben_quantiles(vol, ax) -> None:
    z = _z(vol)
    n = len(z)
    fig = vdraw.plot_qq(z, ax=ax)
    assert fig is ax.figure and len(ax.collections) == 1 and len(ax.get_lines()) == 1
    m = (np.arange(1, n + 1) - 0.3175) / (n + 0.365)
    m[0], m[-1] = 1 - 0.5 ** (1 / n), 0.5 ** (1 / n)
    points = ax.collections[0].get_offsets()
    np.testing.assert_allclose(points[:, 0], stats.norm.ppf(m), rtol=1e-9)
    np.testing.assert_allclose(points[:, 1], np.sort(z))
    assert ax.get_xlabel() == "normal quantiles"


def test_plot_acf_squared_bars_and_ljung_box_p(vol, ax) -> None:
    z = _z(vol)
    x = z**2 - np.mean(z**2)
    lags = min(20, len(z) // 4)
    r = np.array([np.sum(x[k:] * x[:-k]) for k in range(1, lags + 1)]) / np.sum(x**2)
    n = len(z)
    q = n * (n + 2) * np.sum(r**2 / (n - np.arange(1, lags + 1)))
    fig = vdraw.plot_acf_squared(z, ax=ax)
    assert fig is ax.figure and len(ax.patches) == lags
    np.testing.assert_allclose(_bars(ax), r, rtol=1e-9)
    assert ax.get_title() == f"ACF of z^2 (Ljung-Box({lags}) p = {stats.chi2.sf(q, lags):.3f})"


def test_plot_std_resid_diagnostics_into_three_user_axes(vol) -> None:
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert vdraw.plot_std_resid_diagnostics(vol, axes=axes) is fig
    assert [a.get_title() for a in axes][:2] == ["Standardised residuals", "QQ plot vs normal"]
    np.testing.assert_allclose(np.sort(axes[1].collections[0].get_offsets()[:, 1]),
                               np.sort(_z(vol)))
    own = vdraw.plot_std_resid_diagnostics(vol)
    assert own.get_suptitle().startswith("EWMA")


def test_result_volatility_plots_forward_axes(sensetime, vol) -> None:
    fig = Figure()
    assert plots.plot_volatility(sensetime, CORNERSTONE, axes=fig.subplots(2, 1)) is fig
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), vol.path["sigma"])
    fig = Figure()
    assert plots.plot_volatility_diagnostics(sensetime, CORNERSTONE,
                                             axes=fig.subplots(1, 3)) is fig


def test_figures_are_named_by_the_model_used(vol) -> None:
    assert (vdraw.model_stem(vol), vdraw.model_name(vol)) == ("ewma", "EWMA")
    from eventstudy.report.figures import volatility_figures

    jobs = volatility_figures(vol, "x", "ev")
    assert [stem for stem, _, _ in jobs] == ["x_ewma_volatility", "x_ewma_diagnostics"]
    assert all("(EWMA" in title and "GARCH" not in title for _, title, _ in jobs)


# ------------------------------------------------------------------ grids, no pyplot state


def test_a_user_2x2_grid_hosts_four_plots(sensetime, vol) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = Figure(figsize=(12, 8))
    grid = fig.subplots(2, 2)
    returned = [plots.plot_car(sensetime, CORNERSTONE, ax=grid[0, 0]),
                plots.plot_caar(sensetime, ax=grid[0, 1]),
                vdraw.plot_sigma(vol, ax=grid[1, 0]),
                vdraw.plot_qq(_z(vol), ax=grid[1, 1])]
    assert all(f is fig for f in returned) and len(fig.axes) == 4
    assert [len(a.get_lines()) for a in fig.axes] == [3, 3, 3, 1]
    assert "AR and CAR" in grid[0, 0].get_title() and "CAAR" in grid[0, 1].get_title()
    assert plt.get_fignums() == before  # nothing registered with pyplot


def test_a_subfigure_hosts_a_multi_panel_plot(vol) -> None:
    fig = Figure()
    left, _ = fig.subfigures(1, 2)
    assert vdraw.plot_conditional_volatility(vol, axes=left.subplots(2, 1)) is fig


def test_new_figures_are_not_pyplot_figures(sensetime) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for fig in (sensetime.plot_car(), sensetime.plot_caar(), sensetime.plot_price_volume(),
                sensetime.plot_volatility(CORNERSTONE)):
        assert isinstance(fig, Figure) and fig.axes
    assert plt.get_fignums() == before


def test_a_batch_reports_caar_and_calendar_time_figures_drawn_from_its_data(tmp_path) -> None:
    from eventstudy.report.figures import event_figures, write_figures
    from eventstudy.studies.batch import batch_study

    events = pd.DataFrame({"ticker": ["0020.HK", "9660.HK"], "date": ["2022-06-30",
                                                                      "2025-04-24"]})
    result = batch_study(events, calendar_time=(0, 20), offline=True)
    jobs = {stem: draw for stem, _, draw in event_figures(result)}
    assert list(jobs)[:2] == ["caar", "calendar_time"]
    assert {"ar_car_0020.HK_2022-06-30", "price_volume_9660.HK_2025-04-24"} <= set(jobs)
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    assert plots.plot_calendar_time(result, axes=[top, bottom]) is fig
    portfolio = result.designs["calendar_time"].portfolio
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(),
                               np.cumsum(portfolio["excess_return"].to_numpy()))
    ars = result.abnormal_returns.query("0 <= day <= 20").merge(
        result.events[["event_id", "ticker"]], on="event_id")
    held = ars.dropna(subset=["return"]).groupby("date")["ticker"].nunique()
    np.testing.assert_array_equal(_bars(bottom), held.loc[pd.to_datetime(
        portfolio["date"])].to_numpy())
    caar_line = jobs["caar"]().axes[0].get_lines()[0]
    np.testing.assert_allclose(caar_line.get_ydata(), 100 * result.caar["caar"].to_numpy())
    written: dict = {}
    out = tmp_path / "figures"
    images, volatility = write_figures(result, out, written)
    assert [i.name for i in images][:2] == ["caar.png", "calendar_time.png"] and not volatility
    assert sorted(p.name for p in out.iterdir()) == sorted(written)  # no temporary left


def test_the_figure_layer_never_touches_pyplot() -> None:
    """plotting/, results/plots.py and report/ make Figures directly: no pyplot import."""
    from conftest import ROOT

    package = ROOT / "eventstudy"
    files = [*(package / "plotting").glob("*.py"), package / "results" / "plots.py",
             *(package / "report").glob("*.py")]
    assert len(files) > 10
    pattern = re.compile(r"import matplotlib\.pyplot|from matplotlib import pyplot|\bplt\.")
    users = [p.name for p in files if pattern.search(p.read_text(encoding="utf-8"))]
    assert users == []


def test_a_volatility_report_after_the_fallback_is_named_and_titled_ewma(vol, tmp_path) -> None:
    from eventstudy.report.writer import write_volatility_report

    out = write_volatility_report(vol, tmp_path / "v")
    figures = sorted(p.name for p in out.iterdir() if p.suffix == ".png")
    assert figures == ["0020.HK_cornerstone_2022-06-30_ewma_diagnostics.png",
                       "0020.HK_cornerstone_2022-06-30_ewma_volatility.png"]
    text = (out / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# EWMA volatility (GARCH fallback): 0020.HK cornerstone")
    assert "Conditional volatility (EWMA)" in text and "garch_" not in text


def test_result_methods_draw_the_calendar_time_portfolio_and_volatility_diagnostics() -> None:
    """The façade's two plot methods draw what ``results.plots`` draws, into a user's axes; the
    calendar-time curve is the cumulative sum of the portfolio's excess returns."""
    import numpy as np
    from matplotlib.figure import Figure

    from eventstudy import batch_study

    result = batch_study(offline=True, calendar_time=(0, 20), progress=False)
    fig = Figure()
    axes = fig.subplots(2, 1)
    assert result.plot_calendar_time(axes=axes) is fig
    design = result.designs["calendar_time"]
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(),
                               np.cumsum(design.portfolio["excess_return"].to_numpy()),
                               rtol=0, atol=1e-15)
    assert len(axes[1].patches) == len(design.portfolio)
