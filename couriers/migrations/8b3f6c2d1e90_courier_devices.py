"""courier devices: a courier may report through several Traccar Client devices

Revision ID: 8b3f6c2d1e90
Revises: 5d2e8f1a9c47
Create Date: 2026-12-05 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "8b3f6c2d1e90"
down_revision: str | Sequence[str] | None = "5d2e8f1a9c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: each courier's device id becomes its first row of courier_devices."""
    op.create_table(
        "courier_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("created_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.id"],
            name=op.f("fk_courier_devices_courier_id_couriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_courier_devices_device_id")),
    )
    with op.batch_alter_table("courier_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courier_devices_courier_id"), ["courier_id"], unique=False)
    op.execute(
        "INSERT INTO courier_devices (device_id, courier_id, created_at) "
        "SELECT device_id, id, created_at FROM couriers WHERE device_id IS NOT NULL"
    )
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_couriers_device_id"), type_="unique")
        batch_op.drop_column("device_id")


def downgrade() -> None:
    """Revert this revision: a courier keeps the first of its devices."""
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_couriers_device_id"), ["device_id"])
    op.execute(
        "UPDATE couriers SET device_id = (SELECT MIN(d.device_id) FROM courier_devices d "
        "WHERE d.courier_id = couriers.id)"
    )
    with op.batch_alter_table("courier_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courier_devices_courier_id"))
    op.drop_table("courier_devices")
