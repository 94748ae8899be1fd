"""``frontoffice simulate`` plays a short, fast day on a live server through the real HTTP APIs."""

from __future__ import annotations

import importlib

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from frontoffice.auth import create_user
from frontoffice.cli import main
from monitor.ports import MONITOR_HUB
from monitor.simulator import SimConfig, Simulator, parse_duration, parse_login, parse_rate
from orders.models import Order
from tests.conftest import load_demo_catalogue


@pytest.fixture
def demo_server(live_server):
    """A live server with the demo menu, branches and couriers (the demo courier has the app)."""
    app = live_server.app
    kernel = app.extensions["frontoffice"]
    load_demo_catalogue(app)
    with kernel.db.unit_of_work() as s:
        for name, role in (("sim-manager", "manager"), ("sim-operator", "operator"), ("courier", "courier")):
            create_user(s, name, f"pw-{name}", role, hash_method="pbkdf2:sha256:1000", strength_checked=False)
    couriers_demo = importlib.import_module("couriers.demo")
    with app.app_context(), kernel.db.unit_of_work() as s:
        couriers_demo.load(s, kernel)
    yield live_server
    kernel.extensions.get(MONITOR_HUB).stop()


def test_a_fast_day_places_cooks_dispatches_and_delivers_orders(demo_server):
    lines: list[str] = []
    config = SimConfig(
        url=demo_server.url,
        rate_per_s=3.0,
        duration_s=7.0,
        time_scale=400.0,
        tick_s=0.5,
        seed=7,
        manager=("sim-manager", "pw-sim-manager"),
        operator=("sim-operator", "pw-sim-operator"),
        couriers=(("courier", "pw-courier"),),
    )
    report = Simulator(config, out=lines.append).run()
    counts = report.counts
    assert counts["placed"] >= 5
    assert counts["confirmed"] >= 3 and counts["ready"] >= 1
    assert counts["claimed"] + counts["assigned"] >= 1
    assert counts["delivered"] + counts["failed"] >= 1
    assert counts["positions"] > 0
    assert not [e for e in report.errors if e.endswith(": 500")], report.errors
    with demo_server.app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == counts["placed"]
        assert s.scalar(select(func.count()).where(Order.status == "delivered")) == counts["delivered"]
    assert any("placed by" in line for line in lines) and lines[-1].split()[1] == "done:"


def test_the_simulator_says_plainly_when_it_cannot_log_in(live_server):
    result = CliRunner().invoke(
        main, ["simulate", "--url", live_server.url, "--duration", "2s", "--manager", "nobody:nothing"]
    )
    assert result.exit_code == 1
    assert "refused the login of 'nobody'" in result.output


@pytest.mark.parametrize(
    ("text", "per_second"), [("2/min", 2 / 60), ("30/h", 30 / 3600), ("0.5/s", 0.5), ("6", 0.1)]
)
def test_rates_read_per_second_minute_or_hour(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


def test_durations_and_logins_are_read_or_refused():
    assert parse_duration("90s") == 90 and parse_duration("10m") == 600 and parse_duration("2h") == 7200
    assert parse_login("manager:secret:with:colons") == ("manager", "secret:with:colons")
    for bad in (lambda: parse_rate("fast"), lambda: parse_duration("0"), lambda: parse_login("nopassword")):
        with pytest.raises(ValueError):
            bad()
    result = CliRunner().invoke(main, ["simulate", "--rate", "lots"])
    assert result.exit_code == 2 and "2/min" in result.output
