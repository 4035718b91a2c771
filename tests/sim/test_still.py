"""Day generation's column fast paths: bulk stationary fixes and row sorting equal the `Point` code."""

from __future__ import annotations

from datetime import UTC, datetime

from sources.jimi_sim.world.catalogue import build_devices
from sources.jimi_sim.world.columns import FixColumns, FixRows
from sources.jimi_sim.world.driving.daylife import parked_epochs, stationary_point
from sources.jimi_sim.world.driving.still import add_stationary
from sources.jimi_sim.world.model import Point

NOON = int(datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp())


def test_add_stationary_equals_stationary_point_when_parked_and_idling() -> None:
    for seed in (7, 11, 2**40 + 3):
        for device in build_devices(seed, 30):
            for acc, direction, epochs in (
                (False, 0, parked_epochs(device, NOON - 86_400, NOON)),
                (True, 271, range(NOON + 17, NOON + 900, device.habits.idle_interval_s)),
            ):
                pos = device.habits.places[seed % 8]
                rows = FixRows()
                add_stationary(rows, seed, device, epochs, pos, acc, direction)
                general = FixColumns([stationary_point(seed, device, e, pos, acc, direction) for e in epochs])
                fast = FixColumns.from_rows(rows)
                assert len(fast) == len(epochs) > 0
                assert fast.raw(0, len(fast)) == general.raw(0, len(general))


def test_fixrows_sorted_equals_stable_point_sort_when_runs_interleave() -> None:
    points = [
        Point(datetime.fromtimestamp(NOON + offset, UTC), -1.0 - k / 1e6, 36.8, 0.0, k, k % 2 == 0, 5 + k % 3)
        for k, offset in enumerate([50, 10, 30, 10, 70, 20, 50, 5])
    ]
    rows = FixRows()
    for point in points:
        rows.add_point(point)
    fast = FixColumns.from_rows(rows.sorted())
    general = FixColumns(sorted(points, key=lambda point: point.gps_time))
    assert fast.raw(0, len(fast)) == general.raw(0, len(general))
