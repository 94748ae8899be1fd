"""Hardening for the internet (issue 16, item 6): rate limits on logins, tokens and OsmAnd devices
(429 problem+json with Retry-After), ProxyFix by setting, Secure cookies and the session's lifetime,
request ids in headers, problem bodies and logs, /readyz, the pool's size from settings."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from email.utils import parsedate_to_datetime

import pytest

from frontoffice.errors import PROBLEM_MIME
from frontoffice.requestlog import JsonFormatter
from tests.conftest import _make_app, make_users
from tests.helpers import AuthActions
from tests.server_processes import free_port

REDIS_URL = os.environ.get("FRONTOFFICE_TEST_REDIS_URL")


@pytest.fixture
def make(tmp_path, _sqlite_template):
    """An app on a fresh SQLite database with these setting overrides, and its users."""
    made = []

    def build(**settings):
        folder = tmp_path / f"app{len(made)}"
        folder.mkdir()
        app = _make_app(_sqlite_template.fresh(folder), folder, **settings)
        made.append(app)
        return app, make_users(app)

    yield build
    for app in made:
        app.extensions["frontoffice"].db.dispose()


def token_call(client, username: str, password: str, address: str = "10.0.0.1", **kwargs):
    return client.post(
        "/api/v1/tokens",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def assert_too_many(resp) -> dict:
    assert resp.status_code == 429, resp.data[:300]
    assert resp.headers["Content-Type"] == PROBLEM_MIME
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 61
    body = resp.get_json()
    assert body["status"] == 429 and body["title"] == "Too many requests"
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def test_the_11th_wrong_password_in_a_minute_gets_429_and_a_right_login_from_another_address_works(make):
    app, users = make()
    client = app.test_client()
    for _ in range(10):
        assert token_call(client, "test-operator", "wrong").status_code == 401
    body = assert_too_many(token_call(client, "test-operator", "wrong"))
    assert "failed logins" in body["detail"]
    # the right password from the same address waits too: the guesser does not learn it
    assert_too_many(token_call(client, "test-operator", "pw-operator"))
    assert token_call(client, "test-operator", "pw-operator", address="10.0.0.2").status_code == 201
    # another user from the first address is not locked out either
    assert token_call(client, "test-manager", "pw-manager").status_code == 201


def test_right_logins_do_not_count_as_failures(make):
    app, _users = make()
    client = app.test_client()
    for _ in range(15):
        assert token_call(client, "test-operator", "pw-operator").status_code == 201


def test_wrong_passwords_count_across_the_login_page_the_token_api_and_the_courier_app(make):
    app, _users = make()
    client = app.test_client()
    csrf = AuthActions.csrf(client.get("/login").data)
    form = {"username": "test-courier", "password": "x", "csrf_token": csrf}
    for _ in range(4):
        resp = client.post("/login", data=form, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert resp.status_code == 401
    for _ in range(3):
        assert token_call(client, "test-courier", "x", address="10.0.0.9").status_code == 401
    for _ in range(3):
        resp = client.post(
            "/api/courier/v1/session",
            json={"login": "test-courier", "password": "x"},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
        assert resp.status_code == 401, resp.data
    resp = client.post(
        "/api/courier/v1/session",
        json={"login": "test-courier", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert_too_many(resp)
    # the login page answers a browser with the error page, and the same Retry-After
    page = client.post(
        "/login",
        data=form,
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert int(page.headers["Retry-After"]) >= 1
    # the page itself still opens
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_one_address_is_limited_over_all_usernames(make):
    app, _users = make(rate_limit_login_address="5/minute")
    client = app.test_client()
    for i in range(5):
        assert token_call(client, f"nobody-{i}", "x").status_code == 401
    body = assert_too_many(token_call(client, "nobody-5", "x"))
    assert "from this address" in body["detail"]
    assert token_call(client, "nobody-6", "x", address="10.0.0.7").status_code == 401


def test_token_refresh_is_limited_per_address(make):
    app, users = make(rate_limit_login_address="2/minute")
    client = app.test_client()
    courier = users["courier"]
    answers = [
        client.post(
            "/api/courier/v1/session/refresh",
            headers=courier.headers,
            environ_base={"REMOTE_ADDR": "10.1.1.1"},
        ).status_code
        for _ in range(3)
    ]
    assert answers[2] == 429
    assert all(code != 429 for code in answers[:2])


def test_osmand_reports_are_limited_per_device(make):
    app, _users = make(rate_limit_osmand_device="3/minute")
    client = app.test_client()

    def report(device: str):
        return client.get(f"/api/osmand?id={device}&lat=55.75&lon=37.61&timestamp=1700000000")

    assert [report("phone-1").status_code for _ in range(3)] == [400, 400, 400]  # unknown, but counted
    resp = report("phone-1")
    assert resp.status_code == 429 and resp.headers["Content-Type"] == PROBLEM_MIME
    assert 1 <= int(resp.headers["Retry-After"]) <= 61
    assert resp.get_json()["request_id"] == resp.headers["X-Request-ID"]
    assert report("phone-2").status_code == 400  # another device is not held back


def test_behind_a_trusted_proxy_the_limits_see_the_forwarded_client(make):
    app, _users = make(trusted_proxies=1)
    client = app.test_client()
    for _ in range(10):
        resp = token_call(client, "test-operator", "x", headers={"X-Forwarded-For": "203.0.113.5"})
        assert resp.status_code == 401
    assert_too_many(token_call(client, "test-operator", "x", headers={"X-Forwarded-For": "203.0.113.5"}))
    ok = token_call(client, "test-operator", "pw-operator", headers={"X-Forwarded-For": "203.0.113.6"})
    assert ok.status_code == 201


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(make):
    app, _users = make(trusted_proxies=0)
    client = app.test_client()
    for i in range(10):
        resp = token_call(client, "test-operator", "x", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert resp.status_code == 401
    # a guesser cannot dodge the limit by making up addresses
    assert_too_many(token_call(client, "test-operator", "x", headers={"X-Forwarded-For": "198.51.100.1"}))


def client_seen(app, headers: dict[str, str]) -> dict:
    """What the app sees of the client through its middleware (a probe route added for the test)."""
    from flask import jsonify, request

    if "probe" not in app.view_functions:
        app.add_url_rule(
            "/probe",
            "probe",
            lambda: jsonify(addr=request.remote_addr, scheme=request.scheme, host=request.host),
        )
    return app.test_client().get("/probe", headers=headers).get_json()


def test_a_trusted_proxy_tells_the_client_address_scheme_and_host(make):
    forwarded = {
        "X-Forwarded-For": "203.0.113.5",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "shop.example",
    }
    trusting, _ = make(trusted_proxies=1)
    assert client_seen(trusting, forwarded) == {
        "addr": "203.0.113.5",
        "scheme": "https",
        "host": "shop.example",
    }
    untrusting, _ = make(trusted_proxies=0)
    assert client_seen(untrusting, forwarded) == {"addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


def login_cookie(app, username="test-operator", password="pw-operator") -> str:
    client = app.test_client()
    csrf = AuthActions.csrf(client.get("/login").data)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert resp.status_code == 302
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_secure_when_the_public_url_is_https(make):
    app, _users = make(public_url="https://delivery.example.com")
    assert "Secure" in login_cookie(app)
    plain, _ = make()
    assert "Secure" not in login_cookie(plain)


def test_the_session_lasts_the_configured_lifetime(make):
    app, _users = make(session_lifetime_h=2)
    cookie = login_cookie(app)
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=1, minutes=59) < left <= dt.timedelta(hours=2)


def test_a_sane_request_id_is_kept_and_an_insane_one_replaced(make):
    app, _users = make()
    client = app.test_client()
    resp = client.get("/api/v1/orders", headers={"X-Request-ID": "nginx-abc.123"})
    assert resp.status_code == 401
    assert resp.headers["X-Request-ID"] == "nginx-abc.123"
    assert resp.get_json()["request_id"] == "nginx-abc.123"
    for insane in ("has spaces in it", "x" * 200, "<script>"):
        resp = client.get("/api/v1/orders", headers={"X-Request-ID": insane})
        rid = resp.headers["X-Request-ID"]
        assert rid != insane and len(rid) == 32
        assert resp.get_json()["request_id"] == rid
    assert client.get("/healthz").headers["X-Request-ID"]


def test_log_lines_written_during_a_request_carry_its_id_as_json(make, caplog):
    app, _users = make(rate_limit_login_failures="1/minute")
    client = app.test_client()
    token_call(client, "test-operator", "x")
    with caplog.at_level(logging.INFO):
        resp = token_call(client, "test-operator", "x", headers={"X-Request-ID": "trace-42"})
    assert resp.status_code == 429
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-42"]
    assert records, [r.getMessage() for r in caplog.records]
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "trace-42" and line["level"] in {"INFO", "WARNING"}
    assert line["message"]


def test_readyz_answers_200_when_the_database_answers(make):
    app, _users = make()
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_answers_503_when_redis_does_not(make):
    app, users = make(redis_url=f"redis://127.0.0.1:{free_port()}/0", health_timeout_s=1)
    client = app.test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.headers["Content-Type"] == PROBLEM_MIME
    body = resp.get_json()
    assert body["checks"] == {"database": "ok", "redis": "failing"}
    assert "Redis" in body["detail"] and resp.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200  # liveness does not depend on Redis
    # logins work while the limits' storage is down
    assert token_call(client, "test-operator", "pw-operator").status_code == 201


def test_the_pool_size_and_overflow_come_from_the_settings(make):
    app, _users = make(db_pool_size=3, db_max_overflow=7)
    pool = app.extensions["frontoffice"].db.engine.pool
    assert pool.size() == 3
    assert pool._max_overflow == 7


def test_a_limit_set_off_is_not_applied(make):
    app, _users = make(rate_limit_login_failures="off", rate_limit_login_address="off")
    client = app.test_client()
    assert {token_call(client, "test-operator", "x").status_code for _ in range(15)} == {401}


@pytest.mark.skipif(not REDIS_URL, reason="needs FRONTOFFICE_TEST_REDIS_URL (Redis)")
def test_with_redis_every_process_counts_the_same_failures(make):
    channel = f"frontoffice-test-{uuid.uuid4().hex}"
    first, _ = make(redis_url=REDIS_URL, socketio_channel=channel)
    second, _ = make(redis_url=REDIS_URL, socketio_channel=channel)
    for _ in range(5):
        assert token_call(first.test_client(), "test-operator", "x").status_code == 401
    for _ in range(5):
        assert token_call(second.test_client(), "test-operator", "x").status_code == 401
    assert_too_many(token_call(first.test_client(), "test-operator", "x"))
    # another installation on the same Redis (its own channel) counts apart
    apart, _ = make(redis_url=REDIS_URL, socketio_channel=f"frontoffice-test-{uuid.uuid4().hex}")
    assert token_call(apart.test_client(), "test-operator", "x").status_code == 401
