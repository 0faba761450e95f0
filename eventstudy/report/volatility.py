"""The GARCH part of a report as tables: the chosen fit's parameters, the model candidates, the
event-volatility tests (permutation test of the standardised residual variance, robust quasi-LR
test of a post-event variance dummy; Francq & Zakoian 2019) and realised vs forecast variance
(Bollerslev 1986; Glosten, Jagannathan & Runkle 1993; Nelson 1991)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from eventstudy.engine.windows import window_label
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
        *([f"WARNING: {doc['short_sample']}"] if doc.get("short_sample") else []),
        f"raw residual variance ratio [+1,+20] / [-20,-1]: "
        f"{num(doc['ratio'].get('raw_ratio'), 3)} (permutation p "
        f"{num(doc['ratio'].get('raw_perm_pvalue'), 4)})",
        f"conditional variance: {doc['model']}"
        + (f" (fallback: {doc['fallback_reason']})" if doc.get("fallback_reason")
           and doc.get("fallback_reason") != doc.get("short_sample") else ""),
        f"mean equation: {'market model (LS)' if doc.get('mean') == 'market' else 'constant'}",
        f"mean conditional volatility [+1,+20] / [-20,-1]: {num(doc['ratio'].get('ratio'), 3)}",
        *([f"beta at its bound 0 ({doc['model']}): an ARCH(1) in effect; chi2 reference "
           "distributions of tests involving beta are approximate"]
          if fit.get("beta_at_bound") else []),
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
        windows["days"] = [window_label(days) for days in windows["days"]]
        blocks.append(Table(windows, index=False, floatfmt=".3f", caption=(
            "Realised (mean AR^2) vs filtered (one-step) and ex-ante (multi-step) variance, %^2")))
    return blocks


def parameters_table(fit: dict[str, Any]) -> pd.DataFrame:
    params, errors = fit.get("params") or {}, fit.get("std_err") or {}
    return pd.DataFrame({"estimate": params, "std. error": {k: errors.get(k) for k in params}})


def tests_table(ratio: dict[str, Any]) -> pd.DataFrame:
    """One row per test: statistic, degrees of freedom or n, p-value (NaN: not reported)."""
    rows = [{"test": f"permutation: z^2 {window_label(ratio['post'])} vs "
                     f"{window_label(ratio['pre'])}",
             "estimate": ratio.get("ratio"), "statistic": ratio.get("z2_ratio"),
             "df": f"n {ratio.get('n_post')}, {ratio.get('n_pre')}",
             "p-value": ratio.get("perm_pvalue"), "note": ratio.get("note") or ""}]
    rows.append({"test": "permutation: raw residual e^2 (no GARCH filter)",
                 "estimate": ratio.get("raw_ratio"), "statistic": ratio.get("raw_ratio"),
                 "df": f"n {ratio.get('n_post')}, {ratio.get('n_pre')}",
                 "p-value": ratio.get("raw_perm_pvalue"), "note": ""})
    dummy = ratio.get("dummy_test")
    if dummy:
        rows.append({"test": "robust QLR: post-event variance dummy",
                     "estimate": dummy.get("delta"), "statistic": dummy.get("robust_lr"),
                     "df": "1", "p-value": dummy.get("p_value"),
                     "note": "; ".join([f"plain LR {num(dummy.get('lr_stat'), 3)} (p "
                                        f"{num(dummy.get('lr_pvalue'), 4)}), kurtosis "
                                        f"{num(dummy.get('kurtosis'), 2)}",
                                        *(dummy.get("flags") or [])])})
    return pd.DataFrame(rows)
