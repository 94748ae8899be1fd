"""A TCP proxy on 127.0.0.1 in front of a real database server, switchable at run time between
passing bytes through, stalling (a server whose processes stopped: connections are accepted and
nothing is ever answered) and refusing (a server that went away: open connections are dropped and
new ones refused). Tests point an app at it to meet a failing database without touching the real
one.

Sockets are shut down by whoever decides a connection is over, but closed only by the last thread
that uses them, and both under one lock: a descriptor number freed by a close may at once be reused
by another connection of the test process (its own database connections), and a late ``shutdown``
or ``send`` on the old number would cut that one instead."""

from __future__ import annotations

import socket
import threading

PASS, STALL, REFUSE = "pass", "stall", "refuse"


class SwitchableProxy:
    """Listens on a free port of 127.0.0.1 and relays to ``upstream`` while in :data:`PASS` mode."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.mode = PASS
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._closing = threading.Lock()  # every shutdown and close of this proxy's sockets
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    # --- switching ------------------------------------------------------------------------

    def pass_through(self) -> None:
        """Relay again; held bytes flow on."""
        self.mode = PASS
        self._listen()
        self._flowing.set()

    def stall(self) -> None:
        """Accept connections and hold every byte: nobody gets an answer."""
        self.mode = STALL
        self._flowing.clear()
        self._listen()

    def refuse(self) -> None:
        """Drop every open connection and stop listening: connecting is refused."""
        self.mode = REFUSE
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            self._shut(listener)  # wakes the thread blocked in accept(), which closes it
        for sock in sockets:
            self._shut(sock)  # wakes the relays, which close their sockets
        self._flowing.set()  # the relays wake up, find their sockets shut and end

    def close(self) -> None:
        """Stop for good."""
        self.refuse()

    # --- relaying ---------------------------------------------------------------------------

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                self._close(listener)  # shut by refuse(): this thread was its only user
                return
            if self._track(client):
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._flowing.wait()  # a connection made while stalled is never answered until resumed
        if self.mode == REFUSE:
            self._close(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            self._close(client)
            return
        server.settimeout(None)
        if not self._track(server):
            self._close(client)
            return
        pair = _Pair(client, server)
        for src, dst in ((client, server), (server, client)):
            threading.Thread(target=self._relay, args=(src, dst, pair), daemon=True).start()

    def _relay(self, src: socket.socket, dst: socket.socket, pair: _Pair) -> None:
        try:
            while data := src.recv(65536):
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        # Wake the other direction; the last of the two closes both.
        self._shut(src)
        self._shut(dst)
        if pair.done():
            self._close(pair.client)
            self._close(pair.server)

    def _track(self, sock: socket.socket) -> bool:
        """Keep ``sock`` to drop on refuse(); False (and closed) if refused already."""
        with self._lock:
            if self.mode != REFUSE:
                self._sockets.add(sock)
                return True
        self._close(sock)
        return False

    def _shut(self, sock: socket.socket) -> None:
        """Shut ``sock`` down unless it is closed already (I/O on it ends in every thread)."""
        with self._closing:
            if sock.fileno() != -1:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _close(self, sock: socket.socket) -> None:
        """Shut ``sock`` down and close it; only by the last thread that uses it."""
        self._shut(sock)
        with self._closing:
            sock.close()


class _Pair:
    """A relayed connection: its two sockets and how many of its two relays still run."""

    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        self._running = 2
        self._lock = threading.Lock()

    def done(self) -> bool:
        """One relay ended; True for the second."""
        with self._lock:
            self._running -= 1
            return self._running == 0
