"""the delivery position: the catalogue item that sells delivery fees

Revision ID: 66c6025bacea
Revises: 275d79462737
Create Date: 2026-12-03 10:00:00.000000
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "66c6025bacea"
down_revision: str | Sequence[str] | None = "275d79462737"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As nomenclature.services.delivery.DELIVERY_ITEM describes it today; a migration keeps its own copy.
ITEMS = sa.table(
    "items",
    sa.column("sku", sa.String),
    sa.column("name", sa.String),
    sa.column("price", sa.Integer),
    sa.column("vat_rate", sa.String),
    sa.column("unit", sa.String),
    sa.column("description", sa.Text),
    sa.column("active", sa.Boolean),
    sa.column("created_at", frontoffice.db.UTCDateTime(timezone=True)),
    sa.column("group_id", sa.Integer),
)


def upgrade() -> None:
    """Seed the delivery position unless an item already has its SKU."""
    conn = op.get_bind()
    if conn.execute(sa.select(ITEMS.c.sku).where(ITEMS.c.sku == "DELIVERY")).first() is not None:
        return
    conn.execute(
        ITEMS.insert().values(
            sku="DELIVERY",
            name="Delivery",
            price=0,
            vat_rate="vat22",
            unit="service",
            description="The delivery fee of an order: its price is the delivery zone's fee.",
            active=True,
            created_at=dt.datetime.now(dt.UTC),
            group_id=None,
        )
    )


def downgrade() -> None:
    """Nothing to undo: items are never deleted (conditions and orders may name this one)."""
