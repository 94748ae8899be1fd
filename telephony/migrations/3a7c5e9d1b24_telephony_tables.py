"""telephony tables: operators' extensions, named lines, the call log

Revision ID: 3a7c5e9d1b24
Revises:
Create Date: 2026-12-05 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "3a7c5e9d1b24"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("telephony",)
depends_on: str | Sequence[str] | None = ("b38f45398544", "4de735c64beb")  # users; orders


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "telephony_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=20), nullable=False),
        sa.Column("created_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_telephony_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_extensions")),
        sa.UniqueConstraint("extension", name=op.f("uq_telephony_extensions_extension")),
        sa.UniqueConstraint("user_id", name=op.f("uq_telephony_extensions_user_id")),
    )
    op.create_table(
        "telephony_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_lines")),
        sa.UniqueConstraint("number", name=op.f("uq_telephony_lines_number")),
    )
    op.create_table(
        "telephony_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("caller", sa.String(length=20), nullable=True),
        sa.Column("raw_number", sa.String(length=40), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("line", sa.String(length=20), nullable=False),
        sa.Column("extension", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rang", sa.Boolean(), nullable=False),
        sa.Column("started_at", frontoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("called_back_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_telephony_calls_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_telephony_calls_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_calls")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_telephony_calls_source_external_id")),
    )
    with op.batch_alter_table("telephony_calls", schema=None) as batch_op:
        batch_op.create_index("ix_telephony_calls_started_at", ["started_at"], unique=False)
        batch_op.create_index("ix_telephony_calls_caller", ["caller"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("telephony_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_telephony_calls_caller")
        batch_op.drop_index("ix_telephony_calls_started_at")
    op.drop_table("telephony_calls")
    op.drop_table("telephony_lines")
    op.drop_table("telephony_extensions")
