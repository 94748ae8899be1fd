"""The demo couriers: eight around Kazan on both branches, placed, all but the ``courier`` login on shift;
loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from couriers import services
from couriers.models import Courier, CourierPosition, CourierShift
from frontoffice.cli import load_demo


def test_the_demo_puts_seven_of_eight_couriers_on_shift_around_kazan_and_links_the_demo_courier(
    app, client, db
):
    load_demo(app)
    load_demo(app)
    with db.reading() as s:
        couriers = s.scalars(select(Courier).order_by(Courier.id)).all()
        assert len(couriers) == 8
        assert {b for c in couriers for b in c.branch_ids} == {1, 2}
        assert (
            s.scalar(select(func.count()).select_from(CourierShift).where(CourierShift.ended_at.is_(None)))
            == 7
        )
        for pos in s.scalars(select(CourierPosition)):
            assert 55.7 < pos.lat < 55.85 and 49.0 < pos.lon < 49.3
        states = services.courier_states(s)
        assert set(states.values()) == {services.CourierState.FREE, services.CourierState.OFFLINE}
        kirill = couriers[0]
        assert kirill.device_id == "demo-device-1" and kirill.user_id is not None
    token = client.post("/api/courier/v1/session", json={"login": "courier", "password": "courier"})
    assert token.status_code == 201 and token.json["courier"]["device_id"] == "demo-device-1"
    assert client.get("/api/osmand?id=demo-device-3&lat=55.78&lon=49.13").status_code == 200


def test_the_courier_api_walk_through_starts_on_a_fresh_demo(app, client):
    """docs/courier-api.md steps 1-2 and 8: log in, read /me, start the shift, end it."""
    load_demo(app)
    session = client.post(
        "/api/courier/v1/session", json={"login": "courier", "password": "courier", "device_name": "Pixel 7"}
    )
    assert session.status_code == 201
    headers = {"Authorization": f"Bearer {session.json['token']}"}
    assert client.get("/api/courier/v1/me", headers=headers).json["state"] == "offline"
    started = client.post(
        "/api/courier/v1/shift/start",
        headers={**headers, "Idempotency-Key": "walk-shift-start"},
        json={"opening_cash": "2000.00"},
    )
    assert started.status_code == 201, started.json
    assert started.json["cash_on_hand"] == "2000.00"
    ended = client.post(
        "/api/courier/v1/shift/end", headers={**headers, "Idempotency-Key": "walk-shift-end"}, json={}
    )
    assert ended.status_code in (200, 201), ended.json
