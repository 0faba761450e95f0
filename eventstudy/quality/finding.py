"""One ``Finding`` type for everything the data-quality screens find, and its table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import pandas as pd

COLUMNS = ["event_id", "ticker", "check", "where", "found", "action"]


@dataclass(frozen=True)
class Finding:
    """What a screen found in a ticker's data (``event_id`` blank: the series as a whole),
    where (a date or a span), and what the study did about it."""

    ticker: str
    check: str  # the screen's name, e.g. "spike", "placeholder_day0" (docs/quality.md)
    where: str
    found: str
    action: str = "flagged"
    event_id: str = ""

    def for_event(self, event_id: str, action: str) -> Finding:
        return replace(self, event_id=event_id, action=action)

    def line(self) -> str:
        who = self.event_id or self.ticker
        return f"{who}: {self.found} ({self.where}): {self.action}"


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """The ``quality`` table: one row per finding, columns ``COLUMNS``."""
    rows = [[f.event_id, f.ticker, f.check, f.where, f.found, f.action] for f in findings]
    return pd.DataFrame(rows, columns=COLUMNS).drop_duplicates(ignore_index=True)


def counts_by_check(quality: pd.DataFrame) -> pd.DataFrame:
    """Events skipped or flagged per check (what the batch summary shows)."""
    rows = quality[quality["event_id"] != ""]
    if rows.empty:
        return pd.DataFrame(columns=["check", "action", "events"])
    kind = rows["action"].str.startswith("skipped").map({True: "skipped", False: "flagged"})
    out = rows.assign(action=kind).groupby(["check", "action"])["event_id"].nunique()
    return out.rename("events").reset_index()
