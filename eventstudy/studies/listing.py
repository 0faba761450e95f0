"""``listing_study``: the listing day of one or more IPOs, the first-day return against the offer
price, the first sessions and buy-and-hold abnormal returns after listing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.calendar.events import Event, Skip
from eventstudy.calendar.listings import Listing, load_listings
from eventstudy.data.loader import PriceLoader
from eventstudy.data.tickers import market_for, normalise_ticker
from eventstudy.engine.bhar import buy_and_hold
from eventstudy.engine.panel import LOCKUP_MODEL
from eventstudy.engine.series import Series, align
from eventstudy.engine.windows import MIN_ESTIMATION, Window, window_label, with_windows
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.formatting import json_clean
from eventstudy.results.listing_result import (
    BASE_OFFER,
    BASE_OPEN,
    BHAR_HORIZONS,
    FIRST_DAYS,
    LISTING_CAR_WINDOWS,
    LISTING_ESTIMATION,
    LISTING_WINDOW,
    ListingStudyResult,
    listing_sections,
    method_lines,
)
from eventstudy.results.result import StudyOptions
from eventstudy.studies.core import _raise_if_nothing, listing_for, make_loader, run_panel_study


class _ListingLoader:
    """Serves a PriceLoader's frames, with one row prepended to each listed stock: the offer
    price (else the first open) as the close of the market's last session before listing, so
    that day 0's return is offer (open) -> first close and the market's is its day-0 return."""

    def __init__(self, loader: PriceLoader, listings: dict[str, Listing], market: str | None):
        self.loader, self.listings, self.market = loader, listings, market
        self.notes = loader.notes
        self.bases: dict[str, tuple[str, float]] = {}
        self._memo: dict[str, pd.DataFrame] = {}

    def raw(self, ticker: str) -> pd.DataFrame:
        return self.loader.load(ticker)

    def load(self, ticker: str) -> pd.DataFrame:
        ticker = normalise_ticker(ticker)
        if ticker not in self._memo:
            frame = self.loader.load(ticker)
            if ticker in self.listings:
                frame = self._with_base(ticker, frame)
            self._memo[ticker] = frame
        return self._memo[ticker]

    def _with_base(self, ticker: str, frame: pd.DataFrame) -> pd.DataFrame:
        listing = self.listings[ticker]
        day0 = listing.listing_date
        if frame.index[0] != day0:
            return frame  # the data do not start on the listing day: locate() reports it
        base = base_price(listing, frame)
        market = self.loader.load(self.market or market_for(ticker))
        before = market.index[market.index < day0]
        if base is None or not len(before):
            return frame
        self.bases[ticker] = base
        row = pd.DataFrame({"close": [base[1]], "volume": [np.nan]}, index=[before[-1]])
        out = pd.concat([row, frame[["close", "volume"]]])
        out.index.name = frame.index.name
        out.attrs.update(frame.attrs)
        return out


def base_price(listing: Listing, frame: pd.DataFrame) -> tuple[str, float] | None:
    """What day 0's return is measured from: the offer price, else the first open."""
    if listing.offer_price:
        return BASE_OFFER, float(listing.offer_price)
    if "open" in frame.columns and np.isfinite(frame["open"].iloc[0]) and \
            frame["open"].iloc[0] > 0:
        return BASE_OPEN, float(frame["open"].iloc[0])
    return None


def _day0_position(series: Series, day0: pd.Timestamp) -> int:
    pos = int(np.searchsorted(series.dates, np.datetime64(day0, "ns")))
    if pos >= len(series.dates) or series.dates[pos] != np.datetime64(day0, "ns"):
        raise DataUnavailable(f"no price on the listing day {day0.date()}")
    return pos


def first_day_row(listing: Listing, raw: pd.DataFrame, series: Series, pos: int,
                  base: tuple[str, float] | None) -> dict[str, Any]:
    """Offer, open, close, first-day returns and the market-adjusted initial return."""
    close0 = float(raw["close"].iloc[0])
    open0 = float(raw["open"].iloc[0]) if "open" in raw.columns else np.nan
    offer = listing.offer_price
    market0 = float(series.mkt[pos]) if base is not None else np.nan
    initial = close0 / base[1] - 1.0 if base is not None else np.nan
    return {
        "ticker": listing.ticker, "name": listing.name, "listing_date": listing.listing_date,
        "offer_price": offer, "open": open0, "close": close0,
        "return_vs_offer": close0 / offer - 1.0 if offer else np.nan,
        "return_vs_open": close0 / open0 - 1.0 if open0 > 0 else np.nan,
        "market_return": market0, "base": base[0] if base else "",
        "market_adjusted_initial_return": initial - market0,
    }


def first_session_rows(ticker: str, series: Series, pos: int, days: int) -> list[dict[str, Any]]:
    """Market-adjusted returns R_t - Rm_t of the first ``days`` sessions and their sum."""
    rows, cumulative = [], 0.0
    for day in range(days):
        at = pos + day
        if at >= len(series.dates):
            break
        ret, mkt = float(series.ret[at]), float(series.mkt[at])
        cumulative += ret - mkt
        rows.append({"ticker": ticker, "day": day, "date": pd.Timestamp(series.dates[at]),
                     "return": ret, "market_return": mkt, "market_adjusted": ret - mkt,
                     "cumulative": cumulative})
    return rows


def bhar_rows(event_id: str, ticker: str, series: Series, pos: int,
              horizons: Sequence[int]) -> list[dict[str, Any]]:
    """BHAR (``engine.bhar``) over [0, h] (from the offer/open) and over [+1, h] (aftermarket,
    from the first close) for each horizon; NaN where the data end before day h."""
    rows = []
    for h in horizons:
        end = pos + h
        complete = end < len(series.dates)
        nan = np.array([np.nan])
        cut, after = slice(pos, end + 1), slice(pos + 1, end + 1)
        ret, mkt, bhar = buy_and_hold(series.ret[cut] if complete else nan,
                                      series.mkt[cut] if complete else nan)
        aftermarket = buy_and_hold(series.ret[after] if complete else nan,
                                   series.mkt[after] if complete else nan)[2]
        rows.append({"event_id": event_id, "ticker": ticker, "window": window_label((0, h)),
                     "start": 0, "end": h, "horizon": h,
                     "end_date": pd.Timestamp(series.dates[end]) if complete else pd.NaT,
                     "return": float(ret), "market_return": float(mkt), "bhar": float(bhar),
                     "aftermarket_bhar": float(aftermarket)})
    return rows


def bhar_summary(bhar: pd.DataFrame) -> pd.DataFrame:
    """Across listings, per window: n, mean, median and the t of the mean BHAR.

    The plain t ignores BHAR's positive skewness, which biases it (Barber & Lyon 1997; Lyon,
    Barber & Tsai 1999): read it as a description, not a test, with few listings.
    """
    rows = []
    for _, block in bhar.groupby("window", sort=False, observed=True):
        values = block["bhar"].dropna().to_numpy(float)
        n = len(values)
        sd = float(np.std(values, ddof=1)) if n > 1 else np.nan
        mean = float(np.mean(values)) if n else np.nan
        rows.append({"start": block["start"].iloc[0], "end": block["end"].iloc[0], "n": n,
                     "mean_bhar": mean,
                     "median_bhar": float(np.median(values)) if n else np.nan,
                     "t": mean / (sd / np.sqrt(n)) if n > 1 and sd > 0 else np.nan})
    return with_windows(pd.DataFrame(
        rows, columns=["start", "end", "n", "mean_bhar", "median_bhar", "t"]))


def _options(model: str, market: str | None, window: Window, estimation: Window,
             car_windows: tuple[Window, ...], min_estimation: int,
             horizons: Sequence[int]) -> StudyOptions:
    if window[0] != 0 or window[1] < 0:
        raise BadInput(f"a listing-day event window starts on day 0, not [{window[0]}, "
                       f"{window[1]}]: there are no sessions before the listing")
    if model not in ("market", "market_adjusted"):
        raise BadInput(f"listing studies use model market or market_adjusted, not {model!r}")
    if estimation[0] <= window[1]:
        raise BadInput(f"the estimation window [{estimation[0]}, {estimation[1]}] must start "
                       f"after the event window [0, {window[1]}]: an IPO has no history before "
                       "day 0")
    kwargs: dict[str, Any] = {"model": model, "market": market, "window": window,
                              "estimation": estimation, "min_estimation": min_estimation,
                              "car_windows": tuple(w for w in car_windows if w[0] >= 0)}
    if "bhar_windows" in {f.name for f in dataclasses.fields(StudyOptions)}:
        # The engine's BHARs (and cross-listing BHAR tests) stay inside the event window, which
        # ends before the estimation window; the longer horizons are computed here.
        inside = tuple((0, h) for h in horizons if h <= window[1])
        kwargs["bhar_windows"] = inside or ((0, window[1]),)
    return StudyOptions(**kwargs)


def listing_study(tickers: str | Sequence[str], *, model: str = LOCKUP_MODEL,
                  market: str | None = None, window: Window = LISTING_WINDOW,
                  estimation: Window = LISTING_ESTIMATION,
                  car_windows: tuple[Window, ...] = LISTING_CAR_WINDOWS,
                  horizons: Sequence[int] = BHAR_HORIZONS, first_days: int = FIRST_DAYS,
                  min_estimation: int = MIN_ESTIMATION, offline: bool = False,
                  data: str | Path | None = None, cache_dir: str | Path | None = None,
                  listings: str | Path | None = None, loader: PriceLoader | None = None
                  ) -> ListingStudyResult:
    """Listing-day study of one or more IPOs (day 0 = first trading day); see the module doc.

    ``model`` default: market-adjusted returns (Field & Hanka 2001; Brav & Gompers 2003): a
    market model fitted after the listing would carry its post-IPO intercept back to day 0; it is
    shown beside it (``result.robustness``). The variance (and the market model's beta) come from
    the sessions ``estimation`` after listing (default +30..+150, after the price-stabilisation
    period).
    """
    names = [tickers] if isinstance(tickers, str) else list(tickers)
    if not names:
        raise BadInput("no ticker given")
    if not horizons:
        raise BadInput("no BHAR horizon given (e.g. 20,60,120)")
    if any(h < 1 for h in horizons) or first_days < 1:
        raise BadInput("BHAR horizons and the number of first sessions must be at least 1")
    options = _options(model, market, window, estimation, car_windows, min_estimation,
                       horizons)
    if options.market == "ipo-index":
        raise BadInput("the IPO index is a benchmark for lock-up and batch studies, not for "
                       "the listing day (--market ipo-index)")
    single = normalise_ticker(names[0]) if data and len(names) == 1 else None
    base = loader or make_loader(offline=offline, data=data, cache_dir=cache_dir,
                                 data_ticker=single)
    calendar = load_listings(listings)
    used, skips = _listings_of(names, calendar, base)
    wrapped = _ListingLoader(base, used, options.market)
    events = [Event(ticker=t, session=x.listing_date, tranche="listing", group="listing",
                    date=x.listing_date, listing_date=x.listing_date,
                    listing_inferred=x.inferred) for t, x in used.items()]
    result = run_panel_study("listing", events, cast(PriceLoader, wrapped), options,
                             estimation=estimation, max_estimation=None, listings=used,
                             skipped=skips, min_start=0)
    _raise_if_nothing(result)
    out = ListingStudyResult(**{f.name: getattr(result, f.name)
                                for f in dataclasses.fields(result)})
    return _add_listing_tables(out, wrapped, horizons, first_days)


def _listings_of(names: Sequence[str], calendar: dict[str, Listing], loader: PriceLoader
                 ) -> tuple[dict[str, Listing], list[Skip]]:
    used: dict[str, Listing] = {}
    skips: list[Skip] = []
    for name in names:
        ticker = normalise_ticker(name)
        try:
            used[ticker] = listing_for(ticker, calendar, loader)
        except (DataUnavailable, BadInput) as exc:
            if len(names) == 1:
                raise
            skips.append(Skip.from_error(f"{ticker}:listing", ticker, exc))
    return used, skips


def _add_listing_tables(result: ListingStudyResult, loader: _ListingLoader,
                        horizons: Sequence[int], first_days: int) -> ListingStudyResult:
    first, sessions, bhar = [], [], []
    notes = list(result.notes)
    for event_id, row in result.events.set_index("event_id").iterrows():
        ticker = str(row["ticker"])
        listing = result.listings[ticker]
        series = align(loader.load(ticker),
                       loader.load(result.options.market or market_for(ticker)))
        pos = _day0_position(series, pd.Timestamp(row["day0"]))
        first.append(first_day_row(listing, loader.raw(ticker), series, pos,
                                   loader.bases.get(ticker)))
        sessions += first_session_rows(ticker, series, pos, first_days)
        bhar += bhar_rows(str(event_id), ticker, series, pos, horizons)
        notes += _gap_notes(listing, loader, bhar[-len(horizons):])
    first_df, sessions_df, bhar_df = (pd.DataFrame(first), pd.DataFrame(sessions),
                                      with_windows(pd.DataFrame(bhar)))
    summary = bhar_summary(bhar_df)
    extras = {**result.extras, **dict(
        first_day_table=first_df, first_sessions_table=sessions_df, bhar_table=bhar_df,
        bhar_summary_table=summary, listing_day=_json_rows(first_df),
        first_sessions=_json_rows(sessions_df), bhar_detail=_json_rows(bhar_df),
        bhar_summary=_json_rows(summary), method=method_lines(result))}
    out = dataclasses.replace(
        result, notes=tuple(notes), extras=extras,
        bhar=bhar_df[["event_id", "window", "start", "end", "return", "market_return",
                      "bhar"]].copy())
    sections = [*out.extras.get("sections", []), *listing_sections(out)]
    return dataclasses.replace(out, extras={**out.extras, "sections": sections})


def _gap_notes(listing: Listing, loader: _ListingLoader, rows: list[dict[str, Any]]
               ) -> list[str]:
    """What a listing's BHARs miss: no offer price, no first open, data ending early."""
    ticker = listing.ticker
    notes = []
    base = loader.bases.get(ticker)
    if base is None:
        notes.append(f"{ticker}: no offer price and no first open: day 0 has no return, "
                     "so its AR, CARs from day 0 and BHARs are missing")
    elif base[0] == BASE_OPEN:
        notes.append(f"{ticker}: no offer price in the calendar: day 0's return and the "
                     "BHARs are measured from the first open")
    short = [r["window"] for r in rows if pd.isna(r["bhar"])]
    if short and base is not None:
        end = loader.raw(ticker).index[-1].date()
        notes.append(f"{ticker}: data end {end}, before the end of BHAR {', '.join(short)}")
    return notes


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], json_clean(frame))
