"""Clients on both databases: statistics kept by the order-event subscriber, idempotent replays, merging, the dossier."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from callcentre import services
from callcentre.models import Client, ClientAddress, ClientOrderFact, ClientPhone, ClientStats
from frontoffice.errors import Conflict, InvalidInput
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import Order
from orders.states import OrderStatus
from tests.conftest import load_demo_catalogue
from tests.helpers import OrderActions

DELIVERED_PATH = ("confirmed", "cooking", "ready", "in_delivery", "delivered")


@pytest.fixture
def shop(app):
    """The app with the demo menu and branches, capturing the events it dispatches."""
    load_demo_catalogue(app)
    kernel = app.extensions["frontoffice"]
    seen: list = []
    kernel.bus.subscribe(OrderPlaced, seen.append)
    kernel.bus.subscribe(OrderStatusChanged, seen.append)
    kernel.test_events = seen
    return kernel


def place(kernel, phone="+7 912 345-67-89", name="Ivan", skus=(("PZ-MARG", 1), ("DR-COLA05", 2))) -> int:
    """Place a pickup order through the orders service (as the generic API does); its events are dispatched."""
    order = OrderActions(kernel).place(
        *skus, client_phone=phone, client_name=name, kind="pickup", address_text="", lat=None, lon=None
    )
    return order.id


def stats_of(kernel, phone: str) -> ClientStats | None:
    """The statistics of the client with this main number."""
    with kernel.db.reading() as s:
        client = s.scalar(select(Client).where(Client.phone == phone))
        return None if client is None else s.get(ClientStats, client.id)


def test_a_first_order_creates_the_client_and_starts_its_statistics(shop):
    order_id = place(shop, name="Ivan Petrov")
    with shop.db.reading() as s:
        client = s.scalar(select(Client).where(Client.phone == "+79123456789"))
        assert client is not None and client.name == "Ivan Petrov"
        created = s.get(Order, order_id).created_at
    stats = stats_of(shop, "+79123456789")
    assert (stats.orders_count, stats.delivered_count, stats.cancelled_count, stats.total_spent) == (
        1,
        0,
        0,
        0,
    )
    assert stats.first_order_at == stats.last_order_at == created


def test_delivered_orders_add_to_total_spent_and_cancelled_ones_are_counted_apart(shop, orders):
    first = place(shop)
    second = place(shop, skus=(("SU-SET1", 1),))
    orders.move(first, *DELIVERED_PATH)
    orders.move(second, "cancelled")
    stats = stats_of(shop, "+79123456789")
    with shop.db.reading() as s:
        total = s.get(Order, first).total
    assert stats.orders_count == 2
    assert stats.delivered_count == 1 and stats.total_spent == total == 54900 + 2 * 12900
    assert stats.cancelled_count == 1


def test_replayed_events_do_not_count_twice(shop, orders):
    order_id = place(shop)
    orders.move(order_id, *DELIVERED_PATH)
    before = stats_of(shop, "+79123456789")
    shop.bus.dispatch(list(shop.test_events))
    shop.bus.dispatch(list(shop.test_events))
    after = stats_of(shop, "+79123456789")
    assert (
        (after.orders_count, after.delivered_count, after.total_spent)
        == (
            before.orders_count,
            before.delivered_count,
            before.total_spent,
        )
        == (1, 1, before.total_spent)
    )
    with shop.db.unit_of_work() as s:
        assert services.record_order_fact(s, order_id, "delivered") is False
        assert services.record_order_fact(s, order_id, "placed") is False


def test_a_missed_placement_is_counted_when_the_delivery_arrives(shop):
    order_id = place(shop)
    with shop.db.unit_of_work() as s:
        s.execute(ClientOrderFact.__table__.delete())
        s.execute(ClientStats.__table__.delete())
    with shop.db.unit_of_work() as s:
        assert services.record_order_fact(s, order_id, OrderStatus.CANCELLED) is True
    stats = stats_of(shop, "+79123456789")
    assert (stats.orders_count, stats.cancelled_count) == (1, 1)


def test_orders_from_an_extra_phone_count_for_the_client_who_owns_it(shop):
    with shop.db.unit_of_work() as s:
        services.create_client(
            s, "+7 912 345-67-89", name="Ivan", phones=[services.PhoneEntry("8 917 000-11-22", "work")]
        )
    place(shop, phone="89170001122")
    stats = stats_of(shop, "+79123456789")
    assert stats.orders_count == 1
    with shop.db.reading() as s:
        assert s.scalar(select(func.count(Client.id))) == 1


def test_a_number_already_taken_is_a_conflict_naming_its_owner(shop):
    with shop.db.unit_of_work() as s:
        owner = services.create_client(s, "+79123456789").id
    with pytest.raises(Conflict) as err, shop.db.unit_of_work() as s:
        services.create_client(s, "8 (912) 345-67-89")
    assert err.value.extra["client_id"] == owner
    with pytest.raises(InvalidInput), shop.db.unit_of_work() as s:
        services.create_client(s, "not a phone")


def test_changing_the_main_number_keeps_the_old_one_as_an_extra_phone(shop):
    with shop.db.unit_of_work() as s:
        client_id = services.create_client(s, "+79123456789", name="Ivan").id
    with shop.db.unit_of_work() as s:
        services.update_client(s, client_id, phone="+7 917 555 44 33", tags=["VIP", "VIP", " late  payer "])
    with shop.db.reading() as s:
        client = s.get(Client, client_id)
        assert client.phone == "+79175554433" and client.tags == ["VIP", "late payer"]
        assert [p.phone for p in services.extra_phones(s, client_id)] == ["+79123456789"]
        assert services.find_client(s, "+79123456789").id == client_id


def test_merging_moves_phones_addresses_notes_history_and_statistics(shop, orders):
    with shop.db.unit_of_work() as s:
        keep = services.create_client(s, "+79123456789", name="Ivan", notes="Dog at the door", tags=["VIP"])
        dupe = services.create_client(
            s,
            "+79170001122",
            name="Ivan P.",
            notes="Prefers cash",
            tags=["night"],
            phones=[services.PhoneEntry("+79035550000", "wife")],
        )
        services.add_address(
            s, dupe.id, services.AddressData(text="Kazan, Pushkina St, 1", lat=55.79, lon=49.12)
        )
        keep_id, dupe_id = keep.id, dupe.id
    mine = place(shop, phone="+79123456789")
    theirs = place(shop, phone="+79170001122", skus=(("SU-SET1", 1),))
    orders.move(theirs, *DELIVERED_PATH)
    orders.move(mine, "cancelled")

    with shop.db.unit_of_work() as s:
        services.merge_clients(s, keep_id, dupe_id)

    with shop.db.reading() as s:
        kept = s.get(Client, keep_id)
        assert kept.notes == "Dog at the door\nPrefers cash" and kept.tags == ["VIP", "night"]
        assert {p.phone for p in services.extra_phones(s, keep_id)} == {"+79170001122", "+79035550000"}
        assert [a.client_id for a in s.scalars(select(ClientAddress))] == [keep_id]
        assert s.get(Client, dupe_id).merged_into_id == keep_id
        assert s.get(ClientStats, dupe_id) is None
        stats = s.get(ClientStats, keep_id)
        assert (stats.orders_count, stats.delivered_count, stats.cancelled_count) == (2, 1, 1)
        assert stats.total_spent == 189900
        for number in ("+79170001122", "+79035550000", "+79123456789"):
            assert services.find_client(s, number).id == keep_id
        found = services.dossier(s, "8 917 000 11 22")
        assert found.client.id == keep_id
        assert {o.id for o in found.orders} == {mine, theirs}
        # The monitor reads these columns with plain SQL.
        row = s.execute(
            text(
                "SELECT c.id, c.phone, c.name, c.created_at, c.merged_into_id, st.orders_count, "
                "st.delivered_count, st.cancelled_count, st.total_spent, st.first_order_at, st.last_order_at "
                "FROM clients c JOIN client_stats st ON st.client_id = c.id WHERE c.merged_into_id IS NULL"
            )
        ).all()
        assert [(r.id, r.orders_count, r.total_spent) for r in row] == [(keep_id, 2, 189900)]

    with pytest.raises(Conflict), shop.db.unit_of_work() as s:
        services.merge_clients(s, keep_id, dupe_id)
    with pytest.raises(InvalidInput), shop.db.unit_of_work() as s:
        services.merge_clients(s, keep_id, keep_id)


def test_the_dossier_shows_addresses_most_recent_first_and_the_last_twenty_orders_with_lines(shop):
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with shop.db.unit_of_work() as s:
        client = services.create_client(s, "+79123456789", name="Ivan")
        for i, used in enumerate((now - dt.timedelta(days=3), None, now)):
            a = services.add_address(s, client.id, services.AddressData(text=f"Kazan, Street {i}, 1"))
            a.last_used_at = used
    ids = [place(shop) for _ in range(22)]
    with shop.db.reading() as s:
        found = services.dossier(s, "+7 (912) 345-67-89")
    assert [a.text for a in found.addresses] == [
        "Kazan, Street 2, 1",
        "Kazan, Street 0, 1",
        "Kazan, Street 1, 1",
    ]
    assert [o.id for o in found.orders] == sorted(ids, reverse=True)[:20]
    assert [ln.sku for ln in found.orders[0].lines] == ["PZ-MARG", "DR-COLA05"]
    assert found.stats.orders_count == 22


def test_contributors_fill_the_sections_and_a_broken_one_does_not_hide_the_caller(shop):
    calls = []

    def warnings(session, client, phone):
        calls.append((client.id if client else None, phone))
        return {"warnings": ["Unpaid order last week"]}

    def broken(session, client, phone):
        raise RuntimeError("boom")

    with shop.db.unit_of_work() as s:
        client_id = services.create_client(s, "+79123456789").id
    with shop.db.reading() as s:
        found = services.dossier(s, "89123456789", contributors=[warnings, broken])
        unknown = services.dossier(s, "+79990001122", contributors=[warnings])
    assert found.sections == {"warnings": ["Unpaid order last week"]}
    assert unknown.client is None and unknown.orders == []
    assert calls == [(client_id, "+79123456789"), (None, "+79990001122")]


def test_an_address_said_again_updates_the_saved_one_instead_of_doubling_it(shop):
    with shop.db.unit_of_work() as s:
        client_id = services.create_client(s, "+79123456789").id
        first = services.add_address(
            s, client_id, services.AddressData(text="Kazan, Baumana St, 44", apartment="7")
        )
        again = services.add_address(
            s,
            client_id,
            services.AddressData(
                text="kazan baumana st. 44", apartment="7", intercom="7B", lat=55.79, lon=49.12
            ),
        )
        other = services.add_address(
            s, client_id, services.AddressData(text="Kazan, Baumana St, 44", apartment="8")
        )
        assert first.id == again.id != other.id
        assert again.intercom == "7B" and again.lat == 55.79
        assert s.scalar(select(func.count(ClientPhone.id))) == 0


def test_statistics_can_be_rebuilt_from_the_recorded_facts(shop, orders):
    delivered = place(shop)
    cancelled = place(shop, skus=(("SU-SET1", 1),))
    orders.move(delivered, *DELIVERED_PATH)
    orders.move(cancelled, "cancelled")
    before = stats_of(shop, "+79123456789")
    with shop.db.unit_of_work() as s:
        client_id = s.scalar(select(Client.id).where(Client.phone == "+79123456789"))
        s.execute(ClientStats.__table__.update().values(orders_count=99, total_spent=1))
    with shop.db.unit_of_work() as s:
        services.rebuild_stats(s, client_id)
    after = stats_of(shop, "+79123456789")
    assert (after.orders_count, after.delivered_count, after.cancelled_count, after.total_spent) == (
        2,
        1,
        1,
        before.total_spent,
    )
    assert after.first_order_at == before.first_order_at and after.last_order_at == before.last_order_at


def test_a_half_given_pair_of_coordinates_is_refused(shop):
    with shop.db.unit_of_work() as s:
        client_id = services.create_client(s, "+79123456789").id
        address_id = services.add_address(s, client_id, services.AddressData(text="Kazan, Baumana St, 1")).id
    with pytest.raises(InvalidInput) as err, shop.db.unit_of_work() as s:
        services.update_address(s, client_id, address_id, {"lat": 55.79})
    assert err.value.errors[0]["field"] == "lat"
    with pytest.raises(InvalidInput) as err, shop.db.unit_of_work() as s:
        services.add_address(s, client_id, services.AddressData(text="Kazan, Pushkina St, 2", lon=49.1))
    assert err.value.errors[0]["field"] == "address.lat"
