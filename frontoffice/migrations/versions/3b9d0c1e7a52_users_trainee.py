"""users trainee

Revision ID: 3b9d0c1e7a52
Revises: 099a230936df
Create Date: 2026-12-05 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b9d0c1e7a52"
down_revision: str | Sequence[str] | None = "099a230936df"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trainee", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("trainee")
