"""Turn a result into text, JSON and a report folder (markdown, self-contained HTML, PNG, CSV).

The folder is built in a temporary sibling and renamed into place, so a failed run leaves the
previous report (or nothing), never a half-written one.
"""

from __future__ import annotations

import base64
import html
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput
from eventstudy.statistics import window_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from eventstudy.study import EventStudyResult

WIDE_LIMIT = 4  # up to this many firm-days, CARs are shown as one column per firm-day
PLOT_LIMIT = 12  # up to this many firm-days, each gets its own price and AR/CAR plots
HEADINGS = {"lockup": "Lock-up expiry study", "batch": "Event study across events",
            "events": "Event study", "listing": "Listing-day study"}


def pct(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:+.{digits}f}%"


def num(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def firm_days(result: EventStudyResult) -> list[tuple[str, str, list[str]]]:
    """Unique (ticker, day 0) pairs with their event ids (tranches of one listing often share)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for event_id, row in result.events.iterrows():
        groups.setdefault((row["ticker"], str(row["day0"].date())), []).append(str(event_id))
    return [(t, d, ids) for (t, d), ids in groups.items()]


def label_of(result: EventStudyResult, ids: list[str]) -> str:
    row = result.events.loc[ids[0]]
    tranches = ", ".join(str(result.events.loc[i, "tranche"]) for i in ids)
    return f"{row['ticker']} {row['day0'].date()} ({tranches})"


# --------------------------------------------------------------------------------------------
# Tables


def events_table(result: EventStudyResult) -> pd.DataFrame:
    ev = result.events
    return pd.DataFrame({
        "event": ev.index, "tranche": ev["tranche"],
        "expiry": [finite_date(d) for d in ev["date"]],
        "day 0": [d.date() for d in ev["day0"]], "close": ev["close_0"].map(num),
        "return": ev["return_0"].map(pct), "market": ev["market_return_0"].map(pct),
        "AR(0)": ev["ar_0"].map(pct), "t": ev["t_0"].map(num),
        "volume ratio": ev["volume_ratio"].map(lambda v: num(v) + "x"),
        "model": ev["model"],
        "estimation": [f"{s.date()}..{e.date()} ({n})" for s, e, n in
                       zip(ev["estimation_start"], ev["estimation_end"],
                           ev["estimation_days"], strict=True)],
    }).set_index("event")


def finite_date(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)[:10]


def car_cell(row: pd.Series) -> str:
    return f"{pct(row['car'])} (t {num(row['t'])})"


def car_wide_table(result: EventStudyResult) -> pd.DataFrame:
    """Windows x firm-days, each cell 'CAR (t)'."""
    columns = {}
    for _, _, ids in firm_days(result):
        rows = result.car[result.car.event_id == ids[0]]
        columns[label_of(result, ids)] = pd.Series(
            [car_cell(r) for _, r in rows.iterrows()], index=rows["window"].tolist())
    return pd.DataFrame(columns)


def car_long_table(result: EventStudyResult) -> pd.DataFrame:
    table = result.car.assign(cell=lambda f: f.apply(car_cell, axis=1))
    return table.pivot(index="event_id", columns="window", values="cell")[
        list(dict.fromkeys(result.car["window"]))]


def volume_wide_table(result: EventStudyResult) -> pd.DataFrame:
    columns = {}
    for _, _, ids in firm_days(result):
        rows = result.volume[result.volume.event_id == ids[0]]
        columns[label_of(result, ids)] = pd.Series(
            [f"{num(r.volume_ratio)}x (abn. log vol {num(r.abnormal_log_volume)}, t {num(r.t)})"
             for r in rows.itertuples()], index=rows["window"].tolist())
    return pd.DataFrame(columns)


def data_lines(result: EventStudyResult) -> list[str]:
    adj = result.extras.get("adjustment", {})
    lines = [f"data: {t}: {src}" for t, src in result.sources.items()]
    kinds = sorted({a for a in adj.values() if a})
    lines.append("returns: simple returns of the close; adjustment: " + "; ".join(kinds))
    return lines


MEASURES = {"car": "CAR", "bhar": "BHAR", "volume": "abnormal log volume"}


def tests_pivots(result: EventStudyResult) -> list[tuple[str, pd.DataFrame]]:
    """Per group and measure (CAR, BHAR, volume): tests x windows, each cell 'statistic (p)',
    under the mean estimate and the number of firm-days."""
    from eventstudy.significance import kind_of

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
        first = block.drop_duplicates("window").set_index("window")
        fmt = pct if measure != "volume" else num
        top = pd.DataFrame([[fmt(first.loc[w, "estimate"]) for w in windows],
                            [str(first.loc[w, "n"]) for w in windows]],
                           index=[f"mean {MEASURES[str(measure)]}", "n"], columns=windows)
        out.append((f"{MEASURES[str(measure)]}, group {group}", pd.concat([top, table])))
    return out


def group_lines(result: EventStudyResult) -> pd.DataFrame:
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


def summary_text(result: EventStudyResult) -> str:
    """The readable report printed by the CLI."""
    out = [f"{HEADINGS.get(result.kind, 'Event study')}: {result.n_events} event(s), "
           f"{len(result.skipped)} skipped"]
    for ticker, listing in result.listings.items():
        how = "inferred" if listing.inferred else "calendar"
        out.append(f"  {ticker} {listing.name}: listed {listing.listing_date.date()} ({how})")
    out += ["  " + line for line in data_lines(result)]
    out.append("")
    out.append(_frame_text(events_table(result).drop(columns=["estimation"])))
    out.append("")
    cars = car_wide_table(result) if len(firm_days(result)) <= WIDE_LIMIT else car_long_table(
        result)
    out.append("CAR (t, prediction-error variance, MacKinlay 1997):")
    out.append(_frame_text(cars))
    pivots = tests_pivots(result)
    for title, table in [p for p in pivots if p[0].endswith("group all")]:
        out += ["", f"Cross-event tests, {title} (statistic, two-sided p):", _frame_text(table)]
    if not result.tests.empty and result.tests["group"].nunique() > 1:
        out += ["", "By group (mean CAR/BHAR, BMP or BHAR t with p):",
                _frame_text(group_lines(result))]
    vols = result.extras.get("volatility") or {}
    if vols:
        out += ["", "GARCH volatility (mean conditional sigma [+1,+20] / [-20,-1], F test):"]
        out += [f"  {eid}: {v.model}, ratio {num(v.ratio.ratio, 3)} "
                f"(F p {num(v.ratio.f_pvalue, 3)})"
                + (f"; fallback: {v.fallback_reason}" if v.fallback_reason else "")
                for eid, v in vols.items()]
    if not result.skipped.empty:
        out += ["", "Skipped:"] + [f"  {r.event_id}: {r.reason}" for r in
                                   result.skipped.itertuples()]
    notes = [*result.notes, *[n for n in result.events["note"] if n]]
    if notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in dict.fromkeys(notes)]
    return "\n".join(out)


def _frame_text(frame: pd.DataFrame) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.max_colwidth", 60):
        return frame.to_string()


# --------------------------------------------------------------------------------------------
# JSON


def _clean(value: Any) -> Any:
    from eventstudy.study import finite_or_none

    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return finite_or_none(value)


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [_clean(dict(zip(columns, row, strict=True)))
            for row in frame[columns].itertuples(index=False)]


PER_EVENT_TABLES = {
    "abnormal_returns": ["day", "date", "return", "market_return", "ar", "t"],
    "car": ["window", "car", "se", "t", "p"],
    "bhar": ["window", "return", "market_return", "bhar"],
    "volume": ["window", "volume_ratio", "abnormal_log_volume", "t"],
}


def _records_by_event(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a long per-event table as JSON records, grouped by event id (one pass)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if frame.empty:
        return out
    for event_id, record in zip(frame["event_id"], _records(frame, columns), strict=True):
        out[str(event_id)].append(record)
    return out


def _event_records(result: EventStudyResult) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {name: _records_by_event(getattr(result, name), columns)
            for name, columns in PER_EVENT_TABLES.items()}


def event_dict(result: EventStudyResult, event_id: str,
               records: dict[str, dict[str, list[dict[str, Any]]]] | None = None
               ) -> dict[str, Any]:
    """One event of the JSON document; ``records`` are the grouped per-event tables."""
    records = records or _event_records(result)
    row = result.events.loc[event_id]
    head = _clean({
        "event_id": event_id, "ticker": row["ticker"], "name": row["name"],
        "tranche": row["tranche"], "group": row["group"], "expiry": row["date"],
        "event_date": row["day0"], "listing_date": row["listing_date"],
        "listing_inferred": bool(row["listing_inferred"]), "model": row["model"],
        "estimation_window": {"start": row["estimation_start"], "end": row["estimation_end"],
                              "sessions": row["estimation_days"]},
        "alpha": row["alpha"], "beta": row["beta"], "sigma": row["sigma"],
        "ar_0": row["ar_0"], "t_0": row["t_0"], "return_0": row["return_0"],
        "close_0": row["close_0"], "volume_ratio": row["volume_ratio"], "note": row["note"],
    })
    return {**head, **{name: records[name].get(event_id, []) for name in PER_EVENT_TABLES}}


def result_to_dict(result: EventStudyResult) -> dict[str, Any]:
    """The JSON document of a study (see DESIGN: events[], skipped[], tests[])."""
    opts = result.options
    records = _event_records(result)
    doc: dict[str, Any] = {
        "kind": result.kind,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {"model": opts.model, "market": opts.market, "window": list(opts.window),
                    "estimation": list(opts.estimation) if opts.estimation else None,
                    "car_windows": [window_label(w) for w in opts.car_windows],
                    "bhar_windows": [window_label(w) for w in opts.bhar_windows]},
        "sources": result.sources,
        "adjustment": result.extras.get("adjustment", {}),
        "notes": result.notes,
        "events": [event_dict(result, e, records) for e in result.event_ids()],
        "skipped": _records(result.skipped, ["event_id", "ticker", "reason"]),
    }
    vols = result.extras.get("volatility") or {}
    if vols:
        doc["volatility"] = {k: v.to_dict() for k, v in vols.items()}
    for key in ("tests", "caar", "overlaps"):
        frame = getattr(result, key)
        if not frame.empty:
            doc[key] = _records(frame.reset_index(drop=True), list(frame.columns))
    for key, value in result.extras.items():
        if key not in doc and key not in ("adjustment", "volatility") and not isinstance(
                value, pd.DataFrame):
            doc[key] = _clean(value)
    return doc


# --------------------------------------------------------------------------------------------
# The report folder


def _figures(result: EventStudyResult) -> list[tuple[str, str, Figure]]:
    from eventstudy.plots import ar_car_figure, price_volume_figure

    figures = []
    if not result.caar.empty:
        figures.append(("caar.png", "CAAR with 95% confidence band", caar_plot(result)))
    positions = {e: i for i, e in enumerate(result.event_ids())}
    view = result.ar.window_view(result.options.window)
    days = firm_days(result)
    for ticker, day, ids in days if len(days) <= PLOT_LIMIT else []:
        row, label = positions[ids[0]], label_of(result, ids)
        stem = f"{ticker}_{day}".replace("^", "")
        figures.append((f"price_volume_{stem}.png", f"Price and volume: {label}",
                        price_volume_figure(view, row, f"{label}: price and volume")))
        figures.append((f"ar_car_{stem}.png", f"Abnormal returns and CAR: {label}",
                        ar_car_figure(view, row, f"{label}: AR and CAR")))
    return figures


def caar_plot(result: EventStudyResult) -> Figure:
    from eventstudy.plots import caar_figure

    caar = result.caar
    with np.errstate(invalid="ignore", divide="ignore"):
        se = (caar["caar"] / caar["caar_t"]).abs().to_numpy()
    n = int(caar["caar_n"].max())
    return caar_figure(caar["day"].to_numpy(), caar["caar"].to_numpy(), se,
                       f"CAAR across {n} firm-days (cross-sectional 95% band)")


def _save_figures(folder: Path, figures: list[tuple[str, str, Figure]]) -> None:
    import matplotlib.pyplot as plt

    for name, _, fig in figures:
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)


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


def _volatility_images(result: EventStudyResult, folder: Path) -> list[tuple[str, str]]:
    from eventstudy.volatility_plots import save_volatility_plots

    images = []
    for event_id, vol in (result.extras.get("volatility") or {}).items():
        for path in save_volatility_plots(vol, folder):
            images.append((path.name, f"GARCH: {event_id}: {path.stem.split('_garch_')[-1]}"))
    return images


def html_report(markdown_text: str, folder: Path) -> str:
    """A self-contained HTML page: the markdown rendered simply, images embedded as base64."""
    body: list[str] = []
    table: list[str] = []

    def flush_table() -> None:
        if not table:
            return
        rows = [r.strip().strip("|").split("|") for r in table if not set(r) <= set("|-: ")]
        cells = ["<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{html.escape(c.strip())}"
                                  f"</{'th' if i == 0 else 'td'}>" for c in row) + "</tr>"
                 for i, row in enumerate(rows)]
        body.append("<table>" + "".join(cells) + "</table>")
        table.clear()

    code: list[str] | None = None
    for line in markdown_text.splitlines():
        if line.startswith("```"):
            if code is None:
                code = []
            else:
                body.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("!["):
            name = line[line.rindex("](") + 2:line.rindex(")")]
            data = base64.b64encode((folder / name).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush_table()
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
             "tr:first-child th,tr:first-child td{background:#eef2f7;font-weight:600}"
             "img{max-width:100%}pre{background:#f6f8fa;padding:8px;font-size:12px;"
             "overflow-x:auto}")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>eventstudy report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report(result: EventStudyResult, out: str | Path,
                 extra: Callable[[Path], list[tuple[str, str]]] | None = None) -> Path:
    """Write the report folder ``out`` atomically; returns its path.

    ``extra(folder)`` may write more PNGs into the folder and return (file, title) pairs for them.
    """
    with building(Path(out)) as tmp:
        figures = _figures(result)
        _save_figures(tmp, figures)
        images = [(name, title) for name, title, _ in figures]
        images += _volatility_images(result, tmp)
        if extra is not None:
            images += extra(tmp)
        text = markdown_report(result, images)
        (tmp / "report.md").write_text(text, encoding="utf-8")
        (tmp / "report.html").write_text(html_report(text, tmp), encoding="utf-8")
        result.abnormal_returns.to_csv(tmp / "abnormal_returns.csv", index=False)
        result.car.to_csv(tmp / "car.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.to_dict(), indent=2,
                                                     allow_nan=False), encoding="utf-8")
    return Path(out)


@contextmanager
def building(out: Path) -> Iterator[Path]:
    """A temporary sibling folder of ``out`` that replaces ``out`` when the block succeeds and
    is removed when it fails: a report folder is never half-written."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out} is a file, not a report folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an existing folder with as small a gap as possible."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


def write_volatility_report(vol: Any, out: str | Path) -> Path:
    """A report folder for one GARCH volatility study: report.md/html, plots, volatility.json."""
    from eventstudy.volatility_plots import save_volatility_plots

    with building(Path(out)) as tmp:
        paths = save_volatility_plots(vol, tmp)
        text = "\n".join([f"# GARCH volatility: {vol.label}", "", "```", vol.summary(), "```",
                          "", *[f"![{p.stem}]({p.name})\n" for p in paths]])
        (tmp / "report.md").write_text(text, encoding="utf-8")
        (tmp / "report.html").write_text(html_report(text, tmp), encoding="utf-8")
        (tmp / "volatility.json").write_text(json.dumps(vol.to_dict(), indent=2,
                                                        allow_nan=False), encoding="utf-8")
    return Path(out)
