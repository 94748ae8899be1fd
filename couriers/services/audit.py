"""The courier entries of an order's audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from orders.models import OrderEvent


def audit(
    session: Session,
    order_id: int,
    kind: str,
    *,
    actor_id: int | None,
    at: dt.datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write one entry of an order's audit trail (assignments; status moves are audited by orders)."""
    session.add(
        OrderEvent(
            order_id=order_id, at=at, actor_id=actor_id, kind=kind, reason=reason, payload=payload or {}
        )
    )
