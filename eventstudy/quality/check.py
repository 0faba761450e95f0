"""``eventstudy check DATA``: the screens of a price file or folder, without studying anything.

Exit code ``FINDINGS_EXIT`` (4) when a screen finds something a study would skip or refuse
(an impossible return, a first row that is no listing day, an unreadable file); 0 when clean.
Half-day volume and suspensions are reported but handled by every study (not an error)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from eventstudy.data.files import FileSource, FolderSource, check_data_path
from eventstudy.data.tickers import calendar_code, normalise_ticker
from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.quality.finding import Finding
from eventstudy.quality.listing import implausible_first_row
from eventstudy.quality.screens import screen_series

FINDINGS_EXIT = 4  # distinct from 2 (bad input) and 3 (data unavailable)

HANDLED = ("half_day_volume", "suspension")  # reported; every study handles them


def check_data(path: str | Path) -> list[Finding]:
    """Every finding of every price file at ``path`` (a file or a folder)."""
    path = Path(path)
    if check_data_path(path):
        tickers = FolderSource(path).tickers()
        source = FileSource(path)
    else:
        if not path.exists():
            raise DataUnavailable(f"no such file: {path}")
        tickers = [normalise_ticker(path.stem.split("_")[0])]
        source = FileSource(path, tickers[0])
    if not tickers:
        raise DataUnavailable(f"no price files in {path}")
    found: list[Finding] = []
    for ticker in tickers:
        try:
            frame = source.load(ticker)
            code = _code(ticker)
        except (BadInput, DataUnavailable) as exc:
            found.append(Finding(ticker, "unreadable", str(path), str(exc), "cannot be studied"))
            continue
        screen = screen_series(frame, ticker, code)
        found += [*screen.suspect.values(), *screen.findings]
        why = (None if ticker.startswith("^")  # an index: no listing
               else implausible_first_row(frame, code))
        if why is not None:
            found.append(Finding(ticker, "listing_date", str(frame.index[0].date()), why,
                                 "not taken as the listing date: give it (docs/quality.md)"))
    return sorted(found, key=lambda f: (f.ticker, f.where))


def _code(ticker: str) -> str | None:
    try:
        return calendar_code(ticker)
    except BadInput:
        return None


def check_lines(found: list[Finding]) -> tuple[list[str], bool]:
    """Printable lines (handled findings counted per ticker) and whether any finding is not
    handled (the exit code is then ``FINDINGS_EXIT``)."""
    lines = [f"{f.ticker} {f.check} {f.where}: {f.found} -> {f.action}"
             for f in found if f.check not in HANDLED]
    handled = Counter((f.ticker, f.check) for f in found if f.check in HANDLED)
    lines += [f"{ticker} {check}: {n} (handled: "
              + ("volume missing, return kept" if check == "half_day_volume"
                 else "no day 0 moves across a suspension") + ")"
              for (ticker, check), n in sorted(handled.items())]
    return lines, any(f.check not in HANDLED for f in found)
