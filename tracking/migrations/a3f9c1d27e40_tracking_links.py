"""tracking branch: the customers' tracking links

Revision ID: a3f9c1d27e40
Revises:
Create Date: 2026-12-05 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "a3f9c1d27e40"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("tracking",)
# A link references orders.id.
depends_on: str | Sequence[str] | None = ("4de735c64beb",)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tracking_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("created_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_tracking_links_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_links")),
        sa.UniqueConstraint("order_id", name=op.f("uq_tracking_links_order_id")),
        sa.UniqueConstraint("token", name=op.f("uq_tracking_links_token")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("tracking_links")
