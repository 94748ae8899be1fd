"""Browser sessions end on the server: a cookie copied before logging out (the session or the
remember-me one) opens nothing after it, nor after a password change; the remember-me cookie is
SameSite, HttpOnly and short-lived; cookies are Secure when the settings say so; and the login
page answers an unknown or disabled user after the same password-hash work as a known one."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from email.utils import parsedate_to_datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from werkzeug import security

import frontoffice.auth
from frontoffice.auth import change_password, create_user
from frontoffice.cli import main
from frontoffice.models import User

pytestmark = pytest.mark.usefixtures("users")


def cookie_header(resp, name: str) -> str:
    """The Set-Cookie header of the response that sets ``name``."""
    found = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def copy_of(app, client, name: str):
    """A second browser carrying only the ``name`` cookie of ``client``."""
    other = app.test_client()
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def log_out(client, auth) -> None:
    token = auth.csrf(client.get("/").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def remember_me(client, auth, who: str = "manager"):
    token = auth.csrf(client.get("/login").data)
    return client.post(
        "/login",
        data={"username": f"test-{who}", "password": f"pw-{who}", "remember": "1", "csrf_token": token},
    )


def test_a_session_cookie_copied_before_logout_no_longer_opens_the_monitor(app, client, auth):
    auth.login("manager")
    thief = copy_of(app, client, "session")
    assert thief.get("/monitor").status_code == 200
    log_out(client, auth)
    assert thief.get("/monitor").status_code == 302
    assert client.get("/monitor").status_code == 302


def test_a_remember_me_cookie_copied_before_logout_no_longer_logs_in(app, client, auth):
    assert remember_me(client, auth).status_code == 302
    thief = copy_of(app, client, "remember_token")
    assert thief.get("/monitor").status_code == 200
    log_out(client, auth)
    assert copy_of(app, thief, "remember_token").get("/monitor").status_code == 302


def test_logging_in_again_after_logout_works(client, auth):
    auth.login("manager")
    log_out(client, auth)
    auth.login("manager")
    assert client.get("/monitor").status_code == 200


def test_a_password_change_ends_every_session_and_the_new_password_logs_in(app, client, auth, db, users):
    assert remember_me(client, auth).status_code == 302
    remembered = copy_of(app, client, "remember_token")
    with db.unit_of_work() as s:
        change_password(s, users["manager"].id, "a-new-password")
    assert client.get("/monitor").status_code == 302
    assert remembered.get("/monitor").status_code == 302
    auth.login("manager", expect=401)
    auth.login("test-manager", "a-new-password")
    assert client.get("/monitor").status_code == 200


def test_the_set_password_command_ends_that_users_sessions(client, auth, database_url, tmp_path):
    auth.login("manager")
    env = {
        "FRONTOFFICE_DATABASE_URL": database_url,
        "FRONTOFFICE_INSTANCE_PATH": str(tmp_path / "cli"),
        "FRONTOFFICE_SECRET_KEY": "cli",
    }
    result = CliRunner().invoke(main, ["set-password", "test-manager", "--password", "set-by-admin"], env=env)
    assert result.exit_code == 0, result.output
    assert client.get("/monitor").status_code == 302
    auth.login("test-manager", "set-by-admin")
    unknown = CliRunner().invoke(main, ["set-password", "nobody", "--password", "whatever"], env=env)
    assert unknown.exit_code == 1 and "no user named 'nobody'" in unknown.output


def test_disabling_a_user_ends_their_session(client, auth, db, users):
    auth.login("manager")
    with db.unit_of_work() as s:
        s.execute(update(User).where(User.id == users["manager"].id).values(active=False))
    assert client.get("/monitor").status_code == 302


def test_the_remember_me_cookie_is_samesite_httponly_and_lasts_two_weeks(client, auth):
    header = cookie_header(remember_me(client, auth), "remember_token")
    attributes = {part.strip().split("=")[0].lower(): part for part in header.split(";")}
    assert "SameSite=Lax" in attributes["samesite"] and "httponly" in attributes
    assert "secure" not in attributes  # plain HTTP on 127.0.0.1 by default
    expires = parsedate_to_datetime(attributes["expires"].split("=", 1)[1])
    lifetime = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=13) < lifetime <= dt.timedelta(days=14)


def test_cookies_are_secure_when_the_settings_say_so(database_url, tmp_path):
    from tests.conftest import _make_app
    from tests.helpers import AuthActions

    app = _make_app(database_url, tmp_path, secure_cookies=True, remember_days=3)
    try:
        client = app.test_client()
        resp = remember_me(client, AuthActions(client))
        for name in ("session", "remember_token"):
            assert "Secure" in cookie_header(resp, name)
        expires = parsedate_to_datetime(
            cookie_header(resp, "remember_token").split("Expires=")[1].split(";")[0]
        )
        assert expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=3)
    finally:
        app.extensions["frontoffice"].db.dispose()


@pytest.fixture
def hashes_checked(monkeypatch) -> list[str]:
    """The method of every password hash the login checks (werkzeug's check, spied on)."""
    seen: list[str] = []
    real = security.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        seen.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(frontoffice.auth, "check_password_hash", spy)
    return seen


def test_an_unknown_or_disabled_user_costs_the_same_hash_check_as_a_known_one(db, auth, hashes_checked):
    with db.unit_of_work() as s:
        create_user(s, "olga", "tulip-garden-42", "operator")  # the production hash method
        create_user(s, "boris", "cedar-window-17", "operator").active = False
    for username in ("olga", "nobody-of-that-name", "boris"):
        auth.login(username, "a wrong guess", expect=401)
    known, unknown, disabled = hashes_checked
    assert known.startswith("scrypt:") and unknown == known and disabled == known


def test_a_login_for_an_unknown_user_takes_about_as_long_as_for_a_known_one(db, auth):
    with db.unit_of_work() as s:
        create_user(s, "olga", "tulip-garden-42", "operator")
    timings: dict[str, list[float]] = {"olga": [], "nobody-of-that-name": []}
    auth.login("nobody-of-that-name", "warm-up", expect=401)
    for _ in range(7):  # interleaved, so both see the same load of a shared machine
        for username, samples in timings.items():
            started = time.perf_counter()
            auth.login(username, "a wrong guess", expect=401)
            samples.append(time.perf_counter() - started)
    ratio = statistics.median(timings["nobody-of-that-name"]) / statistics.median(timings["olga"])
    # Before the dummy hash an unknown user answered ~30x faster; equal work stays well within 3x.
    assert 1 / 3 < ratio < 3, timings
