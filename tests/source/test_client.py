"""The client's error handling, retries and token reuse, against scripted answers (httpx MockTransport)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import orjson
import pytest

from sources.jimi.client import ClientTuning, JimiClient
from sources.jimi.credentials import JimiCredentials
from sources.jimi.errors import JimiAuthError, JimiDeviceError, JimiRetriesExhausted
from sources.jimi.signing import sign
from sources.jimi.tokens import TokenCache

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CREDS = JimiCredentials(
    base_url="http://jimi.test/route/rest",
    app_key="key-1",
    app_secret="very-secret-app-secret",
    user_id="fleet",
    password_md5="0123456789abcdef0123456789abcdef",
)
TOKEN_OK = {"code": 0, "result": {"accessToken": "tok-1", "refreshToken": "tok-1", "expiresIn": 7200}}


class Script:
    """Answers each method from a queue of bodies (bytes or dicts) and records the forms received."""

    def __init__(self, answers: dict[str, list]) -> None:
        self.answers = answers
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        answer = self.answers[form["method"]].pop(0)
        if isinstance(answer, int):
            return httpx.Response(answer)
        return httpx.Response(200, content=answer if isinstance(answer, bytes) else orjson.dumps(answer))

    def methods(self) -> list[str]:
        return [form["method"] for form in self.forms]


def make_client(tmp_path, script: Script) -> JimiClient:
    cache = TokenCache(tmp_path, "test", clock=lambda: NOW, min_login_interval_s=0)
    return JimiClient(
        CREDS,
        cache,
        ClientTuning(max_attempts=5, backoff_s=0, calls_per_second=0),
        clock=lambda: NOW,
        transport=httpx.MockTransport(script),
    )


def test_client_signs_every_form_when_calling(tmp_path):
    script = Script(
        {"jimi.oauth.token.get": [TOKEN_OK], "jimi.user.device.list": [{"code": 0, "result": []}]}
    )
    make_client(tmp_path, script).call("jimi.user.device.list", {"target": "fleet"})
    for form in script.forms:
        assert form["sign"] == sign(form, CREDS.app_secret)
        assert form["timestamp"] == "2026-11-20 12:00:00"
    assert script.forms[1]["access_token"] == "tok-1"
    assert script.forms[0]["expires_in"] == "7200"


def test_client_reuses_token_when_called_again(tmp_path):
    ok = {"code": 0, "result": []}
    script = Script({"jimi.oauth.token.get": [TOKEN_OK], "jimi.user.device.list": [ok, ok, ok]})
    client = make_client(tmp_path, script)
    for _ in range(3):
        client.call("jimi.user.device.list", {"target": "fleet"})
    assert script.methods().count("jimi.oauth.token.get") == 1


def test_client_shares_token_across_instances_when_same_cache(tmp_path):
    ok = {"code": 0, "result": []}
    script = Script({"jimi.oauth.token.get": [TOKEN_OK], "jimi.user.device.list": [ok, ok]})
    make_client(tmp_path, script).call("jimi.user.device.list", {"target": "fleet"})
    make_client(tmp_path, script).call("jimi.user.device.list", {"target": "fleet"})
    assert script.methods() == ["jimi.oauth.token.get", "jimi.user.device.list", "jimi.user.device.list"]


def test_client_reacquires_token_once_when_1004(tmp_path):
    second = {"code": 0, "result": {"accessToken": "tok-2", "expiresIn": "7200"}}
    script = Script(
        {
            "jimi.oauth.token.get": [TOKEN_OK, second],
            "jimi.user.device.list": [{"code": 1004, "message": "token invalid"}, {"code": 0, "result": [1]}],
            "jimi.oauth.token.refresh": [{"code": 1004, "message": "token invalid"}],
        }
    )
    body = make_client(tmp_path, script).call("jimi.user.device.list", {"target": "fleet"})
    assert body["result"] == [1]
    assert script.forms[-1]["access_token"] == "tok-2"


def test_client_retries_then_succeeds_when_transient_failures(tmp_path):
    script = Script(
        {
            "jimi.oauth.token.get": [TOKEN_OK],
            "jimi.user.device.list": [
                {"code": 1006, "message": "too frequent"},
                {"code": -1, "message": "busy"},
                503,
                b'{"code":0,"result":[',
                {"code": 0, "result": ["ok"]},
            ],
        }
    )
    client = make_client(tmp_path, script)
    assert client.call("jimi.user.device.list", {"target": "fleet"})["result"] == ["ok"]
    assert client.stats.retries == {"1006": 1, "-1": 1, "http": 1, "bad_body": 1}
    assert client.stats.calls == 6


def test_client_raises_naming_method_and_context_when_retries_exhausted(tmp_path):
    script = Script({"jimi.oauth.token.get": [TOKEN_OK], "jimi.device.track.list": [503] * 5})
    with pytest.raises(JimiRetriesExhausted) as caught:
        make_client(tmp_path, script).call(
            "jimi.device.track.list", {"imei": "1"}, "imei 1, 2026-11-19 to 2026-11-20"
        )
    message = str(caught.value)
    assert message == (
        "jimi.device.track.list (imei 1, 2026-11-19 to 2026-11-20) failed with a bad response: "
        "HTTP 503 (gave up after 5 attempts)"
    )


def test_client_raises_auth_error_without_retry_when_password_wrong(tmp_path):
    script = Script({"jimi.oauth.token.get": [{"code": 1001, "message": "Incorrect user name or password"}]})
    with pytest.raises(JimiAuthError) as caught:
        make_client(tmp_path, script).call("jimi.user.device.list", {"target": "fleet"})
    assert script.methods() == ["jimi.oauth.token.get"]
    text = str(caught.value) + repr(caught.value)
    assert "Incorrect user name or password" in text
    for secret in (CREDS.app_secret, CREDS.password_md5):
        assert secret not in text


def test_client_raises_device_error_when_code_1002(tmp_path):
    script = Script(
        {
            "jimi.oauth.token.get": [TOKEN_OK],
            "jimi.device.track.list": [{"code": 1002, "message": "IMEI does not exist{123}"}],
        }
    )
    with pytest.raises(JimiDeviceError, match=r"code 1002: IMEI does not exist\{123\}"):
        make_client(tmp_path, script).call("jimi.device.track.list", {"imei": "123"}, "imei 123")


def test_credentials_repr_hides_secrets_when_printed():
    text = repr(CREDS)
    assert CREDS.app_secret not in text and CREDS.password_md5 not in text
