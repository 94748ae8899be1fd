"""address directory: streets and houses

Revision ID: 5b7e2c9a41d3
Revises: d6977ec4d3a1
Create Date: 2026-12-05 19:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7e2c9a41d3"
down_revision: str | Sequence[str] | None = "d6977ec4d3a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "address_streets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_streets")),
        sa.UniqueConstraint("city", "key", name=op.f("uq_address_streets_city_key")),
    )
    with op.batch_alter_table("address_streets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_streets_key"), ["key"], unique=False)
    op.create_table(
        "address_houses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["street_id"],
            ["address_streets.id"],
            name=op.f("fk_address_houses_street_id_address_streets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_houses")),
        sa.UniqueConstraint("street_id", "key", name=op.f("uq_address_houses_street_id_key")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("address_houses")
    with op.batch_alter_table("address_streets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_streets_key"))
    op.drop_table("address_streets")
