"""LaTeX tables of a study, ready to paste into a paper: pandas ``Styler.to_latex`` with booktabs
rules (``\\toprule``, ``\\midrule``, ``\\bottomrule``; ``\\usepackage{booktabs}``), numbers
formatted per column (returns in %), every text cell escaped, and significance stars from each
row's two-sided p-value: * p < 0.10, ** p < 0.05, *** p < 0.01 (the convention of the finance
journals; the table's note says so)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventstudy.errors import BadInput

if TYPE_CHECKING:
    from eventstudy.studies.result import EventStudyResult

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
    "events": Spec("Events: day-0 returns, abnormal return and volume",
                   {"event_id": "Event", "day0": "Day 0", "return_0": r"Return (\%)",
                    "market_return_0": r"Market (\%)", "ar_0": r"AR(0) (\%)", "t_0": "$t$",
                    "volume_ratio": "Volume ratio"},
                   frozenset({"return_0", "market_return_0", "ar_0"})),
    "parameters": Spec("Normal-return model per event",
                       {"event_id": "Event", "model": "Model", "alpha": r"$\alpha$",
                        "beta": r"$\beta$", "sigma": r"$\sigma$", "estimation_days": "$N$"},
                       digits={"alpha": 5, "beta": 3, "sigma": 4}),
    "car": Spec("Cumulative abnormal returns (prediction-error variance, MacKinlay 1997)",
                {"event_id": "Event", "window": "Window", "car": r"CAR (\%)", "t": "$t$",
                 "p": "$p$", "p_sq": "$p$ (SQ)"}, frozenset({"car"}), {"car": "p"}),
    "caar": Spec("Average and cumulative average abnormal returns",
                 {"day": "Day", "n": "$N$", "aar": r"AAR (\%)", "t": "$t$",
                  "caar": r"CAAR (\%)", "caar_t": "$t$ (CAAR)"},
                 frozenset({"aar", "caar"}), {"aar": "p_value", "caar": "caar_p"}),
    "tests": Spec("Cross-event tests (Holm and Benjamini-Hochberg adjusted $p$ across the "
                  "table)",
                  {"group": "Group", "window": "Window", "test": "Test", "estimate": "Mean",
                   "statistic": "Statistic", "p_value": "$p$", "p_holm": "$p$ (Holm)",
                   "p_bh": "$p$ (BH)", "n": "$N$"},
                  stars={"statistic": "p_value"}, digits={"estimate": 4}),
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


def render(display: pd.DataFrame, caption: str, label: str, note: str = "") -> str:
    """``display`` (strings) as a booktabs table float via ``Styler.to_latex``."""
    numeric = [bool(len(display)) and all(_looks_numeric(v) for v in display[c])
               for c in display.columns]
    column_format = "".join("r" if n else "l" for n in numeric)
    latex = display.style.hide(axis="index").to_latex(
        hrules=True, column_format=column_format, caption=caption, label=label,
        environment="table", position="htbp", position_float="centering")
    if note:
        latex = latex.replace("\\end{table}",
                              f"\\par\\smallskip{{\\footnotesize {note}}}\n\\end{{table}}")
    return latex


def _looks_numeric(cell: str) -> bool:
    head = cell.split("$", 1)[0]
    try:
        float(head)
    except ValueError:
        return head == ""
    return True


def latex_table(result: EventStudyResult, name: str, frame: pd.DataFrame | None = None) -> str:
    """Table ``name`` of ``result`` (``car``, ``tests``, ``caar``, ``bhar``, ``volume``,
    ``events``, ``parameters`` or any table of ``study_tables``) as LaTeX."""
    from eventstudy.studies.export import study_tables

    if frame is None:
        tables = study_tables(result)
        if name not in tables:
            raise BadInput(f"no table {name!r} in this study (have: {', '.join(tables)})")
        frame = tables[name]
    spec = LATEX_SPECS.get(name) or (REGRESSION_SPEC if name.startswith("regression_")
                                     else generic_spec(name, frame))
    note = STAR_NOTE if any(c in frame.columns for c in spec.stars) else ""
    return render(display_frame(frame, spec), spec.caption, f"tab:eventstudy-{name}", note)
