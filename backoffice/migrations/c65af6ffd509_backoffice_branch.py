"""backoffice branch: the back office becomes its own package

Its tables (antifraud rules, versions, blacklist and verdicts, the order address index, tickets,
the bonus rules and ledger) were created by revision 32fd9abc4e1d on the call centre's
migrations, which stays where it is because every database already has it. This revision starts
the back office's own branch on top of it; later back-office revisions follow this one.

Revision ID: c65af6ffd509
Revises:
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

revision: str = "c65af6ffd509"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("backoffice",)
depends_on: str | Sequence[str] | None = "32fd9abc4e1d"  # callcentre: antifraud, tickets, bonuses


def upgrade() -> None:
    """Apply this revision (a branch point: no schema change)."""


def downgrade() -> None:
    """Revert this revision (a branch point: no schema change)."""
