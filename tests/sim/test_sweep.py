"""Fleet sweeps: the fast paths (driving JSON, heartbeat grid, devices left until due) answer exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from sources.jimi_sim.api.locations.beats import Beats
from sources.jimi_sim.api.locations.drive import Drive, json_number
from sources.jimi_sim.api.locations.park import Park
from sources.jimi_sim.api.methods import METHODS
from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.wire.devices import location_item
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.driving.daylife import stationary_point
from sources.jimi_sim.world.fleet import Fleet
from sources.jimi_sim.world.rand import noise, noise_from, noise_pair, noise_state
from sources.jimi_sim.world.status import HEARTBEAT_S, ONLINE_WITHIN_S, fix_status, heartbeat_before

NOON = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi, a Wednesday: much of the fleet drives
LOCATION_LIST, LOCATION_GET = "jimi.user.device.location.list", "jimi.device.location.get"


def test_drive_text_equals_general_entry_json_when_every_third_fix_of_a_day_is_written() -> None:
    fleet = Fleet(SimSettings(devices=60, now=NOON + timedelta(days=1)))
    noon = int(NOON.timestamp())
    checked: dict[str, int] = {}
    for number, device in enumerate(fleet.devices):
        day, activity = fleet.owner(device.imei, noon)
        if activity is None or not activity.active:
            continue
        shapes = Shapes(battery_key="elecQuantity" if number % 2 else "electQuantity")
        fixes = activity.fixes

        def general(index: int, now: int, device=device, owner=(day, activity), shapes=shapes) -> dict:
            status = fix_status(fleet, device, owner[1].fixes.point(index), now, owner)
            return location_item(device, status, shapes)

        drive = Drive(device, activity, fleet.settings.seed, general(0, fixes.epochs[0]), shapes.battery_key)
        for index in range(0, len(fixes), 3):
            epoch = fixes.epochs[index]
            for now in (epoch, epoch + 250, epoch + 700):  # hbTime at the fix, a later beat, off line
                hb = max(heartbeat_before(fleet, device, now), epoch)
                written = drive.text(index, now - hb <= ONLINE_WITHIN_S, hb)
                assert written == orjson.dumps(general(index, now))
            checked[device.role] = checked.get(device.role, 0) + 1
    assert min(checked.get(role, 0) for role in ("tracker", "fuel", "reefer", "obd")) > 100


def test_park_text_equals_general_entry_json_when_parked_uploads_of_an_evening_and_a_morning() -> None:
    fleet = Fleet(SimSettings(devices=60, now=NOON + timedelta(days=1)))
    seed, checked = fleet.settings.seed, {}
    for number, device in enumerate(fleet.devices):
        shapes = Shapes(battery_key="elecQuantity" if number % 2 else "electQuantity")
        interval, key = device.habits.parked_interval_s, int(device.imei)
        for start in (NOON + timedelta(hours=9), NOON - timedelta(hours=6, minutes=30)):
            first = int(start.timestamp())
            first -= (first - key % interval) % interval  # on the parked upload grid
            owner = fleet.owner(device.imei, first)
            park = None
            for epoch in range(first, first + 40 * interval, interval):
                for now in (epoch, epoch + 250, epoch + 700):
                    point = stationary_point(seed, device, epoch, device.habits.base, False, 0)
                    entry = location_item(device, fix_status(fleet, device, point, now, owner), shapes)
                    park = park or Park(device, seed, owner, entry, shapes.battery_key)
                    hb = max(heartbeat_before(fleet, device, now), epoch)
                    assert park.text(epoch, now - hb <= ONLINE_WITHIN_S, hb) == orjson.dumps(entry)
                checked[device.role] = checked.get(device.role, 0) + 1
    assert min(checked.get(role, 0) for role in ("tracker", "fuel", "reefer", "obd")) > 100


def test_json_number_equals_orjson_when_tiny_huge_or_ordinary() -> None:
    values = [0.0, -0.0, 1.0, -1.342154, 36.815058, 1e-4, 9.99e-5, -3.2e-5, 1e-9, 1e15, 1e16, 2.5e17]
    for value in [*values, 0.1 + 0.2, float("nan"), float("inf")]:
        assert json_number(value).encode() == orjson.dumps(value)


def test_beats_equal_status_and_delivery_when_late_blocks_are_common() -> None:
    fleet = Fleet(SimSettings(devices=6, late_share=0.5, now=NOON))
    start = int(NOON.timestamp()) - 3 * 86400
    late_seen = 0
    for device in fleet.devices:
        beats, key = Beats(fleet.delivery, device.imei), int(device.imei)
        for epoch in range(start, start + 3 * 86400, 97):
            assert beats.before(epoch) == heartbeat_before(fleet, device, epoch)
            assert beats.release(epoch // 1800) == fleet.delivery.release(key, epoch // 1800)
            following = beats.after(epoch)
            assert epoch < following <= epoch + HEARTBEAT_S and (following - key) % HEARTBEAT_S == 0
            late_seen += beats.release(epoch // 1800) is not None
    assert late_seen > 1000


def test_noise_from_and_pair_equal_noise_when_leading_keys_are_hashed_once() -> None:
    for a, b, c, d in [(7, 869247060000123, 29_916_000, 82), (0, 1, 2, 3), (2**63 + 5, 9, 2**64 + 1, 0)]:
        assert noise_from(noise_state(a, b), c, d) == noise(a, b, c, d)
        assert noise_from(noise_state(a), b, c) == noise(a, b, c)
        assert noise_pair(a, b, c) == (noise(a, b, c, 1), noise(a, b, c, 2))


def test_location_answers_equal_fresh_bytes_when_swept_with_gets_between_and_clock_set_back() -> None:
    # A fresh simulator on the same fleet renders every entry through the general path: the cached sweep
    # (fast paths, devices skipped until due, entries kept as JSON) must give the same bytes at every tick.
    cached = Simulator.build(SimSettings(devices=60, late_share=0.3, now=NOON))
    target = {"target": cached.settings.user_id}
    some = {"imeis": ",".join(device.imei for device in cached.fleet.devices[::4])}
    steps = [0, 60, 60, 60, 45, 600, 60, -900, 60, 3 * 3600, 60]

    def fresh(method: str, params: dict[str, str]) -> bytes:
        return _body(METHODS[method].handler(Simulator.build(cached.settings, cached.fleet), params))

    for number, step in enumerate(steps):
        cached.clock.advance(step)
        if number % 3 == 1:  # location.get moves some cursors on before the next fleet sweep
            assert _body(METHODS[LOCATION_GET].handler(cached, some)) == fresh(LOCATION_GET, some)
            cached.clock.advance(30)
        assert _body(METHODS[LOCATION_LIST].handler(cached, target)) == fresh(LOCATION_LIST, target)


def _body(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return orjson.dumps({"code": 0, "message": "success", **payload})  # type: ignore[dict-item]
