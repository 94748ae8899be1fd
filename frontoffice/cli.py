"""The ``frontoffice`` command: run, demo, db upgrade, create-user."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from frontoffice.kernel import kernel_of
from frontoffice.launch import WORKERS
from frontoffice.ports import DEMO_SERVICES, LIVE_DAY

DEMO_USERS = (
    ("admin", "admin", "admin", "Anna Admin"),
    ("manager", "manager", "manager", "Maxim Manager"),
    ("operator", "operator", "operator", "Olga Operator"),
    ("backoffice", "backoffice", "backoffice", "Boris Backoffice"),
    ("courier", "courier", "courier", "Kirill Courier"),
)


def _app(**overrides: Any):
    """The app of a command run in this process (also gunicorn's arbiter's, before the fork).

    Where the deployment relays in a thread (the default), this process delivers what its commands
    commit itself, before it exits (``inline``): a relay thread here would die with the command, or
    sit in the arbiter competing with the serving worker's. For the same reason it starts none of
    the serving process's background services (``frontoffice.ports.BACKGROUND_SERVICES``: the AMI
    listener …): the worker's app, built after the fork, does."""
    from frontoffice.app import create_app

    if "relay" not in overrides and (os.environ.get("FRONTOFFICE_RELAY") or "thread") == "thread":
        overrides["relay"] = "inline"
    overrides.setdefault("background_services", False)
    return create_app(overrides)


def _app_with(overrides: dict[str, Any] | None):
    """``create_app`` with setting overrides (what the serving worker builds, relay as configured)."""
    from frontoffice.app import create_app

    return create_app(overrides or None)


def _upgrade(app) -> None:
    from frontoffice.migrate import upgrade

    kernel = kernel_of(app)
    upgrade(kernel.settings.database_url)


@click.group()
def main() -> None:
    """Delivery front office."""


def _host_option(f):
    """``--host``, defaulting to FRONTOFFICE_HOST, else 127.0.0.1."""
    return click.option(
        "--host",
        default=lambda: os.environ.get("FRONTOFFICE_HOST", "127.0.0.1"),
        show_default="$FRONTOFFICE_HOST or 127.0.0.1",
    )(f)


def _port_option(f):
    """``--port``, defaulting to FRONTOFFICE_PORT, else 8000."""
    return click.option(
        "--port",
        default=lambda: int(os.environ.get("FRONTOFFICE_PORT", "8000")),
        type=int,
        show_default="$FRONTOFFICE_PORT or 8000",
    )(f)


#: Connections the gevent worker keeps beyond the sockets' limit, so HTTP requests always get in.
HTTP_RESERVE = 1000
#: Threads of the gthread worker kept from websockets, for HTTP requests.
HTTP_THREADS = 32


def _serving_options(f):
    """``--worker``, ``--threads``, ``--connections``: the serving model (docs/deploy.md)."""
    f = click.option(
        "--connections",
        default=None,
        type=int,
        help="gevent: connections the worker holds at once "
        f"[default: FRONTOFFICE_SOCKET_MAX_CONNECTIONS + {HTTP_RESERVE}].",
    )(f)
    f = click.option(
        "--threads",
        default=200,
        type=int,
        show_default=True,
        help=f"gthread: threads of the worker; each websocket holds one, {HTTP_THREADS} are kept for HTTP.",
    )(f)
    return click.option(
        "--worker",
        type=click.Choice(WORKERS),
        default=lambda: os.environ.get("FRONTOFFICE_WORKER") or "gevent",
        show_default="$FRONTOFFICE_WORKER or gevent",
        help="gunicorn worker: gevent (thousands of websockets) or gthread (a thread per websocket).",
    )(f)


@main.command()
@_host_option
@_port_option
@_serving_options
def run(host: str, port: int, worker: str, threads: int, connections: int | None) -> None:
    """Serve with gunicorn (one worker, gevent by default), migrating the database first."""
    app = _app()
    _upgrade(app)
    _serve(app, host, port, threads, worker, connections, build=_app_with)


def _serve(
    app,
    host: str,
    port: int,
    threads: int = 200,
    worker: str = "gthread",
    connections: int | None = None,
    build=None,
) -> None:
    """Serve ``app`` with gunicorn, one worker. With ``build`` (``create_app``-like, taking setting
    overrides) the worker builds its own app of the same configuration after the fork."""
    from gunicorn.app.base import BaseApplication

    from frontoffice.realtime import gevent_patched

    if worker == "gevent" and not gevent_patched():
        raise click.UsageError(
            "the gevent worker needs the `frontoffice` command (or `python -m frontoffice`), "
            "which patches the standard library before anything is imported; or pass --worker gthread"
        )
    kernel = app.extensions.get("frontoffice")
    max_sockets = kernel.settings.socket_max_connections if kernel else 0
    overrides: dict[str, Any] = {}
    if worker == "gthread":
        # Each websocket holds a thread: keep some for HTTP whatever the sockets do.
        overrides["socket_max_connections"] = min(max_sockets or threads, max(threads - HTTP_THREADS, 1))
    elif connections is None:
        connections = (max_sockets or 10_000) + HTTP_RESERVE
    if build is not None and kernel is not None:
        kernel.db.dispose()  # the worker builds its own app, engine and pool
        if kernel.rate_limits is not None:
            kernel.rate_limits.close()  # and its own limiter; no thread of this one may cross the fork
    _raise_open_files_limit()

    json_logs = kernel is None or kernel.settings.log_format.lower() == "json"
    access_format: dict[str, Any] = (
        {"logger_class": "frontoffice.accesslog.JsonAccessLogger"}
        if json_logs
        else {"access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}i)s'}
    )

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": worker,
                "threads": threads,
                # gthread too stops accepting at worker_connections: as many as it has threads
                "worker_connections": connections or max(threads, 1000),
                "timeout": 120,
                "graceful_timeout": 10,
                "keepalive": 30,
                # Access lines on stdout; JSON with the request id unless log_format = text.
                "accesslog": "-",
                "errorlog": "-",
                "loglevel": "info",
                **access_format,
                # gunicorn >= 25 opens a control socket at one fixed path per user; several
                # processes on one host (scale-out) would fight over it, and we do not use it.
                "control_socket_disable": True,
            }.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            # In the worker, after the fork: its threads, pools and sockets are its own.
            served = build(overrides or None) if build is not None else app
            _tune_gc()
            return served

    shown = (
        f"gevent, up to {connections} connections" if worker == "gevent" else f"gthread, {threads} threads"
    )
    click.echo(f"Serving on http://{host}:{port}/  ({shown}; Ctrl+C to stop)")
    Server().run()


#: Allocations between young collections (CPython's default is 700), young collections per middle
#: one, middle ones per full one. Each connection is ~200 long-lived objects: with 5,000 sockets a
#: full collection scans a million objects (0.3-1 s on the 2-core machine, every few seconds under
#: load with the defaults: each request's objects outlive two young collections and are promoted).
#: See docs/performance.md, "Thousands of sockets".
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_gc() -> None:
    """Keep full garbage collections rare in a process holding thousands of connections: freeze
    what the app built at start-up (never garbage) out of their way, and collect the young less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _raise_open_files_limit() -> None:
    """Every socket is a file descriptor: allow as many as the hard limit does."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):  # not on this platform, or not allowed
        pass


def _in_own_thread(job) -> Callable[[], None]:
    """Run ``job`` in a thread of its own that gunicorn's fork does not copy into the worker; give
    back a function that waits until ``job`` has returned (the thread goes on running what it
    started: a fake register's server, a simulated day).

    On gevent a thread is a greenlet of the forking process's hub, and a forked child would run it
    too; a real OS thread (with its own hub) stays in this process.
    """
    from frontoffice.realtime import gevent_patched

    if not gevent_patched():
        job()
        return lambda: None
    import gevent
    from gevent import monkey

    returned = monkey.get_original("_thread", "allocate_lock")()
    returned.acquire()

    def body() -> None:
        try:
            job()
        finally:
            returned.release()
        gevent.get_hub().join()  # run what the job started until it ends

    monkey.get_original("_thread", "start_new_thread")(body, ())

    def wait() -> None:
        returned.acquire()
        returned.release()

    return wait


def load_demo(app) -> list[tuple[str, str, str]]:
    """Create the demo users and let every package load its demo data (idempotent)."""
    from sqlalchemy import select

    from frontoffice.auth import create_user
    from frontoffice.models import User

    kernel = kernel_of(app)
    with kernel.db.unit_of_work() as s:
        for username, password, role, name in DEMO_USERS:
            if s.scalar(select(User.id).where(User.username == username)) is None:
                # The demo's logins are published (admin / admin …): no strength rule for them.
                create_user(s, username, password, role, name, strength_checked=False)
    from frontoffice.app import PACKAGES

    for package in PACKAGES:
        if package.demo is None:
            continue
        with app.app_context(), kernel.db.unit_of_work() as s:
            package.demo(s, kernel)
    return [(u, p, r) for u, p, r, _ in DEMO_USERS]


@main.command()
@_host_option
@_port_option
@_serving_options
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@click.option(
    "--simulate",
    "simulate_rate",
    is_flag=False,
    flag_value="3/min",
    default=None,
    help="Also play a live day on it (monitor/simulator/); optional rate, default 3/min.",
)
def demo(
    host: str,
    port: int,
    worker: str,
    threads: int,
    connections: int | None,
    no_serve: bool,
    simulate_rate: str | None,
) -> None:
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
        started = [
            _in_own_thread(lambda start=start_service: click.echo(start(app)))
            for start_service in kernel_of(app).extensions.all(DEMO_SERVICES)
        ]
        # Their writes (the demo registers) commit before the fork: SQLite's lock table lives in
        # the process, and a child forked while a thread of this one held the write lock would see
        # it held for ever ("database is locked" on every write of the worker).
        for wait in started:
            wait()
        if simulate_rate:
            local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            live_day = kernel_of(app).extensions.get(LIVE_DAY)
            _in_own_thread(lambda: live_day(f"http://{local}:{port}", simulate_rate))
        _serve(app, host, port, threads, worker, connections, build=_app_with)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    app = _app()
    _upgrade(app)
    click.echo(f"Database is up to date: {kernel_of(app).db.engine.url.render_as_string()}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--branch", required=True, help="frontoffice or a domain package's name")
@click.option("--empty", is_flag=True, help="Do not autogenerate.")
def db_revision(message: str, branch: str, empty: bool) -> None:
    """Write a new migration on a package's branch (for developers)."""
    from frontoffice.migrate import domain_packages, revision

    if branch not in ("frontoffice", *domain_packages()):
        raise click.BadParameter(f"unknown package {branch!r}", param_hint="--branch")
    app = _app()
    _upgrade(app)
    revision(kernel_of(app).settings.database_url, message, branch, autogenerate=not empty)


def wiring_tables(kernel: Any) -> str:
    """Markdown tables of who provides which extension point and who hears which event, as the running
    app is wired (the source of the tables in docs/architecture.md)."""
    out = ["| extension point | kind | provided by | what |", "| --- | --- | --- | --- |"]
    out += [
        f"| `{name}` | {kind} | {who} | `{what}` |" for name, kind, who, what in kernel.extensions.table()
    ]
    out += ["", "| event | subscriber kind | subscriber |", "| --- | --- | --- |"]
    out += [f"| `{event}` | {kind} | `{who}` |" for event, kind, who in kernel.bus.table()]
    out += ["", "| periodic job | every | what |", "| --- | --- | --- |"]
    out += [f"| `{job.name}` | {job.interval_s:g} s | {job.description} |" for job in kernel.jobs.all()]
    return "\n".join(out) + "\n"


@main.command("wiring")
def wiring_cmd() -> None:
    """Print who provides which extension point and who hears which event (Markdown)."""
    click.echo(wiring_tables(kernel_of(_app())), nl=False)


#: How often ``frontoffice worker`` looks for rows when idle (at most; FRONTOFFICE_RELAY_POLL_S may ask less).
WORKER_POLL_S = 0.05


#: How often `frontoffice worker` checkpoints SQLite's WAL (the web processes with the relay off do not).
CHECKPOINT_EVERY_S = 1.0


def _every(interval_s: float, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` called at most once per ``interval_s`` however often the result is called."""
    due = [0.0]

    def call() -> object:
        now = time.monotonic()
        if now < due[0]:
            return None
        due[0] = now + interval_s
        return fn()

    return call


@main.command("worker")
def worker_cmd() -> None:
    """Deliver the outbox and run the periodic jobs in this process, until stopped (SIGTERM/SIGINT).

    Run it beside web processes started with FRONTOFFICE_RELAY=off; several may run (PostgreSQL
    shares the rows out; on SQLite one holds the lease and the others wait)."""
    import signal

    # It serves no sockets: its handlers emit into the Redis queue, web processes deliver.
    app = _app(relay="off", socketio_write_only=True)
    _upgrade(app)
    relay = kernel_of(app).relay
    # Every row it delivers was written by another process, which cannot wake it: it looks often
    # (a cheap indexed read), so rows go out in small batches as they come rather than in bursts
    # that would hold SQLite's writer lock for long stretches.
    relay.poll_s = min(relay.poll_s, WORKER_POLL_S)
    # Processes started with the relay off do not checkpoint SQLite's WAL as they commit (a
    # checkpoint copies a thousand pages and syncs, and under gevent it stalls every request of the
    # process for its length): the worker that delivers does, at most once a second.
    relay.pumps.append(_every(CHECKPOINT_EVERY_S, kernel_of(app).db.checkpoint))

    def stop(_signum: int, _frame: Any) -> None:
        relay.stop(timeout=0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(
        f"outbox worker {relay.owner} delivering from {kernel_of(app).db.engine.url.render_as_string()}"
    )
    relay.run_forever()
    click.echo("outbox worker stopped")


@main.group("outbox")
def outbox_group() -> None:
    """The outbox of domain events."""


@outbox_group.command("status")
def outbox_status() -> None:
    """How many events wait, were delivered, are parked; the periodic jobs."""
    status = kernel_of(_app(relay="off")).relay.status()
    oldest = "-" if status.oldest_pending_s is None else f"{status.oldest_pending_s:.1f} s"
    click.echo(f"pending: {status.pending} (due now: {status.due}, oldest: {oldest})")
    click.echo(f"delivered: {status.done}")
    click.echo(f"parked: {status.parked}")
    for job in status.jobs:
        last = job["last_run_at"].isoformat(timespec="seconds") if job["last_run_at"] else "never"
        error = f" — last error: {job['last_error']}" if job["last_error"] else ""
        click.echo(
            f"job {job['name']}: last run {last}, runs {job['runs']}, owner {job['owner'] or '-'}{error}"
        )


@outbox_group.command("replay")
@click.option("--from-id", type=int, default=0, help="The first outbox row to replay.")
@click.option("--to-id", type=int, default=None, help="The last outbox row to replay.")
def outbox_replay(from_id: int, to_id: int | None) -> None:
    """Run delivered events through the projectors again: those that applied an event skip it, so
    only a projector that missed it (a new one, or one whose marks were cleared) changes anything."""
    replayed = kernel_of(_app(relay="off")).relay.replay(from_id, to_id)
    click.echo(f"replayed {replayed} event(s)")


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
        with kernel_of(app).db.unit_of_work() as s:
            create_user(s, username, password, role, name)
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)
    click.echo(f"Created {role} {username}.")


@main.command("set-password")
@click.argument("username")
@click.password_option()
def set_password_cmd(username: str, password: str) -> None:
    """Give a user a new password; every browser session they have ends."""
    from frontoffice.auth import change_password, user_id_named
    from frontoffice.errors import DomainError

    app = _app()
    _upgrade(app)
    try:
        with kernel_of(app).db.unit_of_work() as s:
            change_password(s, user_id_named(s, username), password)
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)
    click.echo(f"New password set for {username}; their browser sessions have ended.")


def _add_package_commands() -> None:
    from frontoffice.app import PACKAGES

    for package in PACKAGES:
        for command in package.commands:
            main.add_command(command)


_add_package_commands()

if __name__ == "__main__":
    main()
