"""The per-study work after the model (``studies.core.finish_study``) on its shortcuts, against
the plain computation written here, on real bundled prices: the overlapping event windows
paired among the firms with several events only, and the events table built in one piece."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine.crosssection import overlapping_windows
from eventstudy.engine.models import event_ids
from eventstudy.studies import core
from eventstudy.studies.batch import batch_study

EVENTS = pd.DataFrame({  # real bundled prices; 0020.HK's first two windows overlap
    "ticker": ["0020.HK", "9660.HK", "0020.HK", "1024.HK", "0020.HK"],
    "date": ["2022-06-30", "2025-04-24", "2022-07-06", "2021-08-05", "2022-12-30"],
})


def test_overlaps_paired_among_repeat_firms_equal_all_pairs() -> None:
    result = batch_study(EVENTS, offline=True)
    ar, opts = result.ar, result.options
    got, notes = core.overlap_table(ar, opts)
    want = overlapping_windows(ar.window_view(opts.window))  # every event paired
    assert len(want) == 1 and want["shared_days"].iloc[0] > 0
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert notes == core.overlap_notes(want) and len(notes) == 1
    pd.testing.assert_frame_equal(result.overlaps, want, check_exact=True)


def test_no_repeat_firm_no_overlap_with_the_same_columns() -> None:
    result = batch_study(EVENTS.drop_duplicates("ticker"), offline=True)
    ar, opts = result.ar, result.options
    got, notes = core.overlap_table(ar, opts)
    want = overlapping_windows(ar.window_view(opts.window))
    assert want.empty and notes == []
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_events_table_columns_and_values() -> None:
    """The events table: the panel's event columns, then the fit's and day 0's, each equal to
    the arrays it is read from."""
    result = batch_study(EVENTS, offline=True)
    ar, events = result.ar, result.events
    c0 = ar.panel.column(0)
    assert list(events.columns[-14:]) == [
        "name", "model", "alpha", "beta", "sigma", "estimation_used", "close_0", "return_0",
        "market_return_0", "ar_0", "t_0", "volume_ratio_0", "volume_ratio", "note"]
    assert "day0_note" not in events
    np.testing.assert_array_equal(events["ar_0"].to_numpy(), ar.ar[:, c0])
    np.testing.assert_array_equal(events["sigma"].to_numpy(), np.sqrt(ar.sigma2))
    t0 = ar.ar[:, c0] / np.sqrt(ar.sigma2 * (1 + ar.h0 + ar.d[:, c0] ** 2))
    np.testing.assert_allclose(events["t_0"].to_numpy(), t0, rtol=1e-12)
    assert events["event_id"].tolist() == list(ar.panel.events.index)


@pytest.mark.parametrize("dtype", [None, object])
def test_event_ids_equal_the_repeated_values(dtype: object) -> None:
    """The id column of a long table, taken from the events' index, is the column the index's
    values repeated as a numpy array make (same values, same dtype)."""
    index = pd.Index(["0020.HK:a:2022-06-30", "9660.HK:b:2025-04-24", "1024.HK:c:2021-08-05"],
                     dtype=dtype)  # type: ignore[call-overload]
    rows = np.repeat(np.arange(3), 4)
    got = pd.DataFrame({"event_id": event_ids(index, rows)})
    want = pd.DataFrame({"event_id": np.repeat(index.to_numpy(), 4)})
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(pd.DataFrame({"event_id": event_ids(index)}),
                                  pd.DataFrame({"event_id": index.to_numpy()}), check_exact=True)
