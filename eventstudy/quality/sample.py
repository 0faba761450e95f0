"""One estimation sample per event for every model (class 7 of docs/quality.md).

The market model of an event leaves the event windows of the firm's other events out of its
estimation window (``engine.estimation``). A GARCH variance recursion needs consecutive
returns, so it cannot skip those sessions; it is fitted on the longest stretch of the market
model's sample that has no gap, the sessions after the last one left out, when that stretch has
``min_obs`` returns; otherwise on the whole span, and the finding says so plainly."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from eventstudy.quality.finding import Finding


def garch_sample(dates: npt.NDArray[np.datetime64], ret: npt.NDArray[np.float64], min_obs: int
                 ) -> tuple[pd.Timestamp, pd.Timestamp, str | None, str]:
    """(first, last) date of the GARCH estimation sample of one event, from its row of the
    panel's estimation block (``est_dates``, ``est_ret``: NaN where a session was left out),
    the finding's text when it differs from the market model's sample (None when the same),
    and the action taken."""
    valid = ~np.isnat(dates)
    at = np.flatnonzero(valid)
    first, last = pd.Timestamp(dates[at[0]]), pd.Timestamp(dates[at[-1]])
    out = valid & ~np.isfinite(ret)
    out[at[0]] = False  # the first row's return may be missing without being left out
    if not out.any():
        return first, last, None, "same sample"
    n_kept = int((valid & ~out).sum())
    after = at[at > np.flatnonzero(out)[-1]]
    if len(after) >= min_obs:
        start = pd.Timestamp(dates[after[0]])
        return start, last, (
            f"the market model is fitted on {n_kept} sessions {first.date()}..{last.date()} "
            f"without the {int(out.sum())} in other events' windows; a GARCH recursion needs "
            f"consecutive returns, so GARCH is fitted on the {len(after)} sessions "
            f"{start.date()}..{last.date()} after them"), "GARCH on the sessions after them"
    return first, last, (
        f"the market model is fitted on {n_kept} sessions {first.date()}..{last.date()} "
        f"without the {int(out.sum())} in other events' windows; only {len(after)} "
        f"consecutive sessions follow them (fewer than {min_obs}), so GARCH is fitted on the "
        f"whole span of {len(at)} sessions, other events included"), (
        "GARCH sample includes other events (stated)")


def sample_finding(event_id: str, ticker: str, first: pd.Timestamp, last: pd.Timestamp,
                   text: str, action: str) -> Finding:
    return Finding(ticker, "estimation_sample", f"{first.date()}..{last.date()}", text, action,
                   event_id)
