"""The fast insert of a new aggregate (:func:`insert_new`): one ``INSERT … RETURNING`` per table
(:func:`frontoffice.db.prepared.insert_rows`) instead of a unit-of-work flush, the objects then
attached to the session as if loaded. Imported through :mod:`frontoffice.db`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import (
    ONETOMANY,
    Session,
    configure_mappers,
    make_transient,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from frontoffice.db.prepared import insert_rows, loaded


def insert_new(
    session: Session,
    cls: type[Any],
    values: Mapping[str, Any],
    collections: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Any:
    """Insert a new row of mapped ``cls`` from its column ``values`` and the rows of its one-to-many
    ``collections`` (relationship name → column values of each child; their foreign key to the
    new row is filled in), one ``INSERT … RETURNING`` per table (multi-row for a collection, see
    :func:`frontoffice.db.prepared.insert_rows`). Gives back the new object, persistent in
    ``session`` as if it had been loaded: every column (Python-side and database defaults too), the
    given collections loaded in their order with each child's way back to it, every other
    one-to-many collection loaded empty — the same rows and objects as building the objects,
    ``session.add`` and a flush, several times cheaper on hot write paths and read without more SQL.

    Mapper-level insert events do not fire. If the transaction rolls back, the objects become
    transient again, as a flush's would.
    """
    mapper = inspect(cls)
    if not mapper.configured:
        configure_mappers()
    given = collections or {}
    unknown = set(given) - {r.key for r in mapper.relationships if r.direction is ONETOMANY}
    if unknown:
        raise ValueError(f"{cls.__name__} has no one-to-many collection {', '.join(sorted(unknown))}")
    if session.new or session.dirty or session.deleted:
        session.flush()  # earlier pending work first, as a flush would order it
    conn = session.connection()
    (stored,) = insert_rows(conn, mapper.local_table, [values])
    root = loaded(mapper, stored)
    attached = [root]
    for rel in mapper.relationships:
        if rel.direction is not ONETOMANY or rel.secondary is not None:
            continue
        children: list[Any] = []
        rows = given.get(rel.key)
        if rows:
            fks = {remote.key: stored[local.key] for local, remote in rel.local_remote_pairs}
            back = rel.back_populates
            for row in insert_rows(conn, rel.mapper.local_table, [{**r, **fks} for r in rows]):
                child = loaded(rel.mapper, row)
                if back:
                    set_committed_value(child, back, root)
                children.append(child)
            attached.extend(children)
        set_committed_value(root, rel.key, children)
    session.add(root)
    # A flush would have the session forget these objects if their transaction rolls back.
    innermost = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((innermost, attached))
    return root


_INSERTED = "frontoffice_inserted_new"


def _within(transaction: Any, boundary: Any) -> bool:
    while transaction is not None:
        if transaction is boundary:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_inserts(session: Session) -> None:
    """Make the objects ``insert_new`` attached transient again when their rows roll back,
    as the session does for the objects a flush inserted."""
    records = session.info.get(_INSERTED)
    if not records:
        return
    savepoint = session.get_nested_transaction()
    kept = []
    for transaction, objects in records:
        if savepoint is None or _within(transaction, savepoint):
            for obj in objects:
                if instance_state(obj).session_id == session.hash_key:
                    make_transient(obj)
        else:
            kept.append((transaction, objects))
    session.info[_INSERTED] = kept


@event.listens_for(Session, "after_commit")
def _settle_inserts(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_INSERTED, None)
