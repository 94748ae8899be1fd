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
            }.items():
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
def demo(host: str, port: int, threads: int, no_serve: bool) -> None:
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
        _serve(app, host, port, threads)


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
