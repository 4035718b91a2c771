"""Fuzzing the receiver (hypothesis): no input gets a 5xx, refused input lands nothing, accepted input lands exactly."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sources.jimi_push import settings as push_settings
from sources.jimi_push.forms import parse_urlencoded
from sources.jimi_push.journal import JOURNAL_DIR
from sources.jimi_push.receiver import create_app

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

TOKEN = "fuzz-token"
LIMIT = 16 * 1024

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
items = st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=6), max_size=5)
data_lists = st.one_of(
    items.map(lambda value: orjson.dumps(value).decode()),
    items.map(lambda value: orjson.dumps(value).decode()),
    json_values.map(lambda value: orjson.dumps(value).decode()),
    st.text(max_size=60),
)
tokens = st.one_of(st.just(TOKEN), st.just(TOKEN), st.just(TOKEN), st.text(max_size=12), st.none())
# Weighted towards input that gets past the first checks, so the deeper ones are fuzzed too.
paths = st.one_of(
    st.sampled_from(push_settings.PUSH_PATHS),
    st.sampled_from(push_settings.PUSH_PATHS),
    st.sampled_from(["health", "nope", "pushgps/x", "PUSHGPS", ""]),
)
FORM = "application/x-www-form-urlencoded"
content_types = st.sampled_from(
    [FORM, FORM, FORM, FORM, "multipart/form-data; boundary=b0undary", "application/json", "text/plain", None]
)


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["form", "form", "form", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=300))
    fields = []
    token = draw(tokens)
    if token is not None:
        fields.append(("token", token))
    if draw(st.integers(0, 4)):
        fields.append(("data_list", draw(data_lists)))
    fields += draw(
        st.lists(st.tuples(st.sampled_from(["msgType", "extra", "token"]), st.text(max_size=8)), max_size=2)
    )
    return urlencode(fields).encode()


def files_in(landing: Path) -> set[Path]:
    # Landed files only: the receiver's write-ahead journal (`.journal/`) is not landed data.
    return (
        {file for file in landing.rglob("*") if file.is_file() and JOURNAL_DIR not in file.parts}
        if landing.exists()
        else set()
    )


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=paths,
    content_type=content_types,
    body=bodies(),
    method=st.sampled_from(["POST"] * 8 + ["GET", "PUT"]),
)
def test_receiver_never_answers_5xx_and_lands_only_accepted_input_when_fuzzed(
    tmp_path_factory, path, content_type, body, method
):
    landing = tmp_path_factory.getbasetemp() / "fuzz-landing"
    client = _client(landing)
    before = files_in(landing)
    headers = {"content-type": content_type} if content_type else {}
    response = client.request(method, f"/{path}", content=body, headers=headers)
    new = files_in(landing) - before
    event(f"status {response.status_code}, landed {len(new)}")
    assert response.status_code < 500
    answer = response.json()
    if response.status_code == 200 and path != "health":
        assert answer == {"code": 0, "msg": "success"}
        assert len(new) <= 1
        for file in new:
            document = orjson.loads(file.read_bytes())
            assert document["path"] == path and document["item_count"] == len(document["items"]) > 0
            assert all(isinstance(item, dict) for item in document["items"])
            assert TOKEN not in file.read_text()
    else:
        assert 400 <= response.status_code < 500 or path == "health"
        assert answer["code"] != 0 or path == "health"
        assert isinstance(answer["msg"], str) and answer["msg"]
        assert new == set()


_clients: dict[Path, TestClient] = {}


def _client(landing: Path) -> TestClient:
    if landing not in _clients:
        _clients[landing] = TestClient(create_app(landing, TOKEN, max_body_bytes=LIMIT))
    return _clients[landing]


escape_pieces = st.sampled_from(
    [
        b"%",
        b"2",
        b"C",
        b"c",
        b"G",
        b"=",
        b"\n",
        b"\r",
        b" ",
        b"+",
        b"a",
        b"&",
        b"%2",
        b"%2C",
        b"%3D",
        b"%e2%82%ac",
        b"%FF",
        b"_",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(body=st.lists(escape_pieces, max_size=16).map(b"".join))
def test_fast_form_decoding_equals_parse_qsl_when_given_any_body(body: bytes):
    try:
        expected = parse_qsl(
            body.decode("ascii", "surrogateescape"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=32,
        )
    except (ValueError, UnicodeError):
        expected = None
    try:
        decoded = parse_urlencoded(body, 32)
    except ValueError:
        decoded = None
    assert decoded == expected
