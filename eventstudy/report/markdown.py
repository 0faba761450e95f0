"""The markdown report: events, CARs, volume, tests, volatility and the method section."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:

    from eventstudy.studies.result import EventStudyResult
from eventstudy.formatting import num, pct
from eventstudy.studies.summary import (
    HEADINGS,
    WIDE_LIMIT,
    car_long_table,
    car_wide_table,
    data_lines,
    events_table,
    firm_days,
    tests_pivots,
    volume_wide_table,
)


def markdown_report(result: EventStudyResult, images: list[tuple[str, str]]) -> str:
    parts = [f"# {HEADINGS.get(result.kind, 'Event study')}", "",
             *[f"- {line}" for line in data_lines(result)], ""]
    for ticker, listing in result.listings.items():
        how = "inferred from the first trading day" if listing.inferred else "listings calendar"
        parts.append(f"- {ticker} {listing.name}: listed {listing.listing_date.date()} ({how})")
    parts += ["", "## Events", "", events_table(result).to_markdown(), "",
              "## Cumulative abnormal returns", "",
              "CAR (t statistic from the prediction-error variance, MacKinlay 1997)", "",
              (car_wide_table(result) if len(firm_days(result)) <= WIDE_LIMIT
               else car_long_table(result)).to_markdown(), "",
              "## Abnormal volume", "",
              "Volume ratio = mean volume in the window / mean volume in the estimation window; "
              "abnormal log volume = log(1+V) less its estimation mean (Campbell & Wasley 1996).",
              "", volume_wide_table(result).to_markdown() if len(firm_days(result)) <= WIDE_LIMIT
              else "(see summary.json)", ""]
    for title, body in result.extras.get("sections", []):
        parts += [f"## {title}", "", body, ""]
    if not result.caar.empty:
        parts += ["## Cross-event tests", "",
                  "Mean CAR/BHAR and each test's statistic with its two-sided p-value; one "
                  "observation per firm-day (tranches expiring on the same session are merged). "
                  "References in summary.json.", ""]
        for group, table in tests_pivots(result):
            parts += [f"### {group}", "", table.to_markdown(), ""]
        parts += ["### CAAR by day", "", result.caar.to_markdown(index=False, floatfmt=".4f"), ""]
    if not result.bhar.empty:
        bhar = result.bhar.pivot(index="event_id", columns="window", values="bhar")
        parts += ["## Buy-and-hold abnormal returns (vs the market)", "",
                  bhar.map(pct).to_markdown(), ""]
    if not result.overlaps.empty:
        parts += ["## Overlapping event windows of one firm", "",
                  result.overlaps.to_markdown(index=False), ""]
    parts += volatility_section(result)
    parts += ["## Plots", ""] + [f"![{title}]({name})\n" for name, title in images]
    if not result.skipped.empty:
        parts += ["## Skipped events", "",
                  result.skipped[["event_id", "reason"]].to_markdown(index=False), ""]
    notes = [*result.notes, *[n for n in result.events["note"] if n]]
    if notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in dict.fromkeys(notes)]
    return "\n".join(parts) + "\n"


def volatility_section(result: EventStudyResult) -> list[str]:
    """Markdown: per firm-day the GARCH summary (model choice, volatility ratio, tests)."""
    vols = result.extras.get("volatility") or {}
    if not vols:
        return []
    parts = ["## Volatility (GARCH, arch)", ""]
    for event_id, vol in vols.items():
        ratio = vol.ratio
        parts += [f"### {event_id}", "",
                  f"- model: {vol.model}" + (f" (fallback: {vol.fallback_reason})"
                                             if vol.fallback_reason else ""),
                  f"- mean conditional volatility [+1,+20] / [-20,-1]: {num(ratio.ratio, 3)}", "",
                  "```", vol.summary(), "```", ""]
    return parts
