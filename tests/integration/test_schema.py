"""The migrations are the one schema path: they build exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from frontoffice.app import load_all_models
from frontoffice.db import Base
from nomenclature.services import delivery_item


def test_migrations_match_the_models(app, backend):
    load_all_models()
    engine = app.extensions["frontoffice"].db.engine
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ on {backend}: {diff}"


def test_a_freshly_migrated_database_has_the_delivery_position(app, backend):
    with app.extensions["frontoffice"].db.reading() as s:
        item = delivery_item(s)
        assert item is not None, f"no delivery position on {backend}"
        assert (item.sku, item.name, item.unit, item.vat_rate, item.group_id, item.active) == (
            "DELIVERY",
            "Delivery",
            "service",
            "vat22",
            None,
            True,
        )


def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_app):
    engine = sqlite_app.extensions["frontoffice"].db.engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
