"""Value types of the synthetic fleet: GPS fixes and the ground truth (trips, stops, day plans).

Kept apart from the generators so the API layer, future report methods and the scoring code can import
them without pulling in path or speed generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NamedTuple

# Fleet life runs on Nairobi time (EAT, UTC+3, no daylight saving): shifts and "night" are local, and a
# plan day is a local calendar day. Everything on the wire stays UTC.
LOCAL_TZ = timezone(timedelta(hours=3), "EAT")

POS_GPS = 1
POS_LBS = 2  # cell-tower fix: coarse position, no speed or satellites


class Point(NamedTuple):
    """One fix as a tracker reports it. A NamedTuple: there are millions, creation speed matters."""

    gps_time: datetime  # aware UTC, whole seconds
    lat: float  # 6 decimals
    lng: float
    speed_kmh: float  # 1 decimal
    direction: int  # 0-359
    acc: bool  # ignition
    satellites: int
    pos_type: int = POS_GPS
    dist_m: float = 0.0  # ground truth: road metres driven since the previous fix (0 when stationary)


@dataclass(frozen=True)
class Trip:
    """Ignition on and driving from one stop to the next (traffic-light halts included)."""

    start_time: datetime
    end_time: datetime
    distance_km: float  # sum of haversine lengths between the trip's consecutive fixes
    start_lat: float
    start_lng: float
    end_lat: float
    end_lng: float


@dataclass(frozen=True)
class Stop:
    """Standing still between trips: "parking" (ignition off) or "idling" (ignition on)."""

    start_time: datetime
    end_time: datetime | None  # None only if the vehicle never leaves again within the search horizon
    kind: str
    lat: float
    lng: float


@dataclass(frozen=True)
class DayPlan:
    """Ground truth of one vehicle's local day: the trips and stops that start on it."""

    imei: str
    day: date
    day_off: bool
    trips: tuple[Trip, ...]
    stops: tuple[Stop, ...]

    @property
    def distance_km(self) -> float:
        return sum(trip.distance_km for trip in self.trips)


def day_start(day: date) -> datetime:
    """The UTC instant at which a local plan day begins."""
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


_LOCAL_OFFSET_S = 3 * 3600  # EAT has no daylight saving, so local days are plain arithmetic on epochs
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def local_ordinal(epoch: int) -> int:
    """`local_day(...)` of an epoch as a date ordinal, without building datetimes (hot paths)."""
    return (epoch + _LOCAL_OFFSET_S) // 86400 + _EPOCH_ORDINAL


def ordinal_start(ordinal: int) -> int:
    """The epoch at which the local day with this ordinal begins."""
    return (ordinal - _EPOCH_ORDINAL) * 86400 - _LOCAL_OFFSET_S
