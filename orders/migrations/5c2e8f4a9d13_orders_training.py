"""orders training

Revision ID: 5c2e8f4a9d13
Revises: 9245ae51f272
Create Date: 2026-12-05 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e8f4a9d13"
down_revision: str | Sequence[str] | None = "9245ae51f272"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("training")
