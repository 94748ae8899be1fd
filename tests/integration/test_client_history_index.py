"""A caller's history, read on every placement by antifraud, comes from one index (SQLite's plan)."""

from __future__ import annotations

from backoffice.services.screening import _PHONE_HISTORY
from frontoffice.db import utcnow


def test_on_sqlite_the_callers_history_is_read_from_its_index_alone_newest_first(sqlite_app):
    db = sqlite_app.extensions["frontoffice"].db
    with db.reading() as s:
        conn = s.connection()
        compiled = _PHONE_HISTORY.compile(dialect=conn.dialect)
        params = compiled.construct_params({"phone": "+79123456789", "since": utcnow()})
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + compiled.string, tuple(params[k] for k in compiled.positiontup)
        ).all()
    details = " ".join(row[-1] for row in plan)
    assert "USING COVERING INDEX ix_orders_client_history" in details, details
    assert "TEMP B-TREE" not in details, details  # newest first by walking the index: no sort
