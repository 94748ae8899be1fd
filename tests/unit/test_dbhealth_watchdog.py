"""The stall watchdog counts silence, not the length of an exchange (frontoffice/dbhealth.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from frontoffice import dbhealth


def _exchange(log: list):
    """A psycopg-like generator: yields what it waits for, is sent what is ready, returns a value."""
    ready = yield "wait-write"
    log.append(ready)
    ready = yield "wait-read"
    log.append(ready)
    ready = yield "wait-read"
    log.append(ready)
    return "result"


def test_every_step_the_socket_lets_a_wait_take_moves_its_stamp_on_and_the_result_passes_through():
    conn = SimpleNamespace(waiting_since=0.0)
    seen: list = []
    stamps: list[float] = []
    wrapped = dbhealth._noting_progress(conn, _exchange(seen))

    first = next(wrapped)
    assert first == "wait-write" and conn.waiting_since == 0.0  # nothing moved yet
    states, result = [first], None
    try:
        for item in ("W", "R1", "R2"):
            time.sleep(0.01)
            states.append(wrapped.send(item))
            stamps.append(conn.waiting_since)
    except StopIteration as done:
        result = done.value
        stamps.append(conn.waiting_since)
    assert states == ["wait-write", "wait-read", "wait-read"]
    assert seen == ["W", "R1", "R2"]  # what was ready reaches psycopg's generator unchanged
    assert result == "result"
    assert conn.waiting_since > 0.0
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # each step restarts the count


def test_a_wait_that_ended_before_the_cut_is_left_alone():
    """The watchdog saw a wait that began at ``since``; it is over by the time the cut holds the
    descriptor, so the connection, now busy with something else, keeps its socket."""
    import socket

    left, right = socket.socketpair()
    try:
        conn = SimpleNamespace(waiting_since=time.monotonic(), stalled_after_s=1.0, fileno=left.fileno)
        seen_since = conn.waiting_since - 5
        dbhealth._cut(conn, seen_since)
        right.sendall(b"x")
        assert left.recv(1) == b"x"  # still open both ways
        left.sendall(b"y")
        assert right.recv(1) == b"y"
        dbhealth._cut(conn, conn.waiting_since)  # the same wait, still silent: cut
        assert left.recv(1) == b""
    finally:
        left.close()
        right.close()


def test_a_forked_child_never_cuts_the_connections_it_inherited():
    """A connection of the parent caught mid-wait by a fork stays "waiting" for ever in the child's
    copy (the thread that would end the wait is not there). Its socket is the parent's too: the
    child's watchdog must not shut it down."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, socket, time
        from frontoffice import dbhealth

        class Conn:
            def __init__(self, sock, since):
                self.sock, self.waiting_since, self.stalled_after_s = sock, since, 0.3
            def fileno(self):
                return self.sock.fileno()

        left, right = socket.socketpair()
        parents = Conn(left, None)
        dbhealth._WATCHDOG.watch(parents)
        parents.waiting_since = time.monotonic()  # mid-wait when the fork comes
        pid = os.fork()
        if pid == 0:
            spare_left, spare_right = socket.socketpair()
            dbhealth._WATCHDOG.watch(Conn(spare_left, None))  # the child's own first connection
            time.sleep(1.2)
            os._exit(0)
        parents.waiting_since = None  # the parent's wait ended as usual
        os.waitpid(pid, 0)
        right.sendall(b"x")
        print("parent's socket:", "open" if left.recv(1) == b"x" else "cut")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "parent's socket: open", done.stdout + done.stderr
