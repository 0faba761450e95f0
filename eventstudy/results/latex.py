"""LaTeX tables of a study, ready to paste into a paper: pandas ``Styler.to_latex`` with booktabs
rules (``\\toprule``, ``\\midrule``, ``\\bottomrule``; ``\\usepackage{booktabs}``), numbers
formatted per column (returns in %), every text cell escaped, and significance stars from each
row's two-sided p-value in a column of the same table (the Holm-adjusted one in the tests table,
whose caption says so): * p < 0.10, ** p < 0.05, *** p < 0.01 (the convention of the finance
journals; the table's note says which column). Tables of ``LONG_ROWS`` rows or more are
``longtable``s that break across pages, shorter ones floats scaled down to the line width if
wider: ``\\usepackage{booktabs,longtable,graphicx}``."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput
from eventstudy.results.data import StudyData
from eventstudy.results.tables import study_tables

STARS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))
STAR_NOTE = ("$^{*}$ $p<0.10$, $^{**}$ $p<0.05$, $^{***}$ $p<0.01$ (two-sided).")
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "[": "{[}", "]": "{]}"}  # [ after \\ is an argument


@dataclass(frozen=True)
class Spec:
    """How one table of a study is typeset: its caption, the columns shown (-> LaTeX header),
    the columns shown in %, and the columns that get stars from a p-value column."""

    caption: str
    columns: dict[str, str]
    percent: frozenset[str] = frozenset()
    stars: dict[str, str] = field(default_factory=dict)
    digits: dict[str, int] = field(default_factory=dict)


LATEX_SPECS: dict[str, Spec] = {
    "events": Spec("Events: day-0 returns, abnormal return and volume (volume ratio: mean "
                   "volume over the estimation-window mean volume)",
                   {"event_id": "Event", "day0": "Day 0", "return_0": r"Return (\%)",
                    "market_return_0": r"Market (\%)", "ar_0": r"AR(0) (\%)", "t_0": "$t$",
                    "volume_ratio_0": "Volume ratio, day 0",
                    "volume_ratio": "Volume ratio, event window"},
                   frozenset({"return_0", "market_return_0", "ar_0"})),
    "parameters": Spec("Normal-return model per event",
                       {"event_id": "Event", "model": "Model", "alpha": r"$\alpha$",
                        "beta": r"$\beta$", "sigma": r"$\sigma$", "estimation_days": "$N$"},
                       digits={"alpha": 5, "beta": 3, "sigma": 4}),
    "car": Spec("Cumulative abnormal returns (prediction-error variance, MacKinlay 1997)",
                {"event_id": "Event", "window": "Window", "car": r"CAR (\%)", "t": "$t$",
                 "p": "$p$", "p_sq": "$p$ (SQ)"}, frozenset({"car"}), {"car": "p"}),
    "caar": Spec("Average and cumulative average abnormal returns",
                 {"day": "Day", "n": "$N$", "aar": r"AAR (\%)", "t": "$t$ (AAR)",
                  "p_value": "$p$ (AAR)", "caar": r"CAAR (\%)", "caar_t": "$t$ (CAAR)",
                  "caar_p": "$p$ (CAAR)"},
                 frozenset({"aar", "caar"}), {"aar": "p_value", "caar": "caar_p"}),
    "tests": Spec("Cross-event tests: two-sided $p$, and Holm (1979) and Benjamini-Hochberg "
                  "(1995) adjusted $p$ over every row of the table; stars from the Holm-adjusted "
                  "$p$",
                  {"group": "Group", "window": "Window", "test": "Test", "estimate": "Mean",
                   "statistic": "Statistic", "p_value": "$p$", "p_holm": "$p$ (Holm)",
                   "p_bh": "$p$ (BH)", "n": "$N$"},
                  stars={"statistic": "p_holm"}, digits={"estimate": 4}),
    "bhar": Spec("Buy-and-hold abnormal returns (Barber \\& Lyon 1997)",
                 {"event_id": "Event", "window": "Window", "return": r"Return (\%)",
                  "market_return": r"Market (\%)", "bhar": r"BHAR (\%)"},
                 frozenset({"return", "market_return", "bhar"})),
    "volume": Spec("Abnormal volume (Campbell \\& Wasley 1996)",
                   {"event_id": "Event", "window": "Window", "volume_ratio": "Volume ratio",
                    "abnormal_log_volume": "Abn. log volume", "t": "$t$"},
                   digits={"abnormal_log_volume": 3}),
    "calendar_time": Spec("Calendar-time portfolio (Jaffe 1974; Mandelker 1974): Newey-West "
                          "standard errors",
                          {"term": "", "coef": "Coefficient", "se": "SE", "t": "$t$",
                           "p": "$p$"}, stars={"coef": "p"}, digits={"coef": 5, "se": 5}),
    "wild_bootstrap": Spec("Wild (Rademacher) bootstrap of CAAR",
                           {"window": "Window", "caar": r"CAAR (\%)", "t": "$t$",
                            "p_boot": "$p$ (bootstrap)", "n": "$N$", "n_boot": "Resamples"},
                           frozenset({"caar"}), {"caar": "p_boot"}),
}
REGRESSION_SPEC = Spec("Cross-sectional regression (HC3 and date-clustered standard errors)",
                       {"term": "", "coef": "Coefficient", "se_hc3": "SE (HC3)",
                        "p_hc3": "$p$ (HC3)", "se_cluster": "SE (date)",
                        "p_cluster": "$p$ (date)"},
                       stars={"coef": "p_cluster"}, digits={"coef": 4, "se_hc3": 4,
                                                            "se_cluster": 4})
LATEX_TABLES = tuple(LATEX_SPECS)


def stars(p: Any) -> str:
    """``***`` below 0.01, ``**`` below 0.05, ``*`` below 0.10, else nothing (NaN: nothing)."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ""
    return next((mark for cut, mark in STARS if value < cut), "")


def latex_escape(text: str) -> str:
    """A user's string as LaTeX text: every special character escaped, never markup; brackets
    braced so that a row starting with ``[0,0]`` is not read as ``\\[length]``."""
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def _is_p(column: str) -> bool:
    return column == "p" or column.startswith("p_") or column.endswith("_p")


def _number(value: numbers.Real, column: str, spec: Spec) -> str:
    if isinstance(value, numbers.Integral):
        return str(int(value))
    x = float(value)
    if not math.isfinite(x):
        return ""
    if column in spec.percent:
        return f"{100 * x:.2f}"
    return f"{x:.{spec.digits.get(column, 3 if _is_p(column) else 2)}f}"


def _text(value: Any, column: str, spec: Spec) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        return _number(value, column, spec)
    return latex_escape(str(value))


def display_frame(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The cells of the LaTeX table as strings: spec's columns (those present), formatted, with
    stars appended from the p-value column named by the spec."""
    shown = [c for c in spec.columns if c in frame.columns]
    out = pd.DataFrame({spec.columns[c]: [_text(v, c, spec) for v in frame[c]] for c in shown})
    for column, p_column in spec.stars.items():
        if column in shown and p_column in frame.columns:
            marks = [stars(p) for p in frame[p_column]]
            header = spec.columns[column]
            out[header] = [f"{cell}$^{{{m}}}$" if m and cell else cell
                           for cell, m in zip(out[header], marks, strict=True)]
    return out


def generic_spec(name: str, frame: pd.DataFrame) -> Spec:
    """Every column, headers escaped: for tables without a spec (e.g. a listing study's)."""
    return Spec(latex_escape(name.replace("_", " ")),
                {str(c): latex_escape(str(c)) for c in frame.columns})


LONG_ROWS = 40  # from this many rows a table is a longtable: it breaks across pages


def render(display: pd.DataFrame, caption: str, label: str, note: str = "") -> str:
    """``display`` (strings) as a booktabs table via ``Styler.to_latex``: a float, or from
    ``LONG_ROWS`` rows a ``longtable`` (``\\usepackage{longtable}``) that continues on the
    next pages with its header repeated."""
    numeric = [bool(len(display)) and all(_looks_numeric(v) for v in display[c])
               for c in display.columns]
    column_format = "".join("r" if n else "l" for n in numeric)
    display = display.set_axis([stacked(str(c)) for c in display.columns], axis=1)
    if len(display) >= LONG_ROWS:
        latex = display.style.hide(axis="index").to_latex(
            hrules=True, column_format=column_format, caption=caption, label=label,
            environment="longtable")
        size = COMPACT if len(display.columns) < 8 else WIDE
        latex = f"\\begingroup\n{size}\n{latex}\\endgroup\n"
        end = "\\endgroup"
        after = f"{{\\footnotesize {note}\\par}}\n\\endgroup" if note else end
    else:
        latex = display.style.hide(axis="index").to_latex(
            hrules=True, column_format=column_format, caption=caption, label=label,
            environment="table", position="htbp", position_float="centering")
        latex = shrink_to_fit(latex.replace("\\centering\n", f"\\centering\n{COMPACT}\n", 1))
        end = "\\end{table}"
        after = f"\\par\\smallskip{{\\footnotesize {note}}}\n\\end{{table}}"
    return latex.replace(end, after) if note else latex


COMPACT = "\\small\\setlength{\\tabcolsep}{4pt}"  # a paper's text width holds 8-9 columns
WIDE = "\\footnotesize\\setlength{\\tabcolsep}{3pt}"  # a longtable of 8+ columns


def shrink_to_fit(latex: str) -> str:
    """The float's tabular set in a box and scaled down to the line width if wider
    (``\\usepackage{graphicx}``); a narrower one is left as it is."""
    head, begin, rest = latex.partition("\\begin{tabular}{")
    body, end, tail = rest.rpartition("\\end{tabular}")
    return (f"{head}\\sbox0{{{begin}{body}{end}}}\n\\ifdim\\wd0>\\linewidth"
            f"\\resizebox{{\\linewidth}}{{!}}{{\\usebox0}}\\else\\usebox0\\fi{tail}")


def stacked(header: str, width: int = 10) -> str:
    """A header longer than ``width`` characters on two lines (a nested tabular, no package
    needed), broken at the space nearest its middle outside math."""
    spaces = [i for i, ch in enumerate(header) if ch == " " and header[:i].count("$") % 2 == 0]
    if len(re.sub(r"[$\\\\{}]", "", header)) <= width or not spaces:
        return header
    cut = min(spaces, key=lambda i: (abs(i - len(header) / 2), -i))
    # "{}" after the line break: a second line starting with "[" is not read as \\[length]
    return (f"\\begin{{tabular}}[b]{{@{{}}c@{{}}}}{header[:cut]}\\\\{{}}{header[cut + 1:]}"
            "\\end{tabular}")


def _looks_numeric(cell: str) -> bool:
    head = cell.split("$", 1)[0]
    try:
        float(head)
    except ValueError:
        return head == ""
    return True


def star_note(spec: Spec, frame: pd.DataFrame) -> str:
    """The table's note on stars: the cut-offs and, for each starred column, the p-value
    column of the same table they come from; empty if no column is starred."""
    pairs = [(spec.columns[c], spec.columns[p]) for c, p in spec.stars.items()
             if c in frame.columns and p in frame.columns]
    if not pairs:
        return ""
    sources = "; ".join(f"{c} from the column {p}" for c, p in pairs)
    return f"{STAR_NOTE.removesuffix('.')}: {sources}."


def study_spec(result: StudyData, name: str, frame: pd.DataFrame) -> Spec:
    """The spec of table ``name``; the events table's window volume ratio is labelled with
    the study's event window."""
    spec = LATEX_SPECS.get(name) or (REGRESSION_SPEC if name.startswith("regression_")
                                     else generic_spec(name, frame))
    if name == "events":
        start, end = result.options.window
        columns = {**spec.columns,
                   "volume_ratio": f"Volume ratio [${start:+d}$, ${end:+d}$]"}
        spec = Spec(spec.caption, columns, spec.percent, spec.stars, spec.digits)
    return spec


def latex_table(result: StudyData, name: str, frame: pd.DataFrame | None = None) -> str:
    """Table ``name`` of ``result`` (``car``, ``tests``, ``caar``, ``bhar``, ``volume``,
    ``events``, ``parameters`` or any table of ``study_tables``) as LaTeX."""
    if frame is None:
        tables = study_tables(result)
        if name not in tables:
            raise BadInput(f"no table {name!r} in this study (have: {', '.join(tables)})")
        frame = tables[name]
    spec = study_spec(result, name, frame)
    return render(display_frame(frame, spec), spec.caption, f"tab:eventstudy-{name}",
                  star_note(spec, frame))
