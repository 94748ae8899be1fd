"""Login and logout pages: CSRF protected, sessions, couriers kept out."""

from __future__ import annotations

from tests.conftest import order_body


def test_staff_log_in_and_out(client, users, auth):
    resp = auth.login("operator")
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    token = auth.csrf(client.get("/").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_told_plainly(users, auth):
    resp = auth.login("test-operator", "wrong", expect=None)
    assert resp.status_code == 401 and b"wrong password" in resp.data


def test_couriers_cannot_use_the_staff_pages(users, auth):
    assert b"courier app" in auth.login("courier", expect=None).data


def test_a_post_without_csrf_token_is_refused(client, users):
    resp = client.post("/login", data={"username": "test-operator", "password": "pw-operator"})
    assert resp.status_code == 400


def test_the_browser_session_calls_the_api_with_the_csrf_header(client, users, catalogue, auth):
    auth.login("operator")
    token = auth.csrf(client.get("/").data)
    assert client.post("/api/v1/orders", json=order_body()).status_code == 400
    ok = client.post("/api/v1/orders", json=order_body(), headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_an_unknown_page_is_readable_html(client):
    resp = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert resp.status_code == 404 and b"<html" in resp.data
