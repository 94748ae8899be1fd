"""The loyalty projection: kept by the delivery events, counted once per order, equal to a rebuild
and to a GROUP BY over the orders."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from monitor import loyalty
from monitor.models import ClientTotals, LoyaltyFact
from monitor.ports import MONITOR
from monitor.services import rebuild_loyalty, record_delivery, top_clients
from orders.models import Order
from tests.monitor_fixtures import DayBuilder, at_evening

NOW = at_evening()
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def history(app, catalogue) -> DayBuilder:
    """Deliveries over two months for four clients, one failed order and one still open."""
    b = DayBuilder(app.extensions["frontoffice"].db, NOW)
    plan = [
        ("+79120000001", 0, "SU-SET1"),
        ("+79120000001", 3, "PZ-MARG"),
        ("+79120000001", 40, "PZ-MARG"),
        ("+79120000002", 1, "SU-SET1"),
        ("+79120000002", 2, "SU-SET1"),
        ("+79120000003", 35, "PZ-PEPP"),
        ("+79120000003", 36, "PZ-PEPP"),
        ("+79120000003", 37, "PZ-PEPP"),
        ("+79120000004", 5, "DR-WATER"),
    ]
    for i, (phone, days_ago, sku) in enumerate(plan):
        b.deliver(
            f"o{i}",
            created=days_ago * 24 * 60 + 120,
            took=30,
            phone=phone,
            sku=sku,
            client_name=f"Client {phone[-1]}",
        )
    b.place("failed", created=60, phone="+79120000004")
    b.move("failed", "confirmed", "cooking", "ready", "in_delivery", "failed", at=10, reason="Nobody home")
    b.place("open", created=30, phone="+79120000004")
    return b


def snapshot_of_projection(session) -> tuple[Counter, list[tuple]]:
    facts = Counter(session.scalars(select(LoyaltyFact.client_phone)))
    totals = sorted(
        session.execute(
            select(
                ClientTotals.period, ClientTotals.client_phone, ClientTotals.deliveries, ClientTotals.revenue
            )
        ).all()
    )
    return facts, totals


def test_every_delivered_order_is_counted_once_in_all_time_its_year_and_month(app, history):
    db = app.extensions["frontoffice"].db
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LoyaltyFact)) == 9
        best = s.execute(
            select(ClientTotals).where(
                ClientTotals.period == "all", ClientTotals.client_phone == "+79120000001"
            )
        ).scalar_one()
        expected = sum(history.total(f"o{i}") for i in range(3))
        assert (best.deliveries, best.revenue, best.client_name) == (3, expected, "Client 1")
        assert best.first_at < best.last_at
        periods = {p for (p,) in s.execute(select(ClientTotals.period).distinct())}
    months = {
        loyalty.month_key(d.year, d.month)
        for d in (history.minutes_ago(40 * 24 * 60).astimezone(MSK), NOW.astimezone(MSK))
    }
    assert {"all"} | months <= periods


def test_a_replayed_delivery_changes_nothing(app, history):
    db = app.extensions["frontoffice"].db
    with db.reading() as s:
        before = snapshot_of_projection(s)
    with db.unit_of_work() as s:
        assert record_delivery(s, history.orders["o0"].id, MSK) is False
        assert record_delivery(s, history.orders["open"].id, MSK) is False  # not delivered
    with db.reading() as s:
        assert snapshot_of_projection(s) == before


def test_a_rebuild_gives_the_same_projection_as_the_events(app, history):
    db = app.extensions["frontoffice"].db
    with db.reading() as s:
        incremental = snapshot_of_projection(s)
    with db.unit_of_work() as s:
        assert rebuild_loyalty(s, MSK) == 9
    with db.reading() as s:
        assert snapshot_of_projection(s) == incremental


def test_the_monitor_builds_an_empty_projection_once_from_existing_orders(app, history):
    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        s.execute(delete(ClientTotals))
        s.execute(delete(LoyaltyFact))
    monitor = kernel.extensions.get(MONITOR)
    monitor._projection_checked = False
    monitor.ensure_projection()
    with kernel.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LoyaltyFact)) == 9


@pytest.mark.parametrize("span", ["all", "month", "custom"])
def test_top_clients_agree_with_a_group_by_over_the_orders(app, history, span):
    db = app.extensions["frontoffice"].db
    today = NOW.astimezone(MSK).date()
    if span == "all":
        date_from = date_to = None
    elif span == "month":
        date_from, date_to = loyalty.period_range("month", today)
    else:
        date_from, date_to = today - dt.timedelta(days=4), today
    with db.reading() as s:
        ours = {by: top_clients(s, date_from, date_to, 10, by) for by in loyalty.RANKINGS}
        delivered = select(Order.client_phone, Order.total, Order.delivered_at).where(
            Order.status == "delivered"
        )
        rows = s.execute(delivered).all()
    sums: dict[str, list] = {}
    for phone, total, delivered_at in rows:
        day = delivered_at.astimezone(MSK).date()
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        acc = sums.setdefault(phone, [0, 0])
        acc[0] += 1
        acc[1] += total
    everyone = [loyalty.ClientTotals(p, "", n, m, NOW, NOW) for p, (n, m) in sums.items()]
    for by in loyalty.RANKINGS:
        baseline = loyalty.top(everyone, 10, by)
        assert [(c.phone, c.deliveries, c.revenue) for c in ours[by]] == [
            (c.phone, c.deliveries, c.revenue) for c in baseline
        ]
        assert ours[by], "the period has deliveries"


def test_segments_cover_every_client_with_a_delivery(app, history):
    monitor = app.extensions["frontoffice"].extensions.get(MONITOR)
    with monitor.db.reading() as s:
        out = monitor.segments(s, now=NOW)
    assert out.population == 4
    assert sum(x.clients for x in out.segments) == 4
    assert [x.segment for x in out.segments] == list(loyalty.SEGMENTS)
