"""The headline of a report, shown above its contents: per firm-day (up to ``WIDE_LIMIT``) the
day-0 abnormal return with its t and p, CAR[-1,+1], the day-0 and [-1,+1] volume ratios and the
GARCH volatility ratio; across firm-days the CAAR with its main tests. Every number is read from
the result's tables (nothing is computed here): the AR(0) p is the [0,0] CAR's (the same
prediction-error t, MacKinlay 1997), the tests are those of ``engine.significance``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from eventstudy.formatting import num, pct
from eventstudy.report.document import Block, Table
from eventstudy.results.summary import WIDE_LIMIT, firm_days, label_of
from eventstudy.volatility.base import MIN_GARCH_ESTIMATION

if TYPE_CHECKING:
    from eventstudy.results.result import EventStudyResult

HEADLINE_TESTS = {"bmp": "BMP t", "kp": "KP t", "grank": "GRANK t"}  # clustering-robust ones


def headline_blocks(result: EventStudyResult) -> list[Block]:
    """The headline tables of ``result`` (none for a study without events)."""
    if result.events.empty or "ar_0" not in result.events:
        return []
    blocks: list[Block] = []
    if len(firm_days(result)) <= WIDE_LIMIT:
        cards = firm_day_cards(result)
        volatility = any("volatility ratio" in card.index for _, card in cards)
        blocks.append(
            "AR and CAR with the prediction-error t and its two-sided p (MacKinlay 1997); "
            "volume ratio = mean volume over the estimation-window mean volume"
            + ("; volatility ratio = mean GARCH sigma [+1,+20] / [-20,-1] with its "
               "permutation p (raw: residual variance ratio, GARCH not fitted on fewer than "
               f"{MIN_GARCH_ESTIMATION} estimation sessions)." if volatility else "."))
        blocks += [Table(card, caption=label, header=False) for label, card in cards]
    caar = caar_table(result)
    if caar is not None:
        blocks.append(
            "CAAR with three tests robust to event-induced variance and to cross-correlation "
            "of clustered events, each as statistic (two-sided p): BMP (Boehmer, Musumeci & "
            "Poulsen 1991), KP (Kolari & Pynnonen 2010), GRANK (Kolari & Pynnonen 2011); "
            "every test in Cross-event tests below.")
        blocks.append(Table(caar, index=False,
                            caption=f"CAAR across {_firm_day_count(caar)} firm-days"))
    return blocks


def p_text(p: Any) -> str:
    """'p 0.042', or 'p < 0.001' below what three decimals show."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        return "p n/a"
    return "p < 0.001" if 0 <= value < 0.001 else f"p {num(value, 3)}"


def _firm_day_count(caar: pd.DataFrame) -> str:
    counts = sorted(set(caar["N"]))
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def _car_cell(result: EventStudyResult, event_id: str, start: int, end: int) -> str:
    rows = result.car[(result.car.event_id == event_id) & (result.car.start == start)
                      & (result.car.end == end)]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    return f"{pct(row['car'])} (t {num(row['t'])}, {p_text(row['p'])})"


def _volume_ratio(result: EventStudyResult, event_id: str, start: int, end: int) -> str:
    volume = result.volume
    if volume.empty:
        return ""
    rows = volume[(volume.event_id == event_id) & (volume.start == start)
                  & (volume.end == end)]
    return "" if rows.empty else num(rows.iloc[0]["volume_ratio"]) + "x"


def _volatility(result: EventStudyResult, ids: list[str]) -> str:
    vols: dict[str, Any] = result.extras.get("volatility") or {}
    vol = next((vols[i] for i in ids if i in vols), None)
    if vol is None:
        return ""
    if vol.fit is None and vol.short_sample:  # MIN_GARCH_ESTIMATION: no GARCH number
        return (f"raw {num(vol.ratio.raw_ratio, 3)} (permutation "
                f"{p_text(vol.ratio.raw_perm_pvalue)}); GARCH not fitted: "
                f"{vol.estimation_sessions} sessions")
    return f"{num(vol.ratio.ratio, 3)} (permutation {p_text(vol.ratio.perm_pvalue)})"


def _title(result: EventStudyResult, ids: list[str]) -> str:
    """'0020.HK SenseTime Group 2022-06-30 (cornerstone, pre_ipo)': the firm-day's label with
    the company's name from the listings calendar when known."""
    label = label_of(result, ids)
    ticker = str(result.events.set_index("event_id").loc[ids[0], "ticker"])
    listing = result.listings.get(ticker)
    name = str(getattr(listing, "name", "") or "")
    return label if not name or name == ticker else label.replace(ticker, f"{ticker} {name}", 1)


def firm_day_cards(result: EventStudyResult) -> list[tuple[str, pd.DataFrame]]:
    """Per firm-day its label and a one-column table: AR day 0 (t, p), CAR [-1,+1] (t, p),
    volume ratios of day 0 and [-1,+1], volatility ratio; a row without a value is left out."""
    events = result.events.set_index("event_id")
    cards = []
    for _, _, ids in firm_days(result):
        first = ids[0]
        ar0 = _car_cell(result, first, 0, 0) or (
            f"{pct(events.loc[first, 'ar_0'])} (t {num(events.loc[first, 't_0'])})")
        rows = {"AR day 0": ar0,
                "CAR [-1,+1]": _car_cell(result, first, -1, 1),
                "volume ratio day 0": _volume_ratio(result, first, 0, 0),
                "volume ratio [-1,+1]": _volume_ratio(result, first, -1, 1),
                "volatility ratio": _volatility(result, ids)}
        card = pd.DataFrame({"value": {k: v for k, v in rows.items() if v}})
        cards.append((_title(result, ids), card))
    return cards


def caar_table(result: EventStudyResult) -> pd.DataFrame | None:
    """Group ``all``, every CAR window: CAAR, N and the headline tests as 'statistic (p)'; None
    without cross-event tests."""
    tests = result.tests
    if tests.empty:
        return None
    tests = tests[(tests["group"] == "all") & tests["test"].isin(HEADLINE_TESTS)]
    if tests.empty:
        return None
    rows = []
    for window, block in tests.groupby("window", sort=False, observed=True):
        by_test = block.set_index("test")
        bmp = block[block["test"] == "bmp"]
        lead = (bmp if len(bmp) else block).iloc[0]
        row = {"window": str(window), "CAAR": pct(lead["estimate"]), "N": int(lead["n"])}
        for test, label in HEADLINE_TESTS.items():
            if test in by_test.index:
                hit = by_test.loc[test]
                row[label] = f"{num(hit['statistic'])} ({p_text(hit['p_value'])})"
        rows.append(row)
    return pd.DataFrame(rows)
