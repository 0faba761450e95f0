"""The text summary of a study (``result.summary()``): a header block in the style of
statsmodels' ``summary()`` (study, model, windows, N, market, data, date), then the events, CAR,
volume and test tables."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from eventstudy.engine.windows import window_label
from eventstudy.formatting import finite_date, num, pct
from eventstudy.results.data import StudyData
from eventstudy.results.document import Header, Part, Summary, Table

WIDE_LIMIT = 4  # up to this many firm-days, CARs are shown as one column per firm-day


HEADINGS = {"lockup": "Lock-up expiry study", "batch": "Event study across events",
            "events": "Event study", "listing": "Listing-day study"}


def firm_days(result: StudyData) -> list[tuple[str, str, list[str]]]:
    """Unique (ticker, day 0) pairs with their event ids (tranches of one listing often share)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for event_id, row in result.events.set_index("event_id").iterrows():
        groups.setdefault((row["ticker"], str(row["day0"].date())), []).append(str(event_id))
    return [(t, d, ids) for (t, d), ids in groups.items()]


def label_of(result: StudyData, ids: list[str]) -> str:
    events = result.events.set_index("event_id")
    row = events.loc[ids[0]]
    tranches = ", ".join(str(events.loc[i, "tranche"]) for i in ids)
    return f"{row['ticker']} {row['day0'].date()} ({tranches})"


def _estimation_cell(row: pd.Series) -> str:
    """'start..end (sessions used[, N in other event windows left out])'."""
    out = int(row.get("estimation_excluded", 0) or 0)
    more = f", {out} in other event windows left out" if out else ""
    return (f"{row['estimation_start'].date()}..{row['estimation_end'].date()} "
            f"({row['estimation_days']}{more})")


def events_table(result: StudyData) -> pd.DataFrame:
    """One row per event; volume as two ratios to the estimation-window mean volume: day 0, and
    the mean over the event window (a spike on day 0 is diluted in the window mean);
    ``no-trade rows`` (placeholder rows dropped in the estimation and event windows) only when
    some event has one."""
    ev = result.events
    start, end = result.options.window
    ratio_0 = ev["volume_ratio_0"] if "volume_ratio_0" in ev else pd.Series(float("nan"),
                                                                           index=ev.index)
    table = pd.DataFrame({
        "event": ev["event_id"], "tranche": ev["tranche"],
        "expiry": [finite_date(d) for d in ev["date"]],
        "day 0": [d.date() for d in ev["day0"]], "close": ev["close_0"].map(num),
        "return": ev["return_0"].map(pct), "market": ev["market_return_0"].map(pct),
        "AR(0)": ev["ar_0"].map(pct), "t": ev["t_0"].map(num),
        "volume ratio day 0": ratio_0.map(lambda v: num(v) + "x"),
        f"volume ratio [{start:+d},{end:+d}]": ev["volume_ratio"].map(lambda v: num(v) + "x"),
        "model": ev["model"],
        "estimation": [_estimation_cell(row) for _, row in ev.iterrows()],
    }).set_index("event")
    dropped = ev.get("placeholders_dropped")
    if dropped is not None and dropped.sum() > 0:
        table.insert(len(table.columns) - 2, "no-trade rows", dropped.to_numpy())
    return table


def car_cell(row: pd.Series) -> str:
    """'CAR (t, sample-quantile p)'."""
    return f"{pct(row['car'])} (t {num(row['t'])}, p_SQ {num(row['p_sq'], 3)})"


CAR_HEADING = ("CAR (t: prediction-error variance, MacKinlay 1997; p_SQ: sample-quantile p of "
               "Gelbach, Helland & Klick 2013, no normality assumed):")


ROBUSTNESS_HEADING = ("Robustness, the headline CARs under each normal-return model (one firm-day: "
                      "prediction-error t; several: cross-sectional t, t(n-1)):")


def _p_text(p: float) -> str:
    """'p < 0.001' rather than a p printed as 0.000."""
    return "p < 0.001" if 0 <= p < 0.001 else f"p {num(p, 3)}"


def robustness_view(result: StudyData) -> pd.DataFrame:
    """``result.robustness`` for reading: model (role): firm-day x window, cells
    'CAR (t, p, n)'."""
    rows = result.robustness
    cells = [f"{pct(r.car)} (t {num(r.t)}, {_p_text(float(r.p))}, n {r.n})"  # type: ignore[arg-type]
             for r in rows.itertuples()]
    label = [f"{m} ({r}): {f}" for m, r, f in zip(rows["model"], rows["role"], rows["firm_day"],
                                                   strict=True)]
    table = rows.assign(cell=cells, label=label).pivot(index="label", columns="window",
                                                        values="cell")
    return table.reindex(index=list(dict.fromkeys(label)),
                         columns=list(dict.fromkeys(rows["window"]))).rename_axis(None)


def sq_min_lines(result: StudyData) -> list[str]:
    """The smallest attainable p_SQ per window (2 / (n + 1) for n estimation-window CARs)."""
    car = result.car.dropna(subset=["sq_min_p"])
    if car.empty:
        return []
    low = car.groupby("window", sort=False)["sq_min_p"].max()
    cells = ", ".join(f"{w} {num(v, 3)}" for w, v in low.items())
    return [f"smallest attainable p_SQ, 2/(n+1) for n estimation-window CARs (the largest over "
            f"the events): {cells}"]


def car_wide_table(result: StudyData) -> pd.DataFrame:
    """Windows x firm-days, each cell 'CAR (t)'."""
    columns = {}
    for _, _, ids in firm_days(result):
        rows = result.car[result.car.event_id == ids[0]]
        columns[label_of(result, ids)] = pd.Series(
            [car_cell(r) for _, r in rows.iterrows()], index=rows["window"].tolist())
    return pd.DataFrame(columns)


def car_long_table(result: StudyData) -> pd.DataFrame:
    table = result.car.assign(cell=lambda f: f.apply(car_cell, axis=1))
    return table.pivot(index="event_id", columns="window", values="cell")[
        list(dict.fromkeys(result.car["window"]))]


def volume_wide_table(result: StudyData) -> pd.DataFrame:
    columns = {}
    for _, _, ids in firm_days(result):
        rows = result.volume[result.volume.event_id == ids[0]]
        columns[label_of(result, ids)] = pd.Series(
            [f"{num(r.volume_ratio)}x (abn. log vol {num(r.abnormal_log_volume)}, t {num(r.t)})"
             for r in rows.itertuples()], index=rows["window"].tolist())
    return pd.DataFrame(columns)


def data_lines(result: StudyData) -> list[str]:
    adj = result.extras.get("adjustment", {})
    lines = [f"data: {t}: {src}" for t, src in result.sources.items()]
    kinds = sorted({a for a in adj.values() if a})
    how = ("lumped (no-trade rows kept, return 0)" if result.options.returns == "lumped"
           else "trade-to-trade")
    lines.append(f"returns: simple returns of the close, {how}; adjustment: " + "; ".join(kinds))
    return lines


MEASURES = {"car": "CAR", "bhar": "BHAR", "volume": "abnormal log volume"}


def tests_pivots(result: StudyData) -> list[tuple[str, pd.DataFrame]]:
    """Per group and measure (CAR, BHAR, volume): tests x windows, each cell 'statistic (p)',
    under the mean estimate and the number of firm-days; a test marked * does not hold its size
    in this design (``eventstudy.engine.validity``)."""
    from eventstudy.engine.significance import kind_of

    tests = result.tests
    if tests.empty:
        return []
    tests = tests.assign(measure=[kind_of(t) for t in tests["test"]])
    out = []
    for (group, measure), block in tests.groupby(["group", "measure"], sort=False):
        cells = [f"{num(r.statistic)} ({num(r.p_value, 3)})" for r in block.itertuples()]
        windows = list(dict.fromkeys(block["window"]))
        table = block.assign(cell=cells).pivot(index="test", columns="window", values="cell")
        table = table.reindex(index=list(dict.fromkeys(block["test"])), columns=windows)
        if "valid" in block:  # a test that does not hold its size in this design: marked *
            bad = set(block.loc[~block["valid"].astype(bool), "test"])
            table.index = [f"{t} *" if t in bad else t for t in table.index]
        first = block.drop_duplicates("window").set_index("window")
        fmt = pct if measure != "volume" else num
        top = pd.DataFrame([[fmt(first.loc[w, "estimate"]) for w in windows],
                            [str(first.loc[w, "n"]) for w in windows]],
                           index=[f"mean {MEASURES[str(measure)]}", "n"], columns=windows)
        out.append((f"{MEASURES[str(measure)]}, group {group}", pd.concat([top, table])))
    return out


def group_lines(result: StudyData) -> pd.DataFrame:
    """One row per group: for each window, the mean and its headline test (BMP / BHAR t)."""
    tests = result.tests[result.tests["test"].isin(["bmp", "bhar_t"])]
    tests = tests[tests.groupby("group")["n"].transform("max") >= 2]
    key = [f"{'BHAR' if t == 'bhar_t' else 'CAR'} {w}" for t, w in
           zip(tests["test"], tests["window"], strict=True)]
    table = tests.assign(key=key, cell=[f"{pct(r.estimate)} ({num(r.statistic)}, "
                                        f"p {num(r.p_value, 3)})" for r in tests.itertuples()])
    wide = table.pivot(index="group", columns="key", values="cell")
    return wide.reindex(columns=list(dict.fromkeys(key)),
                        index=list(dict.fromkeys(tests["group"])))


HEADER_WIDTH = 78


def _counted(values: list[str]) -> str:
    """``['a', 'a', 'b']`` -> ``'a (2), b (1)'``; one distinct value is shown alone."""
    counts = pd.Series(values, dtype=object).value_counts(sort=False)
    if len(counts) == 1:
        return str(counts.index[0])
    return ", ".join(f"{k} ({v})" for k, v in counts.items())


def _estimation_text(result: StudyData) -> str:
    design = result.setup
    window = result.options.estimation or design.get("estimation")
    text = window_label(window) if window else "n/a"
    if design.get("max_estimation"):
        text += (f" (<= {design['max_estimation']}, from listing "
                 f"+{result.options.stabilisation})")
    days: Any = result.events.get("estimation_days", [])
    if len(days):
        lo, hi = int(min(days)), int(max(days))
        text += f"; {lo} sessions" if lo == hi else f"; {lo}-{hi} sessions"
    return text


def header_fields(result: StudyData, now: datetime | None = None
                  ) -> list[tuple[str, str]]:
    """The header of ``summary()``: (label, value) pairs, in order."""
    from eventstudy.data.tickers import market_for

    opts = result.options
    tickers = list(dict.fromkeys(result.events["ticker"]))
    markets = [opts.market or market_for(t) for t in tickers]
    bench = result.extras.get("benchmark")
    if bench:  # the IPO index: say how it is made
        markets = [f"IPO index ({bench['months']} months, >= {bench['min_constituents']} "
                   "firms, own firm excluded)"]
    sources = [str(v).split(" (")[0] for v in result.sources.values()]
    models = [str(m) for m in result.events["model"]]
    firm = len(result.events.drop_duplicates(["ticker", "day0"])) if result.n_events else 0
    now = now or datetime.now()
    return [
        ("Study:", result.kind),
        ("Date:", now.strftime("%a, %d %b %Y")),
        ("Model:", _counted(models) if models else opts.model),
        ("Time:", now.strftime("%H:%M:%S")),
        ("Event window:", window_label(opts.window)),
        ("No. events:", str(result.n_events)),
        ("Estimation window:", _estimation_text(result)),
        ("CAR windows:", " ".join(window_label(w) for w in opts.car_windows)),
        ("No. firm-days:", str(firm)),
        ("No. skipped:", str(len(result.skipped))),
        ("Market:", ", ".join(dict.fromkeys(markets)) or "n/a"),
        ("Data source:", _counted(sources) if sources else "n/a"),
    ]


def header_block(result: StudyData, now: datetime | None = None) -> str:
    """The statsmodels-like header: a title, then the fields between rules, two per line where
    both fit in half the width (in order), else one per line."""
    return header(result, now).text


def header(result: StudyData, now: datetime | None = None) -> Header:
    """The header of ``summary()``: its title, fields and text."""
    fields = header_fields(result, now)
    half, key = HEADER_WIDTH // 2 - 1, 19
    cells = [f"{k:<{key}}{v:>{half - key}}" if len(v) <= half - key else f"{k:<{key}}{v}"
             for k, v in fields]
    title = f"{HEADINGS.get(result.kind, 'Event study')} results"
    lines = [title.center(HEADER_WIDTH).rstrip(), "=" * HEADER_WIDTH]
    i = 0
    while i < len(cells):
        pair = cells[i:i + 2]
        if len(pair) == 2 and all(len(c) <= half for c in pair):
            lines.append("  ".join(pair))
            i += 2
        else:  # a long value wraps under itself
            lines += textwrap.wrap(cells[i], HEADER_WIDTH, subsequent_indent=" " * key,
                                   break_long_words=False, break_on_hyphens=False)
            i += 1
    lines.append("=" * HEADER_WIDTH)
    return Header(title, tuple(fields), "\n".join(lines))


def summary_text(result: StudyData, preface: str = "") -> str:
    """The readable report printed by the CLI: the header, ``preface``, then the tables."""
    return study_summary(result, [preface] if preface else []).as_text()


def study_summary(result: StudyData, preface: Sequence[Part] = ()) -> Summary:
    """``result.summary()``: the header, ``preface`` (a study's own block), then the tables."""
    out: list[Part] = [header(result)]
    if preface:
        out += [*preface, ""]
    for ticker, listing in result.listings.items():
        how = ("inferred" if listing.inferred else "given: --listing-date"
               if listing.source.startswith("--listing-date") else "calendar")
        out.append(f"  {ticker} {listing.name}: listed {listing.listing_date.date()} ({how})")
    out += ["  " + line for line in data_lines(result)]
    out.append("")
    out.append(Table(events_table(result).drop(columns=["estimation"])))
    out.append("")
    cars = car_wide_table(result) if len(firm_days(result)) <= WIDE_LIMIT else car_long_table(
        result)
    out.append(CAR_HEADING)
    out.append(Table(cars))
    out += sq_min_lines(result)
    if not result.robustness.empty:
        out += ["", ROBUSTNESS_HEADING, Table(robustness_view(result))]
    pivots = tests_pivots(result)
    for title, table in [p for p in pivots if p[0].endswith("group all")]:
        out += ["", f"Cross-event tests, {title} (statistic, two-sided p):", Table(table)]
    if not result.tests.empty and result.tests["group"].nunique() > 1:
        out += ["", "By group (mean CAR/BHAR, BMP or BHAR t with p):",
                Table(group_lines(result))]
    out += design_lines(result)
    vols = result.extras.get("volatility") or {}
    if vols:
        from eventstudy.volatility.base import MIN_GARCH_ESTIMATION

        out += ["", "GARCH volatility (mean conditional sigma [+1,+20] / [-20,-1], day 0's shock "
                "in it from day +1 through the ARCH term; raw residual variance ratio; "
                "permutation test of the standardised residual variance; no GARCH on fewer than "
                f"{MIN_GARCH_ESTIMATION} estimation sessions):"]
        out += [f"  {eid}: {volatility_line(v)}" for eid, v in vols.items()]
    if not result.skipped.empty:
        out += ["", "Skipped:"] + [f"  {r.event_id}: {r.reason}" for r in
                                   result.skipped.itertuples()]
    out += quality_lines(result)
    notes = [*result.notes, *[n for n in result.events["note"] if n]]
    if notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in dict.fromkeys(notes)]
    return Summary(tuple(out))


def volatility_line(v: Any) -> str:
    """One event's GARCH line; on a short estimation sample (no GARCH fitted) only the raw
    residual variance ratio and its permutation p (``MIN_GARCH_ESTIMATION``)."""
    raw = f"raw variance ratio {num(v.ratio.raw_ratio, 3)} (permutation p " \
          f"{num(v.ratio.raw_perm_pvalue, 3)})"
    if v.fit is None and v.short_sample:
        return f"{v.short_sample.split(';')[0]}; {raw}"
    return (f"{v.model}, ratio {num(v.ratio.ratio, 3)} "
            f"(permutation p {num(v.ratio.perm_pvalue, 3)}); {raw}"
            + ("; beta at its bound 0" if v.fit is not None and v.fit.beta_at_bound else "")
            + (f"; fallback: {v.fallback_reason}" if v.fallback_reason else "")
            + (f"; WARNING: {v.short_sample}" if v.short_sample else ""))


QUALITY_ROWS = 30  # summary lines of the quality table; the rest in result.quality / JSON


def quality_lines(result: StudyData) -> list[str]:
    """What the data-quality screens found (docs/quality.md): counts per check and what was
    done, then the findings themselves (the first ``QUALITY_ROWS``)."""
    from eventstudy.quality.finding import counts_by_check

    quality = getattr(result, "quality", None)
    if quality is None or quality.empty:
        return []
    out = ["", "Data quality (docs/quality.md; result.quality):"]
    counts = counts_by_check(quality)
    out += [f"  {r.check}: {r.events} event(s) {r.action}" for r in counts.itertuples()]
    rows = list(quality.itertuples())
    out += [f"  - {r.event_id or r.ticker} {r.check} {r.where}: {r.found} -> {r.action}"
            for r in rows[:QUALITY_ROWS]]
    if len(rows) > QUALITY_ROWS:
        out.append(f"  ... and {len(rows) - QUALITY_ROWS} more (result.quality, JSON quality)")
    return out


def design_lines(result: StudyData) -> list[Part]:
    """The designs of a batch (regressions, calendar-time portfolio, wild bootstrap), each
    under its name."""
    out: list[Part] = []
    for name, design in (result.designs or {}).items():
        text = (Table(design.round(4)) if isinstance(design, pd.DataFrame)
                else str(design.summary()))
        out += ["", f"{name.replace('_', ' ').capitalize()}:", text]
    return out
