"""Fleet sweeps (location.list, location.get) fast enough for 2,000 devices polled every minute.

Each device's entry is rendered once per fix and kept with the instant until which it cannot change: the
next fix the device records, or the release of a late block that hides newer fixes (rules.py). Until
then a sweep only refreshes the heartbeat fields, when the next heartbeat is due, and a fleet sweep does not
even visit the device: it remembers when each device is due. When the entry does change, the two common
cases skip the general search: a driving vehicle moves to its next fix in the day's columns (its entry is
then written straight as JSON, drive.py), and a parked one to the next point of its parked upload
grid. Both write exactly what the general path would (tests compare them).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

import orjson

from sources.jimi_sim.api.locations.beats import Beats
from sources.jimi_sim.api.locations.drive import Drive, epoch_text
from sources.jimi_sim.api.locations.park import Park
from sources.jimi_sim.api.locations.rules import NEVER, departure, valid_until
from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.api.wire.devices import location_item
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.delivery import BLOCK_S
from sources.jimi_sim.world.driving.daylife import PARK_MARGIN_S
from sources.jimi_sim.world.model import local_ordinal
from sources.jimi_sim.world.status import ONLINE_WITHIN_S, device_status, fix_status

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

MAX_REUSE_S = 3600
# A cursor is a list (cheapest to read and write): these are its slots.
FROM, UNTIL, BEAT_DUE, ENTRY, FIX, HB, DRIVING, PARKED_UNTIL, OWNER, JSON, BEATS, PIECES, PARKED = range(13)
# ENTRY of an entry that exists only as its JSON (a driving one, written straight as text, or one patched by
# a heartbeat): parsed on demand.
_UNPARSED = object()
_STATUS = {True: b"1", False: b"0"}


class Sweep:
    """Location entries of one fleet, cached per device until they can change."""

    def __init__(self, fleet: Fleet, shapes: Shapes) -> None:
        self.fleet, self.shapes = fleet, shapes
        self._cursors: dict[str, list] = {}
        self._lock = threading.Lock()
        # The last device list answered, by position: its cursors, when each device's entry may change
        # next, and its JSON (None: no entry). Valid while the clock never goes back (see _refresh).
        self._listed: list[Device] | None = None
        self._rows: list[list] = []
        self._due: list[int] = []
        self._texts: list[bytes | None] = []
        self._seen = 0  # the latest now asked for

    def answer(self, devices: list[Device], now: datetime) -> bytes:
        """The whole location.list body; each entry is serialised once per change and reused after."""
        now_epoch = int(now.timestamp())
        with self._lock:
            self._see(now_epoch)
            if devices is not self._listed or len(devices) != len(self._due):
                self._listed, self._due, self._texts = devices, [0] * len(devices), [None] * len(devices)
                self._rows = [self._cursor(device, now, now_epoch) for device in devices]
            texts = self._refresh(devices, now, now_epoch)
        if not texts:
            return b'{"code":0,"message":"success","result":[]}'
        # The envelope joins the first and last entries (not the whole body: it is ~1 MB at 2,000 devices).
        texts[0] = b'{"code":0,"message":"success","result":[' + texts[0]
        texts[-1] += b"]}"
        return b",".join(texts)

    def entries(self, devices: list[Device], now: datetime) -> list[dict[str, object]]:
        """Entries of the devices that have a fix at now (the others are silently left out)."""
        now_epoch = int(now.timestamp())
        out = []
        with self._lock:
            self._see(now_epoch)
            for device in devices:
                cursor = self._cursor(device, now, now_epoch)
                self._advance(device, cursor, now, now_epoch)
                entry = cursor[ENTRY]
                if entry is _UNPARSED:
                    entry = cursor[ENTRY] = orjson.loads(cursor[JSON])  # the same values, types, order
                if entry is not None:
                    out.append(entry)
        return out

    def _see(self, now_epoch: int) -> None:
        if now_epoch < self._seen:
            self._listed = None  # the clock went back: a cursor is valid only from its FROM on
        self._seen = max(self._seen, now_epoch)

    def _refresh(self, devices: list[Device], now: datetime, now_epoch: int) -> list[bytes]:
        """The JSON entries at now, visiting only the devices whose entry may have changed.

        `_advance` leaves a cursor as it is before its due instant (UNTIL, or BEAT_DUE if it has an entry)
        as long as the clock never goes back. Calls for other device lists (location.get) may advance a
        cursor meanwhile, but only at or after its due instant, so the device is visited here all the same.
        """
        due, texts, rows = self._due, self._texts, self._rows
        for index in [index for index, at in enumerate(due) if at <= now_epoch]:
            cursor = rows[index]
            self._advance(devices[index], cursor, now, now_epoch)
            entry = cursor[ENTRY]
            if entry is None:
                texts[index], due[index] = None, cursor[UNTIL]
                continue
            text = cursor[JSON]
            if text is None:
                text = cursor[JSON] = orjson.dumps(entry)
            texts[index], due[index] = text, min(cursor[UNTIL], cursor[BEAT_DUE])
        return [text for text in texts if text is not None]

    def _cursor(self, device: Device, now: datetime, now_epoch: int) -> list:
        """The device's cursor (one list per device for good: a new fix is written into it)."""
        cursor = self._cursors.get(device.imei)
        if cursor is None:
            beats = Beats(self.fleet.delivery, device.imei)
            cursor = self._cursors[device.imei] = self._render(device, now, now_epoch, beats)
        return cursor

    def _advance(self, device: Device, cursor: list, now: datetime, now_epoch: int) -> None:
        """Brings one device's cursor up to now (the caller holds the lock: sweeps would race on entries)."""
        if not cursor[FROM] <= now_epoch < cursor[UNTIL]:
            if not (self._drive_on(cursor, now_epoch) or self._park_on(device, cursor, now_epoch)):
                cursor[:] = self._render(device, now, now_epoch, cursor[BEATS])
        elif cursor[ENTRY] is not None and now_epoch >= cursor[BEAT_DUE]:
            self._beat(cursor, now_epoch)

    def _render(self, device: Device, now: datetime, now_epoch: int, beats: Beats) -> list:
        fleet = self.fleet
        if device.expiration <= now:
            status = device_status(fleet, device, now)
            assert status is not None
            entry = location_item(device, status, self.shapes)
            return [now_epoch, NEVER, NEVER, entry, 0, 0, None, 0, None, None, beats, None, None]
        point = fleet.latest_fix(device.imei, now)
        if point is None:  # a tracker that never reports stays silent; others may report any time now
            silent = not device.habits.reporting and device.imei not in fleet.traces
            until = NEVER if silent else now_epoch + 60
            return [now_epoch, until, NEVER, None, 0, 0, None, 0, None, None, beats, None, None]
        epoch = int(point.gps_time.timestamp())
        traced = device.imei in fleet.traces
        owner = fleet.owner(device.imei, epoch) if not traced else None
        status = fix_status(fleet, device, point, now_epoch, owner)
        until = min(valid_until(fleet, device, point, now_epoch), now_epoch + MAX_REUSE_S)
        activity = owner[1] if owner is not None else None
        driving = activity is not None and activity.active and epoch <= activity.last_epoch
        parked_until = 0 if traced or driving else departure(fleet, device, epoch) - PARK_MARGIN_S
        hb = status.hb_epoch
        entry = location_item(device, status, self.shapes)
        drive = None
        if driving:
            drive = Drive(device, activity, fleet.settings.seed, entry, self.shapes.battery_key)
        return [
            now_epoch,
            until,
            beats.after(hb),
            entry,
            epoch,
            hb,
            drive,
            parked_until,
            owner,
            None,
            beats,
            None,
            None,
        ]

    def _drive_on(self, cursor: list, now_epoch: int) -> bool:
        """Move a driving vehicle's entry to its newest fix in place (most of a sweep's work)."""
        drive: Drive | None = cursor[DRIVING]
        if drive is None or now_epoch < cursor[FROM] or now_epoch >= drive.last_epoch:
            return False
        index = drive.index_at(now_epoch)
        epoch = drive.epochs[index]
        if epoch <= cursor[FIX]:
            return False
        beats: Beats = cursor[BEATS]
        released = beats.release(epoch // BLOCK_S)
        if released is not None and released > now_epoch:
            return False
        hb = max(epoch, cursor[HB]) if now_epoch < cursor[BEAT_DUE] else max(beats.before(now_epoch), epoch)
        cursor[JSON], cursor[PIECES] = drive.text(index, now_epoch - hb <= ONLINE_WITHIN_S, hb), None
        cursor[ENTRY], cursor[FROM], cursor[UNTIL] = _UNPARSED, now_epoch, drive.following(index)
        cursor[FIX], cursor[HB], cursor[BEAT_DUE] = epoch, hb, beats.after(hb)
        return True

    def _park_on(self, device: Device, cursor: list, now_epoch: int) -> bool:
        """Move a parked vehicle's entry to its next parked upload (same day, before it drives off)."""
        if cursor[DRIVING] is not None or cursor[OWNER] is None or now_epoch < cursor[FROM]:
            return False
        if now_epoch >= cursor[PARKED_UNTIL] + PARK_MARGIN_S:
            return False  # it has driven off since: the newest fix is a driving one
        beats: Beats = cursor[BEATS]
        interval, fleet = device.habits.parked_interval_s, self.fleet
        epoch = now_epoch - (now_epoch - beats.key % interval) % interval
        if (
            epoch <= cursor[FIX]
            or epoch >= cursor[PARKED_UNTIL]
            or local_ordinal(epoch) != local_ordinal(cursor[FIX])
        ):
            return False
        for block in range(cursor[FIX] // BLOCK_S, now_epoch // BLOCK_S + 1):
            released = beats.release(block)
            if released is not None and released > now_epoch:
                return False  # a late block in between: the general path sorts out what is visible
        park: Park | None = cursor[PARKED]
        if park is None:
            entry = cursor[ENTRY]
            if entry is _UNPARSED:
                entry = orjson.loads(cursor[JSON])
            park = cursor[PARKED] = Park(
                device, fleet.settings.seed, cursor[OWNER], entry, self.shapes.battery_key
            )
        hb = max(beats.before(now_epoch), epoch)
        cursor[JSON], cursor[PIECES] = park.text(epoch, now_epoch - hb <= ONLINE_WITHIN_S, hb), None
        cursor[ENTRY], cursor[FROM], cursor[FIX], cursor[HB] = _UNPARSED, now_epoch, epoch, hb
        cursor[UNTIL] = min(epoch + interval, cursor[PARKED_UNTIL] + PARK_MARGIN_S)
        cursor[BEAT_DUE] = beats.after(hb)
        return True

    def _beat(self, cursor: list, now_epoch: int) -> None:
        beats: Beats = cursor[BEATS]
        hb = max(beats.before(now_epoch), cursor[FIX])
        text, online = epoch_text(hb), now_epoch - hb <= ONLINE_WITHIN_S
        if cursor[JSON] is None:
            entry = cursor[ENTRY]
            entry["hbTime"], entry["status"] = text, "1" if online else "0"
        else:  # patch the two fields in the JSON rather than re-serialise; the dict is parsed back if asked
            _patch(cursor, _STATUS[online], text.encode())
            cursor[ENTRY] = _UNPARSED
        cursor[HB], cursor[BEAT_DUE] = hb, beats.after(hb)


def _patch(cursor: list, status: bytes, hb_time: bytes) -> None:
    """Re-join an entry's JSON around new `status` and `hbTime` values.

    The JSON is cut into pieces only at its first heartbeat: a driving vehicle's entry changes every sweep
    and is never patched, so cutting it up front would be wasted work.
    """
    pieces = cursor[PIECES]
    if pieces is None:
        cut, rest = [], cursor[JSON]
        for key in (b'"status":"', b'"hbTime":"'):
            start = rest.index(key) + len(key)
            end = rest.index(b'"', start)
            cut.append(rest[:start])
            rest = rest[end:]
        pieces = cursor[PIECES] = (cut[0], cut[1], rest)
    cursor[JSON] = b"".join((pieces[0], status, pieces[1], hb_time, pieces[2]))
