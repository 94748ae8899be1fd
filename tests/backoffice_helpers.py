"""Helpers shared by the back-office tests (antifraud, tickets, bonuses)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from backoffice import services
from frontoffice.db import utcnow
from orders import services as order_services
from orders.models import Order
from tests.helpers import AuthActions, OrderActions, order_command


def add_rule(kernel, kind: str, action: str = "flag", score: int = 50, name: str = "", **params) -> int:
    """Create an active rule through the service; its id."""
    with kernel.db.unit_of_work() as s:
        view = services.create_rule(
            s, kind=kind, name=name or f"{kind} {action}", params=params, score=score, action=action
        )
        return view.rule.id


def blacklist(kernel, kind: str, value: str, reason: str = "test") -> int:
    """Blacklist a value; the entry id."""
    with kernel.db.unit_of_work() as s:
        return services.add_to_blacklist(s, kind, value, reason).id


def bonus_rule(kernel, operation: str, method: str = "fixed", amount: int = 0, percent_bp: int = 0, **params):
    """Set the bonus rule of an operation."""
    with kernel.db.unit_of_work() as s:
        services.save_bonus_rule(
            s, operation, method=method, amount=amount, percent_bp=percent_bp, params=params
        )


#: The back-office tests' order: two pepperoni pizzas (1298.00) delivered to Ivan, paid by card on delivery.
ORDER: dict[str, Any] = dict(
    client_name="Ivan",
    address_text="Kazan, Kremlyovskaya St, 21, apt 5",
    lat=55.7963,
    lon=49.1088,
    payment_kind="card_on_delivery",
)
TWO_PEPPERONI = ("PZ-PEPP", 2)


def command(**kw: Any) -> order_services.PlaceOrder:
    """A delivery order of two pepperoni pizzas (1298.00) paid by card on delivery."""
    return order_command(TWO_PEPPERONI, **{**ORDER, **kw})


def place(kernel, *, actor_id: int | None = None, now: dt.datetime | None = None, **kw: Any) -> Order:
    """Place an order through the app's placement policies (as both order endpoints do)."""
    return OrderActions(kernel).place(TWO_PEPPERONI, actor_id=actor_id, now=now, **{**ORDER, **kw})


def move(
    kernel, order_id: int, *statuses: str, reason: str | None = None, at: dt.datetime | None = None
) -> None:
    """Move an order through ``statuses`` one transaction each."""
    OrderActions(kernel).move(order_id, *statuses, reason=reason, at=at)


def ago(**kw: float) -> dt.datetime:
    """A moment in the past."""
    return utcnow() - dt.timedelta(**kw)


csrf_of = AuthActions.csrf


def login(client, username: str, password: str):
    """Log a test client in through the login page."""
    return AuthActions(client).login(username, password, expect=None)
