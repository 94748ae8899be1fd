"""Hand-built days for the monitor's tests: orders at chosen moments, couriers, tickets.

Rows of other packages' tables (couriers, tickets) are written through the shared metadata,
so these helpers do not depend on those packages' services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, update

from frontoffice.db import Base
from orders import services as order_services
from orders.models import Order
from tests.helpers import order_command

DELIVERY_STEPS = ("confirmed", "cooking", "ready", "in_delivery")


def at_evening(days_ago: int = 2) -> dt.datetime:
    """18:00 UTC (21:00 in Moscow) some days ago: a fixed, recent 'now' for a hand-built day."""
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=dt.UTC)


@dataclass
class DayBuilder:
    """Places orders and moves them at chosen moments relative to ``now``."""

    db: object
    now: dt.datetime
    orders: dict[str, Order] = field(default_factory=dict)

    def minutes_ago(self, minutes: float) -> dt.datetime:
        """A moment ``minutes`` before ``now``."""
        return self.now - dt.timedelta(minutes=minutes)

    def place(
        self,
        name: str,
        *,
        created: float,
        promise_after: float | None = 45,
        branch_id: int = 1,
        phone: str = "+79120000001",
        client_name: str = "",
        sku: str = "PZ-MARG",
        quantity: int = 1,
        lat: float | None = 55.7963,
        lon: float | None = 49.1088,
    ) -> Order:
        """An order created ``created`` minutes before now, promised ``promise_after`` minutes later."""
        placed_at = self.minutes_ago(created)
        cmd = order_command(
            (sku, quantity),
            branch_id=branch_id,
            client_phone=phone,
            client_name=client_name,
            address_text=f"Kazan, order {name}",
            lat=lat,
            lon=lon,
            promised_at=placed_at + dt.timedelta(minutes=promise_after)
            if promise_after is not None
            else None,
        )
        with self.db.unit_of_work() as s:
            order = order_services.place_order(s, cmd, now=placed_at)
        self.orders[name] = order
        return order

    def move(self, name: str, *statuses: str, at: float, reason: str | None = None) -> None:
        """Move an order through ``statuses``, the last one ``at`` minutes before now."""
        order = self.orders[name]
        with self.db.unit_of_work() as s:
            for i, status in enumerate(statuses):
                moment = self.minutes_ago(at + (len(statuses) - 1 - i) * 0.01)
                order_services.change_status(s, order.id, status, now=moment, reason=reason)

    def deliver(self, name: str, *, created: float, took: float, **kw) -> Order:
        """An order created ``created`` minutes ago and delivered ``took`` minutes after that."""
        order = self.place(name, created=created, **kw)
        self.move(name, *DELIVERY_STEPS, "delivered", at=created - took)
        return order

    def assign(self, name: str, courier_id: int) -> None:
        """Give an order to a courier (the fields the couriers package sets)."""
        with self.db.unit_of_work() as s:
            s.execute(
                update(Order)
                .where(Order.id == self.orders[name].id)
                .values(courier_id=courier_id, assigned_at=self.now, version=Order.version + 1)
            )

    def total(self, name: str) -> int:
        """The stored total of an order, in minor units."""
        return self.orders[name].total


def table(name: str):
    """A table of the shared metadata (every package's models are loaded by ``create_app``)."""
    return Base.metadata.tables[name]


def add_courier(
    db,
    name: str,
    *,
    branch_ids: tuple[int, ...] = (1,),
    on_shift: bool = True,
    position_at: dt.datetime | None = None,
    lat: float = 55.79,
    lon: float = 49.12,
    shift_started: dt.datetime | None = None,
) -> int:
    """A courier with branches, optionally an open shift and a latest position; returns the id."""
    started = shift_started or dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    with db.unit_of_work() as s:
        courier_id = s.execute(
            insert(table("couriers")).values(name=name).returning(table("couriers").c.id)
        ).scalar_one()
        for branch in branch_ids:
            s.execute(insert(table("courier_branches")).values(courier_id=courier_id, branch_id=branch))
        s.execute(
            insert(table("courier_shifts")).values(
                courier_id=courier_id,
                started_at=started,
                ended_at=None if on_shift else started + dt.timedelta(hours=1),
            )
        )
        if position_at is not None:
            s.execute(
                insert(table("courier_positions")).values(
                    courier_id=courier_id, lat=lat, lon=lon, recorded_at=position_at, received_at=position_at
                )
            )
    return courier_id


def add_ticket(db, *, status: str, due_at: dt.datetime, kind: str = "complaint") -> None:
    """A call-centre ticket in ``status`` due at ``due_at``."""
    with db.unit_of_work() as s:
        s.execute(
            insert(table("tickets")).values(kind=kind, status=status, subject="Cold pizza", due_at=due_at)
        )
