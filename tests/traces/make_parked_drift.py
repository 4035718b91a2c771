"""Writes `parked_drift.csv`: a parked car whose GPS drifts, for the trip marts' end-to-end test.

One device, ignition off throughout, a fix every 60 s for 12 hours across midnight (2026-01-20 18:00 to
2026-01-21 06:00 UTC), reported speeds 0-4 km/h and positions wandering up to 20 m around one spot in a car
park: what a parked tracker with a poor sky view reports. The simulator segments trips from a trace's fixes
(a stop is a stretch below 3 km/h of at least 3 minutes), so its mileage report counts the drift as a series
of short trips, as real platforms do. Deterministic (fixed seed):

    python tests/traces/make_parked_drift.py    # rewrites tests/traces/parked_drift.csv
"""

from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

IMEI = "359000000000007"  # Luhn-valid, outside the simulator's IMEI prefix (86924706)
CENTRE = (-1.283_110, 36.823_450)  # a car park in Nairobi
START = datetime(2026, 1, 20, 18, 0, tzinfo=UTC)
HOURS = 12
INTERVAL_S = 60
WANDER_M = 20.0
SEED = 20260120
METRES_PER_DEGREE = 111_320.0


def fixes(rng: random.Random) -> list[tuple[str, str, str, str, str, str, str]]:
    rows = []
    east = north = 0.0
    for step in range(HOURS * 3600 // INTERVAL_S + 1):
        # A damped random walk, kept within WANDER_M of the spot.
        east, north = 0.8 * east + rng.gauss(0, 5), 0.8 * north + rng.gauss(0, 5)
        reach = math.hypot(east, north)
        if reach > WANDER_M:
            east, north = east * WANDER_M / reach, north * WANDER_M / reach
        lat = CENTRE[0] + north / METRES_PER_DEGREE
        lng = CENTRE[1] + east / (METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0])))
        moment = START + timedelta(seconds=step * INTERVAL_S)
        speed = rng.randint(0, 40) / 10
        rows.append(
            (
                IMEI,
                f"{moment:%Y-%m-%d %H:%M:%S}",
                f"{lat:.6f}",
                f"{lng:.6f}",
                f"{speed:.1f}",
                str(rng.randrange(360)),
                "0",
            )
        )
    return rows


def main() -> None:
    target = Path(__file__).with_name("parked_drift.csv")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("imei", "gps_time", "lat", "lng", "speed_kmh", "direction", "acc"))
        writer.writerows(fixes(random.Random(SEED)))


if __name__ == "__main__":
    main()
