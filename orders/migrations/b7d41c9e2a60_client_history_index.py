"""orders: a caller's history read from its index alone

``ix_orders_client_phone_created`` (client_phone, created_at) becomes ``ix_orders_client_history``:
the same key, followed by the columns antifraud reads of every earlier order of the caller on each
placement (training, status, client_name, lat, lon, total, payment_kind). A regular caller's
history — up to 150 orders — is then read from the index alone instead of one table lookup per
order (docs/performance.md, "A caller's history read from its index").

Revision ID: b7d41c9e2a60
Revises: 5c2e8f4a9d13
Create Date: 2026-12-06 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7d41c9e2a60"
down_revision: str | Sequence[str] | None = "5c2e8f4a9d13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = [
    "client_phone",
    "created_at",
    "training",
    "status",
    "client_name",
    "lat",
    "lon",
    "total",
    "payment_kind",
]


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_orders_client_history", "orders", _COLUMNS, unique=False)
    op.drop_index("ix_orders_client_phone_created", table_name="orders")


def downgrade() -> None:
    """Undo this revision."""
    op.create_index("ix_orders_client_phone_created", "orders", ["client_phone", "created_at"], unique=False)
    op.drop_index("ix_orders_client_history", table_name="orders")
