"""How long the app waits on its database, and how it tells that the database is not answering.

PostgreSQL (``postgresql+psycopg``):

* a new connection gives up after ``connect_timeout`` (libpq's parameter; psycopg enforces it
  itself, with libpq's minimum of 2 s);
* the server cancels a statement that runs longer than ``statement_timeout`` (sent as a
  connection option, ``-c statement_timeout=…``);
* a server that stopped answering altogether — its processes stopped, a network path gone silent —
  cancels nothing and leaves the client waiting on an open socket for as long as it lasts. So a
  watchdog thread of this process cuts (shuts down) the socket of any wait on the server that has
  heard nothing from it for longer than the statement timeout plus a second: the wait ends with
  psycopg's "server closed the connection" error, SQLAlchemy drops that connection and checks the
  others before reuse. A long exchange that keeps moving (a pipeline of many statements, a big
  result read in parts) is not a stall: each step the server lets the wait take starts the count
  again.

Both databases: a request waits at most ``pool_timeout`` for a pooled connection; SQLite writers wait
at most the busy timeout for each other. :func:`unavailable` tells these failures from bugs, so the
error handlers answer them 503 with ``Retry-After`` (:mod:`frontoffice.errors`), and
:class:`HealthProbe` lets ``/healthz`` answer within its own, shorter, timeout.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: How much longer than the statement timeout a wait on a silent server may last before it is cut:
#: the server's own cancellation, when it is alive, comes first.
STALL_MARGIN_S = 1.0


@dataclass(frozen=True)
class DatabaseTimeouts:
    """The limits on waiting for the database (0 turns one off)."""

    connect_s: float = 3.0
    statement_s: float = 10.0
    pool_s: float = 5.0

    @property
    def stalled_after_s(self) -> float:
        """A wait on PostgreSQL longer than this is cut (0: never)."""
        return self.statement_s + STALL_MARGIN_S if self.statement_s > 0 else 0.0


def postgres_connect_args(url: str, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """libpq parameters for ``create_engine(connect_args=…)``: the connect and statement timeouts,
    added to the ``options`` the URL may already carry."""
    args: dict[str, Any] = {}
    if timeouts.connect_s > 0:
        args["connect_timeout"] = max(2, math.ceil(timeouts.connect_s))
    if timeouts.statement_s > 0:
        given = make_url(url).query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        ms = max(1, round(timeouts.statement_s * 1000))
        args["options"] = f"{given} -c statement_timeout={ms}".strip()
    return args


def guard_stalls(engine: Engine, stalled_after_s: float) -> None:
    """Have every psycopg connection of ``engine`` cut when one of its waits on the server lasts
    longer than ``stalled_after_s``."""
    if stalled_after_s <= 0 or engine.dialect.driver != "psycopg":
        return
    connection_class = _guarded_connection_class()

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: tuple, cparams: dict) -> Any:
        conn = connection_class.connect(*cargs, **cparams)
        conn.stalled_after_s = stalled_after_s
        _WATCHDOG.watch(conn)
        return conn


_CONNECTION_CLASS: type | None = None


def _guarded_connection_class() -> type:
    """A psycopg connection that notes when it starts and ends waiting on the server."""
    global _CONNECTION_CLASS
    if _CONNECTION_CLASS is None:
        import psycopg

        class GuardedConnection(psycopg.Connection):
            """Every round trip to the server (statements, fetches, commits, pings) goes through
            ``wait``: the watchdog reads ``waiting_since`` — when the server last let the wait go
            on — to find the ones that never end."""

            stalled_after_s: float = 0.0
            waiting_since: float | None = None

            def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
                self.waiting_since = time.monotonic()
                try:
                    return super().wait(_noting_progress(self, gen), *args, **kwargs)
                finally:
                    self.waiting_since = None

        _CONNECTION_CLASS = GuardedConnection
    return _CONNECTION_CLASS


def _noting_progress(conn: Any, gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """psycopg's generator ``gen`` (it yields what it waits for on the socket and is sent what is
    ready), noting in ``conn.waiting_since`` every time the socket let it go on."""
    try:
        state = next(gen)
        while True:
            ready = yield state
            conn.waiting_since = time.monotonic()
            state = gen.send(ready)
    except StopIteration as done:
        return done.value


class _Watchdog:
    """One thread per process looking at the waits of every guarded connection a few times a
    second; it starts with the first connection (and again in a forked child)."""

    TICK_S = 0.25

    def __init__(self) -> None:
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def after_fork(self) -> None:
        """In a forked child the lock may have been held by a thread that does not exist there, and
        the parent's connections are not the child's to watch: one caught mid-wait by the fork looks
        waiting for ever in the child's copy, and cutting it would shut the parent's socket."""
        self._lock = threading.Lock()
        self._connections = weakref.WeakSet()

    def watch(self, conn: Any) -> None:
        with self._lock:
            self._connections.add(conn)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="db-stall-watchdog", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            now = time.monotonic()
            with self._lock:
                connections = list(self._connections)
            for conn in connections:
                since = conn.waiting_since
                if since is not None and now - since > conn.stalled_after_s:
                    _cut(conn, since)


def _cut(conn: Any, since: float) -> None:
    """Shut the socket of ``conn`` down if it is still in the wait that last moved at ``since``
    (checked again once its descriptor is held, so a wait that ended meanwhile is left alone)."""
    try:
        duplicate = os.dup(conn.fileno())
    except Exception:  # closed meanwhile: nothing left to cut
        return
    with socket.socket(fileno=duplicate) as sock:
        if conn.waiting_since != since:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return
    log.warning(
        "PostgreSQL sent nothing for %.1f s during a wait (more than %.1f s): connection cut",
        time.monotonic() - since,
        conn.stalled_after_s,
    )


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG.after_fork)


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot serve now — down, refusing, silent, too slow,
    locked by another writer, no free connection — rather than a bug in the request."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection within the pool timeout
        return True
    return isinstance(exc, sa_exc.OperationalError) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    )


@dataclass
class _Probe:
    done: threading.Event
    error: str | None = None


class HealthProbe:
    """The database check of ``/healthz``, answered within the caller's timeout whatever the
    database does: ``SELECT 1`` runs in a thread of its own, one probe at a time per process,
    shared by the checks that arrive while it runs."""

    def __init__(self, reading: Callable[[], AbstractContextManager[Any]]):
        self._reading = reading
        self._lock = threading.Lock()
        self._probe: _Probe | None = None

    def check(self, timeout_s: float) -> str | None:
        """None when the database answered within ``timeout_s``; otherwise what went wrong."""
        with self._lock:
            probe = self._probe
            if probe is None or probe.done.is_set():
                probe = self._probe = _Probe(threading.Event())
                threading.Thread(target=self._run, args=(probe,), name="healthz-probe", daemon=True).start()
        if not probe.done.wait(timeout_s):
            return f"The database did not answer within {timeout_s:g} s."
        return probe.error

    def _run(self, probe: _Probe) -> None:
        try:
            with self._reading() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # the probe reports any failure
            probe.error = f"The database check failed: {exc.__class__.__name__}."
        finally:
            probe.done.set()
