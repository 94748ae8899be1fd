"""A trainee's board hears the changes of the training orders they took, in their own room; no other
operator's board hears of them."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from frontoffice.models import User
from tests.backoffice_helpers import place


@pytest.fixture
def app(sqlite_app):
    """Access rules and the API's answers do not depend on the database: SQLite only."""
    return sqlite_app


def names(client) -> list[str]:
    return [m["name"] for m in client.get_received("/callcentre")]


def test_only_the_trainee_hears_of_a_training_order(app, kernel, users, catalogue):
    with kernel.db.unit_of_work() as s:
        s.execute(update(User).where(User.id == users["operator"].id).values(trainee=True))
    sockets = kernel.socketio
    trainee = sockets.test_client(app, namespace="/callcentre", auth={"token": users["operator"].token})
    colleague = sockets.test_client(app, namespace="/callcentre", auth={"token": users["manager"].token})
    assert trainee.is_connected("/callcentre") and colleague.is_connected("/callcentre")
    names(trainee), names(colleague)  # the greetings, if any
    place(kernel, actor_id=users["operator"].id)
    assert "order_placed" in names(trainee)
    assert "order_placed" not in names(colleague)
    place(kernel, actor_id=users["manager"].id)  # a real order: everybody's board hears it
    assert "order_placed" in names(colleague)
    trainee.disconnect("/callcentre")
    colleague.disconnect("/callcentre")
