"""The connection ledger: limits per address and in all, the grace to join a namespace."""

from __future__ import annotations

from frontoffice.connections import FULL, PER_ADDRESS, ConnectionLedger, ConnectionLimits


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ledger(per_address: int = 3, total: int = 10, grace: float = 5.0) -> tuple[ConnectionLedger, Clock]:
    clock = Clock()
    return ConnectionLedger(ConnectionLimits(per_address, total, grace), clock), clock


def test_an_address_may_open_up_to_its_limit_and_no_more():
    book, _ = ledger(per_address=2)
    assert book.open("a", "10.0.0.1") is None
    assert book.open("b", "10.0.0.1") is None
    assert book.open("c", "10.0.0.1") == PER_ADDRESS
    assert book.open("d", "10.0.0.2") is None
    assert book.from_address("10.0.0.1") == 2
    assert book.refused == 1


def test_a_closed_connection_gives_its_address_a_place_back():
    book, _ = ledger(per_address=1)
    book.open("a", "10.0.0.1")
    book.close("a")
    assert book.open("b", "10.0.0.1") is None
    assert book.from_address("10.0.0.1") == 1


def test_beyond_the_total_everyone_is_refused():
    book, _ = ledger(per_address=0, total=2)
    book.open("a", "10.0.0.1")
    book.open("b", "10.0.0.2")
    assert book.open("c", "10.0.0.3") == FULL
    assert book.count == 2


def test_zero_means_no_limit():
    book, _ = ledger(per_address=0, total=0)
    assert all(book.open(str(i), "10.0.0.1") is None for i in range(1000))


def test_a_connection_that_joined_no_namespace_is_overdue_after_the_grace_once():
    book, clock = ledger(grace=5.0)
    book.open("a", "10.0.0.1")
    clock.now += 4.9
    assert book.overdue() == []
    clock.now += 0.2
    assert book.overdue() == ["a"]
    assert book.overdue() == []  # being closed: not listed twice


def test_an_admitted_connection_is_never_overdue():
    book, clock = ledger(grace=5.0)
    book.open("a", "10.0.0.1")
    book.admit("a")
    clock.now += 3600
    assert book.overdue() == []


def test_closing_or_admitting_an_unknown_connection_changes_nothing():
    book, _ = ledger()
    book.admit("ghost")
    book.close("ghost")
    assert book.count == 0
