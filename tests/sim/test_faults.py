"""Faults on demand: each kind is real, rates are per method, and the same seed gives the same faults."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sim_support import Sim, assert_refused

from sources.jimi.signing import format_time, password_md5, sign
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.faults import FaultInjector, FaultRule, parse_faults
from sources.jimi_sim.settings import EXACT, SimSettings

LIST = "jimi.user.device.list"


def _codes(sim: Sim, token: str, count: int) -> list[int]:
    return [sim.call(LIST, access_token=token, target="sim_fleet")["code"] for _ in range(count)]


def test_parse_faults_reads_kind_rate_and_method_when_listed() -> None:
    rules = parse_faults("busy=0.1, reset=0.05@jimi.device.track.list")
    assert rules == (FaultRule("busy", 0.1), FaultRule("reset", 0.05, "jimi.device.track.list"))
    with pytest.raises(ValueError, match="unknown fault"):
        parse_faults("meteor=0.1")


def test_fault_injector_repeats_decisions_when_seed_same() -> None:
    rules = parse_faults("busy=0.2,http_5xx=0.1,rate_limit=0.05")
    injectors = [FaultInjector(7, rules), FaultInjector(7, rules), FaultInjector(8, rules)]
    runs = [[injector.decide(LIST)[0] for _ in range(200)] for injector in injectors[:2]]
    other = [injectors[2].decide(LIST)[0] for _ in range(200)]
    assert runs[0] == runs[1] != other
    assert 20 <= sum(kind == "busy" for kind in runs[0]) <= 60


def test_fault_rate_prefers_method_rule_when_both_given() -> None:
    injector = FaultInjector(7, parse_faults("busy=0.5,busy=0@jimi.user.device.list"))
    assert injector.rate("busy", LIST) == 0 and injector.rate("busy", "jimi.device.track.list") == 0.5


def test_api_answers_minus_1_when_busy_fault_certain() -> None:
    sim = Sim(faults=parse_faults(f"busy=1@{LIST}"))
    token = sim.token()  # token.get has no rule: it still works
    assert_refused(sim.call(LIST, access_token=token, target="sim_fleet"), -1, "System busy")


def test_api_answers_1006_burst_when_rate_limit_fault_fires() -> None:
    sim = Sim(faults=parse_faults(f"rate_limit=0.05@{LIST}"))
    codes = _codes(sim, sim.token(), 300)
    first = codes.index(1006)
    burst = codes[first:].index(0)
    assert 3 <= burst <= 9 and set(codes) == {0, 1006}


def test_api_revokes_every_token_when_token_revoked_fault_fires() -> None:
    sim = Sim(faults=parse_faults(f"token_revoked=1@{LIST}"))
    token = sim.token()
    assert_refused(
        sim.call(LIST, access_token=token, target="sim_fleet"), 1004, "Illegal access, token is invalid"
    )
    assert_refused(sim.call("jimi.device.group.list", access_token=token, account="sim_fleet"), 1004)


def test_api_answers_http_5xx_html_when_fault_fires() -> None:
    sim = Sim(faults=parse_faults(f"http_5xx=1@{LIST}"))
    response = sim.client.post(
        "/route/rest", data=sim.params(LIST, access_token=sim.token(), target="sim_fleet")
    )
    assert response.status_code in (502, 503, 504) and response.text.startswith("<html>")


def test_api_truncates_body_when_fault_fires() -> None:
    clean, cut = Sim(), Sim(faults=parse_faults(f"truncated=1@{LIST}"))
    whole = clean.client.post(
        "/route/rest", data=clean.params(LIST, access_token=clean.token(), target="sim_fleet")
    )
    part = cut.client.post("/route/rest", data=cut.params(LIST, access_token=cut.token(), target="sim_fleet"))
    assert part.status_code == 200 and int(part.headers["content-length"]) == len(part.content)
    assert 0 < len(part.content) < len(whole.content) and whole.content.startswith(part.content)


def test_api_raises_connection_reset_when_in_process_client() -> None:
    sim = Sim(faults=parse_faults(f"reset=1@{LIST}"))
    with pytest.raises(ConnectionResetError):
        sim.call(LIST, access_token=sim.token(), target="sim_fleet")


def _signed(settings: SimSettings, method: str, **private: str) -> dict[str, str]:
    params = {
        "method": method,
        "timestamp": format_time(datetime.now(UTC)),
        "app_key": settings.app_key,
        **private,
    }
    params["sign"] = sign(params, settings.app_secret)
    return params


def test_server_resets_and_hangs_connections_when_faults_fire_over_http() -> None:
    settings = SimSettings(
        devices=2,
        max_calls_per_s=0,
        hang_s=3.0,
        faults=parse_faults(f"reset=1@{LIST},hang=1@jimi.device.group.list"),
        token_get_min_interval_s=0,
        **EXACT,
    )
    with running_simulator(settings, app=create_app(settings)) as url, httpx.Client(timeout=1.0) as client:
        token = client.post(
            url,
            data=_signed(
                settings,
                "jimi.oauth.token.get",
                user_id="sim_fleet",
                user_pwd_md5=password_md5("sim-password"),
                expires_in="600",
            ),
        ).json()["result"]["accessToken"]
        with pytest.raises(httpx.TransportError):
            client.post(url, data=_signed(settings, LIST, access_token=token, target="sim_fleet"))
        with pytest.raises(httpx.ReadTimeout):
            client.post(
                url, data=_signed(settings, "jimi.device.group.list", access_token=token, account="sim_fleet")
            )
