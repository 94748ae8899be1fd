"""Login and logout pages: CSRF protected, sessions, couriers kept out."""

from __future__ import annotations

import re

from tests.conftest import order_body


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


def login(client, username, password):
    token = csrf_of(client.get("/login").data)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_staff_log_in_and_out(client, users):
    resp = login(client, "test-operator", "pw-operator")
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    token = csrf_of(client.get("/").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_told_plainly(client, users):
    resp = login(client, "test-operator", "wrong")
    assert resp.status_code == 401 and b"wrong password" in resp.data


def test_couriers_cannot_use_the_staff_pages(client, users):
    assert b"courier app" in login(client, "test-courier", "pw-courier").data


def test_a_post_without_csrf_token_is_refused(client, users):
    resp = client.post("/login", data={"username": "test-operator", "password": "pw-operator"})
    assert resp.status_code == 400


def test_the_browser_session_calls_the_api_with_the_csrf_header(client, users, catalogue):
    login(client, "test-operator", "pw-operator")
    token = csrf_of(client.get("/").data)
    assert client.post("/api/v1/orders", json=order_body()).status_code == 400
    ok = client.post("/api/v1/orders", json=order_body(), headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_an_unknown_page_is_readable_html(client):
    resp = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert resp.status_code == 404 and b"<html" in resp.data
