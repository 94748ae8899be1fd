"""Outside telephone exchanges as real local servers: an Asterisk manager interface speaking the AMI
text protocol over TCP, and an HTTP server answering Mango Office's ``commands/callback``."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from telephony.adapters.mango import sign


def wait_for(check: Callable[[], object], timeout: float = 3.0, what: str = "condition") -> object:
    """Poll ``check`` until it answers something true (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _message(fields: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


class FakeAsterisk:
    """Asterisk's manager interface as a TCP server on 127.0.0.1: the banner, Login (accepted only
    for ``username``/``secret``), Ping, CoreShowChannels (the channels up now), Originate (queued),
    Logoff; events pushed to every client logged in with events on."""

    def __init__(self, username: str = "frontoffice", secret: str = "s3cret"):
        self.username, self.secret = username, secret
        self.channels: dict[str, dict[str, str]] = {}
        self.actions: list[dict[str, str]] = []
        self.listeners: list[socket.socket] = []
        self.logins = self.refusals = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.sendall(b"Asterisk Call Manager/5.0.2\r\n")
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                block, _, buffer = buffer.partition(b"\r\n\r\n")
                action = dict(
                    (k.strip(), v.strip())
                    for k, _, v in (line.partition(":") for line in block.decode().split("\r\n"))
                )
                with self.lock:
                    self.actions.append(action)
                if not self._answer(sock, action):
                    return
        except OSError:
            return
        finally:
            with self.lock:
                if sock in self.listeners:
                    self.listeners.remove(sock)

    def _answer(self, sock: socket.socket, action: dict[str, str]) -> bool:
        aid = {"ActionID": action.get("ActionID", "")}
        name = action.get("Action", "").lower()
        if name == "login":
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                with self.lock:
                    self.logins += 1
                    if action.get("Events", "on").lower() != "off":
                        self.listeners.append(sock)
                sock.sendall(_message({"Response": "Success", **aid, "Message": "Authentication accepted"}))
                return True
            with self.lock:
                self.refusals += 1
            sock.sendall(_message({"Response": "Error", **aid, "Message": "Authentication failed"}))
            return False  # Asterisk closes the connection after a failed login
        if name == "ping":
            sock.sendall(_message({"Response": "Success", **aid, "Ping": "Pong"}))
        elif name == "coreshowchannels":
            with self.lock:
                listed = list(self.channels.values())
            out = _message(
                {"Response": "Success", **aid, "EventList": "start", "Message": "Channels will follow"}
            )
            for ch in listed:
                out += _message({"Event": "CoreShowChannel", **aid, **ch})
            out += _message(
                {
                    "Event": "CoreShowChannelsComplete",
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(len(listed)),
                }
            )
            sock.sendall(out)
        elif name == "originate":
            sock.sendall(_message({"Response": "Success", **aid, "Message": "Originate successfully queued"}))
        elif name == "logoff":
            sock.sendall(_message({"Response": "Goodbye", **aid, "Message": "Thanks for all the fish."}))
            return False
        else:
            sock.sendall(_message({"Response": "Error", **aid, "Message": "Invalid/unknown command"}))
        return True

    def track(self, event: dict[str, str]) -> None:
        """Keep the channel table as Asterisk would after ``event`` (without telling anyone)."""
        with self.lock:
            name, unique = event["Event"], event.get("Uniqueid", "")
            if name == "Newchannel":
                self.channels[unique] = {
                    k: event.get(k, "") for k in ("Channel", "Uniqueid", "Linkedid", "CallerIDNum", "Exten")
                } | {"BridgeId": ""}
            elif name == "DialBegin":
                self.channels[event["DestUniqueid"]] = {
                    "Channel": event["DestChannel"],
                    "Uniqueid": event["DestUniqueid"],
                    "Linkedid": event["Linkedid"],
                    "CallerIDNum": event.get("DestCallerIDNum", ""),
                    "Exten": event.get("DestExten", ""),
                    "BridgeId": "",
                }
            elif name == "BridgeEnter" and unique in self.channels:
                self.channels[unique]["BridgeId"] = event.get("BridgeUniqueid", "b1")
            elif name == "Hangup":
                self.channels.pop(unique, None)

    def push(self, event: dict[str, str]) -> None:
        """Something happened on the PBX: update the channels, tell the listening clients."""
        self.track(event)
        data = _message({"Privilege": "call,all", **event})
        with self.lock:
            listeners = list(self.listeners)
        for sock in listeners:
            try:
                sock.sendall(data)
            except OSError:
                pass

    def drop(self) -> None:
        """Cut every manager connection (a network break)."""
        with self.lock:
            listeners, self.listeners = list(self.listeners), []
        for sock in listeners:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def listening(self) -> int:
        """How many clients hear events now."""
        with self.lock:
            return len(self.listeners)

    def originates(self) -> list[dict[str, str]]:
        """Every Originate action received."""
        with self.lock:
            return [a for a in self.actions if a.get("Action") == "Originate"]

    def close(self) -> None:
        """Stop listening and cut every connection."""
        self.drop()
        self.server.shutdown()
        self.server.server_close()


def ami_call(linked: str, caller: str, did: str, extension: str) -> dict[str, dict[str, str]]:
    """The AMI events of one inbound call from ``caller`` on line ``did`` ringing ``extension``."""
    leg = f"{linked}-2"
    return {
        "new": {
            "Event": "Newchannel",
            "Channel": f"PJSIP/trunk-{linked}",
            "Uniqueid": linked,
            "Linkedid": linked,
            "CallerIDNum": caller,
            "Exten": did,
            "Context": "from-trunk",
        },
        "dial": {
            "Event": "DialBegin",
            "Channel": f"PJSIP/trunk-{linked}",
            "Uniqueid": linked,
            "Linkedid": linked,
            "DestChannel": f"PJSIP/{extension}-{linked}",
            "DestUniqueid": leg,
            "DestCallerIDNum": extension,
            "DestExten": extension,
        },
        "bridge": {
            "Event": "BridgeEnter",
            "Channel": f"PJSIP/{extension}-{linked}",
            "Uniqueid": leg,
            "Linkedid": linked,
            "BridgeUniqueid": f"bridge-{linked}",
        },
        "hangup_leg": {
            "Event": "Hangup",
            "Channel": f"PJSIP/{extension}-{linked}",
            "Uniqueid": leg,
            "Linkedid": linked,
        },
        "hangup": {
            "Event": "Hangup",
            "Channel": f"PJSIP/trunk-{linked}",
            "Uniqueid": linked,
            "Linkedid": linked,
            "Cause": "16",
        },
    }


class FakeMango:
    """Mango Office's VPBX API on 127.0.0.1: ``POST /vpbx/commands/callback`` with the form
    ``vpbx_api_key``, ``sign``, ``json``; a wrong key or signature is answered as Mango does (HTTP 200
    with a result code other than 1000), an accepted command with ``{"result": 1000}``."""

    def __init__(self, api_key: str, salt: str, result: int = 1000):
        self.api_key, self.salt, self.result = api_key, salt, result
        self.commands: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/vpbx/commands/callback":
                    self._answer(404, {"result": 4001, "message": "unknown method"})
                    return
                good = form.get("vpbx_api_key") == fake.api_key and form.get("sign") == sign(
                    fake.api_key, form.get("json", ""), fake.salt
                )
                if not good:
                    self._answer(200, {"result": 3102, "message": "wrong sign"})
                    return
                fake.commands.append(json.loads(form["json"]))
                self._answer(200, {"result": fake.result})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/vpbx"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
