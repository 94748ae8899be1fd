"""Which of the other packages' tables the monitor reads, and whether they exist.

The monitor sits at the top of the import layers: it reads the couriers', the call centre's
and the back office's tables through their own mapped classes, so a renamed column fails at
import and in the tests, not on a manager's screen. Where a table is missing (an older schema,
a table dropped by hand), the tile that needs it shows "n/a" instead of failing:
:class:`TableProbe` says which tables exist.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, inspect

from backoffice.models import Ticket
from callcentre.models import Client, DeliveryZone
from couriers.models import Courier, CourierBranch, CourierPosition, CourierShift
from fiscal.models import FiscalReceipt
from orders.models import OrderReceipt

#: The tables of the couriers tile: who is on shift, where, for which branches.
COURIER_TABLES = tuple(str(m.__tablename__) for m in (Courier, CourierShift, CourierPosition, CourierBranch))
#: The table of the courier names (the performance report per courier).
COURIER_NAME_TABLES = (str(Courier.__tablename__),)
#: The table of the tickets tile.
TICKET_TABLES = (str(Ticket.__tablename__),)
#: The table of the fiscal tile (receipts not fiscalized yet).
FISCAL_TABLES = (str(FiscalReceipt.__tablename__),)
#: The table of the revenue per organization (who sold what part of an order).
RECEIPT_TABLES = (str(OrderReceipt.__tablename__),)
#: The table of the delivery zones (the performance report per zone).
ZONE_TABLES = (str(DeliveryZone.__tablename__),)
#: The table of the call centre's client dossiers (names of the loyal clients).
CLIENT_TABLES = (str(Client.__tablename__),)


class TableProbe:
    """Which tables exist, asked of the database at most once per ``ttl_s`` seconds."""

    def __init__(self, engine: Engine, ttl_s: float = 30.0):
        self._engine = engine
        self._ttl = ttl_s
        self._names: frozenset[str] = frozenset()
        self._at = -float("inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._at < self._ttl:
            return
        with self._lock:
            if now - self._at < self._ttl:
                return
            inspector = inspect(self._engine)
            self._names = frozenset(inspector.get_table_names())
            self._at = now

    def has(self, *names: str) -> bool:
        """True when every named table exists."""
        self._refresh()
        return all(name in self._names for name in names)

    def forget(self) -> None:
        """Ask the database again on the next call (after a migration, in tests)."""
        self._at = -float("inf")
