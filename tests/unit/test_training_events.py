"""The event bus keeps training events from every subscriber that did not opt in."""

from __future__ import annotations

from contextlib import contextmanager

from frontoffice.db import utcnow
from frontoffice.events import EventBus, is_training
from orders.events import OrderStatusChanged


def moved(training: bool) -> OrderStatusChanged:
    return OrderStatusChanged(7, 1, "T-KZ1-001", "new", "confirmed", None, utcnow(), None, training=training)


@contextmanager
def session():
    yield "session"


def test_only_subscribers_that_opted_in_hear_a_training_event():
    bus = EventBus(unit_of_work=session)
    heard: dict[str, list] = {"handler": [], "trainer": [], "projector": [], "nudge": []}
    bus.subscribe(OrderStatusChanged, heard["handler"].append)
    bus.subscribe(OrderStatusChanged, heard["trainer"].append, training=True)
    bus.project(object, lambda s, ev: heard["projector"].append(ev))
    bus.nudge(OrderStatusChanged, heard["nudge"].append)
    real, practice = moved(False), moved(True)
    bus.dispatch([real, practice])
    assert is_training(practice) and not is_training(real)
    assert heard == {"handler": [real], "trainer": [real, practice], "projector": [real], "nudge": [real]}
