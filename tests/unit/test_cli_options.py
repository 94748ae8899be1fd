"""The serving commands read their address from the environment alike."""

from __future__ import annotations

import click
import pytest

from frontoffice.cli import demo, run


@pytest.mark.parametrize("command", [run, demo], ids=["run", "demo"])
def test_host_and_port_default_to_the_environment(command, monkeypatch):
    monkeypatch.setenv("FRONTOFFICE_HOST", "0.0.0.0")
    monkeypatch.setenv("FRONTOFFICE_PORT", "8123")
    ctx = click.Context(command)
    defaults = {p.name: p.get_default(ctx, call=True) for p in command.params}
    assert defaults["host"] == "0.0.0.0"
    assert defaults["port"] == 8123


@pytest.mark.parametrize("command", [run, demo], ids=["run", "demo"])
def test_without_the_environment_they_serve_on_localhost_8000(command, monkeypatch):
    monkeypatch.delenv("FRONTOFFICE_HOST", raising=False)
    monkeypatch.delenv("FRONTOFFICE_PORT", raising=False)
    ctx = click.Context(command)
    defaults = {p.name: p.get_default(ctx, call=True) for p in command.params}
    assert (defaults["host"], defaults["port"]) == ("127.0.0.1", 8000)
