"""Cross-sectional regressions of event outcomes (CAR, abnormal volume) on event characteristics.

``car ~ locked_ratio + runup + C(tranche)`` (parsed as data by ``engine/formula.py``), fitted by OLS
with two covariance choices beside each other: HC3 heteroskedasticity-robust errors (MacKinnon &
White 1985) and errors clustered by event date (Petersen 2009), since events of one session
share a market shock; p-values from t(n - k) and t(G - 1) for G date clusters (Cameron &
Miller 2015). The lock-up literature's specification: Field & Hanka (2001, table 5),
Brav & Gompers (2003). Complexity: O(N k^2) for N events and k regressors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.engine.arrays import Floats, Ints
from eventstudy.errors import BadInput


@dataclass
class RegressionResult:
    """Coefficients with HC3 and date-clustered standard errors; ``table()`` for a paper."""

    formula: str
    nobs: int
    rsquared: float
    rsquared_adj: float
    coef: pd.DataFrame  # term, coef, se_hc3, t_hc3, p_hc3, se_cluster, t_cluster, p_cluster
    clusters: int
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return self.coef.copy()

    def summary(self) -> str:
        head = (f"OLS {self.formula}: N = {self.nobs}, R^2 {self.rsquared:.3f} "
                f"(adj. {self.rsquared_adj:.3f}); HC3 and clustered by date "
                f"({self.clusters} dates)")
        return head + "\n" + self.coef.to_string(index=False, float_format="{:.4g}".format)

    def to_dict(self) -> dict[str, Any]:
        return {"formula": self.formula, "nobs": self.nobs, "rsquared": self.rsquared,
                "rsquared_adj": self.rsquared_adj, "clusters": self.clusters,
                "terms": self.coef.to_dict(orient="records"), "notes": list(self.notes)}


LEVERAGE_ONE = 1.0 - 1e-8  # h_ii above this is 1 up to rounding: e_i = 0 exactly


def _leverage_one(exog: Floats) -> Ints:
    """Rows with leverage h_ii = x_i (X'X)^-1 x_i' equal to 1 (HC3's 1 / (1 - h_ii)^2 is
    infinite and its residual 0)."""
    q, _ = np.linalg.qr(exog)
    return np.flatnonzero((q**2).sum(axis=1) > LEVERAGE_ONE)


def cross_sectional_regression(data: pd.DataFrame, formula: str,
                               cluster: str = "day0") -> RegressionResult:
    """Fit ``formula`` on ``data`` (one row per event); rows with a missing value are dropped
    (said in ``notes``). ``cluster``: the column whose values define the clusters. The formula
    is parsed by ``eventstudy.engine.formula`` (an allow-list grammar), never evaluated."""
    from statsmodels.regression.linear_model import OLS

    from eventstudy.engine.design import design
    from eventstudy.engine.formula import parse_formula

    y, X = design(parse_formula(formula), data)
    if cluster not in data.columns:
        raise BadInput(f"no column {cluster!r} to cluster by")
    rows = X.index
    notes = [f"{len(data) - len(rows)} events with a missing value left out"] \
        if len(rows) < len(data) else []
    if len(rows) <= X.shape[1]:
        raise BadInput(f"{len(rows)} events for {X.shape[1]} coefficients: too few")
    rank = int(np.linalg.matrix_rank(X.to_numpy()))
    if rank < X.shape[1]:
        raise BadInput(f"the terms of {formula!r} are collinear on these {len(rows)} events "
                       f"(rank {rank} of {X.shape[1]}): drop a term")
    model = OLS(pd.Series(y, index=rows), X)
    groups = pd.factorize(data.loc[rows, cluster])[0]
    # small samples: t(n - k) for HC3 and t(G - 1) for G clusters (Cameron & Miller 2015, s. VI)
    hc3 = model.fit(cov_type="HC3", use_t=True)
    clustered = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    coef = pd.DataFrame({
        "term": hc3.params.index, "coef": hc3.params.to_numpy(),
        "se_hc3": hc3.bse.to_numpy(), "t_hc3": hc3.tvalues.to_numpy(),
        "p_hc3": hc3.pvalues.to_numpy(), "se_cluster": clustered.bse.to_numpy(),
        "t_cluster": clustered.tvalues.to_numpy(), "p_cluster": clustered.pvalues.to_numpy()})
    one = _leverage_one(model.exog)
    if len(one):
        coef[["se_hc3", "t_hc3", "p_hc3"]] = np.nan
        notes.append(f"{len(one)} event(s) with leverage 1 (e.g. the only event of a category: "
                     f"{', '.join(str(rows[i]) for i in one[:5])}): HC3 divides 0 by 0, its "
                     "standard errors are not reported (NaN, as R's sandwich)")
    n_clusters = int(len(np.unique(groups)))
    if n_clusters < 10:
        notes.append(f"only {n_clusters} date clusters: clustered errors are unreliable "
                     "(Petersen 2009; Cameron, Gelbach & Miller 2008)")
    return RegressionResult(formula=formula, nobs=int(hc3.nobs), rsquared=float(hc3.rsquared),
                            rsquared_adj=float(hc3.rsquared_adj), coef=coef,
                            clusters=n_clusters, notes=notes)
