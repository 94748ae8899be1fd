"""Statements of the hottest paths, compiled once and run straight on the driver's cursor on SQLite.

SQLAlchemy's ``Connection.execute`` of a cached statement still costs ~60–100 µs here: an execution
context, parameter processing, a result object. The order intake runs ~20 statements per order, so
that overhead was a third of its CPU. :func:`execute_fast` keeps what matters of it — the SQL SQLAlchemy
compiles for the dialect, its bind and result processors (UTC timestamps, JSON), its Python-side
column defaults, its exception classes, the transaction the session or connection began — and drops
the rest, on SQLite. On PostgreSQL it is an ordinary ``execute``: the same SQL, the same rows. When cursor-level
listeners are attached to the engine (the tests that count statements), the same SQL goes through
``exec_driver_sql`` so that they see it.

Only Core statements without per-execution defaults the compiler must compute (``update_prefetch``,
``insert_prefetch``) take the fast way; others go through ``execute`` as they are. :func:`insert_rows`
writes rows into a table in one multi-row ``INSERT … RETURNING`` with their Python-side defaults.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, exc, inspect, select
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import instance_state


@dataclass(frozen=True)
class Rows:
    """The rows a statement returned, with their column keys (a small ``Result``): each row a tuple
    whose columns are also attributes, as SQLAlchemy's ``Row``."""

    keys: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int = -1

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def all(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return self.rows

    def first(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def one(self) -> tuple[Any, ...]:
        """The only row; :class:`sqlalchemy.exc.NoResultFound` / ``MultipleResultsFound`` otherwise."""
        if len(self.rows) != 1:
            if not self.rows:
                raise exc.NoResultFound("No row was found when one was required")
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self.rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row."""
        return self.one()[0]

    def scalars(self) -> list[Any]:
        """The first column of every row."""
        return [r[0] for r in self.rows]


@dataclass(frozen=True)
class _Plan:
    """One statement compiled for SQLite's ``qmark`` style: where each ``?`` takes its value from
    (a parameter, or one item of an expanding ``IN`` parameter's list) and how it is processed."""

    sql: str
    sources: tuple[tuple[str, int | None], ...]  # (parameter, index in its list or None)
    defaults: Mapping[str, Any]
    binds: tuple[Callable[[Any], Any] | None, ...]
    keys: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    row: Any  # a namedtuple of the result columns: rows read by position or by name, as Row's


_PLANS: dict[tuple[Any, ...], _Plan | None] = {}
_PINNED: dict[int, Any] = {}  # keeps each planned statement alive, so its id() is never reused


def _connection(bind: Session | Connection) -> tuple[Connection, bool]:
    """The connection of a session's transaction, and whether cursor listeners watch it. Both are
    kept in ``session.info`` for as long as that transaction lasts: ``Session.connection()`` costs
    ~25 µs even when it has one, and asking the engine's events a few µs a statement."""
    if not isinstance(bind, Session):
        return bind, _observed(bind)
    transaction = bind.get_transaction()
    kept = bind.info.get(_KEPT_CONNECTION)
    if transaction is not None and kept is not None and kept[0] is transaction and not kept[1].closed:
        return kept[1], kept[2]
    conn = bind.connection()
    observed = _observed(conn)
    bind.info[_KEPT_CONNECTION] = (bind.get_transaction(), conn, observed)
    return conn, observed


_KEPT_CONNECTION = "frontoffice_prepared_connection"


def _observed(conn: Connection) -> bool:
    dispatch = conn.dispatch
    return bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)


def _plan(stmt: Any, dialect: Any, params: Mapping[str, Any]) -> _Plan | None:
    keys = frozenset(params)
    key: tuple[Any, ...] = (id(stmt), dialect, keys)
    expanding = _EXPANDING.get(key, ())
    if expanding:  # an IN list's length is part of the SQL
        key += tuple(len(params[name]) for name in expanding)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    compiled = stmt.compile(dialect=dialect, column_keys=sorted(keys))
    expanding = tuple(sorted(p.key for p in compiled.post_compile_params))
    if expanding and (id(stmt), dialect, keys) not in _EXPANDING:
        _EXPANDING[(id(stmt), dialect, keys)] = expanding
        return _plan(stmt, dialect, params)
    plan = None
    if (
        compiled.positional
        and not getattr(compiled, "insert_prefetch", None)
        and not getattr(compiled, "update_prefetch", None)
        and not compiled.literal_execute_params
        and all(p.expanding for p in compiled.post_compile_params)
    ):
        defaults = compiled.construct_params(dict(params))  # the values of literals; params override
        sql, names, processors = compiled.string, list(compiled.positiontup or ()), compiled._bind_processors
        if expanding:
            sample = {**defaults, **{n: [None] * len(params[n]) for n in expanding}}
            state = compiled._process_parameters_for_postcompile(sample)
            sql, names, processors = state.statement, list(state.positiontup or ()), state.processors
        sources = []
        for name in names:
            origin, _, index = name.rpartition("_")
            if name not in defaults and origin in expanding and index.isdigit():
                sources.append((origin, int(index) - 1))
            else:
                sources.append((name, None))
        columns = compiled._result_columns
        plan = _Plan(
            sql=sql,
            sources=tuple(sources),
            defaults=defaults,
            binds=tuple(processors.get(n) for n in names),
            keys=tuple(c[0] for c in columns),
            results=tuple(c[3]._cached_result_processor(dialect, None) for c in columns),
            row=namedtuple("Row", [c[0] for c in columns], rename=True),  # noqa: PYI024
        )
    _PINNED[id(stmt)] = stmt
    _PLANS[key] = plan
    return plan


#: The expanding (``IN``) parameters of a statement, once it was compiled: their lengths key its plans.
_EXPANDING: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _processed(row: tuple[Any, ...], results: Sequence[Callable[[Any], Any] | None]) -> tuple[Any, ...]:
    return tuple(v if p is None or v is None else p(v) for v, p in zip(row, results, strict=True))


def _raw(conn: Connection, sql: str, values: Sequence[Any], observed: bool) -> Any:
    """Run SQL on the connection's driver connection, in the transaction the connection began;
    driver errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``…). With
    cursor listeners attached (tests that watch statements) the same SQL goes through
    ``exec_driver_sql``, so they see it."""
    if observed:
        return conn.exec_driver_sql(sql, tuple(values))
    if not conn.in_transaction():
        conn.begin()  # what execute's autobegin does: BEGIN (IMMEDIATE for writers) comes first
    try:
        return conn.connection.dbapi_connection.execute(sql, values)  # type: ignore[union-attr]
    except sqlite3.Error as e:
        raise exc.DBAPIError.instance(sql, values, e, sqlite3.Error) from e


def execute_fast(
    bind: Session | Connection, stmt: Any, params: Mapping[str, Any] | None = None, *, plain: bool = False
) -> Rows:
    """Execute a Core statement built once (a module constant: it is planned once per dialect and
    set of parameter names) and fetch its rows. See the module's docstring. ``plain``: rows as
    plain tuples, read by position only (no attribute per column), for reads of many rows whose
    columns need no result processing, e.g. a caller's history; on SQLite, the driver's own tuples."""
    conn, observed = _connection(bind)
    params = params or {}
    plan = None
    if conn.dialect.name == "sqlite":
        plan = _plan(stmt, conn.dialect, params)
    if plan is None:
        result = conn.execute(stmt, dict(params))
        if not result.returns_rows:
            return Rows((), [], result.rowcount)
        return Rows(tuple(result.keys()), list(result.all()), result.rowcount)
    values = []
    for (name, index), process in zip(plan.sources, plan.binds, strict=True):
        value = params[name] if name in params else plan.defaults[name]
        if index is not None:
            value = value[index]
        values.append(value if process is None or value is None else process(value))
    cursor = _raw(conn, plan.sql, values, observed)
    if not plan.keys:
        return Rows((), [], cursor.rowcount)
    if not any(plan.results):  # text, numbers: the driver's values are the values
        rows = cursor.fetchall()
        return Rows(plan.keys, rows if plain else list(map(plan.row._make, rows)), cursor.rowcount)
    processed = [_processed(r, plan.results) for r in cursor.fetchall()]
    return Rows(plan.keys, processed if plain else list(map(plan.row._make, processed)), cursor.rowcount)


@dataclass(frozen=True)
class _Insert:
    """A multi-row INSERT of the columns ``named`` of a table. ``RETURNING`` gives back the key, the
    columns the database fills (left out: autoincrement, server defaults), processed, and the named
    columns stored as sent (no bind processor), raw, by which a returned row is matched to its row."""

    columns: tuple[Any, ...]  # the columns the rows name, in the table's order
    binds: tuple[Callable[[Any], Any] | None, ...]
    filled: tuple[str, ...]  # keys of the first returned columns: the key and what the database filled
    results: tuple[Callable[[Any], Any] | None, ...]  # their result processors
    matched: tuple[str, ...]  # keys of the next returned columns: sent values stored as they are
    key_at: int  # where the primary key is among the returned columns (-1: not one column)
    head: str
    group: str
    tail: str


_INSERTS: dict[tuple[Table, Any, frozenset[str]], _Insert] = {}


def _insert_plan(table: Table, dialect: Any, named: frozenset[str]) -> _Insert:
    key = (table, dialect, named)
    plan = _INSERTS.get(key)
    if plan is None:
        prep = dialect.identifier_preparer
        columns = tuple(c for c in table.c if c.key in named)
        binds = tuple(c.type._cached_bind_processor(dialect) for c in columns)
        filled = [c for c in table.c if c.key not in named]
        matched = [c for c, p in zip(columns, binds, strict=True) if p is None]
        keys = list(table.primary_key.columns)
        returned = filled + matched
        plan = _INSERTS[key] = _Insert(
            columns=columns,
            binds=binds,
            filled=tuple(c.key for c in filled),
            results=tuple(c.type._cached_result_processor(dialect, None) for c in filled),
            matched=tuple(c.key for c in matched),
            key_at=returned.index(keys[0]) if len(keys) == 1 and keys[0] in returned else -1,
            head=f"INSERT INTO {prep.format_table(table)} "
            f"({', '.join(prep.format_column(c) for c in columns)}) VALUES ",
            group="(" + ", ".join("?" for _ in columns) + ")",
            tail=f" RETURNING {', '.join(prep.format_column(c) for c in returned)}",
        )
    return plan


def column_defaults(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` completed with the Python-side defaults of the columns it leaves out (what a Core
    INSERT would compute for them); server defaults and keys are left to the database."""
    out = dict(values)
    for column in table.c:
        if column.key not in out and column.default is not None and not column.default.is_sequence:
            default = column.default
            out[column.key] = default.arg if default.is_scalar else default.arg(None)
    return out


def insert_rows(
    bind: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, returning: bool = True
) -> list[dict[str, Any]]:
    """Insert ``rows`` into ``table`` and give back each one as stored (its key and every column,
    by column key), in the order of ``rows`` (``returning=False``: nothing given back, []). Columns
    a row leaves out get their Python-side defaults, else the database's. On SQLite each run of rows
    naming the same columns is one multi-row ``INSERT`` (``… RETURNING``); elsewhere Core's
    (``RETURNING`` sorted by parameter order, or an ``executemany``)."""
    conn, observed = _connection(bind)
    full = [column_defaults(table, r) for r in rows]
    fast = conn.dialect.name == "sqlite" and (not returning or len(table.primary_key.columns) == 1)
    out: list[dict[str, Any]] = []
    for run in _runs(full):
        if not fast:
            out += _insert_core(conn, table, run, returning)
            continue
        step = max(1, _MAX_PARAMS // max(1, len(run[0])))  # SQLite's limit of bound parameters
        for at in range(0, len(run), step):
            out += _insert_sqlite(conn, observed, table, run[at : at + step], returning)
    return out


def _runs(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows in runs of consecutive rows naming the same columns (one statement each)."""
    start = 0
    while start < len(rows):
        end = start + 1
        while end < len(rows) and rows[end].keys() == rows[start].keys():
            end += 1
        yield rows[start:end]
        start = end


#: Bound parameters per multi-row INSERT (SQLite allows 32,766 since 3.32).
_MAX_PARAMS = 30_000
_RETURNING: dict[Table, Any] = {}


def _insert_core(
    conn: Connection, table: Table, batch: list[dict[str, Any]], returning: bool
) -> list[dict[str, Any]]:
    if not returning:
        conn.execute(table.insert(), batch)
        return []
    stmt = _RETURNING.get(table)
    if stmt is None:
        stmt = _RETURNING[table] = table.insert().returning(*table.c, sort_by_parameter_order=True)
    if len(batch) == 1:
        result = [conn.execute(stmt, batch[0]).one()]
    elif conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        result = conn.execute(stmt, batch).all()
    else:
        result = [conn.execute(stmt, values).one() for values in batch]
    return [{c.key: r._mapping[c] for c in table.c} for r in result]


def _insert_sqlite(
    conn: Connection, observed: bool, table: Table, batch: list[dict[str, Any]], returning: bool
) -> list[dict[str, Any]]:
    plan = _insert_plan(table, conn.dialect, frozenset(batch[0]))
    values: list[Any] = []
    for row in batch:
        for column, process in zip(plan.columns, plan.binds, strict=True):
            value = row[column.key]
            values.append(value if process is None or value is None else process(value))
    sql = plan.head + ", ".join([plan.group] * len(batch))
    if not returning:
        _raw(conn, sql, values, observed)
        return []
    returned = _raw(conn, sql + plan.tail, values, observed).fetchall()
    if len(batch) > 1:
        returned = _matched(plan, batch, returned, table.name)
    out = []
    for row, got in zip(batch, returned, strict=True):
        stored = dict(row)
        for key, process, value in zip(plan.filled, plan.results, got, strict=False):
            stored[key] = value if process is None or value is None else process(value)
        out.append(stored)
    return out


def _matched(plan: _Insert, sent: list[dict[str, Any]], returned: list[Any], name: str) -> list[Any]:
    """Each sent row's returned row. SQLite does not promise the order of ``RETURNING`` rows, so
    each takes the first unused one (in key order: the order of insertion) whose sent values stored
    as they are (text, numbers, NULL) are the ones it sent. Identical rows are interchangeable; a row
    nothing matches is a bug, raised (its transaction rolls back)."""
    start = len(plan.filled)
    pending: list[Any] = sorted(returned, key=lambda r: r[plan.key_at])
    out = []
    for row in sent:
        wanted = [(start + i, row[k]) for i, k in enumerate(plan.matched)]
        for j, candidate in enumerate(pending):
            if candidate is not None and all(candidate[i] == v for i, v in wanted):
                out.append(candidate)
                pending[j] = None
                break
        else:
            raise RuntimeError(f"a row inserted into {name} did not come back from RETURNING")
    return out


def loaded(mapper: Any, row: Mapping[str, Any]) -> Any:
    """A detached instance of ``mapper``'s class holding a stored row (every column by its key), as
    a read session leaves the objects it loaded once closed: its identity set, relationships not
    loaded."""
    known = _COLUMN_ATTRS.get(mapper)
    if known is None:
        if not mapper.configured:
            configure_mappers()  # what the first query of a class does
        pairs = tuple((p.key, p.columns[0].key) for p in mapper.column_attrs)
        keys = tuple(c.key for c in mapper.primary_key)
        known = _COLUMN_ATTRS[mapper] = (pairs, keys)
    pairs, keys = known
    obj = mapper.class_manager.new_instance()
    # What the ORM's loading does: the values straight into the new instance's dict, none modified,
    # and the identity key of the row; a relationship not loaded loads on first use.
    state = instance_state(obj)
    state_dict = state.dict
    for attr, column in pairs:
        state_dict[attr] = row[column]
    state.key = mapper.identity_key_from_primary_key(tuple(row[k] for k in keys))
    return obj


_COLUMN_ATTRS: dict[Any, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {}


def detached(cls: type[Any], values: Sequence[Any]) -> Any:
    """A detached instance of mapped ``cls`` from a row of its table's columns (in table order), as
    a read session leaves the objects it loaded once closed (see :func:`loaded`). For hot reads of
    whole rows through :func:`execute_fast`."""
    mapper = inspect(cls)
    return loaded(mapper, dict(zip((c.key for c in mapper.local_table.c), values, strict=True)))


_BY_KEY: dict[Any, Any] = {}


def get_detached(session: Session, cls: type[Any], key: Any) -> Any:
    """``session.get(cls, key)`` for hot reads: the object the session already holds, else one
    row read through :func:`execute_fast` and given back detached (see :func:`detached`), or None."""
    mapper = inspect(cls)
    held = session.identity_map.get(mapper.identity_key_from_primary_key((key,)))
    if held is not None:
        return held
    stmt = _BY_KEY.get(mapper)
    if stmt is None:
        table = mapper.local_table
        (pk,) = table.primary_key.columns
        stmt = _BY_KEY[mapper] = select(*table.c).where(pk == bindparam("key"))
    row = execute_fast(session, stmt, {"key": key}).first()
    return detached(cls, row) if row is not None else None
