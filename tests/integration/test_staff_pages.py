"""The staff pages (issue 16, item 2): an admin adds users with roles and branches, switches them
off and on, resets passwords — the user must then choose a new one before anything else — and
revokes tokens and devices; a refused form tells each reason next to its field, writing nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from frontoffice.models import ApiToken, User, UserBranch
from tests.conftest import load_demo_catalogue, make_users
from tests.couriers_fixtures import make_courier
from tests.helpers import AuthActions
from tests.integration.test_branch_pages import field_errors


@pytest.fixture
def admin(sqlite_app):
    """A logged-in admin's browser on the demo branches: (client, auth, database, test users)."""
    load_demo_catalogue(sqlite_app)
    users = make_users(sqlite_app)
    client = sqlite_app.test_client()
    auth = AuthActions(client)
    auth.login("admin")
    return client, auth, sqlite_app.extensions["frontoffice"].db, users


def new_user_form(auth, client, **fields) -> dict:
    form = {
        "csrf_token": auth.csrf(client.get("/admin/staff").data),
        "username": "olga",
        "full_name": "Olga Petrova",
        "role": "operator",
        "password": "tulip-garden-42",
        "branch_ids": ["2"],
    }
    return form | fields


def user_count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(User))


def test_an_admin_adds_a_user_with_a_role_and_a_branch(admin):
    client, auth, db, _users = admin
    assert b'href="/admin/staff"' in client.get("/").data
    resp = client.post("/admin/staff", data=new_user_form(auth, client))
    assert resp.status_code == 302
    with db.reading() as s:
        olga = s.scalar(select(User).where(User.username == "olga"))
        assert (olga.role, olga.full_name) == ("operator", "Olga Petrova")
        assert list(s.scalars(select(UserBranch.branch_id).where(UserBranch.user_id == olga.id))) == [2]
    page = client.get(resp.headers["Location"]).data.decode()
    assert "User olga is added." in page and "KZ2 Kazan — Pobedy" in page
    listed = client.get("/admin/staff").data.decode()
    assert "olga" in listed and "every branch" in listed  # the test users are linked to none


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"password": "short"}, "password", "A password needs at least 10 characters."),
        ({"password": "my-olga-password"}, "password", "A password must not be, or contain, the username."),
        ({"username": "test-manager"}, "username", "This username is taken: choose another."),
        ({"username": "olga petrova"}, "username", "A username is 1 to 80 characters without spaces."),
        ({"branch_ids": ["77"]}, "branch_ids", "Branch 77 does not exist."),
    ],
)
def test_a_refused_user_form_tells_the_reason_next_to_its_field_and_writes_nothing(
    admin, fields, field, message
):
    client, auth, db, _users = admin
    before = user_count(db)
    resp = client.post("/admin/staff", data=new_user_form(auth, client, **fields))
    assert resp.status_code in (409, 422)
    assert field_errors(resp.data)[field] == message
    assert user_count(db) == before


def test_the_reasons_are_told_in_russian_to_a_russian_reader(admin):
    client, auth, _db, _users = admin
    auth.choose_language("ru", back_to="/admin/staff")
    errors = field_errors(
        client.post("/admin/staff", data=new_user_form(auth, client, password="qwertyuiop")).data
    )
    assert errors["password"] == "Этот пароль есть в любом списке частых паролей: выберите другой."


def test_a_switched_off_user_cannot_log_in_and_an_admin_cannot_switch_themselves_off(admin, sqlite_app):
    client, auth, db, users = admin
    token = auth.csrf(client.get(f"/admin/staff/{users['operator'].id}").data)
    off = client.post(
        f"/admin/staff/{users['operator'].id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert off.status_code == 302
    other = AuthActions(sqlite_app.test_client())
    other.login("operator", expect=401)
    own = client.post(f"/admin/staff/{users['admin'].id}/active", data={"csrf_token": token, "active": "0"})
    assert own.status_code == 409
    assert field_errors(own.data)["active"] == "You cannot switch yourself off; another admin can."
    with db.reading() as s:
        assert s.get(User, users["admin"].id).active is True


def test_after_a_reset_the_user_must_choose_a_new_password_before_any_page(admin, sqlite_app):
    client, auth, _db, users = admin
    token = auth.csrf(client.get("/admin/staff").data)
    resp = client.post("/admin/staff/password-reset", data={"csrf_token": token, "username": "test-operator"})
    assert resp.status_code == 200
    temporary = re.search(rb'id="temporary-password">([^<]+)<', resp.data)[1].decode()

    browser = sqlite_app.test_client()
    operator = AuthActions(browser)
    operator.login("test-operator", temporary)
    sent = browser.get("/callcentre/board")
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/account/password")
    page = browser.get(sent.headers["Location"])
    assert "An admin reset your password" in page.data.decode()
    form = {"csrf_token": operator.csrf(page.data), "current_password": temporary}
    weak = browser.post(
        "/account/password", data=form | {"new_password": "short", "repeat_password": "short"}
    )
    assert field_errors(weak.data)["new_password"] == "A password needs at least 10 characters."
    differ = browser.post(
        "/account/password",
        data=form | {"new_password": "river-stone-88", "repeat_password": "river-stone-89"},
    )
    assert field_errors(differ.data)["repeat_password"] == "The two new passwords differ."
    done = browser.post(
        "/account/password?next=/callcentre/board",
        data=form | {"new_password": "river-stone-88", "repeat_password": "river-stone-88"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/callcentre/board"
    assert browser.get("/callcentre/board").status_code == 200
    AuthActions(sqlite_app.test_client()).login("test-operator", "river-stone-88")


def test_a_reset_for_an_unknown_username_is_told_next_to_the_username(admin):
    client, auth, _db, _users = admin
    token = auth.csrf(client.get("/admin/staff").data)
    resp = client.post("/admin/staff/password-reset", data={"csrf_token": token, "username": "nobody"})
    assert resp.status_code == 404
    assert field_errors(resp.data)["username"] == "There is no user with this username."


def test_an_admin_revokes_a_token_and_cuts_a_device_off_from_the_users_page(admin, sqlite_app):
    client, auth, db, users = admin
    courier = make_courier(sqlite_app, "Kirill", device_id="phone-kirill-01")
    page = client.get(f"/admin/staff/{courier.user_id}")
    text = page.data.decode()
    assert "Traccar Client device" in text and "phone-kirill-01" in text and "tests" in text
    with db.reading() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.user_id == courier.user_id))
    csrf = {"csrf_token": auth.csrf(page.data)}
    assert (
        client.post(f"/admin/staff/{courier.user_id}/tokens/{token_id}/revoke", data=csrf).status_code == 302
    )
    assert client.post(f"/admin/staff/{courier.user_id}/devices/traccar/revoke", data=csrf).status_code == 302
    after = client.get(f"/admin/staff/{courier.user_id}").data.decode()
    assert "phone-kirill-01" not in after and "revoked" in after
    assert client.get("/api/courier/v1/me", headers=courier.headers).status_code == 401
