"""Alembic environment: runs against the engine handed in by ``frontoffice.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from frontoffice.app import load_all_models
from frontoffice.db import Base

load_all_models()
config = context.config
target_metadata = Base.metadata


def _table_packages() -> dict[str, str]:
    """Which package owns each table (the top-level package of its mapped class)."""
    return {m.local_table.name: m.class_.__module__.split(".")[0] for m in Base.registry.mappers}


def include_object(obj, name, type_, reflected, compare_to):
    """When writing a package's revision, look only at that package's tables."""
    package = config.attributes.get("branch_package")
    if package is None:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if table is None:
        return True
    owner = _table_packages().get(table.name)
    return owner == package or (owner is None and not reflected)


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection."""
    engine = config.attributes.get("engine")
    owned = engine is None
    if owned:
        engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    if owned:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
