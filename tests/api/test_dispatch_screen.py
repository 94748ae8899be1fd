"""The dispatch screen's API and pages (issue 16 item 4): the board of undelivered orders of one's
branches with their lateness, the stored auto-dispatch rule, assign against a courier's own claim,
proofs of delivery for the staff of the branch only, the order page's proof section and the
courier register page."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from couriers.models import Courier, DeliveryProof, DispatchSetting
from couriers.ports import AUTO_DISPATCHER
from frontoffice.db import utcnow
from orders.models import Order
from tests.couriers_fixtures import (
    BRANCH_1,
    KAZAN_CENTRE,
    delivered_with_photo,
    link_to_branch,
    make_courier,
    pool_order,
)
from tests.helpers import AuthActions

pytestmark = pytest.mark.usefixtures("catalogue")

D = "/api/v1/dispatch"
COURIER_API = "/api/courier/v1"


def promise(app, order_id: int, minutes_from_now: float) -> None:
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(promised_at=utcnow() + dt.timedelta(minutes=minutes_from_now))
            .execution_options(synchronize_session=False)
        )


# --- the board --------------------------------------------------------------------------------


def test_the_board_lists_undelivered_orders_of_my_branches_with_their_lateness(app, client, users):
    late = pool_order(app, 1, status="cooking")
    very_late = pool_order(app, 1, status="ready")
    on_time = pool_order(app, 1, status="confirmed")
    elsewhere = pool_order(app, 2, status="ready")
    pickup = pool_order(app, 1, status="ready", kind="pickup")
    promise(app, late, -12)
    promise(app, very_late, -45)
    promise(app, on_time, 30)
    promise(app, elsewhere, -5)

    everything = client.get(f"{D}/board", headers=users["manager"].headers)
    assert everything.status_code == 200, everything.json
    listed = {o["id"]: o for o in everything.json["orders"]}
    assert set(listed) >= {late, very_late, on_time, elsewhere} and pickup not in listed
    assert (listed[very_late]["late_level"], listed[late]["late_level"]) == ("critical", "serious")
    assert listed[very_late]["minutes_late"] >= 45 and listed[on_time]["minutes_late"] is None
    assert [o["id"] for o in everything.json["orders"]][:2] == [very_late, late]  # promised first, first

    link_to_branch(client, users, "manager", 2)
    mine = client.get(f"{D}/board", headers=users["manager"].headers).json["orders"]
    assert [o["id"] for o in mine] == [elsewhere] and mine[0]["late_level"] == "minor"


def test_a_manager_of_another_branch_cannot_see_candidates_assign_or_unassign(app, client, users):
    kirill = make_courier(app, "Kirill", position=BRANCH_1)
    order_id = pool_order(app, 1, status="ready")
    link_to_branch(client, users, "manager", 2)
    h = users["manager"].headers
    assert client.get(f"{D}/orders/{order_id}/candidates", headers=h).status_code == 404
    refused = client.post(f"{D}/orders/{order_id}/assign", json={"courier_id": kirill.id}, headers=h)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    admin = users["admin"].headers
    assert (
        client.post(
            f"{D}/orders/{order_id}/assign", json={"courier_id": kirill.id}, headers=admin
        ).status_code
        == 200
    )
    assert client.post(f"{D}/orders/{order_id}/unassign", json={}, headers=h).status_code == 404
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.get(Order, order_id).courier_id == kirill.id  # nothing changed


# --- the auto-dispatch rule ---------------------------------------------------------------------


def test_the_auto_dispatch_rule_is_stored_and_the_loop_follows_it(app, client, users):
    h = users["manager"].headers
    assert client.get(f"{D}/auto-rule", headers=h).json["enabled"] is False  # off by default
    loop = app.extensions["frontoffice"].extensions.get(AUTO_DISPATCHER)
    near = make_courier(app, "Near", position=BRANCH_1)
    order_id = pool_order(app, 1, status="ready")
    with app.extensions["frontoffice"].db.unit_of_work() as s:  # ready for ten minutes
        s.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(status_changed_at=utcnow() - dt.timedelta(minutes=10))
            .execution_options(synchronize_session=False)
        )
    assert loop.run_once() == []  # off: nothing assigned

    # the periodic job of the deployment runs run_once each interval; it reads the rule every round
    assert "courier-auto-dispatch" in {j.name for j in app.extensions["frontoffice"].jobs.all()}
    on = client.put(f"{D}/auto-rule", json={"enabled": True, "after_minutes": 15}, headers=h)
    assert on.status_code == 200 and on.json["enabled"] and "15 min" in on.json["rule"]
    assert loop.run_once() == []  # ready for 10 of the 15 minutes
    client.put(f"{D}/auto-rule", json={"enabled": True, "after_minutes": 5}, headers=h)
    assert client.get(f"{D}/board", headers=h).json["auto_dispatch"]["after_minutes"] == 5
    assert loop.run_once() == [(order_id, near.id)]
    assert (
        client.put(f"{D}/auto-rule", json={"enabled": False, "after_minutes": 5}, headers=h).json["enabled"]
        is False
    )


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": True, "after_minutes": 0},
        {"enabled": True, "after_minutes": 241},
        {"enabled": True, "after_minutes": "soon"},
        {"enabled": "maybe", "after_minutes": 5},
        {"enabled": True},
    ],
)
def test_a_bad_auto_dispatch_rule_is_refused_naming_the_field_and_nothing_is_written(
    app, client, users, body
):
    resp = client.put(f"{D}/auto-rule", json=body, headers=users["manager"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    bad = set(body) - {"enabled"} if body.get("enabled") is True else {"enabled"}
    assert {e["field"] for e in resp.json["errors"]} & (bad or {"after_minutes"})
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(DispatchSetting)) == 0


# --- assign against a courier's claim -------------------------------------------------------------


def assign_against_claim(app, manager_headers, order_id: int, assignee: int, claimer) -> dict[str, int]:
    """A dispatcher assigns ``order_id`` to ``assignee`` while ``claimer`` claims it, both at once."""
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def dispatcher() -> None:
        barrier.wait(10)
        answers["assign"] = (
            app.test_client()
            .post(f"{D}/orders/{order_id}/assign", json={"courier_id": assignee}, headers=manager_headers)
            .status_code
        )

    def courier() -> None:
        barrier.wait(10)
        answers["claim"] = (
            app.test_client()
            .post(f"{COURIER_API}/orders/{order_id}/claim", headers=claimer.headers)
            .status_code
        )

    threads = [threading.Thread(target=dispatcher), threading.Thread(target=courier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_a_dispatcher_assigning_and_a_courier_claiming_at_once_exactly_one_wins(app, users):
    for round_ in range(6):
        kirill = make_courier(app, f"Kirill {round_}", position=BRANCH_1)
        marat = make_courier(app, f"Marat {round_}", position=BRANCH_1)
        order_id = pool_order(app, 1, status="ready")
        answers = assign_against_claim(app, users["manager"].headers, order_id, kirill.id, marat)
        assert sorted(answers.values()) == [200, 409], answers
        with app.extensions["frontoffice"].db.reading() as s:
            holder = s.get(Order, order_id).courier_id
        assert holder == (kirill.id if answers["assign"] == 200 else marat.id)


def test_assigning_past_the_couriers_maximum_answers_409_with_the_reason(app, client, users):
    kirill = make_courier(app, "Kirill", position=BRANCH_1, max_active=1)
    h = users["manager"].headers
    first = pool_order(app, 1, status="ready")
    second = pool_order(app, 1, status="ready")
    assert (
        client.post(f"{D}/orders/{first}/assign", json={"courier_id": kirill.id}, headers=h).status_code
        == 200
    )
    refused = client.post(f"{D}/orders/{second}/assign", json={"courier_id": kirill.id}, headers=h)
    assert refused.status_code == 409 and "maximum is 1" in refused.json["detail"]
    assert refused.json["max_active_orders"] == 1
    claim = client.post(f"{COURIER_API}/orders/{second}/claim", headers=kirill.headers)
    assert claim.status_code == 409 and "maximum is 1" in claim.json["detail"]


# --- proofs of delivery ---------------------------------------------------------------------------


def test_the_proof_of_delivery_and_its_photo_are_served_to_the_staff_of_the_branch_only(app, client, users):
    order_id, photo = delivered_with_photo(app, client, branch_id=1)
    for role in ("admin", "manager", "operator", "backoffice"):
        proof = client.get(f"{D}/orders/{order_id}/proof", headers=users[role].headers)
        assert proof.status_code == 200, (role, proof.json)
    body = proof.json
    assert body["outcome"] == "delivered" and (body["lat"], body["lon"]) == KAZAN_CENTRE
    assert body["cash_collected"] == "0.00" and [i["kind"] for i in body["images"]] == ["photo"]
    image = client.get(body["images"][0]["url"], headers=users["manager"].headers)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == photo
    assert "private" in image.headers["Cache-Control"]

    courier = client.get(body["images"][0]["url"], headers=make_courier(app, "Other").headers)
    assert courier.status_code == 403
    assert client.get(body["images"][0]["url"]).status_code == 401
    for role in ("manager", "operator", "backoffice"):
        link_to_branch(client, users, role, 2)
        h = users[role].headers
        assert client.get(f"{D}/orders/{order_id}/proof", headers=h).status_code == 404
        assert client.get(body["images"][0]["url"], headers=h).status_code == 404
    # The board of a manager of branch 1 lists the trip with its proof.
    link_to_branch(client, users, "manager", 1)
    finished = client.get(f"{D}/board", headers=users["manager"].headers).json["finished"]
    assert [(o["id"], o["proofs"]) for o in finished] == [(order_id, 1)]


def test_an_order_without_a_finished_trip_has_no_proof_yet(app, client, users):
    order_id = pool_order(app, 1, status="ready")
    resp = client.get(f"{D}/orders/{order_id}/proof", headers=users["manager"].headers)
    assert resp.status_code == 404 and "no proof" in resp.json["detail"]
    assert client.get(f"{D}/proofs/999999", headers=users["manager"].headers).status_code == 404


def test_the_order_page_shows_the_proof_of_delivery_to_the_staff_of_its_branch(app, client, users, auth):
    order_id, _photo = delivered_with_photo(app, client, branch_id=1)
    with app.extensions["frontoffice"].db.reading() as s:
        proof_id = s.scalar(select(DeliveryProof.id).where(DeliveryProof.order_id == order_id))
    auth.login(users["operator"])
    page = client.get(f"/orders/{order_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Proof of delivery" in text and f"/api/v1/dispatch/proofs/{proof_id}" in text
    assert client.get(f"/api/v1/dispatch/proofs/{proof_id}").status_code == 200  # the page's session sees it
    link_to_branch(client, users, "operator", 2)
    assert client.get(f"/orders/{order_id}").status_code == 404
    assert client.get(f"/api/v1/dispatch/proofs/{proof_id}").status_code == 404


# --- the courier register -------------------------------------------------------------------------


def test_a_device_id_with_forbidden_characters_is_refused_naming_the_field(app, client, users):
    h = users["manager"].headers
    resp = client.post(
        "/api/v1/couriers", json={"name": "X", "branch_ids": [1], "device_id": "phone 1/../x"}, headers=h
    )
    assert resp.status_code == 422 and [e["field"] for e in resp.json["errors"]] == ["device_id"]
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Courier)) == 0


def register_form(client, auth, url: str, **fields) -> object:
    csrf = auth.csrf(client.get("/couriers/register").data)
    data = {
        "csrf_token": csrf,
        "name": "",
        "phone": "",
        "vehicle": "car",
        "max_active_orders": "3",
        "device_id": "",
    }
    data.update(fields)
    return client.post(url, data=data)


def test_the_register_page_registers_and_changes_a_courier(app, client, users, auth):
    auth.login(users["manager"])
    made = register_form(
        client,
        auth,
        "/couriers/register",
        name="Rustam",
        phone="+7 917 123-45-67",
        vehicle="bike",
        max_active_orders="2",
        device_id="rustam-phone",
        branch_ids=["1", "2"],
        active="1",
    )
    assert made.status_code == 302
    with app.extensions["frontoffice"].db.reading() as s:
        rustam = s.scalar(select(Courier).where(Courier.name == "Rustam"))
        assert (rustam.vehicle, rustam.max_active_orders, rustam.device_id, rustam.branch_ids) == (
            "bike",
            2,
            "rustam-phone",
            [1, 2],
        )
    listing = client.get("/couriers/register").get_data(as_text=True)
    assert "Rustam" in listing and "rustam-phone" in listing
    changed = register_form(
        client,
        auth,
        f"/couriers/register/{rustam.id}",
        name="Rustam G.",
        vehicle="car",
        max_active_orders="4",
        device_id="",
        branch_ids=["2"],
    )
    assert changed.status_code == 302
    with app.extensions["frontoffice"].db.reading() as s:
        again = s.get(Courier, rustam.id)
        assert (again.name, again.max_active_orders, again.device_ids, again.branch_ids, again.active) == (
            "Rustam G.",
            4,
            ["rustam-phone"],  # devices are added and removed on their own
            [2],
            False,
        )


def test_a_bad_register_form_shows_each_reason_next_to_its_field_and_writes_nothing(app, client, users, auth):
    make_courier(app, "Kirill", device_id="kirill-phone")
    auth.login(users["manager"])
    refused = register_form(
        client,
        auth,
        "/couriers/register",
        name=" ",
        max_active_orders="many",
        device_id="kirill-phone",
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    for field in ("name", "max_active_orders", "device_id", "branch_ids"):
        assert f'data-field="{field}"' in text, field
    assert "registered to courier" in text and "Type a whole number." in text
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Courier)) == 1


def test_the_register_page_links_a_courier_to_the_login_of_their_phone_app(app, client, users, auth):
    """Without the link, a courier user made on the staff page gets a token the courier API refuses
    ("no courier profile"): an admin must be able to give a registered courier their login."""
    auth.login(users["admin"])
    page = client.get("/couriers/register").get_data(as_text=True)
    # Only courier-role users are offered (test-courier), not the other staff.
    assert (
        f'<option value="{users["courier"].id}"' in page
        and f'<option value="{users["operator"].id}"' not in page
    )
    made = register_form(
        client,
        auth,
        "/couriers/register",
        name="Rustam",
        branch_ids=["1"],
        user_id=str(users["courier"].id),
        active="1",
    )
    assert made.status_code == 302
    me = client.get("/api/courier/v1/me", headers=users["courier"].headers)
    assert me.status_code == 200 and me.json["courier"]["name"] == "Rustam"
    with app.extensions["frontoffice"].db.reading() as s:
        rustam = s.scalar(select(Courier).where(Courier.name == "Rustam"))
    # Taken: a second courier is not offered the login, and is refused it next to the field.
    assert f'<option value="{users["courier"].id}"' not in client.get("/couriers/register").get_data(
        as_text=True
    )
    taken = register_form(
        client, auth, "/couriers/register", name="Timur", branch_ids=["1"], user_id=str(users["courier"].id)
    )
    assert taken.status_code == 422 and 'data-field="user_id"' in taken.get_data(as_text=True)
    wrong = register_form(
        client, auth, "/couriers/register", name="Timur", branch_ids=["1"], user_id=str(users["manager"].id)
    )
    assert wrong.status_code == 422 and "This user is not a courier." in wrong.get_data(as_text=True)
    # Choosing none unlinks it.
    unlinked = register_form(
        client,
        auth,
        f"/couriers/register/{rustam.id}",
        name="Rustam",
        branch_ids=["1"],
        user_id="",
        active="1",
    )
    assert unlinked.status_code == 302
    assert client.get("/api/courier/v1/me", headers=users["courier"].headers).status_code == 403
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Courier)) == 1


def test_a_manager_of_one_branch_sees_and_edits_only_its_couriers(app, client, users, auth):
    make_courier(app, "Here", branch_ids=(2,))
    there = make_courier(app, "There", branch_ids=(1,))
    link_to_branch(client, users, "manager", 2)
    auth.login(users["manager"])
    listing = client.get("/couriers/register").get_data(as_text=True)
    assert "Here" in listing and "There" not in listing
    assert client.get(f"/couriers/register/{there.id}").status_code == 404
    outside = register_form(client, auth, "/couriers/register", name="New", branch_ids=["1"], active="1")
    assert outside.status_code == 422 and 'data-field="branch_ids"' in outside.get_data(as_text=True)


# --- devices ------------------------------------------------------------------------------------


def osmand(client, device: str, seconds_ago: int) -> int:
    stamp = int(utcnow().timestamp()) - seconds_ago
    resp = client.get(f"/api/osmand?id={device}&timestamp={stamp}&lat=55.7901&lon=49.1301")
    return resp.status_code


def test_a_courier_reports_through_each_of_its_devices_until_one_is_removed(app, client, users):
    h = users["manager"].headers
    kirill = make_courier(app, "Kirill", device_id="kirill-phone")
    added = client.post(
        f"/api/v1/couriers/{kirill.id}/devices", json={"device_id": "kirill-tablet"}, headers=h
    )
    assert added.status_code == 201 and added.json["device_ids"] == ["kirill-phone", "kirill-tablet"]
    assert osmand(client, "kirill-phone", 40) == 200 and osmand(client, "kirill-tablet", 30) == 200
    again = client.post(
        f"/api/v1/couriers/{kirill.id}/devices", json={"device_id": "kirill-tablet"}, headers=h
    )
    assert again.status_code == 201 and again.json["device_ids"] == ["kirill-phone", "kirill-tablet"]

    removed = client.delete(f"/api/v1/couriers/{kirill.id}/devices/kirill-phone", headers=h)
    assert removed.status_code == 200 and removed.json["device_ids"] == ["kirill-tablet"]
    assert osmand(client, "kirill-phone", 20) == 400  # an unknown device, as Traccar answers a GET
    assert osmand(client, "kirill-tablet", 10) == 200
    gone = client.delete(f"/api/v1/couriers/{kirill.id}/devices/kirill-phone", headers=h)
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ("marat-phone", "registered to courier"),
        ("phone 1", "pattern"),
        ("", "at least 1"),
        ("x" * 101, "at most"),
    ],
)
def test_a_device_taken_or_malformed_is_refused_naming_the_field_and_nothing_is_written(
    app, client, users, device, reason
):
    make_courier(app, "Marat", device_id="marat-phone")
    kirill = make_courier(app, "Kirill", device_id="kirill-phone")
    resp = client.post(
        f"/api/v1/couriers/{kirill.id}/devices", json={"device_id": device}, headers=users["manager"].headers
    )
    assert resp.status_code == 422 and [e["field"] for e in resp.json["errors"]] == ["device_id"]
    assert reason in resp.json["errors"][0]["message"]
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.get(Courier, kirill.id).device_ids == ["kirill-phone"]


def test_the_register_page_adds_and_removes_devices_with_the_reason_next_to_the_field(
    app, client, users, auth
):
    make_courier(app, "Marat", device_id="marat-phone")
    kirill = make_courier(app, "Kirill", device_id="kirill-phone")
    auth.login(users["manager"])
    csrf = auth.csrf(client.get(f"/couriers/register/{kirill.id}").data)
    taken = client.post(
        f"/couriers/register/{kirill.id}/devices", data={"csrf_token": csrf, "device_id": "marat-phone"}
    )
    assert taken.status_code == 422
    assert 'data-field="device_id"' in taken.get_data(as_text=True)
    assert 'value="marat-phone"' in taken.get_data(as_text=True)  # what was typed stays in the field
    added = client.post(
        f"/couriers/register/{kirill.id}/devices", data={"csrf_token": csrf, "device_id": "kirill-2"}
    )
    assert added.status_code == 302
    page = client.get(f"/couriers/register/{kirill.id}").get_data(as_text=True)
    assert 'data-device="kirill-2"' in page and 'data-device="kirill-phone"' in page
    removed = client.post(
        f"/couriers/register/{kirill.id}/devices/remove",
        data={"csrf_token": csrf, "device_id": "kirill-phone"},
    )
    assert removed.status_code == 302
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.get(Courier, kirill.id).device_ids == ["kirill-2"]
    russian = AuthActions(app.test_client())
    russian.login(users["manager"])
    russian.choose_language("ru", back_to=f"/couriers/register/{kirill.id}")
    token = russian.csrf(russian.client.get(f"/couriers/register/{kirill.id}").data)
    refused = russian.client.post(
        f"/couriers/register/{kirill.id}/devices", data={"csrf_token": token, "device_id": "a b"}
    )
    assert refused.status_code == 422 and "Идентификатор устройства" in refused.get_data(as_text=True)
