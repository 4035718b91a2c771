"""Ground truth export, trace replay, late fixes, and sensor/alarm consistency with the movement."""

from __future__ import annotations

import csv
import itertools
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sim_support import Sim

from sources.jimi.signing import format_time
from sources.jimi_sim import cli as sim_cli
from sources.jimi_sim import timetext
from sources.jimi_sim.api.locations import drive as sweep_drive
from sources.jimi_sim.settings import EXACT, SimSettings
from sources.jimi_sim.truth import FILES, export_truth
from sources.jimi_sim.world import rand
from sources.jimi_sim.world.delivery import BLOCK_S, Delivery
from sources.jimi_sim.world.fleet import Fleet

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = (datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 19, tzinfo=UTC))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_truth_writes_exact_fleet_records_when_window_given(tmp_path: Path) -> None:
    fleet = Fleet(SimSettings(now=NOW, devices=4))
    counts = export_truth(fleet, *DAY, tmp_path)
    for name, header in FILES.items():
        assert (tmp_path / name).read_text().splitlines()[0] == ",".join(header)
    points = _rows(tmp_path / "points.csv")
    imei = fleet.devices[0].imei
    expected = fleet.points(imei, *DAY)
    mine = [row for row in points if row["imei"] == imei]
    assert counts["points.csv"] == len(points) and len(mine) == len(expected)
    assert mine[0] == {
        "imei": imei,
        "gps_time": format_time(expected[0].gps_time),
        "lat": f"{expected[0].lat:.6f}",
        "lng": f"{expected[0].lng:.6f}",
        "speed_kmh": f"{expected[0].speed_kmh:.1f}",
        "acc": str(int(expected[0].acc)),
    }
    trips = [row for row in _rows(tmp_path / "trips.csv") if row["imei"] == imei]
    assert [float(r["distance_km"]) for r in trips] == pytest.approx(
        [t.distance_km for t in fleet.records.trips(imei, *DAY)]
    )
    assert {row["kind"] for row in _rows(tmp_path / "stops.csv")} <= {"parking", "idling"}
    alarms = _rows(tmp_path / "alarms.csv")
    assert alarms and all(
        DAY[0] <= datetime.fromisoformat(r["alarm_time"] + "+00:00") < DAY[1] for r in alarms
    )


def test_cli_truth_uses_serve_defaults_when_only_window_given(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sim_cli.main,
        [
            "truth",
            "--from",
            "2026-11-18 00:00:00",
            "--to",
            "2026-11-18 06:00:00",
            "--out",
            str(tmp_path),
            "--now",
            "2026-11-20 12:00:00",
        ],
    )
    assert result.exit_code == 0, result.output
    imeis = {row["imei"] for row in _rows(tmp_path / "points.csv")}
    assert imeis == {d.imei for d in Fleet(SimSettings()).devices if d.habits.reporting}


def _trace(path: Path, imei: str = "358899051234567") -> Path:
    """A short drive: parked 10 min, 20 min driving north at ~36 km/h, parked 10 min (ignition off)."""
    start = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    lines = ["imei,gps_time,lat,lng,speed_kmh,direction,acc"]
    for k in range(0, 2400, 30):
        driving = 600 <= k < 1800
        lat = -1.30 + 0.0001 * (min(max(k, 600), 1800) - 600) / 1.0
        lines.append(
            f"{imei},{format_time(start + timedelta(seconds=k))},{lat:.6f},36.8,"
            f"{36.0 if driving else 0.0},0,{1 if 600 <= k < 1830 else 0}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trace_device_is_served_like_any_other_when_loaded(tmp_path: Path) -> None:
    trace = _trace(tmp_path / "drive.csv")
    sim = Sim(devices=2, traces=(str(trace),))
    token, imei = sim.token(), "358899051234567"
    listed = sim.call("jimi.user.device.list", access_token=token, target="sim_fleet")["result"]
    assert [d["imei"] for d in listed][-1] == imei
    points = sim.track(imei, datetime(2026, 11, 19, 7, tzinfo=UTC), datetime(2026, 11, 19, 9, tzinfo=UTC))[
        "result"
    ]
    assert (
        len(points) == 80 and points[0]["gpsTime"] == "2026-11-19 08:00:00" and points[30]["gpsSpeed"] == 36
    )
    trips = sim.call(
        "jimi.device.track.mileage",
        access_token=token,
        imeis=imei,
        begin_time="2026-11-19 07:00:00",
        end_time="2026-11-19 10:00:00",
    )["result"]
    assert len(trips) == 1 and (trips[0]["startTime"], trips[0]["endTime"]) == (
        "2026-11-19 08:09:30",
        "2026-11-19 08:30:00",
    )
    assert trips[0]["distance"] == pytest.approx(13.3, abs=0.2)
    parking = sim.call(
        "jimi.open.platform.report.parking",
        access_token=token,
        account="sim_fleet",
        imeis=imei,
        start_time="2026-11-19 07:00:00",
        end_time="2026-11-19 10:00:00",
        start_row=1,
        page_size=10,
        acc_type="off",
    )["data"]["rows"]
    assert [row["startTime"] for row in parking] == ["2026-11-19T08:00:00.000Z", "2026-11-19T08:30:00.000Z"]
    latest = sim.call("jimi.device.location.get", access_token=token, imeis=imei)["result"][0]
    assert (latest["gpsTime"], latest["accStatus"]) == ("2026-11-19 08:39:30", "0")


def test_trace_refuses_file_when_header_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("imei,time,lat\n1,2,3\n")
    with pytest.raises(ValueError, match="the header must be"):
        Fleet(SimSettings(traces=(str(bad),)))


def test_late_blocks_cover_about_11_percent_with_6_hour_median_when_default() -> None:
    delivery = Delivery(7, 0.11, 6 * 3600.0, 7 * 86400.0)
    delays = [
        release - (block + 1) * BLOCK_S
        for imei in range(200)
        for block, release in delivery.late_in_day(imei, 20_000).items()
    ]
    share = len(delays) / (200 * 48)
    assert 0.10 <= share <= 0.12
    assert 4.5 * 3600 <= statistics.median(delays) <= 7.5 * 3600 and max(delays) <= 7 * 86400


def test_visible_points_hide_late_blocks_until_release_when_late_on() -> None:
    fleet = Fleet(SimSettings(now=NOW, devices=6))
    window = (NOW - timedelta(days=1), NOW)
    for device in fleet.devices[:5]:
        truth = fleet.points(device.imei, *window)
        visible = fleet.visible_points(device.imei, *window)
        assert set(visible) <= set(truth) and visible == sorted(visible)
        later = fleet.visible_points(device.imei, *window, as_of=NOW + timedelta(days=8))
        assert later == truth  # everything has arrived a week later
    hidden = sum(
        len(fleet.points(d.imei, *window)) - len(fleet.visible_points(d.imei, *window)) for d in fleet.devices
    )
    assert hidden > 0


def test_obd_readings_follow_the_drive_when_obd_dongle() -> None:
    fleet = Fleet(SimSettings(now=NOW, **EXACT))
    device = fleet.devices[2]
    days = [(DAY[0] - timedelta(days=k), DAY[1] - timedelta(days=k)) for k in range(7)]
    window = next(day for day in days if fleet.records.trips(device.imei, *day))  # a working day
    readings = fleet.records.obd(device.imei, *window)
    assert device.role == "obd" and len(readings) > 100
    trips = fleet.records.trips(device.imei, *window)
    first = [
        r for r in readings if trips[0].start_time.timestamp() <= r.epoch <= trips[0].end_time.timestamp()
    ]
    assert first[0].coolant_c < 40 and max(r.coolant_c for r in first) > 80  # a cold start warming up
    assert all(r.rpm < 1000 for r in readings if r.speed_kmh == 0) and all(
        r.rpm > 1000 for r in readings if r.speed_kmh > 30
    )
    assert all(
        b.odometer_km >= a.odometer_km and b.fuel_pct <= a.fuel_pct for a, b in itertools.pairwise(first)
    )
    drop = first[0].odometer_km - first[-1].odometer_km
    assert -drop == pytest.approx(trips[0].distance_km, abs=1.5)
    assert all(130 <= r.battery_dv <= 145 for r in readings)


def test_alarms_sit_on_recorded_fixes_when_generated() -> None:
    fleet = Fleet(SimSettings(now=NOW))
    for device in fleet.devices[:8]:
        fixes = {(int(p.gps_time.timestamp()), p.lat, p.lng) for p in fleet.points(device.imei, *DAY)}
        for alarm in fleet.records.alarms(device.imei, *DAY):
            if alarm.type_id not in ("2", "90"):  # night alarms sit at the base, between parked uploads
                assert (alarm.fix_epoch, alarm.lat, alarm.lng) in fixes
            if alarm.type_id in ("6", "135"):
                assert alarm.speed_kmh > device.equipment.speed_limit_kmh
    kinds = {
        a.type_id for d in fleet.devices for a in fleet.records.alarms(d.imei, NOW - timedelta(days=7), NOW)
    }
    assert {"in", "out", "6", "41", "48"} <= kinds


def test_location_sweeps_equal_fresh_answers_when_cached_over_time() -> None:
    cached = Sim(devices=40, late_share=0.11)
    token = cached.token()
    for _ in range(7):
        cached.clock.advance(97)
        got = cached.call("jimi.user.device.location.list", access_token=token, target="sim_fleet")["result"]
        fresh = Sim(devices=40, late_share=0.11, now=cached.clock.now())
        assert (
            got
            == fresh.call("jimi.user.device.location.list", access_token=fresh.token(), target="sim_fleet")[
                "result"
            ]
        )


def test_sweep_fast_path_helpers_equal_general_ones_when_compared() -> None:
    # The driving fast path relies on these twins writing exactly what the general path writes.
    for epoch in [0, 59, 86399, 86400, 1_795_000_000, *range(1_795_046_400, 1_795_046_400 + 86400, 997)]:
        assert sweep_drive.epoch_text(epoch) == timetext.epoch_text(epoch)
    for a, b, c in itertools.product((0, 7, 2**63 + 5), (869247060000123, 1), (1_795_046_437, 3)):
        assert sweep_drive.quick3(a, b, c) == rand.quick(a, b, c)


def test_drive_sensors_and_fix_lookup_equal_general_ones_when_every_fix_of_a_day_is_asked() -> None:
    # The driving fast path computes fuel and cargo temperature from the day it gathered once, and finds the
    # newest fix by stepping from the previous answer: each must equal the general code for every fix.
    from bisect import bisect_right

    from sources.jimi_sim.world.vehicle import cargo, fuel_pct

    fleet = Fleet(SimSettings(devices=60))
    noon = int(datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp())
    checked = {"fuel": 0, "reefer": 0}
    for device in fleet.devices:
        if device.role not in checked or not device.habits.reporting:
            continue
        _, activity = fleet.owner(device.imei, noon)
        if activity is None or not activity.active:
            continue
        entry = {
            "imei": device.imei,
            "deviceName": "",
            "icon": "",
            "activationFlag": "1",
            "expireFlag": "1",
            "temperature": None,
            "trackerOil": None,
            "locDesc": None,
        }
        drive = sweep_drive.Drive(device, activity, fleet.settings.seed, entry, "electQuantity")
        epochs = list(activity.fixes.epochs)
        for epoch in range(epochs[0] - 5, activity.last_epoch + 5, 7):
            index = drive.index_at(epoch)
            assert index == bisect_right(epochs, epoch) - 1
            if index < 0:
                continue
            fix = epochs[index]
            if device.role == "fuel":
                assert drive.fuel_pct(index) == fuel_pct(device, activity, fix)
            else:
                assert drive.cargo_c(fix) == cargo(fleet.settings.seed, device, activity, fix)[0]
            checked[device.role] += 1
        assert drive.index_at(epochs[0] + 1) == bisect_right(epochs, epochs[0] + 1) - 1  # backwards too
    assert checked["fuel"] > 1000 and checked["reefer"] > 1000


def test_location_sweeps_equal_fresh_answers_when_driving_minute_by_minute() -> None:
    # Midday: many vehicles drive, so most entries move through the driving fast path between sweeps.
    start = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    cached = Sim(devices=50, late_share=0.11, now=start)
    token = cached.token()
    cached.call("jimi.user.device.location.list", access_token=token, target="sim_fleet")
    for _ in range(4):
        cached.clock.advance(60)
        got = cached.call("jimi.user.device.location.list", access_token=token, target="sim_fleet")["result"]
        fresh = Sim(devices=50, late_share=0.11, now=cached.clock.now())
        expected = fresh.call(
            "jimi.user.device.location.list", access_token=fresh.token(), target="sim_fleet"
        )
        assert got == expected["result"]
