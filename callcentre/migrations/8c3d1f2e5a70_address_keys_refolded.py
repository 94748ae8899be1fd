"""address keys refolded: antifraud's address blacklist and order address index use the directory's folding

Revision ID: 8c3d1f2e5a70
Revises: 32fd9abc4e1d
Create Date: 2026-12-05 19:46:00.000000

The address key of antifraud (``backoffice.antifraud.normalize_address``) became the call centre's
one folding (``callcentre.addressing.address_key``: street-type words dropped, Cyrillic
transliterated). Stored keys are recomputed so that blacklisted addresses and the address velocity
index keep matching; two blacklist entries that now fold to one key keep the older.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from callcentre.addressing import address_key

revision: str = "8c3d1f2e5a70"
down_revision: str | Sequence[str] | None = "32fd9abc4e1d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    """Apply this revision."""
    refold_address_keys(op.get_bind())


def refold_address_keys(conn: sa.Connection) -> None:
    """Recompute the stored address keys with the current folding."""
    seen: set[str] = set()
    updates, duplicates = [], []
    for row in conn.execute(
        sa.text("SELECT id, value, display FROM antifraud_blacklist WHERE kind = 'address' ORDER BY id")
    ):
        key = address_key(row.display or row.value) or row.value
        if key in seen:
            duplicates.append({"id": row.id})
            continue
        seen.add(key)
        if key != row.value:
            updates.append({"id": row.id, "value": key})
    if duplicates:
        conn.execute(sa.text("DELETE FROM antifraud_blacklist WHERE id = :id"), duplicates)
    if updates:
        # Through a placeholder first, so a new key equal to another row's old key never collides.
        conn.execute(sa.text("UPDATE antifraud_blacklist SET value = '~' || :value WHERE id = :id"), updates)
        conn.execute(sa.text("UPDATE antifraud_blacklist SET value = :value WHERE id = :id"), updates)
    rows = conn.execute(
        sa.text(
            "SELECT k.order_id, o.address_text FROM order_address_keys k JOIN orders o ON o.id = k.order_id"
        )
    ).all()
    for i in range(0, len(rows), BATCH):
        batch, empty = [], []
        for order_id, text in rows[i : i + BATCH]:
            key = address_key(text or "")
            if key:
                batch.append({"order_id": order_id, "key": hashlib.sha1(key.encode()).hexdigest()})
            else:
                empty.append({"order_id": order_id})
        if batch:
            conn.execute(
                sa.text("UPDATE order_address_keys SET address_key = :key WHERE order_id = :order_id"), batch
            )
        if empty:
            conn.execute(sa.text("DELETE FROM order_address_keys WHERE order_id = :order_id"), empty)


def downgrade() -> None:
    """Undo this revision: nothing to undo (the older keys cannot be rebuilt, and need not be)."""
