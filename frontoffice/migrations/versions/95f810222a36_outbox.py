"""outbox, processed events, scheduled jobs

Revision ID: 95f810222a36
Revises: 1e2586b0f6ad
Create Date: 2026-12-05 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "95f810222a36"
down_revision: str | Sequence[str] | None = "1e2586b0f6ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_next", ["state", "next_attempt_at", "id"], unique=False)
    op.create_table(
        "outbox_processed",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_outbox_processed")),
    )
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("next_run_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("last_run_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("scheduled_jobs")
    op.drop_table("outbox_processed")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state_next")
    op.drop_table("outbox")
