"""The kernel's prepared statements (``frontoffice.db.prepared``): ``execute_fast`` and
``insert_rows`` give what SQLAlchemy's own execution gives, in the caller's transaction, with its
errors, on SQLite (the driver's cursor) and PostgreSQL (plain ``execute``)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import JSON, MetaData, String, bindparam, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from frontoffice.db import (
    Database,
    UTCDateTime,
    execute_fast,
    get_detached,
    insert_rows,
    prepared,
    upsert,
)
from tests.helpers import database_with

MOMENT = dt.datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=dt.UTC)


class _Base(DeclarativeBase):
    """Private tables of this module (kept out of the application's metadata)."""

    metadata = MetaData()
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON}


class Parcel(_Base):
    __tablename__ = "prepared_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    weight: Mapped[int] = mapped_column(default=100)
    meta: Mapped[dict] = mapped_column(default=dict)
    sent_at: Mapped[dt.datetime] = mapped_column(default=lambda: MOMENT)
    state: Mapped[str] = mapped_column(String(10), server_default=text("'new'"))
    note: Mapped[str | None]


class Label(_Base):
    __tablename__ = "prepared_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(20))


class Mark(_Base):
    __tablename__ = "prepared_marks"

    consumer: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


_PARCELS = Parcel.__table__
_BY_CODES = select(_PARCELS.c.id, _PARCELS.c.code, _PARCELS.c.meta, _PARCELS.c.sent_at).where(
    _PARCELS.c.code.in_(bindparam("codes", expanding=True)), _PARCELS.c.weight >= bindparam("heavier")
)
_LIGHT = select(func.count(_PARCELS.c.id)).where(_PARCELS.c.weight < 50)


@pytest.fixture
def db(database_url):
    with database_with(database_url, _Base.metadata) as database:
        yield database


def _seed(db: Database) -> list[dict]:
    with db.unit_of_work() as s:
        return insert_rows(
            s,
            _PARCELS,
            [
                {"code": "A", "weight": 10, "meta": {"fragile": True}},
                {"code": "B", "meta": {"to": "Kazan"}, "sent_at": MOMENT + dt.timedelta(hours=1)},
                {"code": "C", "weight": 300, "note": "heavy"},
            ],
        )


def test_insert_rows_gives_back_each_row_as_stored_with_its_defaults(db):
    stored = _seed(db)
    assert [r["code"] for r in stored] == ["A", "B", "C"]
    assert [r["weight"] for r in stored] == [10, 100, 300]  # the Python-side default
    assert [r["state"] for r in stored] == ["new", "new", "new"]  # the server default, returned
    assert stored[0]["meta"] == {"fragile": True} and stored[2]["meta"] == {}
    assert stored[1]["sent_at"] == MOMENT + dt.timedelta(hours=1) and stored[0]["sent_at"] == MOMENT
    with db.engine.connect() as conn:
        ids = dict(conn.execute(select(_PARCELS.c.code, _PARCELS.c.id)).all())
    assert [r["id"] for r in stored] == [ids["A"], ids["B"], ids["C"]]


def test_identical_rows_each_come_back_once(db):
    with db.unit_of_work() as s:
        stored = insert_rows(s, _PARCELS, [{"code": f"X{i}", "weight": 5} for i in range(3)])
        twins = insert_rows(s, Label.__table__, [{"text": "same"}, {"text": "same"}, {"text": "other"}])
    assert len({r["id"] for r in stored}) == 3
    assert [r["text"] for r in twins] == ["same", "same", "other"] and len({r["id"] for r in twins}) == 3


def test_execute_fast_reads_what_execute_reads(db):
    _seed(db)
    with db.reading() as s:
        for codes in (["A", "B", "C"], ["C"], []):
            fast = execute_fast(s, _BY_CODES, {"codes": codes, "heavier": 0}).all()
            plain = s.connection().execute(_BY_CODES, {"codes": codes, "heavier": 0}).all()
            assert [tuple(r) for r in fast] == [tuple(r) for r in plain]
        (row,) = execute_fast(s, _BY_CODES, {"codes": ["B"], "heavier": 50})
        assert (row.code, row.meta, row.sent_at) == ("B", {"to": "Kazan"}, MOMENT + dt.timedelta(hours=1))
        assert row.sent_at.tzinfo is not None
        assert execute_fast(s, _LIGHT).scalar_one() == 1  # a literal of the statement is bound too


def test_plain_rows_hold_the_same_values_by_position(db):
    _seed(db)
    by_code = select(_PARCELS.c.code, _PARCELS.c.weight).order_by(_PARCELS.c.code)
    with db.reading() as s:
        for stmt, params in ((_BY_CODES, {"codes": ["A", "B", "C"], "heavier": 0}), (by_code, {})):
            named = execute_fast(s, stmt, params).all()
            plain = execute_fast(s, stmt, params, plain=True).all()
            assert [tuple(r) for r in plain] == [tuple(r) for r in named] and len(plain) == len(named) > 0
        # processed columns (JSON, an aware time) come processed; unprocessed ones as the driver gives them
        (row,) = execute_fast(s, _BY_CODES, {"codes": ["B"], "heavier": 50}, plain=True)
        assert row[2:] == ({"to": "Kazan"}, MOMENT + dt.timedelta(hours=1))
        assert [tuple(r) for r in execute_fast(s, by_code, plain=True)] == [("A", 10), ("B", 100), ("C", 300)]


def test_execute_fast_writes_in_the_callers_transaction(db):
    _seed(db)
    stmt = upsert(db.dialect, _PARCELS, {"code": bindparam("code"), "weight": 1}, ["code"])
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        execute_fast(s, stmt, {"code": "NEW"})
        assert execute_fast(s, _BY_CODES, {"codes": ["NEW"], "heavier": 0}).first() is not None
        raise RuntimeError("the request failed after the write")
    with db.reading() as s:
        assert execute_fast(s, _BY_CODES, {"codes": ["NEW"], "heavier": 0}).all() == []


def test_a_refused_write_raises_sqlalchemy_s_error_and_writes_nothing(db):
    _seed(db)
    with pytest.raises(IntegrityError), db.unit_of_work() as s:
        insert_rows(s, _PARCELS, [{"code": "D"}, {"code": "A"}])
    with db.reading() as s:
        assert execute_fast(s, _BY_CODES, {"codes": ["D"], "heavier": 0}).all() == []


def test_rows_without_returning_are_inserted_too(db):
    with db.unit_of_work() as s:
        assert insert_rows(s, _PARCELS, [{"code": "P"}, {"code": "Q", "weight": 7}], returning=False) == []
    with db.engine.connect() as conn:
        rows = conn.execute(select(_PARCELS.c.code, _PARCELS.c.weight, _PARCELS.c.state)).all()
    assert sorted(tuple(r) for r in rows) == [("P", 100, "new"), ("Q", 7, "new")]


def test_rows_of_a_table_keyed_by_two_columns_are_inserted(db):
    marks = [{"consumer": c, "event_id": i} for c in ("stats", "bonus") for i in (1, 2)]
    with db.unit_of_work() as s:
        insert_rows(s, Mark.__table__, marks, returning=False)
        stored = insert_rows(s, Mark.__table__, [{"consumer": "links", "event_id": 1}])
    assert stored == [{"consumer": "links", "event_id": 1}]
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Mark.__table__)).scalar_one() == 5


def test_many_rows_are_split_within_sqlite_s_limit_of_parameters(db, monkeypatch):
    monkeypatch.setattr(prepared, "_MAX_PARAMS", 14)  # two rows of 7 columns per statement
    with db.unit_of_work() as s:
        stored = insert_rows(s, _PARCELS, [{"code": f"N{i}", "weight": i} for i in range(5)])
        insert_rows(s, _PARCELS, [{"code": f"M{i}"} for i in range(5)], returning=False)
    assert [(r["code"], r["weight"]) for r in stored] == [(f"N{i}", i) for i in range(5)]
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(_PARCELS)).scalar_one() == 10


def test_statement_listeners_see_the_statements_run(db, backend):
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with db.unit_of_work() as s:
        insert_rows(s, _PARCELS, [{"code": "L1"}, {"code": "L2"}, {"code": "L3"}])
        execute_fast(s, _LIGHT)
    inserts = [st for st in seen if st.startswith("INSERT INTO prepared_parcels")]
    assert len(inserts) == 1 if backend == "sqlite" else len(inserts) >= 1
    assert any("count(prepared_parcels.id)" in st for st in seen)


def test_get_detached_reads_a_row_or_gives_what_the_session_holds(db):
    stored = _seed(db)
    with db.reading() as s:
        parcel = get_detached(s, Parcel, stored[2]["id"])
        assert get_detached(s, Parcel, 10**9) is None
    assert (parcel.code, parcel.note, parcel.state, parcel.sent_at) == ("C", "heavy", "new", MOMENT)
    with db.unit_of_work() as s:
        held = s.get(Parcel, stored[0]["id"])
        held.weight = 11
        assert get_detached(s, Parcel, stored[0]["id"]) is held
        merged = s.merge(parcel)  # a detached object joins a session as any closed session's would
        merged.note = "checked"
    with db.reading() as s:
        assert s.get(Parcel, stored[2]["id"]).note == "checked"
        assert s.get(Parcel, stored[0]["id"]).weight == 11
