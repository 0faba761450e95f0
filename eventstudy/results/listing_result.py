"""``ListingStudyResult`` and its text: the listing-day tables, the BHAR summary and the method
lines of a listing study."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from eventstudy.engine.windows import Window
from eventstudy.results.data import StudyData
from eventstudy.results.document import Part, Summary, Table
from eventstudy.results.result import EventStudyResult
from eventstudy.results.summary import study_summary

LISTING_WINDOW: Window = (0, 20)


LISTING_ESTIMATION: Window = (30, 150)


LISTING_CAR_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (0, 5), (0, 10), (0, 20))


BHAR_HORIZONS: tuple[int, ...] = (20, 60, 120)


FIRST_DAYS = 5


BASE_OFFER, BASE_OPEN = "offer price", "first open"


class ListingStudyResult(EventStudyResult):
    """An ``EventStudyResult`` whose summary starts with the listing-day tables.

    ``first_day()``, ``first_sessions()`` and ``bhar_detail()`` return them as DataFrames.
    """

    def first_day(self) -> pd.DataFrame:
        return cast(pd.DataFrame, self.extras["first_day_table"])

    def first_sessions(self) -> pd.DataFrame:
        return cast(pd.DataFrame, self.extras["first_sessions_table"])

    def bhar_detail(self) -> pd.DataFrame:
        return cast(pd.DataFrame, self.extras["bhar_table"])

    def summary(self) -> Summary:
        """The study's summary, the listing-day tables first."""
        return study_summary(self, preface=listing_parts(self))


def _pct(value: Any) -> str:
    from eventstudy.formatting import pct

    return pct(value)


def first_day_text(result: ListingStudyResult) -> pd.DataFrame:
    f = result.first_day()
    return pd.DataFrame({
        "listing": [f"{t} {d.date()}" for t, d in zip(f["ticker"], f["listing_date"],
                                                       strict=True)],
        "offer": f["offer_price"].map(lambda v: "" if v is None or pd.isna(v) else f"{v:.2f}"),
        "open": f["open"].map(lambda v: f"{v:.2f}"), "close": f["close"].map(lambda v: f"{v:.2f}"),
        "vs offer": f["return_vs_offer"].map(_pct), "vs open": f["return_vs_open"].map(_pct),
        "market": f["market_return"].map(_pct),
        "market-adj. initial": f["market_adjusted_initial_return"].map(_pct),
    }).set_index("listing")


def bhar_text(result: ListingStudyResult) -> pd.DataFrame:
    b = result.bhar_detail()
    table = b.assign(cell=[f"{_pct(x)} (aftermkt {_pct(y)})" for x, y in
                           zip(b["bhar"], b["aftermarket_bhar"], strict=True)])
    wide = table.pivot(index="ticker", columns="window", values="cell")
    return wide[list(dict.fromkeys(b["window"]))]


def sessions_text(result: ListingStudyResult) -> pd.DataFrame:
    s = result.first_sessions()
    wide = s.pivot(index="ticker", columns="day", values="market_adjusted")
    return wide.map(_pct).rename(columns=lambda d: f"day {d}")


def listing_parts(result: ListingStudyResult) -> list[Part]:
    """The listing-day block of the summary."""
    out: list[Part] = [
        f"Listing-day study: {result.n_events} listing(s)", "",
        "First day (close against the offer price and the first open):",
        Table(first_day_text(result), None), "",
        "Market-adjusted returns R - Rm of the first sessions:",
        Table(sessions_text(result), None), "",
        "BHAR = prod(1+R) - prod(1+Rm) from the offer price (aftermarket: from the first "
        "close; Barber & Lyon 1997):", Table(bhar_text(result), None)]
    summary = result.extras.get("bhar_summary_table")
    if isinstance(summary, pd.DataFrame) and result.n_events > 1:
        out += ["", "Across listings:", Table(summary.set_index("window"), None)]
    out += ["", *[f"Method: {line}" for line in result.extras.get("method", [])]]
    return out


def listing_summary(result: ListingStudyResult) -> str:
    """The listing-day block of the CLI summary as text."""
    return Summary(tuple(listing_parts(result))).as_text()


def method_lines(result: StudyData) -> list[str]:
    """Which model, on which window, and why (for the report and the JSON)."""
    opts = result.options
    est = opts.estimation or LISTING_ESTIMATION
    models = sorted(set(result.events["model"]))
    lines = [
        "day 0 is the first trading day; its return runs from the offer price (or, without one, "
        "the first open) to the first close, and the market's day-0 return is its close-to-close "
        "return of that day",
    ]
    if opts.model == "market":
        lines.append(
            f"market model (OLS) estimated on sessions +{est[0]}..+{est[1]} after listing: an "
            "IPO has no price history before day 0, so the estimation window lies after the "
            f"event window; the first {est[0]} sessions are left out because early aftermarket "
            "trading (price support, stabilisation, extreme turnover) would distort the beta. "
            "The window uses prices from after the event: fine for an ex-post study, not for a "
            f"real-time one. Fewer than {opts.min_estimation} sessions there: market-adjusted "
            "returns instead (noted per listing)")
    else:
        lines.append(
            "market-adjusted returns AR = R - Rm (Brown & Warner 1985): nothing is estimated, so "
            f"the missing pre-listing history does not matter; sessions +{est[0]}..+{est[1]} "
            "only give the residual variance for the t statistics")
    lines += [
        f"models used: {', '.join(models)}",
        "BHAR = prod(1+R_t) - prod(1+Rm_t) over the window (Barber & Lyon 1997; Ritter 1991); "
        "aftermarket BHAR starts at the first close. BHARs are right-skewed: cross-listing "
        "t statistics are descriptive (Lyon, Barber & Tsai 1999)",
        "prices are adjusted closes, the offer price is not: a dividend or split after listing "
        "shifts the returns measured from the offer price slightly",
    ]
    return lines


def listing_sections(result: ListingStudyResult) -> list[tuple[str, list[Any]]]:
    """Report sections of a listing-day study: (title, blocks), each block a paragraph (str) or
    a table (DataFrame); the report escapes and renders them."""
    sections: list[tuple[str, list[Any]]] = [
        ("Listing day", ["First-day return: close against the offer price and against the first "
         "open; market-adjusted initial return = first-day return (from the offer price, else "
         "the first open) less the market's return that day.", first_day_text(result)]),
        ("First sessions: market-adjusted returns", ["R_t - Rm_t per session.",
                                                     sessions_text(result)]),
        ("BHAR from the offer price and aftermarket", ["BHAR = prod(1+R) - prod(1+Rm) over "
         "[0, h] from the offer price; in brackets over [+1, h] from the first close.",
         bhar_text(result)]),
    ]
    summary = result.extras.get("bhar_summary_table")
    if isinstance(summary, pd.DataFrame) and result.n_events > 1:
        shown = summary.assign(mean_bhar=summary["mean_bhar"].map(_pct),
                               median_bhar=summary["median_bhar"].map(_pct))
        sections.append(("BHAR across listings", ["Mean and median BHAR; the t of the mean is "
                         "descriptive (BHARs are skewed, Barber & Lyon 1997).", shown]))
    return sections
