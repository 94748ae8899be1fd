"""The kernel's write fast paths: ``insert_new`` stores an aggregate exactly as a flush would, and
SQLite writers of one process queue on a lock without changing what succeeds or fails."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import ForeignKey, MetaData, String, event, func, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from frontoffice.db import Database, insert_new, make_engine, utcnow
from orders import services
from orders.models import Order
from tests.helpers import order_command


class _Base(DeclarativeBase):
    """Private tables of this module (kept out of the application's metadata)."""

    metadata = MetaData()


class Basket(_Base):
    __tablename__ = "baskets"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=lambda: dt.datetime(2024, 5, 1, 12, 0))
    state: Mapped[str] = mapped_column(String(10), server_default=text("'open'"))
    version: Mapped[int] = mapped_column(default=1)
    items: Mapped[list[Fruit]] = relationship(back_populates="basket", order_by="Fruit.id")
    labels: Mapped[list[Label]] = relationship(order_by="Label.id")


class Fruit(_Base):
    __tablename__ = "fruits"

    id: Mapped[int] = mapped_column(primary_key=True)
    basket_id: Mapped[int] = mapped_column(ForeignKey("baskets.id"))
    name: Mapped[str] = mapped_column(String(40))
    weight: Mapped[int] = mapped_column(default=100)
    comment: Mapped[str | None]
    basket: Mapped[Basket] = relationship(back_populates="items")


class Label(_Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    basket_id: Mapped[int] = mapped_column(ForeignKey("baskets.id"))
    text: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    parent: Mapped[Label | None] = relationship(remote_side="Label.id")


@pytest.fixture
def private_db(tmp_path):
    db = Database(make_engine(f"sqlite:///{tmp_path / 'private.sqlite3'}"))
    _Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def _basket() -> Basket:
    basket = Basket(owner="Olga")
    basket.items = [Fruit(name="apple", weight=150), Fruit(name="pear", comment="ripe"), Fruit(name="plum")]
    basket.labels = [Label(text="gift")]
    return basket


def _rows(db: Database) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {
            "baskets": conn.execute(
                text("SELECT owner, note, created_at, state, version FROM baskets")
            ).all(),
            "fruits": conn.execute(
                text("SELECT basket_id, name, weight, comment FROM fruits ORDER BY id")
            ).all(),
            "labels": conn.execute(text("SELECT basket_id, text, parent_id FROM labels ORDER BY id")).all(),
        }


def _statements(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


_BASKET = {"owner": "Olga"}
_COLLECTIONS = {
    "items": [{"name": "apple", "weight": 150}, {"name": "pear", "comment": "ripe"}, {"name": "plum"}],
    "labels": [{"text": "gift"}],
}


def test_insert_new_writes_what_a_flush_writes(private_db, tmp_path):
    flushed = Database(make_engine(f"sqlite:///{tmp_path / 'flushed.sqlite3'}"))
    _Base.metadata.create_all(flushed.engine)
    with flushed.unit_of_work() as s:
        s.add(_basket())
    with private_db.unit_of_work() as s:
        insert_new(s, Basket, _BASKET, _COLLECTIONS)
    assert _rows(private_db) == _rows(flushed)
    flushed.dispose()


def test_insert_new_leaves_loaded_persistent_objects_and_no_sql_to_read_them(private_db):
    seen = _statements(private_db)
    with private_db.unit_of_work() as s:
        basket = insert_new(s, Basket, _BASKET, _COLLECTIONS)
        written = len(seen)
        assert inspect(basket).persistent and all(inspect(f).persistent for f in basket.items)
        assert (basket.state, basket.version, basket.created_at) == (
            "open",
            1,
            dt.datetime(2024, 5, 1, 12, 0),
        )
        assert [(f.basket_id, f.weight) for f in basket.items] == [
            (basket.id, 150),
            (basket.id, 100),
            (basket.id, 100),
        ]
        assert basket.items[1].comment == "ripe" and basket.note is None
        assert basket.items[0].basket is basket
        assert basket.labels[0].basket_id == basket.id
        assert s.get(Basket, basket.id) is basket
        assert len(seen) == written, seen[written:]
        assert not s.dirty and not s.new
        basket.note = "changed in the same transaction"
    with private_db.reading() as s:
        assert s.get(Basket, basket.id).note == "changed in the same transaction"


def test_insert_new_writes_a_collection_in_one_insert_on_sqlite_each_object_on_its_own_row(private_db):
    with private_db.unit_of_work() as s:
        insert_new(s, Basket, {"owner": "earlier"}, {"items": [{"name": "fig", "weight": 1}]})
    seen = _statements(private_db)
    names = ["apple", "pear", "apple", "plum", "apple"]  # two identical rows among them
    items = [{"name": n, "weight": 10 * (i % 2) + 100} for i, n in enumerate(names)]
    with private_db.unit_of_work() as s:
        basket = insert_new(s, Basket, _BASKET, {"items": items})
    assert sum(st.startswith("INSERT INTO fruits") for st in seen) == 1
    with private_db.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, name || ':' || weight FROM fruits")).all())
    assert [stored[f.id] for f in basket.items] == [f"{f.name}:{f.weight}" for f in basket.items]
    assert len({f.id for f in basket.items}) == len(names)
    assert basket.labels == []  # a collection not given is loaded empty: a new row has none


def test_insert_new_refuses_a_collection_the_class_does_not_have(private_db):
    with pytest.raises(ValueError, match="no one-to-many collection fruit"), private_db.unit_of_work() as s:
        insert_new(s, Basket, _BASKET, {"fruit": [{"name": "apple"}]})
    assert _rows(private_db)["baskets"] == []


def test_objects_inserted_in_a_transaction_that_rolls_back_are_transient_again(private_db):
    with pytest.raises(RuntimeError), private_db.unit_of_work() as s:
        basket = insert_new(s, Basket, _BASKET, _COLLECTIONS)
        raise RuntimeError("the request failed after the insert")
    assert inspect(basket).transient and all(inspect(f).transient for f in basket.items)
    assert _rows(private_db)["fruits"] == []


def test_a_placed_order_is_stored_and_readable_without_more_sql(app, catalogue):
    db = app.extensions["frontoffice"].db
    seen = _statements(db)
    with db.unit_of_work() as s:
        order = services.place_order(s, order_command(("PZ-MARG", 2), ("DR-COLA05", 1)))
        written = len(seen)
        snapshot = (
            order.id,
            order.number,
            order.version,
            order.courier_id,
            order.delivered_at,
            [(ln.order_id, ln.position, ln.sku, ln.quantity) for ln in order.lines],
            [(ev.order_id, ev.kind, ev.from_status) for ev in order.events],
        )
        assert len(seen) == written, seen[written:]
    with db.reading() as s:
        stored = s.get(Order, order.id)
        assert snapshot == (
            stored.id,
            stored.number,
            stored.version,
            stored.courier_id,
            stored.delivered_at,
            [(ln.order_id, ln.position, ln.sku, ln.quantity) for ln in stored.lines],
            [(ev.order_id, ev.kind, ev.from_status) for ev in stored.events],
        )
        assert s.scalar(select(func.count()).select_from(Order)) == 1


# --- the SQLite writer queue ------------------------------------------------------------------


def test_many_threads_writing_at_once_all_succeed(private_db):
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with private_db.unit_of_work() as s:
                    s.add(Basket(owner=f"{n}-{i}", created_at=utcnow()))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with private_db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Basket)) == 80


def test_a_failed_write_hands_the_turn_on(private_db):
    with pytest.raises(RuntimeError), private_db.unit_of_work() as s:
        s.add(Basket(owner="first"))
        s.flush()
        raise RuntimeError("the caller fails mid-transaction")
    done = threading.Event()

    def write() -> None:
        with private_db.unit_of_work() as s:
            s.add(Basket(owner="second"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "the next writer never got its turn"
    with private_db.reading() as s:
        assert s.scalars(select(Basket.owner)).all() == ["second"]


def test_a_write_nested_in_another_still_meets_the_busy_timeout_instead_of_hanging(tmp_path):
    db = Database(make_engine(f"sqlite:///{tmp_path / 'nested.sqlite3'}", busy_timeout_ms=200))
    _Base.metadata.create_all(db.engine)
    with db.unit_of_work() as outer:
        outer.add(Basket(owner="outer"))
        outer.flush()
        with pytest.raises(OperationalError, match="locked"), db.unit_of_work() as inner:
            inner.add(Basket(owner="inner"))
            inner.flush()
    with db.reading() as s:
        assert s.scalars(select(Basket.owner)).all() == ["outer"]
    db.dispose()
