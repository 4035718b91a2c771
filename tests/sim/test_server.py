"""Running the simulator: settings from the environment, the CLI, and the real HTTP server in a thread."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from sim_support import ROOT

from sources.jimi.signing import format_time, password_md5, sign
from sources.jimi_sim import Fleet, SimSettings, create_app
from sources.jimi_sim import cli as sim_cli
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.settings import EXACT, LATENCY_PROFILES

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ENV = {
    "JIMI_SIM_SEED": "11",
    "JIMI_SIM_DEVICES": "40",
    "JIMI_SIM_APP_KEY": "k",
    "JIMI_SIM_APP_SECRET": "s3cr3t",
    "JIMI_SIM_USER_ID": "fleet_ke",
    "JIMI_SIM_PASSWORD": "pw-xyz",
    "JIMI_SIM_PUSH_TOKEN": "push-abc",
    "JIMI_SIM_NOW": "2026-11-20 12:00:00",
}


def _signed(settings: SimSettings, method: str, **private: str) -> dict[str, str]:
    params = {
        "method": method,
        "timestamp": format_time(NOW),
        "app_key": settings.app_key,
        "v": "1.0",
        "sign_method": "md5",
        "format": "json",
        **private,
    }
    params["sign"] = sign(params, settings.app_secret)
    return params


def test_settings_from_env_reads_every_variable_when_set() -> None:
    settings = SimSettings.from_env(ENV)
    assert (settings.seed, settings.devices, settings.app_key, settings.app_secret) == (11, 40, "k", "s3cr3t")
    assert (settings.user_id, settings.password, settings.push_token) == ("fleet_ke", "pw-xyz", "push-abc")
    assert settings.now == NOW and settings.current_time() == NOW


def test_settings_from_env_uses_defaults_when_environment_empty() -> None:
    assert SimSettings.from_env({}) == SimSettings()


def test_settings_from_env_prefers_overrides_when_not_none() -> None:
    settings = SimSettings.from_env(ENV, seed=3, devices=None, app_key="explicit")
    assert (settings.seed, settings.devices, settings.app_key) == (3, 40, "explicit")


def test_settings_from_env_selects_latency_profile_when_named() -> None:
    settings = SimSettings.from_env({"JIMI_SIM_LATENCY_PROFILE": "production"})
    assert settings.latency_s == LATENCY_PROFILES["production"]
    assert settings.latency_for("jimi.device.track.list") == 137.0 and SimSettings().latency_for("x") == 0.0


def test_settings_current_time_follows_wall_clock_when_not_fixed() -> None:
    assert abs(SimSettings().current_time() - datetime.now(UTC)) < timedelta(seconds=5)


def test_cli_serve_builds_settings_from_env_when_no_options(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    captured: dict[str, object] = {}
    monkeypatch.setattr(
        "sources.jimi_sim.api.server.serve",
        lambda settings, host, port: captured.update(settings=settings, host=host, port=port),
    )
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    with caplog.at_level(logging.INFO, logger="jimi_sim"):
        result = CliRunner().invoke(sim_cli.main, ["serve", "--port", "9999", "--devices", "12"])
    assert result.exit_code == 0, result.output
    assert captured["settings"] == SimSettings.from_env(ENV, devices=12)
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 9999)
    logged = caplog.text
    assert "http://127.0.0.1:9999/route/rest" in logged and "12 devices" in logged
    assert all(secret not in logged for secret in ("s3cr3t", "pw-xyz", "push-abc"))


def test_running_simulator_serves_real_http_when_started() -> None:
    settings = SimSettings(now=NOW, devices=5, **EXACT)
    fleet = Fleet(settings)
    imei = next(device.imei for device in fleet.devices if device.habits.reporting)
    with running_simulator(settings, app=create_app(settings, fleet)) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/route/rest")
        with httpx.Client(timeout=10) as client:
            token_body = client.post(
                url,
                data=_signed(
                    settings,
                    "jimi.oauth.token.get",
                    user_id="sim_fleet",
                    user_pwd_md5=password_md5("sim-password"),
                    expires_in="7200",
                ),
            ).json()
            token = token_body["result"]["accessToken"]
            track = client.post(
                url,
                data=_signed(
                    settings,
                    "jimi.device.track.list",
                    access_token=token,
                    imei=imei,
                    begin_time="2026-11-19 00:00:00",
                    end_time="2026-11-20 00:00:00",
                ),
            ).json()
    assert track["code"] == 0
    expected = fleet.points(
        imei, datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, 0, 0, 1, tzinfo=UTC)
    )
    assert len(track["result"]) == len(expected) > 100


def test_running_simulator_releases_port_when_exited() -> None:
    with running_simulator(SimSettings(now=NOW, devices=1)) as url:
        health = url.replace("/route/rest", "/health")
        assert httpx.get(health).json() == {"status": "ok"}
    with pytest.raises(httpx.TransportError):
        httpx.get(health, timeout=1)


def test_module_entry_point_lists_serve_options_when_run_with_python_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sources.jimi_sim", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    options = (
        "--host",
        "--port",
        "--seed",
        "--devices",
        "--app-key",
        "--app-secret",
        "--user-id",
        "--password",
        "--push-token",
        "--now",
    )
    assert all(option in result.stdout for option in options)


def test_cli_serve_applies_shapes_faults_and_realism_when_options_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured: dict[str, object] = {}
    monkeypatch.setattr(
        "sources.jimi_sim.api.server.serve", lambda settings, host, port: captured.update(s=settings)
    )
    monkeypatch.setenv("JIMI_SIM_SHAPES", "mileage_unit=m")
    args = [
        "serve",
        "--shape",
        "vin_key=VIN",
        "--shape",
        "alarm_paging=lenient",
        "--fault",
        "busy=0.1@jimi.device.track.list",
        "--exact",
        "--latency-profile",
        "production",
        "--latency",
        "jimi.device.track.list=5",
        "--max-calls-per-s",
        "0",
    ]
    result = CliRunner().invoke(sim_cli.main, args)
    assert result.exit_code == 0, result.output
    settings = captured["s"]
    shapes = settings.shapes
    assert (shapes.mileage_unit, shapes.vin_key, shapes.alarm_paging) == ("m", "VIN", "lenient")
    assert [tuple(rule) for rule in settings.faults] == [("busy", 0.1, "jimi.device.track.list")]
    assert (settings.late_share, settings.duplicate_share, settings.disorder_share) == (0.0, 0.0, 0.0)
    assert (
        settings.latency_for("jimi.device.track.list") == 5.0
        and settings.latency_for("jimi.device.obd.list") == 0.5
    )
    assert settings.max_calls_per_s == 0.0


def test_settings_from_env_parses_realism_shapes_and_faults_when_set() -> None:
    settings = SimSettings.from_env(
        {
            "JIMI_SIM_LATE_SHARE": "0.2",
            "JIMI_SIM_SHAPES": "spec",
            "JIMI_SIM_FAULTS": "reset=0.01",
            "JIMI_SIM_TRACES": os.pathsep.join(["a.csv", "b.csv"]),
            "JIMI_SIM_LATENCY": "jimi.device.track.list=2",
        }
    )
    assert (settings.late_share, settings.shapes.mileage_unit, settings.traces) == (
        0.2,
        "m",
        ("a.csv", "b.csv"),
    )
    assert [tuple(rule) for rule in settings.faults] == [("reset", 0.01, "*")]
    assert settings.latency_s == {"jimi.device.track.list": 2.0}
