"""The staff API (issue 16, item 2): users with roles and branches, switching them off and on,
password resets that must be followed by a change, tokens and devices listed and revoked, tokens
that expire and a courier app that refreshes its own; bad input is a 4xx that writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from frontoffice.models import ApiToken, User
from tests.couriers_fixtures import make_courier

STAFF = "/api/v1/staff/users"
OLGA = {"username": "olga", "full_name": "Olga Petrova", "role": "operator", "password": "tulip-garden-42"}


def user_count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(User))


def add(client, users, **fields) -> dict:
    resp = client.post(STAFF, json=OLGA | fields, headers=users["admin"].headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def token_of(client, username: str, password: str) -> dict[str, str]:
    resp = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert resp.status_code == 201, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


@pytest.mark.usefixtures("catalogue")
def test_an_admin_adds_a_user_with_a_role_and_branches_who_can_then_work(client, users):
    olga = add(client, users, branch_ids=[2])
    assert (olga["role"], olga["branch_ids"], olga["active"]) == ("operator", [2], True)
    assert olga["must_change_password"] is False
    headers = token_of(client, "olga", "tulip-garden-42")
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    listed = client.get(STAFF, headers=users["admin"].headers).json["items"]
    assert listed[0]["role"] == "admin" and "olga" in {u["username"] for u in listed}


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"password": "short"}, "password", "password_too_short"),
        ({"password": "olga-in-the-garden"}, "password", "password_is_username"),
        ({"password": "password123"}, "password", "password_common"),
        ({"username": "olga petrova"}, "username", "username_format"),
        ({"branch_ids": [99]}, "branch_ids", "unknown_branch"),
        ({"role": "chef"}, "role", "enum"),
    ],
)
def test_a_user_with_a_bad_field_is_refused_naming_it_and_nothing_is_written(
    client, users, db, fields, field, code
):
    before = user_count(db)
    resp = client.post(STAFF, json=OLGA | fields, headers=users["admin"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert (field, code) in {(e["field"], e["type"]) for e in resp.json["errors"]}
    assert user_count(db) == before


def test_a_duplicate_username_is_a_conflict_on_the_username(client, users, db):
    add(client, users)
    before = user_count(db)
    resp = client.post(STAFF, json=OLGA | {"password": "another-garden-7"}, headers=users["admin"].headers)
    assert resp.status_code == 409 and resp.json["errors"][0] == {
        "field": "username",
        "message": "A user named 'olga' already exists.",
        "type": "username_taken",
    }
    assert user_count(db) == before


def test_a_switched_off_users_token_is_refused_and_switching_on_does_not_bring_it_back(client, users):
    olga = add(client, users)
    headers = token_of(client, "olga", "tulip-garden-42")
    off = client.patch(f"{STAFF}/{olga['id']}", json={"active": False}, headers=users["admin"].headers)
    assert off.status_code == 200 and off.json["active"] is False and off.json["live_tokens"] == 0
    refused = client.get("/api/v1/orders", headers=headers)
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert "revoked" in refused.json["detail"]
    assert (
        client.post("/api/v1/tokens", json={"username": "olga", "password": "tulip-garden-42"}).status_code
        == 401
    )

    client.patch(f"{STAFF}/{olga['id']}", json={"active": True}, headers=users["admin"].headers)
    assert client.get("/api/v1/orders", headers=headers).status_code == 401
    assert (
        client.get("/api/v1/orders", headers=token_of(client, "olga", "tulip-garden-42")).status_code == 200
    )


def test_a_disabled_users_unrevoked_token_is_refused_as_such(client, users, db):
    with db.unit_of_work() as s:
        s.execute(update(User).where(User.id == users["manager"].id).values(active=False))
    refused = client.get("/api/v1/orders", headers=users["manager"].headers)
    assert (
        refused.status_code == 401
        and refused.json["detail"] == "The bearer token belongs to a disabled user."
    )


def test_an_admin_cannot_switch_themselves_off_or_drop_their_own_admin_role(client, users):
    me = f"{STAFF}/{users['admin'].id}"
    h = users["admin"].headers
    off = client.patch(me, json={"active": False}, headers=h)
    assert off.status_code == 409 and off.json["errors"][0]["field"] == "active"
    demoted = client.patch(me, json={"role": "manager"}, headers=h)
    assert demoted.status_code == 409 and demoted.json["errors"][0]["type"] == "own_admin_role"
    assert client.get(me, headers=h).json["role"] == "admin"


def test_another_admin_may_switch_an_admin_off_and_their_token_goes_with_them(client, users):
    add(client, users, username="anna", role="admin", password="second-admin-9")
    anna = token_of(client, "anna", "second-admin-9")
    assert (
        client.patch(f"{STAFF}/{users['admin'].id}", json={"active": False}, headers=anna).status_code == 200
    )
    assert client.get(STAFF, headers=users["admin"].headers).status_code == 401


def test_a_password_reset_for_an_unknown_user_is_a_404_naming_the_username(client, users):
    by_id = client.post(f"{STAFF}/777/password-reset", headers=users["admin"].headers)
    assert by_id.status_code == 404 and by_id.mimetype == "application/problem+json"
    by_name = client.post(
        "/api/v1/staff/password-resets", json={"username": "nobody"}, headers=users["admin"].headers
    )
    assert by_name.status_code == 404 and by_name.json["errors"][0]["field"] == "username"


def test_after_a_reset_the_user_must_choose_a_new_password_before_anything_else(client, users):
    olga = add(client, users)
    old = token_of(client, "olga", "tulip-garden-42")
    reset = client.post(f"{STAFF}/{olga['id']}/password-reset", headers=users["admin"].headers).json
    temporary = reset["temporary_password"]
    assert reset["must_change_password"] is True and len(temporary) >= 10
    assert client.get("/api/v1/orders", headers=old).status_code == 401  # the reset revoked it
    assert (
        client.post("/api/v1/tokens", json={"username": "olga", "password": "tulip-garden-42"}).status_code
        == 401
    )

    login = client.post("/api/v1/tokens", json={"username": "olga", "password": temporary}).json
    assert login["must_change_password"] is True
    headers = {"Authorization": f"Bearer {login['token']}"}
    blocked = client.get("/api/v1/orders", headers=headers)
    assert blocked.status_code == 403 and blocked.json["code"] == "password_change_required"
    weak = client.post(
        "/api/v1/account/password",
        json={"current_password": temporary, "new_password": "olga12345678"},
        headers=headers,
    )
    assert weak.status_code == 422 and weak.json["errors"][0]["field"] == "new_password"
    wrong = client.post(
        "/api/v1/account/password",
        json={"current_password": "guess-guess", "new_password": "river-stone-88"},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "current_password"
    changed = client.post(
        "/api/v1/account/password",
        json={"current_password": temporary, "new_password": "river-stone-88"},
        headers=headers,
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    assert (
        client.get(f"{STAFF}/{olga['id']}", headers=users["admin"].headers).json["must_change_password"]
        is False
    )


def test_an_admin_resets_other_passwords_not_their_own(client, users):
    own = client.post(f"{STAFF}/{users['admin'].id}/password-reset", headers=users["admin"].headers)
    assert own.status_code == 409 and own.json["errors"][0]["type"] == "own_password_reset"


def test_an_admin_lists_a_users_tokens_and_revokes_one(client, users):
    olga = add(client, users)
    first = token_of(client, "olga", "tulip-garden-42")
    second = token_of(client, "olga", "tulip-garden-42")
    listed = client.get(f"{STAFF}/{olga['id']}/tokens", headers=users["admin"].headers).json["items"]
    assert len(listed) == 2 and all(t["live"] and t["expires_at"] for t in listed)
    newest = listed[0]["id"]
    revoked = client.delete(f"{STAFF}/{olga['id']}/tokens/{newest}", headers=users["admin"].headers)
    assert revoked.status_code == 204
    assert client.get("/api/v1/orders", headers=second).status_code == 401
    assert client.get("/api/v1/orders", headers=first).status_code == 200
    other = client.delete(f"{STAFF}/{users['manager'].id}/tokens/{newest}", headers=users["admin"].headers)
    assert other.status_code == 404


@pytest.mark.usefixtures("catalogue")
def test_an_admin_sees_a_couriers_traccar_device_and_cuts_it_off(app, client, users):
    courier = make_courier(app, "Kirill", device_id="phone-kirill-01")
    devices = client.get(f"{STAFF}/{courier.user_id}/devices", headers=users["admin"].headers).json["items"]
    assert devices == [{"key": "traccar", "kind": "traccar", "detail": "phone-kirill-01"}]
    ping = {"id": "phone-kirill-01", "lat": "55.79", "lon": "49.12", "timestamp": "1764590400"}
    assert client.get("/api/osmand", query_string=ping).status_code == 200
    cut = client.delete(f"{STAFF}/{courier.user_id}/devices/traccar", headers=users["admin"].headers)
    assert cut.status_code == 204
    assert client.get("/api/osmand", query_string=ping).status_code == 400
    gone = client.delete(f"{STAFF}/{courier.user_id}/devices/traccar", headers=users["admin"].headers)
    assert gone.status_code == 404


def test_an_expired_token_is_a_401_that_says_so(client, users, db):
    with db.unit_of_work() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.user_id == users["manager"].id)
            .values(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        )
    resp = client.get("/api/v1/orders", headers=users["manager"].headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.json["detail"].startswith("The bearer token expired at 2026-01-01T00:00:00+00:00")


@pytest.mark.usefixtures("catalogue")
def test_tokens_live_as_long_as_the_setting_says(database_url, tmp_path):
    from tests.conftest import _make_app, make_users

    app = _make_app(database_url, tmp_path, token_ttl_days=2)
    make_users(app)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "test-manager", "password": "pw-manager"}).json
    issued = dt.datetime.fromisoformat(token["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=2) - dt.timedelta(minutes=1) < issued <= dt.timedelta(days=2)
    app.extensions["frontoffice"].db.dispose()


@pytest.mark.usefixtures("catalogue")
def test_the_courier_app_refreshes_its_token_and_the_old_one_stops(app, client, users):
    make_courier(app, "Kirill")
    session = client.post(
        "/api/courier/v1/session",
        json={"login": "c-kirill", "password": "pw-c-kirill", "device_name": "Pixel"},
    ).json
    old = {"Authorization": f"Bearer {session['token']}"}
    assert session["expires_at"] and session["must_change_password"] is False
    fresh = client.post("/api/courier/v1/session/refresh", headers=old)
    assert fresh.status_code == 201, fresh.json
    assert fresh.json["token"] != session["token"] and fresh.json["courier"]["name"] == "Kirill"
    assert fresh.json["expires_at"] >= session["expires_at"]
    assert client.get("/api/courier/v1/me", headers=old).status_code == 401
    new = {"Authorization": f"Bearer {fresh.json['token']}"}
    assert client.get("/api/courier/v1/me", headers=new).status_code == 200
    tokens = client.get(
        f"{STAFF}/{session['courier']['user_id']}/tokens", headers=users["admin"].headers
    ).json
    assert [t["name"] for t in tokens["items"]][:2] == ["courier app: Pixel", "courier app: Pixel"]
