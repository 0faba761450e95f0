"""Calendar-time portfolios: the answer to events that cluster in calendar time.

Each session, the portfolio holds every firm inside days ``[0, +K]`` of an event (one position per
firm and session, however many of its tranches are live). Its equal-weighted return (value-weighted
where a ``weight`` such as the market capitalisation is given) in excess of the risk-free rate is
regressed on the market's excess return (or on factors); the intercept is the mean daily abnormal
return of a firm in its post-event window, with Newey & West (1987) standard errors.

References: Jaffe (1974); Mandelker (1974); Fama (1998, sec. 5); Mitchell & Stafford (2000,
sec. IV). Complexity: O(R) in the rows of the abnormal-returns table plus one regression over the
sessions with at least one firm."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class CalendarTimeResult:
    """The daily portfolio and its regression: ``params``/``bse``/``tvalues``/``pvalues`` are
    Series indexed by regressor (``const`` is the calendar-time abnormal return per day)."""

    horizon: tuple[int, int]
    weighting: str
    portfolio: pd.DataFrame  # date, return, excess_return, n_firms, regressors
    params: pd.Series
    bse: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    nobs: int
    lags: int
    rsquared: float
    notes: list[str] = field(default_factory=list)

    @property
    def alpha(self) -> float:
        return float(self.params["const"])

    def table(self) -> pd.DataFrame:
        """One row per regressor: coefficient, Newey-West SE, t, p."""
        return pd.DataFrame({"coef": self.params, "se": self.bse, "t": self.tvalues,
                             "p": self.pvalues}).rename_axis("term").reset_index()

    def summary(self) -> str:
        lo, hi = self.horizon
        head = (f"Calendar-time portfolio, days [{lo:+d},{hi:+d}], {self.weighting}-weighted, "
                f"{self.nobs} sessions, mean {self.portfolio['n_firms'].mean():.2f} firms, "
                f"Newey-West {self.lags} lags, R^2 {self.rsquared:.3f}")
        return head + "\n" + self.table().to_string(index=False, float_format="{:.6g}".format)

    def to_dict(self) -> dict[str, Any]:
        return {"horizon": list(self.horizon), "weighting": self.weighting, "nobs": self.nobs,
                "lags": self.lags, "rsquared": self.rsquared,
                "mean_firms": float(self.portfolio["n_firms"].mean()),
                "terms": self.table().to_dict(orient="records"), "notes": list(self.notes)}

    def plot(self) -> Figure:
        """Figure: the portfolio's daily excess return and the number of firms held."""
        import matplotlib.pyplot as plt

        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 5))
        dates = pd.to_datetime(self.portfolio["date"])
        top.plot(dates, self.portfolio["excess_return"].cumsum(), lw=1.2)
        top.set_ylabel("cumulative excess return")
        top.set_title(f"Calendar-time portfolio, alpha {self.alpha:+.4%} per day")
        bottom.bar(dates, self.portfolio["n_firms"], width=2.0)
        bottom.set_ylabel("firms held")
        fig.tight_layout()
        return fig


def newey_west_lags(nobs: int) -> int:
    """The usual automatic choice floor(4 (T/100)^(2/9)) (Newey & West 1994)."""
    return int(math.floor(4 * (nobs / 100.0) ** (2.0 / 9.0))) if nobs > 0 else 0


def daily_portfolio(abnormal_returns: pd.DataFrame, horizon: tuple[int, int],
                    weights: pd.Series | str | None = None) -> pd.DataFrame:
    """Per session: the (weighted) mean return of the firms inside ``horizon`` of an event, the
    market return and the number of firms. ``abnormal_returns`` needs the columns ticker, day,
    date, return, market_return (``EventStudyResult.abnormal_returns`` plus ``ticker``).
    ``weights``: per ticker (e.g. market capitalisation), or the name of a column of
    ``abnormal_returns`` holding each row's weight (e.g. the event's market capitalisation);
    value weighting when given: sum w r / sum w over the firms of the session."""
    need = {"ticker", "day", "date", "return", "market_return"}
    if missing := need - set(abnormal_returns.columns):
        raise BadInput(f"calendar-time portfolio needs columns {sorted(missing)}")
    lo, hi = horizon
    if lo > hi:
        raise BadInput(f"horizon [{lo}, {hi}] ends before it starts")
    rows = abnormal_returns[(abnormal_returns["day"] >= lo) & (abnormal_returns["day"] <= hi)]
    rows = rows.dropna(subset=["return", "date"])
    # One position per firm and session, however many tranches of it are live.
    rows = rows.drop_duplicates(subset=["ticker", "date"])
    if rows.empty:
        raise BadInput(f"no firm is inside days [{lo}, {hi}] of an event: no portfolio")
    if weights is None:
        w = pd.Series(1.0, index=rows.index)
    elif isinstance(weights, str):
        w = pd.to_numeric(rows[weights], errors="coerce").astype(float)
    else:
        w = rows["ticker"].map(weights).astype(float)
    bad = ~(np.isfinite(w) & (w > 0))
    if bad.any():
        raise BadInput(f"no positive weight for {', '.join(sorted(set(rows.loc[bad, 'ticker'])))}")
    frame = pd.DataFrame({"date": pd.to_datetime(rows["date"]).to_numpy(),
                          "wr": (rows["return"] * w).to_numpy(), "w": w.to_numpy(),
                          "market_return": rows["market_return"].to_numpy()})
    daily = frame.groupby("date").agg(wr=("wr", "sum"), w=("w", "sum"),
                                      market_return=("market_return", "median"),
                                      n_firms=("wr", "size"))
    daily["return"] = daily["wr"] / daily["w"]
    return daily[["return", "market_return", "n_firms"]].reset_index()


def calendar_time_portfolio(abnormal_returns: pd.DataFrame, horizon: tuple[int, int] = (0, 20),
                            factors: pd.DataFrame | None = None,
                            factor_cols: list[str] | None = None, rf_col: str | None = None,
                            weights: pd.Series | str | None = None,
                            lags: int | None = None) -> CalendarTimeResult:
    """Jaffe-Mandelker calendar-time portfolio regression with Newey-West errors.

    Without ``factors`` the regressor is the market return of the events' own index (the
    ``market_return`` column). With ``factors`` (a frame indexed by date, in decimals), the
    regressors are ``factor_cols`` and, when ``rf_col`` is given, the portfolio return less the
    risk-free rate is the dependent variable."""
    import statsmodels.api as sm

    port = daily_portfolio(abnormal_returns, horizon, weights)
    notes: list[str] = []
    if factors is None:
        lost = int(port["market_return"].isna().sum())  # e.g. an IPO index below its minimum
        if lost:
            notes.append(f"{lost} portfolio sessions have no market return and are left out")
            port = port.dropna(subset=["market_return"]).reset_index(drop=True)
        x = port[["market_return"]].rename(columns={"market_return": "market"})
        y = port["return"]
    else:
        cols = list(factor_cols or [c for c in factors.columns if c != rf_col])
        table = factors.copy()
        table.index = pd.to_datetime(table.index)
        joined = port.join(table, on="date", how="inner")
        lost = len(port) - len(joined)
        if lost:
            notes.append(f"{lost} portfolio sessions have no factor row and are left out")
        if joined.empty:
            raise BadInput("the factor file covers none of the portfolio's sessions")
        port, x = joined.reset_index(drop=True), joined[cols].reset_index(drop=True)
        y = port["return"] - (port[rf_col] if rf_col else 0.0)
    port = port.assign(excess_return=y.to_numpy())
    if len(port) < x.shape[1] + 3:
        raise BadInput(f"only {len(port)} portfolio sessions: too few for the regression")
    lags = newey_west_lags(len(port)) if lags is None else lags
    fit = sm.OLS(y.to_numpy(), sm.add_constant(x.to_numpy(), has_constant="add")).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags})
    names = ["const", *x.columns]
    series = {k: pd.Series(np.asarray(getattr(fit, k)), index=names)
              for k in ("params", "bse", "tvalues", "pvalues")}
    return CalendarTimeResult(horizon=horizon, weighting="value" if weights is not None
                              else "equal", portfolio=port, nobs=int(fit.nobs), lags=lags,
                              rsquared=float(fit.rsquared), notes=notes, **series)
