"""The ``frontoffice`` command: run, demo, db upgrade, create-user."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from frontoffice.migrate import DOMAIN_PACKAGES

DEMO_USERS = (
    ("admin", "admin", "admin", "Anna Admin"),
    ("manager", "manager", "manager", "Maxim Manager"),
    ("operator", "operator", "operator", "Olga Operator"),
    ("backoffice", "backoffice", "backoffice", "Boris Backoffice"),
    ("courier", "courier", "courier", "Kirill Courier"),
)


def _app(**overrides: Any):
    from frontoffice.app import create_app

    return create_app(overrides or None)


def _upgrade(app) -> None:
    from frontoffice.migrate import upgrade

    kernel = app.extensions["frontoffice"]
    upgrade(kernel.settings.database_url)


@click.group()
def main() -> None:
    """Delivery front office."""


@main.command()
@click.option(
    "--host", default=lambda: os.environ.get("FRONTOFFICE_HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: int(os.environ.get("FRONTOFFICE_PORT", "8000")), type=int, show_default="8000"
)
@click.option(
    "--threads",
    default=200,
    type=int,
    show_default=True,
    help="Threads of the one gthread worker; each open websocket holds one.",
)
def run(host: str, port: int, threads: int) -> None:
    """Serve with gunicorn (gthread, one worker), migrating the database first."""
    app = _app()
    _upgrade(app)
    _serve(app, host, port, threads)


def _serve(app, host: str, port: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 120,
                "graceful_timeout": 10,
                "keepalive": 30,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "info",
                # gunicorn >= 25 opens a control socket at one fixed path per user; several
                # processes on one host (scale-out) would fight over it, and we do not use it.
                "control_socket_disable": True,
            }.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            return app

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    Server().run()


def load_demo(app) -> list[tuple[str, str, str]]:
    """Create the demo users and let every package load its demo data (idempotent)."""
    from sqlalchemy import select

    from frontoffice.auth import create_user
    from frontoffice.models import User

    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        for username, password, role, name in DEMO_USERS:
            if s.scalar(select(User.id).where(User.username == username)) is None:
                create_user(s, username, password, role, name)
    for name in DOMAIN_PACKAGES:
        try:
            module = importlib.import_module(f"{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.demo":
                raise
            continue
        with app.app_context(), kernel.db.unit_of_work() as s:
            module.load(s, kernel)
    return [(u, p, r) for u, p, r, _ in DEMO_USERS]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--threads", default=200, type=int, show_default=True)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@click.option(
    "--simulate",
    "simulate_rate",
    is_flag=False,
    flag_value="3/min",
    default=None,
    help="Also play a live day on it (monitor/simulator.py); optional rate, default 3/min.",
)
def demo(host: str, port: int, threads: int, no_serve: bool, simulate_rate: str | None) -> None:
    """Load demo data (idempotent) and serve it."""
    app = _app()
    _upgrade(app)
    users = load_demo(app)
    click.echo("")
    click.echo(f"Delivery front office demo: http://{host}:{port}/")
    click.echo("Demo logins (username / password, role):")
    for username, password, role in users:
        click.echo(f"  {username:<11} / {password:<11} {role}")
    click.echo(f"API reference: http://{host}:{port}/api/docs")
    click.echo("")
    if not no_serve:
        if simulate_rate:
            local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            _simulate_in_background(f"http://{local}:{port}", simulate_rate)
        _serve(app, host, port, threads)


def _simulate_in_background(url: str, rate: str) -> None:
    """Start the simulator in a thread of this (gunicorn master) process once the server answers."""
    import threading

    def play() -> None:
        import time

        import requests

        from monitor.simulator import Simulator, SimulatorError, config_from

        for _ in range(240):
            try:
                if requests.get(f"{url}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        try:
            config = config_from(url=url, rate=rate, duration="24h", verbose=False)
            click.echo(f"Simulating a live day on {url} at {rate} (monitor: {url}/monitor)")
            Simulator(config, out=click.echo).run()
        except (SimulatorError, ValueError) as exc:
            click.echo(f"simulator: {exc}", err=True)

    threading.Thread(target=play, name="simulator", daemon=True).start()


@main.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The running instance.")
@click.option("--rate", default="2/min", show_default=True, help="Orders arriving: 2/min, 30/h, 0.5/s.")
@click.option("--duration", default="10m", show_default=True, help="How long to play: 90s, 10m, 2h.")
@click.option(
    "--time-scale",
    default=10.0,
    type=click.FloatRange(min=1.0),
    show_default=True,
    help="How much faster kitchens, roads and promises run than the clock.",
)
@click.option("--seed", type=int, default=None, help="Repeat the same day.")
@click.option("--manager", default="manager:manager", show_default=True, help="Kitchen and dispatch login.")
@click.option("--operator", default="operator:operator", show_default=True, help="Order-taking login.")
@click.option(
    "--courier",
    "couriers",
    multiple=True,
    default=("courier:courier",),
    show_default=True,
    help="A courier app login (login:password); repeat for more.",
)
@click.option("--quiet", is_flag=True, help="Print only the summary.")
def simulate(
    url: str,
    rate: str,
    duration: str,
    time_scale: float,
    seed: int | None,
    manager: str,
    operator: str,
    couriers: tuple[str, ...],
    quiet: bool,
) -> None:
    """Play a live delivery day on a running instance through its HTTP APIs."""
    from monitor.simulator import Simulator, SimulatorError, config_from

    try:
        config = config_from(
            url=url,
            rate=rate,
            duration=duration,
            time_scale=time_scale,
            seed=seed,
            manager=manager,
            operator=operator,
            couriers=couriers,
            verbose=not quiet,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        report = Simulator(config, out=click.echo).run()
    except SimulatorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if quiet:
        click.echo(report.as_dict())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    app = _app()
    _upgrade(app)
    click.echo(f"Database is up to date: {app.extensions['frontoffice'].db.engine.url.render_as_string()}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--branch", required=True, type=click.Choice(("frontoffice", *DOMAIN_PACKAGES)))
@click.option("--empty", is_flag=True, help="Do not autogenerate.")
def db_revision(message: str, branch: str, empty: bool) -> None:
    """Write a new migration on a package's branch (for developers)."""
    from frontoffice.migrate import revision

    app = _app()
    _upgrade(app)
    revision(app.extensions["frontoffice"].settings.database_url, message, branch, autogenerate=not empty)


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "manager", "operator", "courier", "backoffice"])
)
@click.option("--name", default="")
@click.password_option()
def create_user_cmd(username: str, role: str, name: str, password: str) -> None:
    """Create a user."""
    from frontoffice.auth import create_user
    from frontoffice.errors import DomainError

    app = _app()
    _upgrade(app)
    try:
        with app.extensions["frontoffice"].db.unit_of_work() as s:
            create_user(s, username, password, role, name)
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)
    click.echo(f"Created {role} {username}.")


if __name__ == "__main__":
    main()
