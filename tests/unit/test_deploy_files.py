"""The settings, docs/deploy.md and deploy/ agree (issue 16, items 6 and 7): every setting can be set
from the environment, is documented and is in the env file template; the systemd units run the
commands the docs name."""

from __future__ import annotations

import configparser
import re
from dataclasses import fields
from pathlib import Path

import pytest

from callcentre.geocoding import config_from
from frontoffice.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
#: Variables the ``frontoffice`` command reads itself (``run``/``demo`` options), not Settings.
COMMAND_VARIABLES = {"HOST", "PORT", "WORKER"}
SETTINGS = [f for f in fields(Settings) if f.name != "extra"]
NAME = re.compile(r"FRONTOFFICE_([A-Z0-9_]+)")


def named_in(text: str) -> set[str]:
    return {m for m in NAME.findall(text) if not m.startswith("TEST_")}


def test_every_setting_is_documented_and_in_the_env_template():
    names = {f.name.upper() for f in SETTINGS}
    documented = named_in((ROOT / "docs" / "deploy.md").read_text())
    template = named_in((DEPLOY / "frontoffice.env").read_text())
    assert names - documented == set(), "settings missing from docs/deploy.md"
    assert names | COMMAND_VARIABLES == template, "deploy/frontoffice.env lists other variables"
    assert documented - names - COMMAND_VARIABLES == set(), "docs/deploy.md names unknown variables"


def sample(field) -> tuple[str, object]:
    """A raw environment value for ``field`` and the value the settings must read from it."""
    text = str(field.type)
    if field.name == "relay":  # one of RELAY_MODES, checked when read
        return "off", "off"
    if "bool" in text:
        return "1", True
    if "Path" in text:
        return "/srv/fo-instance", Path("/srv/fo-instance")
    if "int" in text:
        return "7", 7
    if "float" in text:
        return "2.5", 2.5
    return "some-value", "some-value"


@pytest.mark.parametrize("field", SETTINGS, ids=lambda f: f.name)
def test_every_setting_is_read_from_the_environment(monkeypatch, field):
    raw, expected = sample(field)
    # a database and a key given, so reading settings writes nothing to any instance folder
    monkeypatch.setenv("FRONTOFFICE_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("FRONTOFFICE_SECRET_KEY", "x")
    monkeypatch.setenv(f"FRONTOFFICE_{field.name.upper()}", raw)
    settings = Settings.from_env()
    assert getattr(settings, field.name) == expected


def test_the_env_template_is_read_as_settings(monkeypatch):
    for line in (DEPLOY / "frontoffice.env").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.trusted_proxies == 1 and settings.cookies_secure
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_the_geocoder_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRONTOFFICE_GEOCODER", "yandex")
    monkeypatch.setenv("FRONTOFFICE_GEOCODER_API_KEY", "key-from-env")
    monkeypatch.setenv("FRONTOFFICE_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("FRONTOFFICE_SECRET_KEY", "x")
    assert config_from(Settings.from_env()).api_key == "key-from-env"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_web_unit_serves_one_port_per_instance_with_the_env_file():
    web = unit("frontoffice-web@.service")
    assert web["Service"]["ExecStart"].endswith("frontoffice run --host 127.0.0.1 --port %i")
    assert web["Service"]["EnvironmentFile"] == "/etc/frontoffice/env"
    assert web["Install"]["WantedBy"] == "multi-user.target"


def test_the_worker_unit_runs_the_relay_with_the_same_env_file():
    worker = unit("frontoffice-worker.service")
    assert worker["Service"]["ExecStart"].endswith("frontoffice worker")
    assert worker["Service"]["EnvironmentFile"] == "/etc/frontoffice/env"


def test_the_telephony_unit_keeps_the_ami_link_with_the_same_env_file():
    telephony = unit("frontoffice-telephony.service")
    assert telephony["Service"]["ExecStart"].endswith("frontoffice telephony")
    assert telephony["Service"]["EnvironmentFile"] == "/etc/frontoffice/env"


def test_the_nginx_upstreams_are_the_web_units_ports():
    site = (DEPLOY / "nginx" / "frontoffice.conf").read_text()
    assert re.findall(r"server (127\.0\.0\.1:\d+)", site) == ["127.0.0.1:8001", "127.0.0.1:8002"]
    assert "ip_hash;" in site and "location /socket.io/" in site and "location = /api/osmand" in site
