"""The demo couriers: eight around Kazan on both branches, on shift, placed; loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from couriers import services
from couriers.models import Courier, CourierPosition, CourierShift
from frontoffice.cli import load_demo


def test_the_demo_puts_eight_couriers_on_shift_around_kazan_and_links_the_demo_courier(app, client, db):
    load_demo(app)
    load_demo(app)
    with db.reading() as s:
        couriers = s.scalars(select(Courier).order_by(Courier.id)).all()
        assert len(couriers) == 8
        assert {b for c in couriers for b in c.branch_ids} == {1, 2}
        assert (
            s.scalar(select(func.count()).select_from(CourierShift).where(CourierShift.ended_at.is_(None)))
            == 8
        )
        for pos in s.scalars(select(CourierPosition)):
            assert 55.7 < pos.lat < 55.85 and 49.0 < pos.lon < 49.3
        states = services.courier_states(s)
        assert set(states.values()) == {services.CourierState.FREE}
        kirill = couriers[0]
        assert kirill.device_id == "demo-device-1" and kirill.user_id is not None
    token = client.post("/api/courier/v1/session", json={"login": "courier", "password": "courier"})
    assert token.status_code == 201 and token.json["courier"]["device_id"] == "demo-device-1"
    assert client.get("/api/osmand?id=demo-device-3&lat=55.78&lon=49.13").status_code == 200
