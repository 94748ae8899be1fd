"""The audit log of admin actions (issue 16, item 6): who changed what, when, before → after, written
in the change's own transaction; read at /admin/audit and GET /api/v1/audit with filters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from frontoffice import audit
from frontoffice.models import AuditEntry
from tests.helpers import AuthActions


def entries(db, entity: str | None = None, *, by_anyone: bool = False) -> list[AuditEntry]:
    """The logged actions on ``entity`` by logged-in users (the demo loader's are by no one)."""
    with db.reading() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if not by_anyone:
            query = query.where(AuditEntry.actor_name != "")
        if entity:
            query = query.where(AuditEntry.entity == entity)
        return list(s.scalars(query))


def test_a_price_change_is_logged_with_who_when_and_the_price_before_and_after(client, db, users, catalogue):
    admin = users["admin"]
    item = client.get("/api/v1/items", headers=admin.headers).json[0]
    started = dt.datetime.now(dt.UTC)
    resp = client.patch(
        f"/api/v1/items/{item['id']}",
        json={"price": "777.00"},
        headers={**admin.headers, "X-Request-ID": "price-change-1"},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert resp.status_code == 200, resp.json
    [entry] = entries(db, "item")
    assert (entry.actor_id, entry.actor_name, entry.action) == (admin.id, "test-admin", "update")
    assert entry.entity_id == str(item["id"])
    old_minor = int(round(float(item["price"]) * 100))
    assert entry.changes == {"price": {"before": old_minor, "after": 77700}}
    assert entry.request_id == "price-change-1" and entry.address == "192.0.2.10"
    assert started - dt.timedelta(seconds=1) <= entry.at <= dt.datetime.now(dt.UTC)


def test_an_unchanged_save_and_a_refused_change_log_nothing(client, db, users, catalogue):
    admin = users["admin"]
    item = client.get("/api/v1/items", headers=admin.headers).json[0]
    same = client.patch(f"/api/v1/items/{item['id']}", json={"price": item["price"]}, headers=admin.headers)
    assert same.status_code == 200
    refused = client.patch(f"/api/v1/items/{item['id']}", json={"price": "-1.00"}, headers=admin.headers)
    assert refused.status_code == 422
    assert entries(db, "item") == []


def test_a_user_change_is_logged_field_by_field(client, db, users):
    admin, operator = users["admin"], users["operator"]
    resp = client.patch(
        f"/api/v1/staff/users/{operator.id}",
        json={"role": "manager", "full_name": "Olga Manager", "active": False},
        headers=admin.headers,
    )
    assert resp.status_code == 200, resp.json
    [entry] = entries(db, "user")
    assert entry.actor_name == "test-admin" and entry.entity_id == str(operator.id)
    assert entry.changes == {
        "full_name": {"before": "Test Operator", "after": "Olga Manager"},
        "role": {"before": "operator", "after": "manager"},
        "active": {"before": True, "after": False},
    }


def test_a_password_reset_and_a_token_revocation_are_logged_without_secrets(client, db, users):
    admin, manager = users["admin"], users["manager"]
    assert (
        client.post(f"/api/v1/staff/users/{manager.id}/password-reset", headers=admin.headers).status_code
        == 200
    )
    [reset] = entries(db, "user")
    assert reset.action == "reset_password"
    assert reset.changes["password_hash"] == {"before": "(changed)", "after": "(changed)"}
    assert reset.changes["must_change_password"] == {"before": False, "after": True}
    operator = users["operator"]
    tokens = client.get(f"/api/v1/staff/users/{operator.id}/tokens", headers=admin.headers).json["items"]
    token_id = tokens[0]["id"]
    assert (
        client.delete(
            f"/api/v1/staff/users/{operator.id}/tokens/{token_id}", headers=admin.headers
        ).status_code
        == 204
    )
    [revoked] = entries(db, "token")
    assert revoked.action == "revoke" and revoked.entity_id == str(token_id)
    assert revoked.changes["revoked_at"]["before"] is None and revoked.changes["revoked_at"]["after"]


def test_organizations_conditions_branches_and_rules_are_logged(client, db, users, catalogue):
    h = users["admin"].headers
    org = client.get("/api/v1/organizations", headers=h).json[0]
    assert (
        client.patch(
            f"/api/v1/organizations/{org['id']}", json={"name": "Renamed LLC"}, headers=h
        ).status_code
        == 200
    )
    assert [e.changes["name"]["after"] for e in entries(db, "organization")] == ["Renamed LLC"]
    branch = client.get("/api/v1/branches", headers=h).json["items"][0]
    assert (
        client.patch(f"/api/v1/branches/{branch['id']}", json={"name": "Renamed"}, headers=h).status_code
        == 200
    )
    assert entries(db, "branch")[0].changes["name"] == {"before": branch["name"], "after": "Renamed"}
    cond = client.get("/api/v1/distribution/conditions", headers=h).json
    cond = cond["items"][0] if isinstance(cond, dict) else cond[0]
    assert client.delete(f"/api/v1/distribution/conditions/{cond['id']}", headers=h).status_code == 204
    [deleted] = entries(db, "distribution_condition")
    assert deleted.action == "delete" and deleted.changes["id"] == {"before": cond["id"], "after": None}


def test_a_change_outside_a_request_is_logged_without_an_actor(db):
    with db.unit_of_work() as s:
        audit.record(s, "import", "zone", 7, None, {"name": "Centre"})
    [entry] = entries(db, "zone", by_anyone=True)
    assert (entry.actor_id, entry.actor_name, entry.address) == (None, "", None)
    assert entry.changes == {"name": {"before": None, "after": "Centre"}}


def changed_operator(client, users) -> None:
    resp = client.patch(
        f"/api/v1/staff/users/{users['operator'].id}",
        json={"full_name": "Changed"},
        headers=users["admin"].headers,
    )
    assert resp.status_code == 200


def test_the_api_lists_entries_newest_first_with_filters(client, users, catalogue):
    h = users["admin"].headers
    changed_operator(client, users)
    item = client.get("/api/v1/items", headers=h).json[0]
    client.patch(f"/api/v1/items/{item['id']}", json={"price": "10.00"}, headers=h)
    listed = client.get("/api/v1/audit?actor=test-admin", headers=h).json
    assert listed["total"] == 2 and [e["entity"] for e in listed["items"]] == ["item", "user"]
    first = listed["items"][1]
    assert first["actor"] == "test-admin" and first["changes"]["full_name"]["after"] == "Changed"
    assert client.get("/api/v1/audit?entity=user", headers=h).json["total"] == 1
    assert client.get("/api/v1/audit", headers=h).json["total"] > 2  # the demo loader's too
    assert client.get("/api/v1/audit?actor=test-manager", headers=h).json["total"] == 0
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=2)
    assert client.get(f"/api/v1/audit?date_from={tomorrow}", headers=h).json["total"] == 0
    yesterday = today - dt.timedelta(days=1)
    span = f"date_from={yesterday}&date_to={tomorrow}&actor=test-admin"
    assert client.get(f"/api/v1/audit?{span}", headers=h).json["total"] == 2


def test_the_api_refuses_bad_filters_naming_the_field(client, users):
    h = users["admin"].headers
    resp = client.get("/api/v1/audit?date_from=yesterday", headers=h)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.json["errors"][0]["field"] == "query.date_from"
    resp = client.get("/api/v1/audit?date_from=2026-05-02&date_to=2026-05-01", headers=h)
    assert resp.status_code == 422
    assert client.get("/api/v1/audit?limit=100000", headers=h).status_code == 422


def test_the_page_shows_before_and_after_and_filters(app, client, users):
    changed_operator(client, users)
    AuthActions(client).login("admin")
    page = client.get("/admin/audit").data.decode()
    assert "test-admin" in page and "full_name" in page
    assert "Test Operator" in page and "Changed" in page
    assert client.get("/admin/audit?entity=branch").data.decode().count('data-entry="') == 0
    assert client.get("/admin/audit?actor=test-admin").data.decode().count('data-entry="') == 1


def test_the_page_tells_a_bad_day_next_to_its_field(client, users):
    AuthActions(client).login("admin")
    resp = client.get("/admin/audit?date_from=someday")
    assert resp.status_code == 422
    assert 'data-field="date_from"' in resp.data.decode()
    resp = client.get("/admin/audit?date_from=2026-05-02&date_to=2026-05-01")
    assert resp.status_code == 422 and 'data-field="date_to"' in resp.data.decode()


def test_the_page_reads_in_russian(client, users):
    auth = AuthActions(client)
    auth.login("admin")
    auth.choose_language("ru", "/admin/audit")
    page = client.get("/admin/audit").data.decode()
    assert "Журнал изменений" in page


def test_antifraud_and_bonus_rules_are_logged(client, db, users):
    h = users["manager"].headers
    created = client.post(
        "/api/v1/antifraud/rules",
        json={
            "kind": "velocity",
            "name": "Fast phone",
            "params": {"count": 3},
            "score": 60,
            "action": "hold",
        },
        headers=h,
    )
    assert created.status_code == 201, created.json
    rule_id = created.json["id"]
    edited = client.put(
        f"/api/v1/antifraud/rules/{rule_id}",
        json={"name": "Fast phone", "params": {"count": 2}, "score": 70, "action": "hold"},
        headers=h,
    )
    assert edited.status_code == 200, edited.json
    create, update = entries(db, "antifraud_rule")
    assert create.action == "create" and create.actor_name == "test-manager"
    assert update.changes["score"] == {"before": 60, "after": 70}
    assert (
        update.changes["params"]["before"]["count"] == 3 and update.changes["params"]["after"]["count"] == 2
    )
    saved = client.put(
        "/api/v1/bonuses/rules/order_delivered", json={"method": "fixed", "amount": "15.00"}, headers=h
    )
    assert saved.status_code == 200, saved.json
    [bonus] = entries(db, "bonus_rule")
    assert bonus.entity_id == "order_delivered" and bonus.changes["amount"]["after"] == 1500


def test_zones_drawn_changed_imported_and_deleted_are_logged_with_their_fields(client, db, users, catalogue):
    from tests.api.test_zone_editor_api import body, square

    admin = users["admin"].headers
    zone = client.post("/api/v1/zones", json=body(), headers=admin).json
    moved = client.patch(
        f"/api/v1/zones/{zone['id']}",
        json={"delivery_fee": "199.00", "geometry": square(49.0, 55.0, 49.3, 55.3)},
        headers=admin,
    )
    assert moved.status_code == 200, moved.json
    exported = client.get("/api/v1/zones/geojson", headers=admin).json
    exported["features"][0]["properties"]["priority"] = 7
    assert client.post("/api/v1/zones/geojson", json=exported, headers=admin).status_code in (200, 201)
    assert client.delete(f"/api/v1/zones/{zone['id']}", headers=admin).status_code in (200, 204)
    logged = entries(db, "zone")
    assert [e.action for e in logged] == ["create", "update", "import", "delete"]
    assert {e.entity_id for e in logged} == {str(zone["id"])}
    created, changed, imported, deleted = (e.changes for e in logged)
    assert created["delivery_fee"] == {"before": None, "after": 15000}
    assert changed["delivery_fee"] == {"before": 15000, "after": 19900} and "geometry" in changed
    assert imported == {"priority": {"before": 2, "after": 7}}
    assert deleted["name"] == {"before": "North", "after": None}
