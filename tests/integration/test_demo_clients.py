"""The demo's clients: dated no later than their first order, with a saved address to repeat to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from callcentre import services
from callcentre.models import Client, ClientAddress, ClientStats
from frontoffice.cli import load_demo
from orders import services as orders
from orders.models import Order
from tests.conftest import load_demo_catalogue


def test_demo_clients_are_clients_since_their_first_order_and_have_a_saved_address(app, db):
    load_demo(app)
    with db.reading() as s:
        rows = s.execute(
            select(Client, ClientStats).join(ClientStats, ClientStats.client_id == Client.id)
        ).all()
        assert len(rows) > 10
        for client, stats in rows:
            assert client.created_at <= stats.first_order_at, client.name
            saved = s.scalars(select(ClientAddress).where(ClientAddress.client_id == client.id)).all()
            assert saved, f"{client.name} has orders but no saved address"
        top = max(rows, key=lambda r: r[1].orders_count)[0]
        texts = {a.text for a in s.scalars(select(ClientAddress).where(ClientAddress.client_id == top.id))}
        ordered = set(s.scalars(select(Order.address_text).where(Order.client_phone == top.phone)))
        assert texts <= ordered


def test_a_client_made_by_a_back_dated_order_is_a_client_since_that_order(app, db):
    load_demo_catalogue(app)
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    with db.unit_of_work() as s:
        services.create_client(s, "+79120000001", name="Early", now=week_ago + dt.timedelta(days=3))
    with db.unit_of_work() as s:
        for phone in ("+79120000001", "+79120000002"):
            orders.place_order(
                s,
                orders.PlaceOrder(
                    branch_id=1,
                    client_phone=phone,
                    client_name="Ivan",
                    kind="pickup",
                    lines=[orders.LineRequest(quantity=1, sku="PZ-MARG")],
                ),
                now=week_ago,
            )
    with db.reading() as s:
        for client in s.scalars(select(Client).where(Client.phone.in_(["+79120000001", "+79120000002"]))):
            assert client.created_at == week_ago, client.phone


def test_merging_keeps_the_earlier_client_since(app, db):
    load_demo_catalogue(app)
    early = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with db.unit_of_work() as s:
        keep = services.create_client(s, "+79120000011", name="Late")
        other = services.create_client(s, "+79120000012", name="Early", now=early)
        services.merge_clients(s, keep.id, other.id)
        assert keep.created_at == early
