"""dispatch settings: auto-dispatch on/off and its minutes, changed on the dispatch screen

Revision ID: 5d2e8f1a9c47
Revises: 7c1e4a9d2b35
Create Date: 2026-12-05 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "5d2e8f1a9c47"
down_revision: str | Sequence[str] | None = "7c1e4a9d2b35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "dispatch_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auto_dispatch", sa.Boolean(), nullable=False),
        sa.Column("after_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("after_minutes >= 1", name=op.f("ck_dispatch_settings_after_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_dispatch_settings_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_settings")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("dispatch_settings")
