"""track points keep implausible fixes flagged instead of refusing them

Revision ID: 7c1e4a9d2b35
Revises: 279475bfdaec
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e4a9d2b35"
down_revision: str | Sequence[str] | None = "279475bfdaec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("courier_track_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.String(length=20), server_default="", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("courier_track_points", schema=None) as batch_op:
        batch_op.drop_column("flags")
