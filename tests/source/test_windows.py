"""Which range each kind of run reads, and how cursors move (sources/jimi/windows.py)."""

from datetime import UTC, datetime, timedelta

from sources.jimi.windows import RunWindow, batches, split

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LOOKBACK = timedelta(minutes=35)
RETENTION = timedelta(days=89)


def test_range_starts_at_cursor_minus_lookback_when_incremental():
    cursor = (NOW - timedelta(hours=1)).isoformat()
    assert RunWindow(NOW).range_for(cursor, LOOKBACK, RETENTION) == (NOW - timedelta(minutes=95), NOW)


def test_range_starts_initial_days_back_when_no_cursor():
    assert RunWindow(NOW, initial_days=3).range_for(None, LOOKBACK) == (NOW - 3 * DAY, NOW)


def test_range_is_clipped_to_retention_when_bounded_window_is_older():
    window = RunWindow(NOW, start=NOW - 120 * DAY, end=NOW - 100 * DAY + DAY * 20)
    assert window.range_for("ignored", LOOKBACK, RETENTION) == (NOW - RETENTION, NOW - 80 * DAY)


def test_range_ends_at_now_when_bounded_end_is_in_the_future():
    assert RunWindow(NOW, start=NOW - DAY, end=NOW + DAY).range_for(None, LOOKBACK) == (NOW - DAY, NOW)


def test_range_covers_trailing_days_when_catching_up():
    cursor = (NOW - timedelta(minutes=5)).isoformat()
    assert RunWindow(NOW, catch_up_days=7).range_for(cursor, LOOKBACK, RETENTION) == (NOW - 7 * DAY, NOW)


def test_advance_leaves_cursor_when_bounded():
    cursor = (NOW - DAY).isoformat()
    assert RunWindow(NOW, start=NOW - 5 * DAY, end=NOW - 4 * DAY).advance(cursor, NOW - 4 * DAY) == cursor


def test_advance_never_moves_cursor_backwards_when_catching_up():
    cursor = NOW.isoformat()
    assert RunWindow(NOW, catch_up_days=7).advance(cursor, NOW - timedelta(seconds=1)) == cursor
    assert RunWindow(NOW).advance((NOW - DAY).isoformat(), NOW) == NOW.isoformat()


def test_split_cuts_into_consecutive_spans_when_longer_than_span():
    assert split(NOW - 16 * DAY, NOW, 7 * DAY) == [
        (NOW - 16 * DAY, NOW - 9 * DAY),
        (NOW - 9 * DAY, NOW - 2 * DAY),
        (NOW - 2 * DAY, NOW),
    ]
    assert split(NOW, NOW, 7 * DAY) == []


def test_batches_keep_order_when_splitting_imeis():
    assert list(batches([str(n) for n in range(5)], 2)) == [["0", "1"], ["2", "3"], ["4"]]
