"""Issue 21 acceptance run: a lock-up batch over every listing of the real HK panel
(../shared/data/prices_hk_panel, 190 Yahoo files; the first row of each file checked as a
listing day) runs to the end with every problem event skipped or flagged, none silently studied.

    python scripts/quality_panel.py [PANEL_FOLDER]

Prints the counts per reason and an independent re-check of every studied event: the screens
run again on each ticker's prices, and no studied event may have an unflagged suspect return in
its estimation or event window, nor a day 0 moved more than 14 days."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from eventstudy import lockup_study
from eventstudy.data.files import FolderSource
from eventstudy.quality.finding import counts_by_check
from eventstudy.quality.screens import screen_series
from eventstudy.studies.core import make_loader


def main(folder: Path) -> int:
    tickers = FolderSource(folder).tickers()
    loader = make_loader(offline=True, data=folder)
    result = lockup_study(tickers, loader=loader, volatility=False)
    print(f"{len(tickers)} tickers; {result.n_events} events studied, "
          f"{len(result.skipped)} skipped")
    reasons = Counter(_kind(r) for r in result.skipped["reason"])
    print("skipped per reason:")
    for reason, n in reasons.most_common():
        print(f"  {n:4d}  {reason}")
    print("quality table per check:")
    print(counts_by_check(result.quality).to_string(index=False))
    silent = _silently_studied(result, loader)
    print(f"studied events with an unflagged problem: {len(silent)}")
    for line in silent:
        print("  " + line)
    return 1 if silent else 0


def _kind(reason: str) -> str:
    for key in ("listing date cannot be inferred", "suspect return", "placeholder row",
                "has no price on day 0", "after the data", "before the data",
                "no estimation window", "too short"):
        if key in reason:
            return key
    return reason[:80]


def _silently_studied(result, loader) -> list[str]:  # noqa: ANN001 - a script
    flagged = set(result.quality["event_id"])
    out = []
    events = result.events
    for row in events.itertuples():
        screen = screen_series(loader.load(row.ticker), row.ticker, "XHKG")
        end = result.abnormal_returns[(result.abnormal_returns["event_id"] == row.event_id)
                                      & (result.abnormal_returns["day"] <= 20)]["date"].max()
        bad = screen.suspect_within(pd.Timestamp(row.estimation_start), pd.Timestamp(end))
        if bad and row.event_id not in flagged:
            out.append(f"{row.event_id}: {bad[0].found} ({bad[0].where})")
        if (pd.Timestamp(row.day0) - pd.Timestamp(row.session)).days > 14:
            out.append(f"{row.event_id}: day 0 moved from {row.session} to {row.day0}")
    return out


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1
                  else Path("/work/shared/data/prices_hk_panel")))
