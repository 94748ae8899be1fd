"""A TCP proxy on 127.0.0.1 in front of a real database server, switchable at run time between
passing bytes through, stalling (a server whose processes stopped: connections are accepted and
nothing is ever answered) and refusing (a server that went away: open connections are dropped and
new ones refused). Tests point an app at it to meet a failing database without touching the real
one."""

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
            _close(listener)  # shutdown wakes the thread blocked in accept()
        for sock in sockets:
            _close(sock)
        self._flowing.set()  # the relays wake up, find their sockets closed and end

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
                return  # closed by refuse()
            self._track(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._flowing.wait()  # a connection made while stalled is never answered until resumed
        if self.mode == REFUSE:
            _close(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        server.settimeout(None)
        self._track(server)
        for src, dst in ((client, server), (server, client)):
            threading.Thread(target=self._relay, args=(src, dst), daemon=True).start()

    def _relay(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        _close(src)
        _close(dst)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            if self.mode == REFUSE:
                _close(sock)
            else:
                self._sockets.add(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
