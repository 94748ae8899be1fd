"""The training API: a scripted call given to a trainee, played, recorded and compared; bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from frontoffice.models import User
from tests.backoffice_helpers import place

SCENARIO = {
    "title": "Two margheritas",
    "caller_phone": "+7 912 000-11-22",
    "caller_name": "Olga",
    "request_text": "Two margheritas to Kremlyovskaya 21, cash",
    "kind": "delivery",
    "address": "Kremlyovskaya 21",
    "payment_kind": "cash",
    "lines": [{"sku": "PZ-MARG", "quantity": 2}],
}


@pytest.fixture
def app(sqlite_app):
    """Access rules and the API's answers do not depend on the database: SQLite only."""
    return sqlite_app


@pytest.fixture
def trainee(kernel, users):
    with kernel.db.unit_of_work() as s:
        s.execute(update(User).where(User.id == users["operator"].id).values(trainee=True))
    return users["operator"]


def bearer(actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {actor.token}"}


def test_a_scripted_call_is_compared_with_the_trainees_order(client, kernel, users, trainee, catalogue):
    made = client.post("/api/v1/training/scenarios", json=SCENARIO, headers=bearer(users["manager"]))
    assert made.status_code == 201, made.get_json()
    given = client.post(
        f"/api/v1/training/scenarios/{made.get_json()['id']}/assignments",
        json={"trainee_id": trainee.id},
        headers=bearer(users["manager"]),
    )
    assert given.status_code == 201
    waiting = client.get("/api/v1/training/assignment", headers=bearer(trainee)).get_json()["assignment"]
    assert waiting["caller_name"] == "Olga" and "lines" not in waiting
    order = place(kernel, actor_id=trainee.id)  # the helper's order: two pepperoni
    call = client.post(
        "/api/v1/training/calls",
        json={
            "started_at": "2026-12-05T10:00:00Z",
            "duration_s": 93.4,
            "keystrokes": 212,
            "order_id": order.id,
            "assignment_id": waiting["id"],
            "refusals": [{"type": "below_minimum", "field": "lines", "message": "Add 100.00 more."}],
        },
        headers=bearer(trainee),
    )
    assert call.status_code == 201, call.get_json()
    body = call.get_json()
    assert [m["kind"] for m in body["mistakes"]] == ["minimum"]
    assert {d["field"] for d in body["differences"]} >= {"lines.PZ-MARG"}
    assert client.get("/api/v1/training/assignment", headers=bearer(trainee)).get_json()["assignment"] is None


def test_bad_input_is_refused_field_by_field(client, kernel, users, trainee, catalogue):
    bad = {**SCENARIO, "caller_phone": "12", "lines": [{"sku": "NOPE", "quantity": 1}], "address": ""}
    resp = client.post("/api/v1/training/scenarios", json=bad, headers=bearer(users["manager"]))
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} >= {"caller_phone", "lines.0.sku", "address"}
    real = place(kernel, actor_id=users["manager"].id)  # not a training order
    resp = client.post(
        "/api/v1/training/calls",
        json={"started_at": "2026-12-05T10:00:00Z", "duration_s": 5, "keystrokes": 3, "order_id": real.id},
        headers=bearer(trainee),
    )
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "order_id"
    resp = client.post(
        "/api/v1/training/calls",
        json={"started_at": "2026-12-05T10:00:00Z", "duration_s": -1, "keystrokes": 3},
        headers=bearer(trainee),
    )
    assert resp.status_code == 422
    not_trainee = client.post(
        "/api/v1/training/calls",
        json={"started_at": "2026-12-05T10:00:00Z", "duration_s": 5, "keystrokes": 3},
        headers=bearer(users["manager"]),
    )
    assert not_trainee.status_code == 403
    assign = client.post(
        "/api/v1/training/scenarios/999/assignments",
        json={"trainee_id": trainee.id},
        headers=bearer(users["manager"]),
    )
    assert assign.status_code == 404


def test_the_trainers_page_lists_the_calls(client, auth, kernel, trainee, catalogue):
    auth.login("manager")
    page = client.get("/training")
    assert page.status_code == 200 and trainee.username.encode() in page.data


def test_the_scenario_form_shows_each_refusal_next_to_its_field(client, auth, users, catalogue):
    auth.login("manager")
    token = auth.csrf(client.get("/training").data)
    form = {
        "csrf_token": token,
        "title": "",
        "caller_phone": "12",
        "kind": "delivery",
        "address": "",
        "lines": "NOPE 1",
    }
    page = client.post("/training/scenarios", data=form)
    assert page.status_code == 422
    for name in ("title", "caller_phone", "address", "lines"):
        assert f'data-field="{name}"'.encode() in page.data
