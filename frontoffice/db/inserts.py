"""The fast insert of a new aggregate (:func:`insert_new`): one ``INSERT … RETURNING`` per
table (:func:`frontoffice.db.prepared.insert_rows`) instead of a unit-of-work flush, the objects then attached to the session as if loaded.
Imported through :mod:`frontoffice.db`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import (
    MANYTOONE,
    ONETOMANY,
    Mapper,
    Session,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from frontoffice.db.prepared import insert_rows


def _single_table_mapper(obj: Any) -> Mapper[Any] | None:
    state = instance_state(obj)
    if not state.transient or len(state.mapper.tables) != 1:
        return None
    return state.mapper


def _plain_values(mapper: Mapper[Any], obj: Any, parent: Any = None) -> dict[str, Any] | None:
    """Column values of a transient object, foreign keys taken from the loaded objects it refers to.

    None when it holds something only a flush can write: a new related object, or (below the
    root, ``parent`` given) a collection of its own. The root's collections are the caller's.
    """
    state_dict = instance_state(obj).dict
    values = {
        prop.columns[0].key: state_dict[prop.key] for prop in mapper.column_attrs if prop.key in state_dict
    }
    for rel in mapper.relationships:
        target = state_dict.get(rel.key)
        if rel.direction is MANYTOONE:
            if target is None or target is parent:
                continue
            target_state = instance_state(target)
            if target_state.key is None:
                return None
            for local, remote in rel.local_remote_pairs:
                values[local.key] = getattr(target, target_state.mapper.get_property_by_column(remote).key)
        elif target and (parent is not None or rel.secondary is not None):
            return None
    return values


def insert_new(session: Session, root: Any) -> None:
    """Insert a new object and the new objects of its one-to-many collections with one Core
    ``INSERT … RETURNING`` per table (multi-row for the collections), then attach them to
    ``session`` as if they had been loaded: the same rows and objects as ``session.add(root)``
    followed by a flush, several times cheaper on hot write paths.

    Database defaults come back through ``RETURNING``. Mapper-level insert events do not fire.
    Anything this cannot write in one pass (a new related object, nested collections,
    many-to-many links, joined inheritance) falls back to ``add`` + ``flush``.
    """
    if session.new or session.dirty or session.deleted:
        session.flush()  # earlier pending work first, as a flush would order it
    mapper = _single_table_mapper(root)
    # (parent column -> child column pairs, child mapper, child objects, their row values)
    plan: list[tuple[list[tuple[Any, Any]], Mapper[Any], list[Any], list[dict[str, Any]]]] = []
    root_values = _plain_values(mapper, root) if mapper is not None else None
    if mapper is not None and root_values is not None:
        state_dict = instance_state(root).dict
        for rel in mapper.relationships:
            children = state_dict.get(rel.key)
            if rel.direction is not ONETOMANY or not children:
                continue
            if rel.secondary is not None or not isinstance(children, list):
                root_values = None
                break
            child_mapper = _single_table_mapper(children[0])
            rows = []
            for child in children:
                values = None
                if child_mapper is not None and _single_table_mapper(child) is child_mapper:
                    values = _plain_values(child_mapper, child, parent=root)
                if values is None:
                    break
                rows.append(values)
            if len(rows) != len(children):
                root_values = None
                break
            plan.append((list(rel.local_remote_pairs), child_mapper, children, rows))
    if mapper is None or root_values is None:
        session.add(root)
        session.flush()
        return

    conn = session.connection()
    (root_row,) = insert_rows(conn, mapper.local_table, [root_values])
    _load_row(mapper, root, root_row)
    attached = [root]
    for pairs, child_mapper, children, rows in plan:
        for values in rows:
            for local, remote in pairs:
                values[remote.key] = root_row[local.key]
        for child, row in zip(children, insert_rows(conn, child_mapper.local_table, rows), strict=True):
            _load_row(child_mapper, child, row)
            attached.append(child)
    for obj in attached:
        make_transient_to_detached(obj)
    session.add(root)
    # A flush would have the session forget these objects if their transaction rolls back.
    innermost = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((innermost, attached))


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


def _load_row(mapper: Mapper[Any], obj: Any, row: dict[str, Any]) -> None:
    """Give ``obj`` the column values it did not hold, as stored: what the database or the
    column's default chose (keys, defaults), the foreign keys filled from its parent."""
    state_dict = instance_state(obj).dict
    for prop in mapper.column_attrs:
        if prop.key not in state_dict:
            set_committed_value(obj, prop.key, row[prop.columns[0].key])
