"""Fleet sweeps (location.list, location.get) fast enough for 2,000 devices polled every minute.

Each device's entry is rendered once per fix and kept with the instant until which it cannot change: the
next fix the device records, or the release of a late block that hides newer fixes. Until then a sweep
only refreshes the heartbeat fields, when the next heartbeat is due. When the entry does change, the two
common cases skip the general search: a driving vehicle moves to its next fix in the day's columns, and a
parked one to the next point of its parked upload grid. Both write exactly what the general path would
(tests compare them).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import TYPE_CHECKING

import orjson

from sources.jimi_sim.catalogue import Device
from sources.jimi_sim.daylife import PARK_MARGIN_S, stationary_point
from sources.jimi_sim.delivery import BLOCK_S
from sources.jimi_sim.model import Point, local_ordinal
from sources.jimi_sim.shapes import Shapes
from sources.jimi_sim.status import HEARTBEAT_S, ONLINE_WITHIN_S, device_status, fix_status, heartbeat_before
from sources.jimi_sim.sweep_drive import Drive, epoch_text
from sources.jimi_sim.wire import location_item

if TYPE_CHECKING:
    from sources.jimi_sim.fleet import Fleet

MAX_REUSE_S = 3600
_NEVER = 1 << 62
# A cursor is a list (cheapest to read and write): these are its slots.
FROM, UNTIL, BEAT_DUE, ENTRY, FIX, HB, DRIVING, PARKED_UNTIL, OWNER, JSON = range(10)


class Sweep:
    """Location entries of one fleet, cached per device until they can change."""

    def __init__(self, fleet: Fleet, shapes: Shapes) -> None:
        self.fleet, self.shapes = fleet, shapes
        self._cursors: dict[str, list] = {}
        self._lock = threading.Lock()

    def answer(self, devices: list[Device], now: datetime) -> bytes:
        """The whole location.list body; each entry is serialised once per change and reused after."""
        parts = []
        append = parts.append
        with self._lock:
            for cursor in self._current(devices, now):
                serialised = cursor[JSON]
                if serialised is None:
                    serialised = cursor[JSON] = _Serialised(cursor[ENTRY])
                append(serialised.text)
        return b'{"code":0,"message":"success","result":[' + b",".join(parts) + b"]}"

    def entries(self, devices: list[Device], now: datetime) -> list[dict[str, object]]:
        """Entries of the devices that have a fix at now (the others are silently left out)."""
        with self._lock:
            return [cursor[ENTRY] for cursor in self._current(devices, now)]

    def _current(self, devices: list[Device], now: datetime) -> list[list]:
        """Brings every device's cursor up to now; the cursors of devices that have an entry."""
        now_epoch = int(now.timestamp())
        out = []
        append, cursors = out.append, self._cursors  # locals: this loop runs for every device of every sweep
        # The caller holds the lock: concurrent sweeps would otherwise race on the entries.
        for device in devices:
            cursor = cursors.get(device.imei)
            if cursor is None or not cursor[FROM] <= now_epoch < cursor[UNTIL]:
                if cursor is None or not (self._drive_on(device, cursor, now_epoch)
                                          or self._park_on(device, cursor, now_epoch)):  # fmt: skip
                    cursor = cursors[device.imei] = self._render(device, now, now_epoch)
            elif cursor[ENTRY] is not None and now_epoch >= cursor[BEAT_DUE]:
                self._beat(device, cursor, now_epoch)
            if cursor[ENTRY] is not None:
                append(cursor)
        return out

    def _render(self, device: Device, now: datetime, now_epoch: int) -> list:
        fleet = self.fleet
        if device.expiration <= now:
            status = device_status(fleet, device, now)
            assert status is not None
            entry = location_item(device, status, self.shapes)
            return [now_epoch, _NEVER, _NEVER, entry, 0, 0, None, 0, None, None]
        point = fleet.latest_fix(device.imei, now)
        if point is None:  # a tracker that never reports stays silent; others may report any time now
            silent = not device.habits.reporting and device.imei not in fleet.traces
            return [now_epoch, _NEVER if silent else now_epoch + 60, _NEVER, None, 0, 0, None, 0, None, None]
        epoch = int(point.gps_time.timestamp())
        traced = device.imei in fleet.traces
        owner = fleet.owner(device.imei, epoch) if not traced else None
        status = fix_status(fleet, device, point, now_epoch, owner)
        until = min(_valid_until(fleet, device, point, now_epoch), now_epoch + MAX_REUSE_S)
        activity = owner[1] if owner is not None else None
        driving = activity is not None and activity.active and epoch <= activity.last_epoch
        parked_until = 0 if traced or driving else _departure(fleet, device, epoch) - PARK_MARGIN_S
        hb = status.hb_epoch
        entry = location_item(device, status, self.shapes)
        drive = Drive(device, activity, fleet.settings.seed, self.shapes.battery_key) if driving else None
        return [now_epoch, until, _next_beat(device, hb), entry, epoch, hb, drive, parked_until, owner, None]

    def _drive_on(self, device: Device, cursor: list, now_epoch: int) -> bool:
        """Move a driving vehicle's entry to its newest fix in place (most of a sweep's work)."""
        drive: Drive | None = cursor[DRIVING]
        if drive is None or now_epoch < cursor[FROM] or now_epoch >= drive.last_epoch:
            return False
        index = drive.index_at(now_epoch)
        epoch = drive.epochs[index]
        if epoch <= cursor[FIX]:
            return False
        delivery = self.fleet.delivery
        if delivery.enabled:
            released = delivery.release(drive.key, epoch // BLOCK_S)
            if released is not None and released > now_epoch:
                return False
        if now_epoch < cursor[BEAT_DUE]:
            hb = max(epoch, cursor[HB])
        else:
            hb = max(heartbeat_before(self.fleet, device, now_epoch), epoch)
        following = drive.write(cursor[ENTRY], index, now_epoch - hb <= ONLINE_WITHIN_S, hb)
        cursor[FROM], cursor[UNTIL], cursor[FIX], cursor[HB], cursor[JSON] = now_epoch, following, epoch, hb, None
        cursor[BEAT_DUE] = _next_beat(device, hb)
        return True

    def _park_on(self, device: Device, cursor: list, now_epoch: int) -> bool:
        """Move a parked vehicle's entry to its next parked upload (same day, before it drives off)."""
        if cursor[DRIVING] is not None or cursor[OWNER] is None or now_epoch < cursor[FROM]:
            return False
        if now_epoch >= cursor[PARKED_UNTIL] + PARK_MARGIN_S:
            return False  # it has driven off since: the newest fix is a driving one
        interval, fleet = device.habits.parked_interval_s, self.fleet
        epoch = now_epoch - (now_epoch - int(device.imei) % interval) % interval
        if (
            epoch <= cursor[FIX]
            or epoch >= cursor[PARKED_UNTIL]
            or local_ordinal(epoch) != local_ordinal(cursor[FIX])
        ):
            return False
        for block in range(cursor[FIX] // BLOCK_S, now_epoch // BLOCK_S + 1):
            released = fleet.delivery.release(int(device.imei), block)
            if released is not None and released > now_epoch:
                return False  # a late block in between: the general path sorts out what is visible
        point = stationary_point(fleet.settings.seed, device, epoch, device.habits.base, False, 0)
        status = fix_status(fleet, device, point, now_epoch, cursor[OWNER])
        cursor[ENTRY].update(location_item(device, status, self.shapes))
        cursor[FROM], cursor[FIX], cursor[HB], cursor[JSON] = now_epoch, epoch, status.hb_epoch, None
        cursor[UNTIL] = min(epoch + interval, cursor[PARKED_UNTIL] + PARK_MARGIN_S)
        cursor[BEAT_DUE] = _next_beat(device, status.hb_epoch)
        return True

    def _beat(self, device: Device, cursor: list, now_epoch: int) -> None:
        entry = cursor[ENTRY]
        hb = max(heartbeat_before(self.fleet, device, now_epoch), cursor[FIX])
        entry["hbTime"] = text = epoch_text(hb)
        entry["status"] = status = "1" if now_epoch - hb <= ONLINE_WITHIN_S else "0"
        serialised = cursor[JSON]
        if serialised is not None:  # patch the two fields in the serialised entry rather than re-serialise
            serialised.patch(status, text)
        cursor[HB], cursor[BEAT_DUE], cursor[JSON] = hb, _next_beat(device, hb), serialised


class _Serialised:
    """An entry's JSON; a heartbeat re-joins it around new `status` and `hbTime` values.

    Cut into pieces only at the first heartbeat: a driving vehicle's entry changes every sweep and is
    never patched, so cutting it up front would be wasted work.
    """

    __slots__ = ("pieces", "text")

    def __init__(self, entry: dict[str, object]) -> None:
        self.text = orjson.dumps(entry)
        self.pieces: tuple[bytes, bytes, bytes] | None = None

    def patch(self, status: str, hb_time: str) -> None:
        if self.pieces is None:
            pieces, rest = [], self.text
            for key in (b'"status":"', b'"hbTime":"'):
                start = rest.index(key) + len(key)
                end = rest.index(b'"', start)
                pieces.append(rest[:start])
                rest = rest[end:]
            self.pieces = (pieces[0], pieces[1], rest)
        head, middle, tail = self.pieces
        self.text = b"".join((head, status.encode(), middle, hb_time.encode(), tail))


def _next_beat(device: Device, after: int) -> int:
    """The first heartbeat of the device's grid after an instant (when hbTime may change next)."""
    phase = int(device.imei) % HEARTBEAT_S
    return after + 1 + (phase - after - 1) % HEARTBEAT_S


def _valid_until(fleet: Fleet, device: Device, point: Point, now: int) -> int:
    """The earliest instant at which the device's newest arrived fix could be another one."""
    epoch = int(point.gps_time.timestamp())
    following = _next_recorded(fleet, device, epoch)
    if following > now:
        return following
    # Newer fixes exist but sit in late blocks: nothing changes until one of those arrives, or until the
    # device records a fix that is not late (in the current block if it is on time, else a later one).
    key, current = int(device.imei), now // BLOCK_S
    released = fleet.delivery.release(key, current)
    if released is None or released <= now:
        until = _next_recorded(fleet, device, now)
    else:
        until = (current + 1) * BLOCK_S
    for block in range(epoch // BLOCK_S, current + 1):
        released = fleet.delivery.release(key, block)
        if released is not None and released > now:
            until = min(until, released)
    return max(until, now + 1)


def _next_recorded(fleet: Fleet, device: Device, epoch: int) -> int:
    """A lower bound for the time of the fix the device records after the one at epoch."""
    if device.imei in fleet.traces:
        columns = fleet.traces[device.imei].fixes
        index = columns.last_at_or_before(epoch) + 1
        return columns.epochs[index] if index < len(columns) else _NEVER
    _, activity = fleet.owner(device.imei, epoch)
    if activity is not None and activity.active and epoch <= activity.last_epoch:
        index = activity.fixes.last_at_or_before(epoch) + 1
        return (
            activity.fixes.epochs[index]
            if index < len(activity.fixes)
            else activity.last_epoch + PARK_MARGIN_S
        )
    interval = device.habits.parked_interval_s
    next_upload = epoch + 1 + (int(device.imei) % interval - epoch - 1) % interval  # the parked grid
    return min(next_upload, _departure(fleet, device, epoch))


def _departure(fleet: Fleet, device: Device, epoch: int) -> int:
    """The next first departure of a shift after epoch (today's or tomorrow's), or never."""
    ordinal = local_ordinal(epoch)
    for day in (ordinal, ordinal + 1):
        schedule = fleet.schedule(device.imei, date.fromordinal(day))
        if not schedule.off and schedule.depart > epoch:
            return schedule.depart
    return _NEVER
