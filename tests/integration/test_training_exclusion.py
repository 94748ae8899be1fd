"""A trainee's order goes through the real intake pipeline but appears nowhere outside the trainee's
and the trainer's screens: not on the order board, the dispatch board, the courier pool, the monitor's
metrics, the Prometheus metrics, the bonuses, the client statistics, loyalty or webhooks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from couriers import services as courier_services
from couriers.models import Courier
from frontoffice.errors import DomainError
from frontoffice.models import User
from frontoffice.outbox import OutboxEvent, OutboxProcessed
from frontoffice.webhooks.models import WebhookEndpoint
from monitor.ports import MONITOR
from orders.models import Order
from tests.backoffice_helpers import bonus_rule, move, place
from tests.couriers_fixtures import make_courier
from tests.helpers import AuthActions

#: The tables projectors write per order: none may gain a row from a training order.
PROJECTED = (
    "client_order_facts",
    "bonus_ledger",
    "monitor_loyalty_facts",
    "webhook_deliveries",
    "organization_revenue",
)


def make_trainee(kernel, user_id: int) -> None:
    with kernel.db.unit_of_work() as s:
        s.execute(update(User).where(User.id == user_id).values(trainee=True))


def rows(kernel) -> dict[str, int]:
    with kernel.db.reading() as s:
        return {t: s.scalar(text(f"SELECT count(*) FROM {t}")) for t in PROJECTED}


def test_a_trainees_order_appears_nowhere_outside_training(app, kernel, client, auth, users, catalogue):
    bonus_rule(kernel, "order_taken", amount=1000)
    bonus_rule(kernel, "order_delivered", method="percent", percent_bp=100)
    with kernel.db.unit_of_work() as s:
        s.add(
            WebhookEndpoint(
                url="http://127.0.0.1:9/hook",
                secret="whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
                events=["*"],
                active=True,
            )
        )
    courier = make_courier(app, "Pasha", position=(55.79, 49.11))
    make_trainee(kernel, users["operator"].id)
    before = rows(kernel)

    order = place(kernel, actor_id=users["operator"].id)
    move(kernel, order.id, "confirmed", "cooking", "ready")

    with kernel.db.reading() as s:
        stored = s.get(Order, order.id)
        assert stored.training and stored.number.startswith("T-")
        # The kitchen's and couriers' screens: the pool, the dispatch board, auto-dispatch.
        c = s.get(Courier, courier.id)
        assert order.id not in [e.order.id for e in courier_services.available_orders(s, c)]
        assert order.id not in [b.id for b in courier_services.dispatch_board(s, within=None)]
        events = list(
            s.scalars(select(OutboxEvent.id).where(OutboxEvent.payload["order_id"].as_integer() == order.id))
        )
        # Journaled (marked) but applied by no projector: none opted in to training events.
        assert len(events) == 4
        assert s.scalar(select(func.count()).where(OutboxProcessed.event_id.in_(events))) == 0
    # Bonuses, client statistics, loyalty, webhooks, revenue: nothing written.
    assert rows(kernel) == before
    # Monitor metrics.
    snap = kernel.extensions.get(MONITOR).snapshot()
    assert snap.orders_today == 0 and order.id not in [o.id for o in snap.map_orders]
    # The order board of a real operator (the API every board reads), and Prometheus.
    auth.login("manager")
    listed = client.get("/api/v1/orders?per_page=200").get_json()
    assert listed["total"] == 0
    metrics = client.get("/metrics").data.decode()
    assert 'frontoffice_orders_today{status="ready"} 1' not in metrics
    # The trainee's own board shows it, marked.
    auth.login("operator")
    mine = client.get("/api/v1/orders?per_page=200").get_json()
    assert [o["number"] for o in mine["items"]] == [stored.number]
    # A courier who knows its id cannot claim it either.
    with kernel.db.unit_of_work() as s:
        c = s.get(Courier, courier.id)
        with pytest.raises(DomainError):
            courier_services.claim_order(s, c, order.id, actor_id=None)
    with kernel.db.reading() as s:
        assert s.get(Order, order.id).courier_id is None


def test_a_trainee_reaches_only_their_training_orders_by_id_and_a_real_order_is_untouched(
    app, kernel, client, users, catalogue
):
    before = rows(kernel)
    real = place(kernel, actor_id=users["manager"].id)
    with kernel.db.reading() as s:
        assert not s.get(Order, real.id).training
    assert rows(kernel)["client_order_facts"] == before["client_order_facts"] + 1
    make_trainee(kernel, users["operator"].id)
    practice = place(kernel, actor_id=users["operator"].id)
    trainee, operator = users["operator"].headers, users["backoffice"].headers
    assert client.get(f"/api/v1/orders/{practice.id}", headers=trainee).status_code == 200
    assert client.get(f"/api/v1/orders/{real.id}", headers=trainee).status_code == 404
    moved = client.post(f"/api/v1/orders/{real.id}/cancel", json={"reason": "practice"}, headers=trainee)
    assert moved.status_code == 404
    assert client.get(f"/api/v1/orders/{practice.id}", headers=operator).status_code == 404
    assert client.get(f"/api/v1/orders/{practice.id}", headers=users["manager"].headers).status_code == 200


def test_the_order_page_shows_a_training_order_only_to_its_trainee_and_the_trainers(
    app, kernel, users, catalogue
):
    make_trainee(kernel, users["operator"].id)
    practice = place(kernel, actor_id=users["operator"].id)
    seen = {}
    for role in ("operator", "backoffice", "manager"):
        client = app.test_client()
        AuthActions(client).login(role)
        seen[role] = client.get(f"/orders/{practice.id}").status_code
    assert seen == {"operator": 200, "backoffice": 404, "manager": 200}
