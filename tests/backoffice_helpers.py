"""Helpers shared by the back-office tests (antifraud, tickets, bonuses)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from backoffice import services
from frontoffice.db import utcnow
from orders import services as order_services
from orders.models import Order
from orders.ports import PLACEMENT_POLICIES


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


def command(**kw: Any) -> order_services.PlaceOrder:
    """A delivery order of two pepperoni pizzas (1298.00) paid by card on delivery."""
    base: dict[str, Any] = dict(
        branch_id=1,
        client_phone="+79123456789",
        client_name="Ivan",
        address_text="Kazan, Kremlyovskaya St, 21, apt 5",
        lat=55.7963,
        lon=49.1088,
        payment_kind="card_on_delivery",
        lines=[order_services.LineRequest(quantity=2, sku="PZ-PEPP")],
    )
    base.update(kw)
    return order_services.PlaceOrder(**base)


def place(kernel, *, actor_id: int | None = None, now: dt.datetime | None = None, **kw: Any) -> Order:
    """Place an order through the app's placement policies (as both order endpoints do)."""
    with kernel.db.unit_of_work() as s:
        return order_services.place_order(
            s, command(**kw), actor_id=actor_id, policies=kernel.extensions.all(PLACEMENT_POLICIES), now=now
        )


def move(
    kernel, order_id: int, *statuses: str, reason: str | None = None, at: dt.datetime | None = None
) -> None:
    """Move an order through ``statuses`` one transaction each."""
    for status in statuses:
        with kernel.db.unit_of_work() as s:
            order_services.change_status(s, order_id, status, reason=reason, now=at)


def ago(**kw: float) -> dt.datetime:
    """A moment in the past."""
    return utcnow() - dt.timedelta(**kw)


def csrf_of(html: bytes) -> str:
    """The CSRF token in a rendered page."""
    match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1).decode()


def login(client, username: str, password: str):
    """Log a test client in through the login page."""
    token = csrf_of(client.get("/login").data)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
