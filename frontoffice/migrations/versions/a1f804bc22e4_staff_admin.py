"""staff admin: the branches a user works for, the password-change flag, token expiry

Revision ID: a1f804bc22e4
Revises: f7f8e03052f3
Create Date: 2026-12-05 17:38:06.967033
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontoffice.db

revision: str = "a1f804bc22e4"
down_revision: str | Sequence[str] | None = "f7f8e03052f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tokens issued before tokens expired get the default lifetime from the upgrade on.
DEFAULT_TTL = dt.timedelta(days=30)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "user_branches",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_branches_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "branch_id", name=op.f("pk_user_branches")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", frontoffice.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    tokens = sa.table(
        "api_tokens",
        sa.column("revoked_at", frontoffice.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", frontoffice.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        tokens.update()
        .where(tokens.c.revoked_at.is_(None))
        .values(expires_at=frontoffice.db.utcnow() + DEFAULT_TTL)
    )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    op.drop_table("user_branches")
