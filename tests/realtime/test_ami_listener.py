"""The embedded default keeps the Asterisk link itself: a real ``frontoffice run`` on SQLite without
Redis, with ``FRONTOFFICE_TELEPHONY=asterisk``, logs in to a fake Asterisk (a real TCP server speaking
AMI) from its gunicorn worker (the gevent worker: the link is a greenlet on patched sockets); a ringing
call reaches the operator's Socket.IO client on ``/callcentre`` and lands in the call log."""

from __future__ import annotations

import queue

import pytest
import requests

from telephony import services
from tests.conftest import _make_app, make_users
from tests.server_processes import ServerProcess, clean_env, free_port, listen
from tests.telephony_fixtures import FakeAsterisk, ami_call, wait_for

pytestmark = pytest.mark.slow

DID = "78432001010"


def test_the_embedded_server_keeps_the_ami_link_and_rings_the_operator(tmp_path, _sqlite_template):
    asterisk = FakeAsterisk()
    database_url = _sqlite_template.fresh(tmp_path)
    setup = _make_app(database_url, tmp_path / "setup")
    users = make_users(setup)
    kernel = setup.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        services.set_extension(s, users["operator"].id, "201")
        services.add_line(s, "+7 843 200-10-10", "Pizza Kazan")
    kernel.db.dispose()
    env = clean_env(
        database_url=database_url,
        secret_key="ami-listener-test",
        instance_path=str(tmp_path / "instance"),
        telephony="asterisk",
        ami_port=str(asterisk.port),
        ami_username="frontoffice",
        ami_secret="s3cret",
        log_format="text",
    )
    port = free_port()
    server = ServerProcess(["run", "--port", str(port)], port, env, tmp_path)
    operator = None
    try:
        server.wait_ready()
        try:
            wait_for(asterisk.listening, timeout=5, what="the web process's AMI link")
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{server.output()}") from None
        operator, rings = listen(server.url, "/callcentre", users["operator"].token, "incoming_call")
        call = ami_call("1700000101.1", "+79123456789", DID, "201")
        asterisk.push(call["new"])
        asterisk.push(call["dial"])
        try:
            ring = rings.get(timeout=3)
        except queue.Empty:
            raise AssertionError(f"no incoming_call reached the operator:\n{server.output()}") from None
        assert (ring["phone"], ring["line"], ring["line_name"]) == ("+79123456789", DID, "Pizza Kazan")
        for key in ("bridge", "hangup_leg", "hangup"):
            asterisk.push(call[key])
        headers = {"Authorization": f"Bearer {users['manager'].token}"}

        def answered() -> list[dict]:
            resp = requests.get(f"{server.url}/api/v1/telephony/calls", headers=headers, timeout=5)
            assert resp.status_code == 200, resp.text
            return [c for c in resp.json()["items"] if c["status"] == "answered"]

        (logged,) = wait_for(answered, what="the answered call in the log")
        assert (logged["phone"], logged["extension"], logged["operator"]) == (
            "+79123456789",
            "201",
            "Test Operator",
        )
        # one link: the worker's; neither gunicorn's arbiter nor the start-up commands connected
        assert (asterisk.logins, asterisk.listening()) == (1, 1)
    finally:
        if operator is not None:
            operator.disconnect()
        server.stop()
        asterisk.close()
