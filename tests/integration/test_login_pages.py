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


def test_the_language_switch_is_not_a_link_a_get_changes_nothing(client):
    assert client.get("/lang/ru").status_code == 405
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_wants_the_csrf_token(client):
    assert client.post("/lang/ru", data={"next": "/login"}).status_code == 400
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_the_top_bar_switches_the_language_with_a_form_and_comes_back(client, auth):
    page = client.get("/login?next=/monitor").get_data(as_text=True)
    assert 'action="/lang/ru"' in page and 'name="next" value="/login?next=/monitor"' in page
    resp = auth.choose_language("ru", back_to="/login?next=/monitor")
    assert resp.headers["Location"] == "/login?next=/monitor"
    assert '<html lang="ru">' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_never_sends_anyone_to_another_site(client, auth):
    token = auth.csrf(client.get("/login").data)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example/"):
        resp = client.post("/lang/ru", data={"csrf_token": token, "next": target})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", target


def test_after_logging_in_the_next_page_is_always_on_this_site(client, users, auth):
    for target, landing in (("/monitor", "/monitor"), ("/\\evil.example/", "/"), ("//evil.example/", "/")):
        token = auth.csrf(client.get("/login").data)
        resp = client.post(
            "/login",
            query_string={"next": target},
            data={"username": "test-manager", "password": "pw-manager", "csrf_token": token},
        )
        assert resp.status_code == 302 and resp.headers["Location"] == landing, target
        auth.logout()
