"""What the courier package's JSON APIs share: who may call them and a few kernel lookups."""

from __future__ import annotations

from sqlalchemy.orm import Session

from couriers import services
from couriers.models import Courier
from couriers.ports import COURIER_DIRECTORY
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User

COURIER = {Role.COURIER}
MANAGE = {Role.MANAGER}
WATCH = {Role.MANAGER, Role.OPERATOR, Role.BACKOFFICE}
#: Who sees proofs of delivery (admins too): the staff who answer for an order, of its branch only.
PROOF_READERS = {Role.MANAGER, Role.OPERATOR, Role.BACKOFFICE}


def signal_timeout() -> int:
    """Seconds without a position after which a courier on shift counts as ``no_signal``."""
    return current_kernel().settings.courier_signal_timeout_s


def invalidate_directory() -> None:
    """Make this process forget its cached device ids (after a courier was created or changed)."""
    directory = current_kernel().extensions.find(COURIER_DIRECTORY)
    if directory is not None:
        directory.invalidate()


def courier_of(s: Session, actor: User) -> Courier:
    """The active courier profile of the caller; 403 when there is none."""
    return services.courier_for_user(s, actor)
