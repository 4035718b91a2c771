"""The simulator's open API in process, for the tests of tests/sim: an app on a fixed, movable clock with a
signing client (`Sim`), and the check of a refusal envelope."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

from sources.jimi.signing import format_time, password_md5, sign
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.settings import EXACT, SimSettings

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the httpx-backed TestClient is what this project ships with.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN_GET, DEVICE_LIST, TRACK_LIST = "jimi.oauth.token.get", "jimi.user.device.list", "jimi.device.track.list"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class Sim:
    """A simulator app on a fixed, movable clock, with a signing client."""

    def __init__(self, **overrides: object) -> None:
        values: dict[str, object] = {
            "now": NOW,
            "token_get_min_interval_s": 0.0,
            "max_calls_per_s": 0.0,
            **EXACT,
            **overrides,
        }
        self.settings = SimSettings(**values)  # type: ignore[arg-type]
        self.app = create_app(self.settings)
        self.client = TestClient(self.app)
        self.clock = self.app.state.sim.clock
        self.fleet = self.app.state.sim.fleet

    def params(self, method: str, secret: str | None = None, **private: object) -> dict[str, str]:
        params = {
            "method": method,
            "timestamp": format_time(self.clock.now()),
            "app_key": self.settings.app_key,
            "sign_method": "md5",
            "v": "1.0",
            "format": "json",
            **{k: str(v) for k, v in private.items()},
        }
        params["sign"] = sign(params, self.settings.app_secret if secret is None else secret)
        return params

    def post(self, params: dict[str, str]) -> dict:
        response = self.client.post("/route/rest", data=params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    def call(self, method: str, **private: object) -> dict:
        return self.post(self.params(method, **private))

    def token_body(self, **overrides: object) -> dict:
        private = {
            "user_id": self.settings.user_id,
            "user_pwd_md5": password_md5(self.settings.password),
            "expires_in": 7200,
            **overrides,
        }
        return self.call(TOKEN_GET, **private)

    def token(self, expires_in: int = 7200) -> str:
        return self.token_body(expires_in=expires_in)["result"]["accessToken"]

    def track(self, imei: str, begin: datetime, end: datetime, **extra: object) -> dict:
        return self.call(
            TRACK_LIST,
            access_token=self.token(),
            imei=imei,
            begin_time=format_time(begin),
            end_time=format_time(end),
            **extra,
        )


def assert_refused(body: dict, code: int, message: str | None = None, contains: str | None = None) -> None:
    assert set(body) == {"code", "message", "result", "data"}
    assert (body["code"], body["result"], body["data"]) == (code, None, None)
    if message is not None:
        assert body["message"] == message
    if contains is not None:
        assert contains in body["message"]
