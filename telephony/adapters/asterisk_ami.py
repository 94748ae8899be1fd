"""Asterisk's Manager Interface (AMI) over TCP: the link that hears calls and the click-to-call.

The protocol (https://docs.asterisk.org/Configuring-Asterisk/Interfaces/Asterisk-Manager-Interface-AMI/):
on connect the server sends one line, ``Asterisk Call Manager/<version>``; then both sides send
messages of ``Key: Value`` lines ended by an empty line (CRLF). A client sends actions (``Action:
Login`` …) with an ``ActionID`` the server repeats in its ``Response: Success|Error`` and in the
events that answer it; events (``Event: Newchannel`` …) come unasked once logged in.

Written on the standard library rather than taken from a client library: panoramisk is asyncio
(our processes run threads or gevent greenlets), pyst2 has had no release since 2019, and
asterisk-ami 0.1.7 reads events with its connect timeout still set (a quiet line for 3 s ends its
listener) and writes with ``send`` instead of ``sendall`` — docs/telephony.md has the details.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from telephony.adapters import PbxError
from telephony.calls import AmiCallTracker, CallFact

log = logging.getLogger(__name__)

BANNER_PREFIX = b"Asterisk Call Manager/"
MAX_MESSAGE = 64 * 1024


class AmiProtocolError(PbxError):
    """The other end does not speak AMI, or broke a message."""


class AmiLoginRefused(PbxError):
    """Asterisk refused the manager account (wrong user or secret, or a host the account may not
    come from)."""


@dataclass(frozen=True)
class AmiConfig:
    """Where Asterisk listens, the manager account, how click-to-call dials, how long to wait."""

    host: str
    port: int
    username: str
    secret: str
    channel: str = "PJSIP/{extension}"
    context: str = "from-internal"
    timeout_s: float = 5.0
    #: Silence after which the link sends a Ping; a second silence as long drops the link.
    ping_s: float = 20.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0


def ami_config(settings: Any, **overrides: Any) -> AmiConfig:
    """The AMI configuration of the app's settings (``FRONTOFFICE_AMI_*``)."""
    values = dict(
        host=settings.ami_host,
        port=int(settings.ami_port),
        username=settings.ami_username,
        secret=settings.ami_secret,
        channel=settings.ami_channel,
        context=settings.ami_context,
        timeout_s=float(settings.telephony_timeout_s),
        reconnect_max_s=float(settings.ami_reconnect_max_s),
    )
    values.update(overrides)
    return AmiConfig(**values)


def encode(fields: dict[str, str]) -> bytes:
    """One AMI message."""
    lines = []
    for key, value in fields.items():
        text = str(value)
        if "\r" in text or "\n" in text:
            raise ValueError(f"AMI field {key} may not hold a line break")
        lines.append(f"{key}: {text}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def decode(block: bytes) -> dict[str, str]:
    """The fields of one AMI message (a line without ``:`` is kept under ``Output``)."""
    out: dict[str, str] = {}
    for raw in block.decode("utf-8", errors="replace").splitlines():
        key, sep, value = raw.partition(":")
        if not sep:
            out["Output"] = (out.get("Output", "") + "\n" + raw).lstrip("\n")
            continue
        out[key.strip()] = value.strip()
    return out


class AmiConnection:
    """One logged-in (or logging-in) AMI session over a TCP socket."""

    _ids = itertools.count(1)

    def __init__(self, sock: socket.socket, version: str):
        self.sock = sock
        self.version = version
        self.buffer = b""
        #: Events read while waiting for a response, handed out first by :meth:`read`.
        self.pending: deque[dict[str, str]] = deque()

    @classmethod
    def open(cls, host: str, port: int, timeout_s: float) -> AmiConnection:
        """Connect and read the banner."""
        try:
            sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as exc:
            raise PbxError(f"Asterisk at {host}:{port} does not answer ({exc}).") from exc
        conn = cls(sock, "")
        try:
            line = conn._read_until(b"\r\n")
        except (OSError, AmiProtocolError):
            conn.close()
            raise
        if not line.startswith(BANNER_PREFIX):
            conn.close()
            raise AmiProtocolError(
                f"{host}:{port} is not an Asterisk manager interface (it said {line[:60]!r})."
            )
        conn.version = line[len(BANNER_PREFIX) :].decode("ascii", errors="replace").strip()
        return conn

    def _read_until(self, separator: bytes) -> bytes:
        while separator not in self.buffer:
            if len(self.buffer) > MAX_MESSAGE:
                raise AmiProtocolError("An AMI message is longer than 64 KiB.")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("Asterisk closed the connection.")
            self.buffer += chunk
        block, _, self.buffer = self.buffer.partition(separator)
        return block

    def send(self, action: str, **fields: str) -> str:
        """Send an action; returns its ActionID."""
        action_id = f"fo-{next(self._ids)}"
        self.sock.sendall(encode({"Action": action, "ActionID": action_id, **fields}))
        return action_id

    def read(self) -> dict[str, str]:
        """The next message (events kept aside while waiting for a response first)."""
        if self.pending:
            return self.pending.popleft()
        return decode(self._read_until(b"\r\n\r\n"))

    def ask(self, action: str, **fields: str) -> dict[str, str]:
        """Send an action and wait for its response; events read meanwhile wait in ``pending``."""
        action_id = self.send(action, **fields)
        while True:
            message = decode(self._read_until(b"\r\n\r\n"))
            if "Response" in message and message.get("ActionID", action_id) == action_id:
                return message
            if "Event" in message:
                self.pending.append(message)

    def login(self, username: str, secret: str, events: str = "call") -> None:
        """Log in with the manager account; raises :class:`AmiLoginRefused` when refused."""
        answer = self.ask("Login", Username=username, Secret=secret, Events=events)
        if answer.get("Response", "").lower() != "success":
            reason = answer.get("Message") or "no reason given"
            raise AmiLoginRefused(f"Asterisk refused the manager login {username!r}: {reason}.")

    def list_channels(self) -> list[dict[str, str]]:
        """Every channel up now (``CoreShowChannels``: one ``CoreShowChannel`` event each)."""
        action_id = self.send("CoreShowChannels")
        channels: list[dict[str, str]] = []
        while True:
            message = decode(self._read_until(b"\r\n\r\n"))
            if message.get("ActionID") != action_id:
                if "Event" in message:
                    self.pending.append(message)
                continue
            if message.get("Response", "").lower() == "error":
                raise AmiProtocolError(f"CoreShowChannels failed: {message.get('Message', '')}")
            event = message.get("Event")
            if event == "CoreShowChannel":
                channels.append(message)
            elif event == "CoreShowChannelsComplete":
                return channels

    def close(self) -> None:
        """Close the socket (wakes a reader blocked on it)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class AmiPbx:
    """Click-to-call through AMI ``Originate``: Asterisk rings the operator's extension, then dials
    the client from it (https://docs.asterisk.org/Asterisk_20_Documentation/API_Documentation/AMI_Actions/Originate/).
    Each command uses a short session of its own, so a web process needs no standing link."""

    name = "asterisk"

    def __init__(self, config: AmiConfig):
        self.config = config

    def originate(self, extension: str, number: str, reference: str) -> None:
        """Ring ``extension`` and connect it to ``number``; raises :class:`PbxError`."""
        c = self.config
        conn = AmiConnection.open(c.host, c.port, c.timeout_s)
        try:
            conn.login(c.username, c.secret, events="off")
            answer = conn.ask(
                "Originate",
                Channel=c.channel.format(extension=extension),
                Context=c.context,
                Exten=number,
                Priority="1",
                CallerID=number,
                Timeout="30000",
                Async="true",
                Variable=f"FRONTOFFICE_REF={reference}",
            )
            if answer.get("Response", "").lower() != "success":
                raise PbxError(f"Asterisk refused the call: {answer.get('Message') or 'no reason given'}.")
            try:
                conn.send("Logoff")
            except OSError:
                pass
        except OSError as exc:
            raise PbxError(f"The connection to Asterisk broke ({exc}).") from exc
        finally:
            conn.close()


class CallDesk(Protocol):
    """Where the link hands what it learns (telephony.live.LiveDesk)."""

    def is_extension(self, text: str) -> bool:
        """True for an operator's extension."""

    def record(self, source: str, facts: list[CallFact]) -> None:
        """Record the facts and show the rings."""

    def settle(self, source: str, open_keys: set[str], at: dt.datetime) -> None:
        """Calls recorded as going on that are not among ``open_keys`` ended while nobody listened."""


class AmiLink:
    """The standing AMI session (kept by the web process or ``frontoffice telephony``, see
    :mod:`telephony.listener`): logs in, lists the channels up (so a
    call that began or ended while the link was down is neither lost nor left ringing), then
    follows the events; on any break it reconnects, waiting longer after each failure."""

    def __init__(
        self,
        config: AmiConfig,
        desk: CallDesk,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.config = config
        self.desk = desk
        self.clock = clock
        self.tracker = AmiCallTracker(desk.is_extension)
        self.stopped = threading.Event()
        self.connected = threading.Event()
        self.last_error = ""
        self.connections = 0
        self.failures = 0
        self.conn: AmiConnection | None = None

    def stop(self) -> None:
        """Stop at once (closes the socket under a blocked read)."""
        self.stopped.set()
        if self.conn is not None:
            self.conn.close()

    def run_forever(self) -> None:
        """Keep the link until :meth:`stop`."""
        delay = self.config.reconnect_min_s
        while not self.stopped.is_set():
            try:
                self._session()
                delay = self.config.reconnect_min_s
            except AmiLoginRefused as exc:
                self._failed(exc.message, logging.ERROR)
            except (OSError, PbxError) as exc:
                self._failed(getattr(exc, "message", None) or f"The AMI link broke: {exc}", logging.WARNING)
            finally:
                self.connected.clear()
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
            if self.stopped.is_set():
                return
            log.info(
                "connecting to Asterisk at %s:%s again in %.1f s", self.config.host, self.config.port, delay
            )
            if self.stopped.wait(delay):
                return
            delay = min(delay * 2, self.config.reconnect_max_s)

    def _failed(self, message: str, level: int) -> None:
        if self.stopped.is_set():
            return
        self.failures += 1
        self.last_error = message
        log.log(level, "%s", message)

    def _session(self) -> None:
        c = self.config
        self.conn = conn = AmiConnection.open(c.host, c.port, c.timeout_s)
        conn.login(c.username, c.secret)
        channels = conn.list_channels()
        at = self.clock()
        self.desk.record("asterisk", self.tracker.resync(channels, at))
        self.desk.settle("asterisk", self.tracker.open_keys(), at)
        self.connections += 1
        self.last_error = ""
        self.connected.set()
        log.info("AMI link up: Asterisk %s at %s:%s", conn.version, c.host, c.port)
        for message in self._events(conn):
            facts = self.tracker.feed(message, self.clock())
            if facts:
                self.desk.record("asterisk", facts)

    def _events(self, conn: AmiConnection) -> Iterator[dict[str, str]]:
        conn.sock.settimeout(self.config.ping_s)
        waiting_pong = False
        while not self.stopped.is_set():
            try:
                message = conn.read()
            except TimeoutError:
                if waiting_pong:
                    raise PbxError("Asterisk stopped answering (no answer to Ping).") from None
                conn.send("Ping")
                waiting_pong = True
                continue
            waiting_pong = False
            if message.get("Event") == "Shutdown":
                raise PbxError("Asterisk is shutting down.")
            if "Event" in message:
                yield message
