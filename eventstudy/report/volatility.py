"""The GARCH part of a report as tables: the chosen fit's parameters, the model candidates, the
event-volatility tests (F test of the volatility ratio, LR test of a post-event variance dummy)
and realised vs forecast variance (Bollerslev 1986; Glosten, Jagannathan & Runkle 1993; Nelson
1991; Savickas 2003)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from eventstudy.formatting import num
from eventstudy.report.document import Block, Bullets, Table


def volatility_blocks(vol: Any) -> list[Block]:
    """Summary lines and tables of one ``EventVolatility``."""
    doc = vol.to_dict()
    fit = doc.get("fit") or {}
    day0 = doc.get("event_date") or doc.get("event_position")
    lines = [
        f"series: {doc.get('label') or 'series'}, day 0 = {day0}; returns x{doc['scale']:g} "
        "(percent); sigma in % per day",
        f"conditional variance: {doc['model']}"
        + (f" (fallback: {doc['fallback_reason']})" if doc.get("fallback_reason") else ""),
        f"mean equation: {'market model (LS)' if doc.get('mean') == 'market' else 'constant'}",
        f"mean conditional volatility [+1,+20] / [-20,-1]: {num(doc['ratio'].get('ratio'), 3)}",
        f"SCAR over the event window: {num(doc.get('scar_event_window'), 3)}"
        + (" (prediction-error adjusted)" if doc.get("prediction_error") else ""),
        *[f"note: {n}" for n in doc.get("notes", [])],
    ]
    blocks: list[Block] = [Bullets(lines)]
    if fit:
        blocks.append(Table(parameters_table(fit), floatfmt=".6g", caption=(
            f"{fit['model']}: loglik {num(fit.get('loglik'), 3)}, BIC {num(fit.get('bic'), 3)}, "
            f"persistence {num(fit.get('persistence'), 4)}, {fit.get('nobs')} returns")))
    candidates = (doc.get("selection") or {}).get("candidates") or []
    if candidates:
        blocks.append(Table(pd.DataFrame(candidates), index=False, floatfmt=".3f", caption=(
            "Model candidates by BIC (flagged fits cannot be chosen)")))
    blocks.append(Table(tests_table(doc["ratio"]), index=False, floatfmt=".4f",
                        caption="Event-induced volatility tests"))
    if doc.get("windows"):
        windows = pd.DataFrame(doc["windows"])
        windows["days"] = [f"[{a:+d},{b:+d}]" for a, b in windows["days"]]
        blocks.append(Table(windows, index=False, floatfmt=".3f", caption=(
            "Realised (mean AR^2) vs filtered (one-step) and ex-ante (multi-step) variance, %^2")))
    return blocks


def parameters_table(fit: dict[str, Any]) -> pd.DataFrame:
    params, errors = fit.get("params") or {}, fit.get("std_err") or {}
    return pd.DataFrame({"estimate": params, "std. error": {k: errors.get(k) for k in params}})


def tests_table(ratio: dict[str, Any]) -> pd.DataFrame:
    """One row per test: statistic, degrees of freedom or n, p-value."""
    rows = [{"test": f"F: variance [{ratio['post'][0]:+d},{ratio['post'][1]:+d}] vs "
                     f"[{ratio['pre'][0]:+d},{ratio['pre'][1]:+d}]",
             "estimate": ratio.get("ratio"), "statistic": ratio.get("f_stat"),
             "df": f"{ratio.get('df_post')}, {ratio.get('df_pre')}",
             "p-value": ratio.get("f_pvalue"), "note": ratio.get("note") or ""}]
    dummy = ratio.get("dummy_test")
    if dummy:
        rows.append({"test": "LR: post-event variance dummy", "estimate": dummy.get("delta"),
                     "statistic": dummy.get("lr_stat"), "df": "1",
                     "p-value": dummy.get("p_value"),
                     "note": "; ".join(dummy.get("flags") or [])})
    return pd.DataFrame(rows)
