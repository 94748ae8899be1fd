"""fiscal receipts carry the version of the order's receipts, and when a register was handed one

Revision ID: c4e8a1f07d52
Revises: b21c9d6eda13
Create Date: 2026-12-05 23:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "c4e8a1f07d52"
down_revision: str | Sequence[str] | None = "b21c9d6eda13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = "uq_fiscal_receipts_order_id_purpose_organization_id_tax_system"
NEW_KEY = "uq_fiscal_receipts_once_per_version"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("fiscal_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("offered_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(OLD_KEY, type_="unique")
        batch_op.create_unique_constraint(
            NEW_KEY, ["order_id", "order_version", "purpose", "organization_id", "tax_system"]
        )
    # A receipt a register was already handed may have been printed (the conservative reading:
    # an edit refunds it rather than rewriting it).
    receipts = sa.table(
        "fiscal_receipts",
        sa.column("register_id", sa.Integer()),
        sa.column("offered_at", frontoffice.db.UTCDateTime(timezone=True)),
        sa.column("updated_at", frontoffice.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        receipts.update().where(receipts.c.register_id.is_not(None)).values(offered_at=receipts.c.updated_at)
    )


def downgrade() -> None:
    """Revert this revision (fails while an order has receipts of two versions: the old key cannot
    hold them)."""
    with op.batch_alter_table("fiscal_receipts", schema=None) as batch_op:
        batch_op.drop_constraint(NEW_KEY, type_="unique")
        batch_op.create_unique_constraint(OLD_KEY, ["order_id", "purpose", "organization_id", "tax_system"])
        batch_op.drop_column("offered_at")
        batch_op.drop_column("order_version")
