"""The event bus runs the projectors of one commit in one shared transaction."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from frontoffice.events import EventBus


@dataclass(frozen=True)
class Placed:
    """A stand-in event."""

    order_id: int


class FakeUnitOfWork:
    """Hands out numbered sessions and records which of them committed."""

    def __init__(self) -> None:
        self.opened: list[list[str]] = []
        self.committed: list[list[str]] = []

    @contextmanager
    def __call__(self):
        """One transaction: a list the projectors write to, kept only on success."""
        session: list[str] = []
        self.opened.append(session)
        yield session
        self.committed.append(session)


def test_all_projectors_of_a_commit_share_one_transaction_then_handlers_run() -> None:
    uow = FakeUnitOfWork()
    bus = EventBus(uow)
    heard: list[str] = []
    bus.project(Placed, lambda s, e: s.append(f"stats {e.order_id}"))
    bus.project(Placed, lambda s, e: s.append(f"bonus {e.order_id}"))
    bus.subscribe(Placed, lambda e: heard.append(f"relay {e.order_id}"))

    bus.dispatch([Placed(1), Placed(2)])

    assert uow.committed == [["stats 1", "bonus 1", "stats 2", "bonus 2"]]
    assert heard == ["relay 1", "relay 2"]


def test_a_failing_projector_is_retried_alone_and_the_others_still_land() -> None:
    uow = FakeUnitOfWork()
    bus = EventBus(uow)

    def broken(session: list[str], event: Placed) -> None:
        raise RuntimeError("boom")

    bus.project(Placed, lambda s, e: s.append(f"stats {e.order_id}"))
    bus.project(Placed, broken)
    bus.project(Placed, lambda s, e: s.append(f"bonus {e.order_id}"))

    bus.dispatch([Placed(7)])

    # The shared transaction rolled back; each projector then ran in its own.
    assert uow.committed == [["stats 7"], ["bonus 7"]]
    assert len(uow.opened) == 4


def test_events_without_projectors_open_no_transaction() -> None:
    uow = FakeUnitOfWork()
    bus = EventBus(uow)
    bus.subscribe(Placed, lambda e: None)

    bus.dispatch([Placed(1)])

    assert uow.opened == []


def test_a_bus_without_a_unit_of_work_refuses_projectors() -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        EventBus().project(Placed, lambda s, e: None)
