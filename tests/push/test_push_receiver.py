"""The push receiver: every path lands its sample durably; every refusal is a clear 4xx that lands nothing."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from push_samples import SAMPLES, form
from starlette.testclient import TestClient

from sources.jimi_push import settings
from sources.jimi_push.cli import main as push_cli
from sources.jimi_push.journal import JOURNAL_DIR
from sources.jimi_push.receiver import create_app

TOKEN = "s3cret-push-tøken"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def client(landing: Path) -> TestClient:
    return TestClient(create_app(landing, TOKEN, max_body_bytes=64 * 1024))


def landed(landing: Path) -> list[Path]:
    # Landed files only: the receiver's write-ahead journal (`.journal/`) is not landed data.
    return (
        sorted(file for file in landing.rglob("*") if file.is_file() and JOURNAL_DIR not in file.parts)
        if landing.exists()
        else []
    )


def test_every_push_path_of_the_reference_has_a_sample_when_listed():
    assert set(SAMPLES) == set(settings.PUSH_PATHS)
    assert len(settings.PUSH_PATHS) == 23


@pytest.mark.parametrize("path", settings.PUSH_PATHS)
def test_receiver_lands_one_envelope_when_path_gets_its_sample(client: TestClient, landing: Path, path: str):
    before = datetime.now(UTC)
    response = client.post(f"/{path}", data=form(path, TOKEN))
    assert (response.status_code, response.content) == (200, b'{"code":0,"msg":"success"}')
    [file] = landed(landing)
    day = file.parent.name
    assert file.parent.parent == landing / path
    assert day == datetime.now(UTC).strftime("%Y-%m-%d") or day == before.strftime("%Y-%m-%d")
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{32}\.json", file.name)
    document = orjson.loads(file.read_bytes())
    assert set(document) == {"path", "received_at", "id", "item_count", "fields", "items"}
    assert document["path"] == path
    assert document["item_count"] == len(SAMPLES[path])
    assert document["items"] == SAMPLES[path]
    assert document["fields"] == ({"msgType": "2"} if path == "pushInstructResponse" else {})
    received = datetime.strptime(document["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= received <= datetime.now(UTC)
    assert file.name.endswith(f"-{document['id']}.json")


def test_receiver_keeps_items_byte_for_byte_when_landing(client: TestClient, landing: Path):
    data_list = '[ {"deviceImei":"1","lng":36.822310,"lat":-1.291870,"gpsTime":"2025-03-04 06:01:30"} ]'
    response = client.post("/pushgps", data={"token": TOKEN, "data_list": data_list})
    assert response.status_code == 200
    [file] = landed(landing)
    assert file.read_bytes().endswith(b',"items":' + data_list.encode() + b"}\n")


def test_receiver_accepts_multipart_form_when_it_has_no_files(client: TestClient, landing: Path):
    response = client.post(
        "/pushhb", files={"token": (None, TOKEN), "data_list": (None, orjson.dumps(SAMPLES["pushhb"]))}
    )
    assert response.status_code == 200
    [file] = landed(landing)
    assert orjson.loads(file.read_bytes())["items"] == SAMPLES["pushhb"]


def test_receiver_wraps_one_object_when_path_is_instruct_response(client: TestClient, landing: Path):
    item = SAMPLES["pushInstructResponse"][0]
    response = client.post(
        "/pushInstructResponse",
        data={"token": TOKEN, "msgType": "1", "data_list": orjson.dumps(item).decode()},
    )
    assert response.status_code == 200
    [file] = landed(landing)
    document = orjson.loads(file.read_bytes())
    assert (document["items"], document["item_count"], document["fields"]) == ([item], 1, {"msgType": "1"})


def test_receiver_acknowledges_and_lands_nothing_when_data_list_is_empty(client: TestClient, landing: Path):
    response = client.post("/pushgps", data={"token": TOKEN, "data_list": "[]"})
    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "success"})
    assert landed(landing) == []


GOOD_LIST = orjson.dumps(SAMPLES["pushgps"]).decode()
REFUSALS = {
    "token missing": (
        "/pushgps",
        {"content": f"data_list={GOOD_LIST}", "headers": {"content-type": FORM}},
        401,
        "token is missing",
    ),
    "token empty": ("/pushgps", {"data": {"token": "", "data_list": GOOD_LIST}}, 401, "token is missing"),
    "token wrong": (
        "/pushgps",
        {"data": {"token": TOKEN + "x", "data_list": GOOD_LIST}},
        403,
        "token is wrong",
    ),
    "token twice": (
        "/pushgps",
        {"content": f"token={TOKEN}&token={TOKEN}&data_list=[]", "headers": {"content-type": FORM}},
        400,
        "token is given more than once",
    ),
    "json body": (
        "/pushgps",
        {"json": {"token": TOKEN, "data_list": SAMPLES["pushgps"]}},
        415,
        "the body must be a form (application/x-www-form-urlencoded or multipart/form-data)",
    ),
    "no content type": (
        "/pushgps",
        {"content": b"token=x"},
        415,
        "the body must be a form (application/x-www-form-urlencoded or multipart/form-data)",
    ),
    "not utf-8": (
        "/pushgps",
        {"content": b"token=%FF&data_list=[]", "headers": {"content-type": FORM}},
        400,
        "the form is not valid UTF-8 urlencoded data",
    ),
    "multipart file": (
        "/pushgps",
        {"files": {"data_list": ("a.json", GOOD_LIST.encode())}, "data": {"token": TOKEN}},
        400,
        "the body is not valid multipart form data without files",
    ),
    "multipart no boundary": (
        "/pushgps",
        {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
        400,
        "the body is not valid multipart form data without files",
    ),
    "data_list missing": ("/pushgps", {"data": {"token": TOKEN}}, 400, "data_list is missing"),
    "data_list not json": (
        "/pushgps",
        {"data": {"token": TOKEN, "data_list": "[{'a': 1}]"}},
        400,
        "data_list is not valid JSON",
    ),
    "data_list object": (
        "/pushgps",
        {"data": {"token": TOKEN, "data_list": '{"deviceImei": "1"}'}},
        400,
        "data_list must be a JSON array of objects",
    ),
    "data_list string": (
        "/pushgps",
        {"data": {"token": TOKEN, "data_list": '"[]"'}},
        400,
        "data_list must be a JSON array of objects",
    ),
    "data_list item not object": (
        "/pushgps",
        {"data": {"token": TOKEN, "data_list": '[{"a": 1}, 5]'}},
        400,
        "data_list item 1 is not an object",
    ),
    "body too large": (
        "/pushgps",
        {"data": {"token": TOKEN, "data_list": "[" + ",".join(['{"a": 1}'] * 20000) + "]"}},
        413,
        "the body is larger than 65536 bytes",
    ),
    "unknown path": ("/pushGPS", {"data": {"token": TOKEN, "data_list": GOOD_LIST}}, 404, "unknown path"),
    "path traversal": (
        "/pushgps/../../etc",
        {"data": {"token": TOKEN, "data_list": GOOD_LIST}},
        404,
        "unknown path",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_receiver_refuses_clearly_and_lands_nothing_when_input_is_bad(
    client: TestClient, landing: Path, case: str
):
    url, request, status, message = REFUSALS[case]
    response = client.post(url, **request)
    assert (response.status_code, response.json()) == (status, {"code": status, "msg": message})
    assert landed(landing) == []


def test_receiver_refuses_get_when_path_is_a_push(client: TestClient, landing: Path):
    response = client.get("/pushgps")
    assert (response.status_code, response.json()) == (
        405,
        {"code": 405, "msg": "method not allowed: pushes are POSTs"},
    )
    assert landed(landing) == []


def test_receiver_never_echoes_or_logs_the_token_when_refusing(
    client: TestClient, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + TOKEN
    response = client.post("/pushgps", data={"token": wrong, "data_list": "not json"})
    assert response.status_code == 403
    assert TOKEN not in response.text and "wrong-" not in response.text
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert [record.getMessage() for record in caplog.records if record.name == "jimi_push.receiver"] == [
        "refused /pushgps from testclient: token is wrong"
    ]


def test_receiver_answers_503_and_acknowledges_nothing_when_storage_fails(tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / settings.TMP_DIR).write_text("a file where the temporary folder should be")
    client = TestClient(create_app(landing, TOKEN))
    response = client.post("/pushgps", data=form("pushgps", TOKEN))
    assert (response.status_code, response.json()) == (
        503,
        {"code": 503, "msg": "the payload could not be stored; retry later"},
    )
    assert sorted(path.name for path in landing.rglob("*")) == [settings.TMP_DIR]


def test_health_answers_ok_when_receiver_runs(client: TestClient):
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "ok"})


def test_create_app_refuses_when_no_token_is_configured(landing: Path):
    with pytest.raises(ValueError, match="no push token configured"):
        create_app(landing, "")


def test_cli_serve_exits_2_when_token_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(settings.TOKEN_ENV, raising=False)
    result = CliRunner().invoke(push_cli, ["serve", "--landing", str(tmp_path / "landing")])
    assert result.exit_code == 2
    assert "set JIMI_PUSH_TOKEN" in result.output
    assert not (tmp_path / "landing").exists()
