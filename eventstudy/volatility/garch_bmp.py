"""GARCH-standardised BMP: the Boehmer, Musumeci & Poulsen (1991) standardised cross-sectional test
applied to abnormal returns standardised by their out-of-sample GARCH conditional volatility.

This is NOT the Savickas (2003) test ("Event-induced volatility and tests for abnormal
performance", Journal of Financial Research 26(2), 165-178), whose statistic is the event-day
dummy coefficient gamma_i of a GARCH mean equation fitted with the event period included,
standardised by sqrt(h_i,E) and tested cross-sectionally. Here the GARCH is fitted before the
event and the event window is filtered through the fixed parameters
(``eventstudy.volatility.event``), so each SAR is AR_t / sqrt(sigma2_t + prediction variance),
the out-of-sample analogue of Savickas's standardisation; the cross-sectional step is BMP's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from eventstudy.engine.windows import Window, window_label
from eventstudy.errors import BadInput, EstimationError
from eventstudy.volatility.base import json_record
from eventstudy.volatility.event import EventVolatility


@dataclass(frozen=True)
class GarchBmpTest:
    """GARCH-standardised BMP test of (cumulative) ARs (module docstring)."""

    window: Window
    n_events: int
    mean_scar: float
    std_scar: float
    t_stat: float
    p_value: float

    def summary(self) -> str:
        """One line."""
        return (f"GARCH-standardised BMP test over {window_label(self.window)}: "
                f"N = {self.n_events}, mean SCAR = {self.mean_scar:.3f}, sd = {self.std_scar:.3f}, "
                f"t = {self.t_stat:.3f}, p = {self.p_value:.4f} "
                f"(two-sided, t({self.n_events - 1}))")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return json_record(self.__dict__)


def _window_columns(n_days: int, window: Window | None, days: Sequence[int] | None
                    ) -> tuple[np.ndarray, Window]:
    """Boolean column mask of ``window`` (inclusive, in day labels) and the window used."""
    labels = np.arange(n_days) if days is None else np.asarray(days)
    if labels.shape != (n_days,):
        raise BadInput(f"days has {labels.size} labels for {n_days} columns")
    lo, hi = (int(labels[0]), int(labels[-1])) if window is None else window
    mask = (labels >= lo) & (labels <= hi)
    if not mask.any():
        raise BadInput(f"window {window_label((lo, hi))} selects no column of the SAR array")
    return mask, (lo, hi)


def garch_bmp_test(sar: np.ndarray, window: Window | None = None,
                   days: Sequence[int] | None = None) -> GarchBmpTest:
    """GARCH-standardised BMP on an (events x days) array of GARCH-standardised ARs (NaN =
    missing).

    Per event, SCAR_i = sum of its non-missing SARs in ``window`` / sqrt(their number); events
    with none are dropped. The statistic is the BMP-style (Boehmer, Musumeci & Poulsen 1991)
    cross-sectional t: mean(SCAR) / (sd(SCAR) / sqrt(N)), sd with N - 1 degrees of freedom;
    the p-value is two-sided from t(N - 1). ``days`` labels the columns (default 0..n-1) and
    ``window`` is inclusive in those labels (default all columns).
    """
    values = np.asarray(sar, dtype=float)
    if values.ndim != 2:
        raise BadInput(f"sar must be a 2-d (events x days) array, got shape {values.shape}")
    mask, used = _window_columns(values.shape[1], window, days)
    block = values[:, mask]
    counts = np.sum(np.isfinite(block), axis=1)
    keep = counts > 0
    scar = np.nansum(block[keep], axis=1) / np.sqrt(counts[keep])
    if scar.size < 2:
        raise BadInput(f"the GARCH-standardised BMP test needs at least 2 events with data in "
                       f"{window_label(used)}, got {scar.size}")
    sd = float(np.std(scar, ddof=1))
    if sd == 0.0:
        raise EstimationError("all standardised CARs are equal: the cross-sectional t is undefined")
    t_stat = float(np.mean(scar) / (sd / math.sqrt(scar.size)))
    p_value = float(2.0 * stats.t.sf(abs(t_stat), scar.size - 1))
    return GarchBmpTest(used, int(scar.size), float(np.mean(scar)), sd, t_stat, p_value)


def sar_matrix(results: Sequence[EventVolatility]) -> tuple[np.ndarray, list[int]]:
    """(events x days) SAR array over the union of event days, NaN where an event has none."""
    days = sorted(set().union(*(set(r.sar.index) for r in results)))
    matrix = np.full((len(results), len(days)), np.nan)
    for i, result in enumerate(results):
        matrix[i] = result.sar.reindex(days).to_numpy(dtype=float)
    return matrix, [int(d) for d in days]
