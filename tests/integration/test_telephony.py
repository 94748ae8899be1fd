"""Telephony against real local stand-ins for the exchanges: a fake Asterisk speaking AMI over TCP
and a fake Mango Office API over HTTP. Calls ring the right operator only, land in the log and the
call-back list, click-to-call rings the operator's extension, a broken AMI link loses no call, and
bad input (a refused login, a forged notification, a withheld number) is handled plainly."""

from __future__ import annotations

import json
import threading

import pytest

from telephony.adapters.asterisk_ami import AmiLink, ami_config
from telephony.adapters.mango import sign
from telephony.ports import TELEPHONY
from tests.conftest import _make_app, load_demo_catalogue, make_users
from tests.helpers import AuthActions, OrderActions
from tests.telephony_fixtures import FakeAsterisk, FakeMango, ami_call, wait_for

DID = "78432001010"


@pytest.fixture
def asterisk():
    fake = FakeAsterisk()
    yield fake
    fake.close()


def _telephony_app(database_url, tmp_path, **settings):
    app = _make_app(database_url, tmp_path, **settings)
    users = make_users(app)
    kernel = app.extensions["frontoffice"]
    # a second operator, who must hear nothing of the first one's calls
    from frontoffice.auth import create_user, issue_token

    with kernel.db.unit_of_work() as s:
        other = create_user(
            s,
            "op2",
            "pw-op2-long",
            "operator",
            "Other Operator",
            hash_method="pbkdf2:sha256:1000",
            strength_checked=False,
        )
        other_token = issue_token(s, other, "tests")
        other_id = other.id
    client = app.test_client()
    admin = users["admin"].headers
    for user_id, ext in ((users["operator"].id, "201"), (other_id, "202")):
        assert (
            client.put(
                f"/api/v1/telephony/extensions/{user_id}", json={"extension": ext}, headers=admin
            ).status_code
            == 200
        )
    assert (
        client.post(
            "/api/v1/telephony/lines",
            json={"number": "+7 843 200-10-10", "name": "Pizza Kazan"},
            headers=admin,
        ).status_code
        == 201
    )
    return app, users, other_token


@pytest.fixture
def ami_app(database_url, tmp_path, asterisk):
    app, users, other_token = _telephony_app(
        database_url,
        tmp_path,
        telephony="asterisk",
        ami_port=asterisk.port,
        ami_username="frontoffice",
        ami_secret="s3cret",
    )
    yield app, users, other_token
    app.extensions["frontoffice"].db.dispose()


def _start_link(app, asterisk, **overrides):
    kernel = app.extensions["frontoffice"]
    config = ami_config(
        kernel.settings, reconnect_min_s=0.05, reconnect_max_s=0.2, timeout_s=2.0, **overrides
    )
    link = AmiLink(config, kernel.extensions.get(TELEPHONY).desk)
    thread = threading.Thread(target=link.run_forever, daemon=True)
    thread.start()
    return link, thread


def _calls(client, users, **query):
    res = client.get("/api/v1/telephony/calls", headers=users["manager"].headers, query_string=query)
    assert res.status_code == 200
    return res.get_json()["items"]


def test_a_ringing_call_rings_only_the_operator_of_that_extension_and_is_logged(ami_app, asterisk):
    app, users, other_token = ami_app
    kernel = app.extensions["frontoffice"]
    mine = kernel.socketio.test_client(app, namespace="/callcentre", auth={"token": users["operator"].token})
    theirs = kernel.socketio.test_client(app, namespace="/callcentre", auth={"token": other_token})
    link, thread = _start_link(app, asterisk)
    try:
        wait_for(link.connected.is_set, what="the AMI link")
        call = ami_call("1700000001.1", "+79123456789", DID, "201")
        asterisk.push(call["new"])
        asterisk.push(call["dial"])
        rings = wait_for(
            lambda: [m for m in mine.get_received("/callcentre") if m["name"] == "incoming_call"],
            what="the ring",
        )
        ring = rings[0]["args"][0]
        assert ring["phone"] == "+79123456789"
        assert (ring["line"], ring["line_name"], ring["anonymous"]) == (DID, "Pizza Kazan", False)
        assert [m for m in theirs.get_received("/callcentre") if m["name"] == "incoming_call"] == []
        asterisk.push(call["bridge"])
        wait_for(
            lambda: [c for c in _calls(app.test_client(), users) if c["status"] == "talking"],
            what="the answer",
        )
        # the order the operator takes while talking is the call's
        load_demo_catalogue(app)
        order = OrderActions(kernel).place(("PZ-MARG", 1), policies=False, actor_id=users["operator"].id)
        asterisk.push(call["hangup_leg"])
        asterisk.push(call["hangup"])
        client = app.test_client()
        logged = wait_for(
            lambda: [c for c in _calls(client, users) if c["status"] == "answered"], what="the log"
        )
        assert logged[0]["phone"] == "+79123456789"
        assert (logged[0]["extension"], logged[0]["operator"], logged[0]["line_name"]) == (
            "201",
            "Test Operator",
            "Pizza Kazan",
        )
        assert logged[0]["duration_s"] >= 0 and logged[0]["answered_at"] is not None
        assert (logged[0]["order_id"], logged[0]["order_number"]) == (order.id, order.number)
    finally:
        link.stop()
        thread.join(3)
        mine.disconnect(namespace="/callcentre")
        theirs.disconnect(namespace="/callcentre")


def test_missed_and_abandoned_calls_form_the_call_back_list_and_a_withheld_number_is_anonymous(
    ami_app, asterisk
):
    app, users, _ = ami_app
    link, thread = _start_link(app, asterisk)
    client = app.test_client()
    try:
        wait_for(link.connected.is_set, what="the AMI link")
        missed = ami_call("1700000002.1", "89170001122", DID, "201")
        for key in ("new", "dial", "hangup_leg", "hangup"):
            asterisk.push(missed[key])
        abandoned = ami_call("1700000003.1", "+79170003344", DID, "201")
        for key in ("new", "hangup"):
            asterisk.push(abandoned[key])
        withheld = ami_call("1700000004.1", "anonymous", DID, "201")
        for key in ("new", "dial", "hangup_leg", "hangup"):
            asterisk.push(withheld[key])
        wait_for(
            lambda: len([c for c in _calls(client, users) if c["ended_at"]]) == 3, what="three ended calls"
        )
        by_status = {c["status"]: c for c in _calls(client, users) if not c["anonymous"]}
        assert by_status["missed"]["phone"] == "+79170001122"
        assert by_status["abandoned"]["phone"] == "+79170003344"
        anonymous = [c for c in _calls(client, users) if c["anonymous"]]
        assert [(c["phone"], c["status"]) for c in anonymous] == [(None, "missed")]
        callbacks = client.get("/api/v1/telephony/callbacks", headers=users["operator"].headers).get_json()[
            "items"
        ]
        assert sorted(c["phone"] for c in callbacks) == ["+79170001122", "+79170003344"]
        # the page lists them with their keys
        AuthActions(client).login("operator")
        page = client.get("/telephony/callbacks")
        assert (
            page.status_code == 200 and b"+7 917 000-11-22" in page.data and b'data-dial-key="1"' in page.data
        )
    finally:
        link.stop()
        thread.join(3)


def test_click_to_call_sends_originate_with_the_operators_extension(ami_app, asterisk):
    app, users, _ = ami_app
    client = app.test_client()
    res = client.post(
        "/api/v1/telephony/dial", json={"phone": "8 (912) 345-67-89"}, headers=users["operator"].headers
    )
    assert res.status_code == 202, res.get_json()
    assert res.get_json() == {"extension": "201", "phone": "+79123456789"}
    (originate,) = asterisk.originates()
    assert (originate["Channel"], originate["Exten"], originate["Context"], originate["Async"]) == (
        "PJSIP/201",
        "79123456789",
        "from-internal",
        "true",
    )
    # no extension: a clear refusal; not a number: 422 naming the field
    res = client.post(
        "/api/v1/telephony/dial", json={"phone": "+79123456789"}, headers=users["manager"].headers
    )
    assert res.status_code == 409 and res.get_json()["code"] == "no_extension"
    res = client.post("/api/v1/telephony/dial", json={"phone": "call me"}, headers=users["operator"].headers)
    assert res.status_code == 422 and res.get_json()["errors"][0]["field"] == "phone"
    assert len(asterisk.originates()) == 1
    # the pages' form (the call-back list, a ticket's client) does the same and goes back where it was
    auth = AuthActions(client)
    auth.login("operator")
    token = auth.csrf(client.get("/telephony/callbacks").data)
    res = client.post(
        "/telephony/dial",
        data={"csrf_token": token, "phone": "+79170001122", "next": "/backoffice/tickets/1"},
    )
    assert res.status_code == 302 and res.headers["Location"].endswith("/backoffice/tickets/1")
    assert asterisk.originates()[-1]["Exten"] == "79170001122"


def test_the_ami_link_dropping_and_coming_back_loses_no_call(ami_app, asterisk):
    app, users, _ = ami_app
    link, thread = _start_link(app, asterisk)
    client = app.test_client()
    try:
        wait_for(link.connected.is_set, what="the AMI link")
        first = ami_call("1700000005.1", "+79120000001", DID, "201")
        asterisk.push(first["new"])
        asterisk.push(first["dial"])
        wait_for(lambda: _calls(client, users), what="the first call")
        asterisk.drop()
        # while the link is down: the first call ends, a second one starts and is answered
        for key in ("hangup_leg", "hangup"):
            asterisk.track(first[key])
        second = ami_call("1700000006.1", "+79120000002", DID, "202")
        for key in ("new", "dial", "bridge"):
            asterisk.track(second[key])
        wait_for(lambda: link.connections >= 2 and asterisk.listening(), what="the link to come back")
        calls = {c["phone"]: c for c in _calls(client, users)}
        assert calls["+79120000001"]["status"] == "missed" and calls["+79120000001"]["ended_at"]
        assert calls["+79120000002"]["status"] == "talking" and calls["+79120000002"]["extension"] == "202"
        asterisk.push(second["hangup"])
        wait_for(
            lambda: {c["status"] for c in _calls(client, users)} == {"missed", "answered"}, what="both ended"
        )
    finally:
        link.stop()
        thread.join(3)


@pytest.fixture
def sqlite_ami_app(tmp_path, _sqlite_template, asterisk):
    app, users, other_token = _telephony_app(
        _sqlite_template.fresh(tmp_path),
        tmp_path,
        telephony="asterisk",
        ami_port=asterisk.port,
        ami_username="frontoffice",
        ami_secret="s3cret",
    )
    yield app, users, other_token
    app.extensions["frontoffice"].db.dispose()


def test_a_refused_ami_login_is_said_plainly_and_retried_with_backoff(sqlite_ami_app, asterisk):
    """Nothing is written while the login is refused: SQLite alone."""
    app, users, _ = sqlite_ami_app
    link, thread = _start_link(app, asterisk, secret="wrong")
    try:
        wait_for(lambda: asterisk.refusals >= 3, what="three refused logins")
        assert "refused the manager login 'frontoffice'" in link.last_error
        assert "Authentication failed" in link.last_error
        assert not link.connected.is_set() and link.connections == 0
    finally:
        link.stop()
        thread.join(3)
    # the workspace keeps working by hand meanwhile: the lookup answers
    res = app.test_client().get(
        "/api/v1/callcentre/lookup", query_string={"phone": "+79123456789"}, headers=users["operator"].headers
    )
    assert res.status_code == 200


@pytest.fixture
def mango_app(database_url, tmp_path):
    fake = FakeMango("vpbx-key", "vpbx-salt")
    app, users, other_token = _telephony_app(
        database_url,
        tmp_path,
        telephony="mango",
        mango_api_url=fake.url,
        mango_api_key="vpbx-key",
        mango_api_salt="vpbx-salt",
    )
    yield app, users, other_token, fake
    app.extensions["frontoffice"].db.dispose()
    fake.close()


def _mango_post(client, kind, payload, key="vpbx-key", salt="vpbx-salt"):
    body = json.dumps(payload)
    return client.post(
        f"/api/v1/telephony/mango/events/{kind}",
        data={"vpbx_api_key": key, "json": body, "sign": sign(key, body, salt)},
    )


def test_mango_notifications_ring_the_operator_a_forged_one_is_refused_and_click_to_call_goes_through_mango(
    mango_app,
):
    app, users, other_token, fake = mango_app
    kernel = app.extensions["frontoffice"]
    mine = kernel.socketio.test_client(app, namespace="/callcentre", auth={"token": users["operator"].token})
    client = app.test_client()
    appeared = {
        "entry_id": "MTA0NzQ2OTkyMDE=",
        "call_id": "MToxMDE=",
        "timestamp": 1764960000,
        "seq": 1,
        "call_state": "Appeared",
        "location": "abonent",
        "from": {"number": "79123456789"},
        "to": {"extension": "201", "number": "sip:201@vpbx", "line_number": DID},
    }
    res = _mango_post(client, "call", appeared, salt="not-our-salt")
    assert res.status_code == 403 and res.mimetype == "application/problem+json"
    assert res.get_json()["code"] == "bad_signature"
    assert _calls(client, users) == []
    assert _mango_post(client, "call", appeared).status_code == 200
    ring = [m for m in mine.get_received("/callcentre") if m["name"] == "incoming_call"][0]["args"][0]
    assert (ring["phone"], ring["line_name"]) == ("+79123456789", "Pizza Kazan")
    _mango_post(client, "call", {**appeared, "seq": 2, "call_state": "Connected", "timestamp": 1764960005})
    _mango_post(
        client,
        "summary",
        {
            "entry_id": appeared["entry_id"],
            "from": appeared["from"],
            "to": appeared["to"],
            "end_time": 1764960065,
        },
    )
    (call,) = _calls(client, users, day="2025-12-05")
    assert (call["status"], call["duration_s"], call["source"]) == ("answered", 60, "mango")
    mine.disconnect(namespace="/callcentre")
    # click-to-call goes through Mango's callback command, and its refusal is a clear 503
    res = client.post(
        "/api/v1/telephony/dial", json={"phone": "+7 912 345 67 89"}, headers=users["operator"].headers
    )
    assert res.status_code == 202
    assert fake.commands[0]["from"] == {"extension": "201"} and fake.commands[0]["to_number"] == "79123456789"
    fake.result = 3102
    res = client.post(
        "/api/v1/telephony/dial", json={"phone": "+7 912 345 67 89"}, headers=users["operator"].headers
    )
    assert res.status_code == 503 and res.get_json()["code"] == "pbx_failed"
