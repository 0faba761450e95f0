"""What a study's report says, as a ``Document``: the headline (``report.headline``), then the
events, CARs, volume, tests, BHAR, volatility, figures, skipped events, notes, the method
(MacKinlay 1997; Campbell & Wasley 1996; the tests' references are in ``engine.significance``)
and, folded at the end, the data sources. A study of more firm-days than ``WIDE_LIMIT`` opens
with its CAAR and cross-event tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from eventstudy.formatting import pct
from eventstudy.report.document import Block, Bullets, Document, Image, Section, Table
from eventstudy.report.headline import headline_blocks
from eventstudy.report.volatility import volatility_blocks
from eventstudy.results.summary import (
    CAR_HEADING,
    HEADINGS,
    ROBUSTNESS_HEADING,
    WIDE_LIMIT,
    car_long_table,
    car_wide_table,
    data_lines,
    events_table,
    firm_days,
    robustness_view,
    sq_min_lines,
    tests_pivots,
    volume_wide_table,
)

if TYPE_CHECKING:
    from eventstudy.results.result import EventStudyResult


def report_document(result: EventStudyResult, figures: list[Image],
                    volatility_figures: dict[str, list[Image]]) -> Document:
    """The whole report of ``result``; ``figures`` and ``volatility_figures`` (by event id) are
    the figure files this run wrote."""
    wide = len(firm_days(result)) <= WIDE_LIMIT
    cross = _cross_event_sections(result)
    first, cross = (cross, []) if not wide else ([], cross)  # many firm-days: CAAR first
    sections = [
        *first,
        Section("Events", [Table(events_table(result))]),
        Section("Cumulative abnormal returns", [
            CAR_HEADING,
            Table(car_wide_table(result) if wide else car_long_table(result)),
            *sq_min_lines(result), *_robustness_blocks(result)]),
        Section("Abnormal volume", [
            "Volume ratio = mean volume in the window / mean volume in the estimation window; "
            "abnormal log volume = log(1+V) less the market index's log(1+V) of the same day, "
            "less its estimation-window mean; t = abnormal / its estimation-window sd "
            "(Campbell & Wasley 1996).",
            Table(volume_wide_table(result)) if wide else "(see summary.json)"]),
        *[Section(title, _blocks(body)) for title, body in result.extras.get("sections", [])],
        *_parameter_sections(result),
        *cross,
        *_design_sections(result),
        *_volatility_sections(result, volatility_figures),
    ]
    if figures:
        sections.append(Section("Plots", list(figures)))
    if not result.skipped.empty:
        sections.append(Section("Skipped events", [
            Table(result.skipped[["event_id", "reason"]], index=False, wrap=True)]))
    quality = getattr(result, "quality", None)
    if quality is not None and not quality.empty:
        sections.append(Section("Data quality", [
            "What the data-quality screens found and what was done (docs/quality.md).",
            Table(quality, index=False, wrap=True)]))
    notes = [*result.notes, *[n for n in result.events["note"] if n]]
    if notes:
        sections.append(Section("Notes", [Bullets(list(dict.fromkeys(notes)))]))
    sections.append(method_section(result))
    sections.append(provenance_section(result))
    return Document(HEADINGS.get(result.kind, "Event study"), sections,
                    headline=headline_blocks(result))


def _robustness_blocks(result: EventStudyResult) -> list[Block]:
    if result.robustness.empty:
        return []
    return [ROBUSTNESS_HEADING, Table(robustness_view(result))]


def _blocks(body: Any) -> list[Block]:
    """A study's own section body (text, list of lines, DataFrames) as blocks."""
    parts = body if isinstance(body, list | tuple) else [body]
    out: list[Block] = []
    for part in parts:
        if isinstance(part, pd.DataFrame):
            out.append(Table(part, index=not isinstance(part.index, pd.RangeIndex)))
        elif isinstance(part, list | tuple):
            out.append(Bullets([str(p) for p in part]))
        else:
            out.append(str(part))
    return out


def provenance_section(result: EventStudyResult) -> Section:
    """Where every price series came from, how returns were adjusted, where listings came from."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("eventstudy")
    except PackageNotFoundError:  # pragma: no cover
        release = "unknown"
    lines = list(data_lines(result))
    for ticker, listing in result.listings.items():
        how = ("inferred from the first trading day" if listing.inferred
               else "listings calendar" + (f", source: {listing.source}" if listing.source
                                           else ""))
        lines.append(f"{ticker} {listing.name}: listed {listing.listing_date.date()} ({how})")
    lines.append("bundled data: real Yahoo downloads, provenance and caveats in "
                 "data/PROVENANCE.md of the eventstudy repository")
    lines.append(f"written by eventstudy {release} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return Section("Data and provenance", [Bullets(lines)], folded=True)


def _cross_event_sections(result: EventStudyResult) -> list[Section]:
    out = []
    if not result.caar.empty:
        tests: list[Block] = [
            "Mean CAR/BHAR and each test's statistic with its two-sided p-value; one observation "
            "per firm-day (tranches expiring on the same session are merged). References in "
            "summary.json."]
        tests += [Section(group, [Table(table)]) for group, table in tests_pivots(result)]
        tests.append(Section("CAAR by day", [Table(result.caar, index=False, floatfmt=".4f")]))
        out.append(Section("Cross-event tests", tests))
    if not result.bhar.empty:
        bhar = result.bhar.pivot(index="event_id", columns="window", values="bhar")
        out.append(Section("Buy-and-hold abnormal returns (vs the market)",
                           [Table(bhar.map(pct))]))
    if not result.overlaps.empty:
        out.append(Section("Overlapping event windows of one firm",
                           [Table(result.overlaps, index=False)]))
    return out


def _parameter_sections(result: EventStudyResult) -> list[Section]:
    if result.parameters.empty:
        return []
    return [Section("Model parameters", [
        "The normal-return model fitted on each event's estimation window: intercept, slopes, "
        "residual sd, R^2, sessions used and residual degrees of freedom.",
        Table(result.parameters.set_index("event_id"))])]


def _design_sections(result: EventStudyResult) -> list[Section]:
    """Cross-sectional regressions, the calendar-time portfolio and the wild bootstrap."""
    blocks: list[Block] = []
    for name, design in result.designs.items():
        if isinstance(design, pd.DataFrame):  # the wild bootstrap of CAAR
            blocks.append(Section("Wild bootstrap of CAAR", [
                "Rademacher wild bootstrap-t (Mammen 1993), one observation per firm-day, "
                "p = (1 + #{|t*| >= |t|}) / (B + 1).",
                Table(design.drop(columns=["start", "end"]), index=False)]))
        elif name == "calendar_time":
            blocks.append(Section("Calendar-time portfolio", [
                design.summary().splitlines()[0] + " (Jaffe 1974; Mandelker 1974; Fama 1998).",
                Table(design.table(), index=False), *design.notes]))
        else:
            blocks.append(Section(f"Regression: {design.formula}", [
                f"OLS, N = {design.nobs}, R^2 {design.rsquared:.3f}; HC3 (MacKinnon & White "
                f"1985) and date-clustered (Petersen 2009) standard errors.",
                Table(design.table(), index=False), *design.notes]))
    return [Section("Designs", blocks)] if blocks else []


def _volatility_sections(result: EventStudyResult,
                         figures: dict[str, list[Image]]) -> list[Section]:
    vols = result.extras.get("volatility") or {}
    if not vols:
        return []
    return [Section("Volatility (GARCH, arch)", [
        Section(event_id, [*volatility_blocks(vol), *figures.get(event_id, [])])
        for event_id, vol in vols.items()])]


def _estimation_text(result: EventStudyResult) -> str:
    """The estimation window as the study ran it (lock-ups: from listing day +30)."""
    setup = result.setup or {}
    start, end = setup.get("estimation") or result.options.estimation or (None, None)
    if setup.get("from_listing") and not result.options.estimation:
        return (f"from listing day +{result.options.stabilisation} (after the price-"
                f"stabilisation period) to day {end}, at most {setup.get('max_estimation')} "
                "sessions")
    return f"[{start}, {end}] sessions"


def method_section(result: EventStudyResult) -> Section:
    """The model, windows and statistics of this study, with their references."""
    if result.extras.get("method"):
        return Section("Method", [Bullets([str(m) for m in result.extras["method"]])])
    o = result.options
    windows = ", ".join(f"[{a:+d},{b:+d}]" for a, b in o.car_windows)
    estimation = _estimation_text(result)
    return Section("Method", [Bullets([
        "day 0: the first exchange session on or after the event date (lock-up expiry = "
        "listing date + N calendar months)",
        f"normal returns: {o.model} model; estimation window {estimation}; with fewer than "
        f"{o.min_estimation} sessions, market-adjusted returns",
        "returns: simple returns of the adjusted close on the dates the stock shares with its "
        "market index; " + ("lumped: no-trade rows (zero volume, unchanged close) kept with "
                            "return 0" if o.returns == "lumped" else "trade-to-trade: no-trade "
                            "rows dropped, the next return spans them (Maynes & Rumsey 1993)"),
        f"event window [{o.window[0]:+d},{o.window[1]:+d}]; CAR windows {windows}",
        "AR t statistics and CAR standard errors from the prediction-error variance of the "
        "fitted model (MacKinlay 1997; Campbell, Lo & MacKinlay 1997, ch. 4); two-sided "
        "Student t p-values with the residual degrees of freedom; beside them the sample-"
        "quantile p (p_SQ) of Gelbach, Helland & Klick (2013): the CAR among every L-day sum "
        "of estimation residuals, equal tails, floor 2/(n + 1)",
        "abnormal volume: ratio of window to estimation-window mean volume, and log(1+V) less "
        "the market index's log(1+V), less its estimation mean, standardised (Campbell & "
        "Wasley 1996); across events CW's t with the Brown & Warner (1985) crude dependence "
        "adjustment",
        "cross-event tests (several firm-days): t (Brown & Warner 1985), Patell (1976), BMP "
        "(Boehmer, Musumeci & Poulsen 1991), Kolari & Pynnonen (2010), Corrado (1989), "
        "generalized sign (Cowan 1992), GRANK (Kolari & Pynnonen 2011), Wilcoxon, BHAR t "
        "(Barber & Lyon 1997; Lyon, Barber & Tsai 1999); Holm and Benjamini-Hochberg "
        "adjusted p-values",
        "volatility: GARCH(1,1), GJR-GARCH and EGARCH by BIC (arch), conditional variance "
        "filtered with pre-event parameters; permutation test of the standardised residual "
        "variance; robust quasi-LR test of a variance dummy (Francq & Zakoian 2019); across "
        "events the GARCH-standardised BMP (Boehmer et al. 1991 on AR / GARCH sigma; not "
        "Savickas 2003)",
    ])])
