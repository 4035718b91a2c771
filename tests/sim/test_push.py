"""The push sender: every family in the IoT Hub format, retries then drops, push faults, late re-uploads."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sources.jimi_sim import cli as sim_cli
from sources.jimi_sim.faults import parse_faults
from sources.jimi_sim.push.feed import FAMILIES
from sources.jimi_sim.push.sender import PushSender
from sources.jimi_sim.settings import EXACT, SimSettings
from sources.jimi_sim.world.fleet import Fleet

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = (NOW - timedelta(hours=6), NOW)


class Receiver:
    """A push receiver that records batches and can fail the first N posts to each path."""

    def __init__(self, fail_first: int = 0, status: int = 200) -> None:
        self.batches: dict[str, list[list[dict]]] = defaultdict(list)
        self.posts: dict[str, int] = defaultdict(int)
        self.fail_first, self.status = fail_first, status
        self.app = Starlette(routes=[Route("/{family}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        family = request.path_params["family"]
        self.posts[family] += 1
        if self.posts[family] <= self.fail_first:
            return JSONResponse({"code": 500, "msg": "busy"}, status_code=self.status)
        form = await request.form()
        assert form["token"] == "sim-push-token"
        self.batches[family].append(orjson.loads(form["data_list"]))
        return JSONResponse({"code": 0, "msg": "success"})

    def items(self, family: str) -> list[dict]:
        return [item for batch in self.batches[family] for item in batch]


def _send(receiver: Receiver, settings: SimSettings, **kwargs: object):
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app), base_url="http://rx")
    sender = PushSender(settings, "http://rx", client=client, **kwargs)  # type: ignore[arg-type]
    return asyncio.run(sender.replay(*WINDOW))


@pytest.fixture(scope="module")
def delivered() -> tuple[Receiver, object]:
    receiver = Receiver()
    stats = _send(receiver, SimSettings(now=NOW, devices=25))
    return receiver, stats


def test_push_delivers_every_family_in_batches_of_50_when_replaying(delivered) -> None:
    receiver, stats = delivered
    assert set(receiver.batches) == set(FAMILIES) - {"pushfaultinfo"} or set(receiver.batches) == set(
        FAMILIES
    )
    assert all(len(batch) <= 50 for batches in receiver.batches.values() for batch in batches)
    assert stats.dropped == 0 and stats.retries == 0 and stats.delivered == stats.batches


def test_push_items_have_reference_types_when_delivered(delivered) -> None:
    receiver, _ = delivered
    gps = receiver.items("pushgps")[0]
    assert {
        type(gps[k]) for k in ("gpsSpeed", "direction", "acc", "postType", "satelliteNum", "distance")
    } == {int}
    assert type(gps["deviceImei"]) is str and type(gps["lat"]) is float and gps["gpsMode"] in (0, 1)
    alarm = receiver.items("pushalarm")[0]
    assert (
        alarm["type"] == "DEVICE"
        and "imei" in alarm
        and "deviceImei" not in alarm
        and "alertType" in alarm["msg"]
    )
    lbs = receiver.items("pushlbs")[0]
    assert json.loads(lbs["lbsJson"])["mcc"] == 639 and lbs["postType"] == "LBS"
    hb = receiver.items("pushhb")[0]
    assert set(hb) >= {
        "deviceImei",
        "gateTime",
        "powerLevel",
        "gsmSign",
        "acc",
        "oilEle",
        "gpsPos",
        "fortify",
    }
    assert {e["type"] for e in receiver.items("pushevent")} <= {"LOGIN", "LOGOUT"}
    assert isinstance(receiver.items("pushobd")[0]["obdJson"], dict)
    trip = receiver.items("pushtripreport")[0]
    assert len(trip["beginTime"]) == 12 and trip["properties"] in (1, 2)
    assert receiver.items("pushoil")[0]["unit"] == "%" and "tem" in receiver.items("pushtem")[0]


def test_push_gps_matches_recorded_fixes_when_exact(delivered) -> None:
    exact = Receiver()
    settings = SimSettings(now=NOW, devices=3, **EXACT)
    _send(exact, settings, families=("pushgps",))

    fleet = Fleet(settings)
    expected = sorted((d.imei, p.gps_time) for d in fleet.devices for p in fleet.points(d.imei, *WINDOW))
    got = sorted(
        (i["deviceImei"], datetime.fromisoformat(i["gpsTime"] + "+00:00")) for i in exact.items("pushgps")
    )
    assert got == expected and all(i["gpsMode"] == 0 for i in exact.items("pushgps"))


def test_push_reuploads_late_blocks_with_gps_mode_1_when_late_share_on(delivered) -> None:
    receiver, _ = delivered
    late = [i for i in receiver.items("pushgps") if i["gpsMode"] == 1]
    assert late and all(i["gateTime"] > i["gpsTime"] for i in late)


def test_push_retries_three_times_then_drops_when_receiver_keeps_failing() -> None:
    receiver = Receiver(fail_first=10**6)
    stats = _send(receiver, SimSettings(now=NOW, devices=1), families=("pushevent",), retry_interval_s=0.01)
    batches = stats.batches
    assert batches >= 1 and stats.retries == 3 * batches and stats.dropped == batches and stats.delivered == 0
    assert receiver.posts["pushevent"] == 4 * batches


def test_push_delivers_on_retry_when_receiver_recovers() -> None:
    receiver = Receiver(fail_first=2, status=503)
    stats = _send(receiver, SimSettings(now=NOW, devices=1), families=("pushevent",), retry_interval_s=0.01)
    assert stats.dropped == 0 and stats.retries == 2 and receiver.items("pushevent")


def test_push_duplicates_and_breaks_batches_when_push_faults_on() -> None:
    settings = SimSettings(now=NOW, devices=2, faults=parse_faults("push_duplicate=0.3,push_malformed=0.3"))
    first, second = Receiver(), Receiver()
    stats = _send(first, settings, families=("pushhb",))
    _send(second, settings, families=("pushhb",))
    assert stats.duplicates > 0 and stats.malformed > 0
    assert first.batches == second.batches  # the same seed, the same faults
    items = first.items("pushhb")
    assert any(
        "deviceImei" not in item
        or item.get("gateTime", "").startswith("2026-13")
        or item.get("powerLevel") == "n/a"
        for item in items
    )


def test_cli_push_accepts_to_url_and_to_time_when_window_given(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    async def replay(self, start, end):
        seen.update(base=self.base_url, start=start, end=end, token=self.token)
        return self.stats

    monkeypatch.setattr(PushSender, "replay", replay)
    result = CliRunner().invoke(
        sim_cli.main,
        [
            "push",
            "--to",
            "http://127.0.0.1:9/",
            "--token",
            "T",
            "--devices",
            "1",
            "--from",
            "2026-11-19 00:00:00",
            "--to",
            "2026-11-19 06:00:00",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen == {
        "base": "http://127.0.0.1:9",
        "start": datetime(2026, 11, 19, tzinfo=UTC),
        "end": datetime(2026, 11, 19, 6, tzinfo=UTC),
        "token": "T",
    }
