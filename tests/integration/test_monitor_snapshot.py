"""The monitor's snapshot of a hand-built day: every tile, checked against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from frontoffice.money import from_minor
from monitor.ports import MONITOR
from tests.monitor_fixtures import DayBuilder, add_courier, add_ticket, at_evening

NOW = at_evening()


@pytest.fixture
def day(app, catalogue) -> DayBuilder:
    """Today (21:00 Moscow): five deliveries taking 20, 30, 40, 50 and 100 minutes with 45-minute
    promises, three late open orders, one not yet due, one on hold, one cancelled, one open order
    left over from yesterday, one delivery at branch 2 and one order on the same weekday last week."""
    kernel = app.extensions["frontoffice"]
    b = DayBuilder(kernel.db, NOW)
    for name, took in (("d20", 20), ("d30", 30), ("d40", 40), ("d50", 50), ("d100", 100)):
        b.deliver(name, created=200, took=took, phone="+79120000001" if name != "d100" else "+79120000002")
    b.place("cooking_late5", created=50)  # promised 5 min ago
    b.move("cooking_late5", "confirmed", "cooking", at=40)
    b.place("road_late45", created=90.5)  # promised 45.5 min ago
    b.move("road_late45", "confirmed", "cooking", "ready", "in_delivery", at=30)
    b.place("ready_late12", created=57)
    b.move("ready_late12", "confirmed", "cooking", "ready", at=20)
    b.place("fresh", created=40)  # promised in 5 minutes
    b.place("held", created=10)
    b.move("held", "on_hold", at=9)
    b.place("gone", created=100)
    b.move("gone", "cancelled", at=95, reason="The client called to cancel")
    b.place("yesterday", created=24 * 60 + 30)  # still cooking since yesterday evening
    b.move("yesterday", "confirmed", "cooking", at=24 * 60)
    b.deliver("kz2", created=70, took=25, branch_id=2, phone="+79120000003")
    b.place("last_week", created=7 * 24 * 60 + 60)
    b.move("last_week", "cancelled", at=7 * 24 * 60 + 50, reason="Duplicate order")
    return b


def snapshot(app, branch_id=None):
    return app.extensions["frontoffice"].extensions.get(MONITOR).snapshot(branch_id, now=NOW)


def test_orders_today_are_counted_per_status(app, day):
    s = snapshot(app)
    assert s.business_date == dt.date(NOW.year, NOW.month, NOW.day)
    assert s.orders_today == 12  # 5 delivered + 3 late + fresh, held, gone + kz2 (not yesterday's)
    counts = s.orders_by_status
    assert counts["delivered"] == 6 and counts["cooking"] == 1 and counts["in_delivery"] == 1
    assert counts["ready"] == 1 and counts["new"] == 1 and counts["on_hold"] == 1 and counts["cancelled"] == 1


def test_revenue_average_check_and_pending_money(app, day):
    s = snapshot(app)
    delivered = [day.total(n) for n in ("d20", "d30", "d40", "d50", "d100", "kz2")]
    pending = [day.total(n) for n in ("cooking_late5", "road_late45", "ready_late12", "fresh", "held")]
    assert s.revenue.total == from_minor(sum(delivered))
    assert s.revenue.delivered_orders == 6
    assert s.revenue.average_check == from_minor(round(sum(delivered) / 6))
    assert s.revenue.pending == from_minor(sum(pending))
    if s.revenue.by_organization is not None:
        assert sum(o.amount for o in s.revenue.by_organization) == s.revenue.total


def test_delivery_times_and_on_time_rate_of_one_branch(app, day):
    s = snapshot(app, branch_id=1)
    assert s.delivery_time.count == 5
    assert s.delivery_time.average_min == 48.0
    assert s.delivery_time.median_min == 40.0
    assert s.delivery_time.p90_min == 80.0
    assert (s.on_time.judged, s.on_time.on_time, s.on_time.rate) == (5, 3, 0.6)


def test_the_late_list_is_colour_coded_latest_first(app, day):
    late = snapshot(app).late
    assert [(o.order_id, o.minutes_late, o.level) for o in late] == [
        (day.orders["yesterday"].id, 24 * 60 + 30 - 45, "critical"),
        (day.orders["road_late45"].id, 45, "critical"),
        (day.orders["ready_late12"].id, 12, "serious"),
        (day.orders["cooking_late5"].id, 5, "minor"),
    ]
    assert late[1].status == "in_delivery" and late[1].address.startswith("Kazan")


def test_held_orders_and_the_map_of_undelivered_orders(app, day):
    s = snapshot(app)
    assert s.held == 1
    on_map = {o.order_id: o.late_level for o in s.map_orders}
    open_names = ("cooking_late5", "road_late45", "ready_late12", "fresh", "held", "yesterday")
    assert set(on_map) == {day.orders[n].id for n in open_names}
    assert on_map[day.orders["fresh"].id] is None
    assert on_map[day.orders["ready_late12"].id] == "serious"


def test_orders_per_hour_today_against_the_same_weekday_last_week(app, day):
    h = snapshot(app).hourly
    assert sum(h.today) == 12
    assert h.today[17] == 5  # the five deliveries, placed at 17:40 Moscow time
    assert h.today[19] == 3  # "gone" at 19:20, "road_late45" at 19:29, "kz2" at 19:50
    assert sum(h.last_week) == 1 and h.last_week[20] == 1
    assert h.last_week_date == dt.date(NOW.year, NOW.month, NOW.day) - dt.timedelta(days=7)
    assert (h.today_so_far, h.last_week_same_time) == (12, 1)


def test_a_branch_sees_only_its_own_orders(app, day):
    s = snapshot(app, branch_id=2)
    assert s.orders_today == 1 and s.revenue.total == from_minor(day.total("kz2"))
    assert s.late == [] and s.held == 0 and s.delivery_time.median_min == 25.0


def test_couriers_on_shift_are_free_busy_or_without_signal(app, day):
    db = app.extensions["frontoffice"].db
    minute = dt.timedelta(minutes=1)
    free = add_courier(db, "Anna", position_at=NOW - minute)
    busy = add_courier(db, "Boris", position_at=NOW - 2 * minute)
    add_courier(db, "Vera", branch_ids=(2,), position_at=NOW - 30 * minute)
    add_courier(db, "Gleb", on_shift=False, position_at=NOW - minute)
    day.assign("road_late45", busy)
    s = snapshot(app)
    c = s.couriers
    assert c.available and (c.on_shift, c.free, c.busy, c.no_signal) == (3, 1, 1, 1)
    assert {x.name: x.state for x in c.couriers} == {"Anna": "free", "Boris": "busy", "Vera": "no_signal"}
    assert next(x for x in c.couriers if x.id == busy).active_orders == 1
    assert next(o for o in s.late if o.order_id == day.orders["road_late45"].id).courier_name == "Boris"
    branch2 = snapshot(app, branch_id=2).couriers
    assert [x.name for x in branch2.couriers] == ["Vera"] and free not in {x.id for x in branch2.couriers}


def test_open_and_overdue_tickets(app, day):
    db = app.extensions["frontoffice"].db
    add_ticket(db, status="open", due_at=NOW + dt.timedelta(hours=1))
    add_ticket(db, status="in_progress", due_at=NOW - dt.timedelta(minutes=10))
    add_ticket(db, status="resolved", due_at=NOW - dt.timedelta(hours=2))
    t = snapshot(app).tickets
    assert (t.available, t.open, t.overdue) == (True, 2, 1)


def test_the_most_loyal_clients_of_the_month(app, day):
    month = snapshot(app).loyal["month"]
    # the other two have one delivery of the same sum each: the tie goes to the greater phone
    assert [c.phone for c in month.clients] == ["+79120000001", "+79120000003", "+79120000002"]
    best = month.clients[0]
    assert best.deliveries == 4 and best.rank == 1
    assert best.revenue == from_minor(sum(day.total(n) for n in ("d20", "d30", "d40", "d50")))
    # of three clients, they delivered most often and longest ago (150 min against 100 and 45)
    assert (best.recency, best.frequency, best.monetary, best.segment) == (1, 5, 5, "cannot_lose")


def test_a_missing_table_makes_its_tile_not_available_instead_of_failing(sqlite_app):
    from tests.conftest import load_demo_catalogue

    load_demo_catalogue(sqlite_app)
    kernel = sqlite_app.extensions["frontoffice"]
    with kernel.db.engine.begin() as conn:
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text("DROP TABLE ticket_events"))
        conn.execute(text("DROP TABLE tickets"))
        conn.execute(text("DROP TABLE courier_positions"))
    monitor = kernel.extensions.get(MONITOR)
    monitor.probe.forget()
    s = monitor.snapshot(now=NOW)
    assert s.tickets.available is False and s.couriers.available is False
    assert s.orders_today == 0 and s.revenue.total == Decimal("0.00")
