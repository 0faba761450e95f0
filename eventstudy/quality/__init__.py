"""Data-quality screens every study passes through (docs/quality.md): placeholder and suspension
rows, listing-date plausibility, impossible returns, half-day volume, the market index missing
day 0, windows past the data; one ``Finding`` type and the ``quality`` table."""

from eventstudy.quality.finding import COLUMNS, Finding, counts_by_check, findings_frame
from eventstudy.quality.screens import SeriesScreen, screen_series

__all__ = ["COLUMNS", "Finding", "SeriesScreen", "counts_by_check", "findings_frame",
           "screen_series"]
