"""Size of the GARCH event tests on real returns with no event (``eventstudy simulate --garch``).

Brown & Warner (1985) style: ``n_draws`` pseudo-events, each a random (ticker, session) of the
bundled Hong Kong stocks (against ^HSI) with a full estimation window (``estimation`` returns up
to day -11) and 20 sessions after day 0; nothing is added, so every rejection is a false one. Each
draw runs ``volatility_study`` (model choice among ``vols`` x ``dists``, filtering, tests) and
records the p-values of:

* ``permutation``: the permutation test of the standardised residual variance (``ratio``);
* ``f_test``: the F(n_post, n_pre) test on the same ratio that it replaced (Gaussian z assumed);
* ``robust_qlr``: the robust quasi-LR test of the post-event variance dummy (``dummy``);
* ``plain_lr``: the unscaled LR of the same two Gaussian fits, chi2(1);
* ``robust_wald``: delta over its sandwich standard error.

Rejection rates at ``alpha`` are over the draws in which the test could run (the dummy tests
need a GARCH fit, not the EWMA fallback); ``beta_at_bound`` counts chosen fits with beta at its
bound. Draw positions come from ``numpy.random.default_rng(seed)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from eventstudy.engine.panel import LISTING_GAP
from eventstudy.engine.pseudo import bundled_series
from eventstudy.errors import BadInput, EstimationError
from eventstudy.volatility.event import EventVolatility, volatility_study

SIZE_VOLS = ("GARCH", "GJR")


SIZE_DISTS = ("normal", "t")


TESTS = ("permutation", "f_test", "robust_qlr", "plain_lr", "robust_wald")


def _f_test_p(path: pd.DataFrame, pre: tuple[int, int], post: tuple[int, int]) -> float:
    """The replaced F test: mean z^2 post / pre against F(n_post, n_pre), two-sided."""
    before = path.loc[(path["day"] >= pre[0]) & (path["day"] <= pre[1]), "z"]
    after = path.loc[(path["day"] >= post[0]) & (path["day"] <= post[1]), "z"]
    f = float(np.mean(after**2) / np.mean(before**2))
    tail = min(stats.f.cdf(f, len(after), len(before)), stats.f.sf(f, len(after), len(before)))
    return float(min(1.0, 2.0 * tail))


def _p_values(res: EventVolatility) -> dict[str, float]:
    ratio, dummy = res.ratio, res.ratio.dummy_test
    out = {"permutation": ratio.perm_pvalue, "f_test": _f_test_p(res.path, ratio.pre, ratio.post)}
    nan = float("nan")
    out["robust_qlr"] = dummy.p_value if dummy else nan
    out["plain_lr"] = dummy.lr_pvalue if dummy else nan
    out["robust_wald"] = dummy.wald_pvalue if dummy else nan
    return out


def draw_positions(lengths: Sequence[int], n_draws: int, estimation: int,
                   rng: np.random.Generator) -> list[tuple[int, int]]:
    """(series number, day-0 position) pairs drawn uniformly among eligible sessions."""
    first = LISTING_GAP + 1 + estimation + 10
    spans = [max(0, n - 20 - first) for n in lengths]
    total = sum(spans)
    if total == 0:
        raise BadInput(f"no bundled session has {estimation} returns before day -10 and 20 after")
    picks = rng.choice(total, size=n_draws, replace=total < n_draws)
    edges = np.cumsum(spans)
    out = []
    for pick in np.sort(picks):
        k = int(np.searchsorted(edges, pick, side="right"))
        out.append((k, first + int(pick - (edges[k] - spans[k]))))
    return out


def garch_size(*, n_draws: int = 200, seed: int = 0, estimation: int = 250,
               alpha: float = 0.05, tickers: Iterable[str] | None = None,
               vols: Sequence[str] = SIZE_VOLS, dists: Sequence[str] = SIZE_DISTS,
               progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Rejection rates at ``alpha`` of the GARCH event tests on ``n_draws`` no-event
    pseudo-events (module docstring). Columns: test, rejection_rate, draws (with the test),
    alpha; ``attrs['draws']`` holds the per-draw table (ticker, date, model, beta_at_bound,
    p-values)."""
    if n_draws < 1 or not 0 < alpha < 1:
        raise BadInput("need n_draws >= 1 and 0 < alpha < 1")
    series = bundled_series(tickers)
    names = list(series)
    rng = np.random.default_rng(seed)
    rows = []
    for done, (k, pos) in enumerate(draw_positions([len(series[t].dates) for t in names],
                                                   n_draws, estimation, rng), start=1):
        s = series[names[k]]
        lo, hi = pos - estimation - 10, pos + 21
        index = pd.DatetimeIndex(s.dates[lo:hi])
        try:
            res = volatility_study(pd.Series(s.ret[lo:hi], index=index), index[pos - lo],
                                   pd.Series(s.mkt[lo:hi], index=index),
                                   estimation_length=estimation, vols=vols, dists=dists,
                                   min_garch=None)  # the GARCH tests' size at any length
        except EstimationError:
            continue
        rows.append({"ticker": names[k], "date": index[pos - lo], "model": res.model,
                     "beta_at_bound": bool(res.fit is not None and res.fit.beta_at_bound),
                     **_p_values(res)})
        if progress is not None:
            progress(done, n_draws)
    draws = pd.DataFrame(rows)
    table = pd.DataFrame([{"test": t, "rejection_rate": float((draws[t].dropna() < alpha).mean()),
                           "draws": int(draws[t].notna().sum()), "alpha": alpha}
                          for t in TESTS])
    table.attrs["draws"] = draws
    table.attrs["beta_at_bound"] = int(draws["beta_at_bound"].sum())
    return table
