"""The on-disk session cache (eventstudy.calendar.sessioncache, issue 12) answers exactly as the
exchange-calendars calendar it was built from: session dates, day -> session under each holiday
policy, sessions between two dates; a stale or damaged file is rebuilt, and a command run with a
warm cache does not import exchange-calendars."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from eventstudy.calendar import sessions as S
from eventstudy.data.cache import default_cache_dir

ROOT = Path(__file__).resolve().parent.parent


def _file() -> Path:
    return default_cache_dir() / "calendars" / "XHKG.json"


def _fresh() -> pd.DatetimeIndex:
    S.session_index.cache_clear()
    return S.session_index("XHKG")


def test_cached_sessions_are_the_calendars_sessions() -> None:
    calendar = S.exchange_calendar("XHKG").sessions
    built = _fresh()  # no file yet: built and written
    assert _file().exists()
    read = _fresh()  # from the file
    for index in (built, read):
        assert index.dtype == calendar.dtype
        assert (index == calendar).all() and len(index) == len(calendar)
    assert pd.Timestamp("2023-09-08") not in read  # the closures file is applied


def test_lookups_agree_with_exchange_calendars() -> None:
    _fresh()
    _fresh()  # answer from the file
    cal = S.exchange_calendar("XHKG")
    days = pd.date_range("2022-12-20", "2023-10-10")
    for day in days:
        assert S.is_session("XHKG", day) == cal.is_session(day), day
        for policy in ("next", "previous"):
            want = day if cal.is_session(day) else cal.date_to_session(day, direction=policy)
            assert S.to_session("XHKG", day, policy) == want, (day, policy)
    for start, end in [(days[0], days[-1]), (days[5], days[6]), (days[3], days[200])]:
        assert S.sessions_between("XHKG", start, end) == \
            len(cal.sessions_in_range(start + pd.Timedelta(days=1), end))
    assert S.calendar_span("XHKG") == (cal.first_session, cal.last_session)


@pytest.mark.parametrize("damage", ["flip", "key", "garbage"])
def test_a_stale_or_damaged_file_is_rebuilt(damage: str) -> None:
    _fresh()
    doc = json.loads(_file().read_text())
    if damage == "flip":
        days = doc["days"]
        i = next(i for i in range(100, len(days)) if days[i + 1] - days[i] > 1)
        days[i] += 1  # still ascending: only the checksum notices
    elif damage == "key":
        doc["key"]["exchange_calendars"] = "0.0"
    text = "{not json" if damage == "garbage" else json.dumps(doc)
    _file().write_text(text)
    index = _fresh()
    assert (index == S.exchange_calendar("XHKG").sessions).all()
    assert json.loads(_file().read_text())["key"]["exchange_calendars"] != "0.0"


def test_a_read_only_cache_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file_not_folder"
    blocked.write_text("x")
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(blocked))
    assert (_fresh() == S.exchange_calendar("XHKG").sessions).all()


def test_a_warm_cache_needs_no_exchange_calendars(tmp_path: Path) -> None:
    code = ("import sys; from eventstudy.calendar.sessions import next_session; import pandas;"
            "print(next_session('XHKG', pandas.Timestamp('2023-09-08')).date(),"
            " 'exchange_calendars' in sys.modules)")
    env = {**os.environ, "EVENTSTUDY_CACHE_DIR": str(tmp_path / "c"), "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True, timeout=120).stdout.split() for _ in range(2)]
    assert runs == [["2023-09-11", "True"], ["2023-09-11", "False"]]
