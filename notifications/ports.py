"""Extension points the notifications package offers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class TrackingLink(Protocol):
    """Tells the client's tracking page of an order."""

    def __call__(self, session: Session, order_id: int) -> str | None:
        """The absolute address of order ``order_id``'s tracking page, or None when it has none
        (called while a message is written, in the relay's transaction: what it writes — the
        link itself, when the message is composed before the link's own projector ran — commits
        or rolls back with the message)."""


def no_tracking_link(session: Session, order_id: int) -> str | None:
    """No tracking page: messages leave the link's line out."""
    return None


TRACKING_LINK: Slot[TrackingLink] = Slot(
    "notifications.tracking_link",
    "The tracking page of an order, ``(session, order_id) -> str | None``, put in messages as "
    "{tracking_url}; by default none (the template's line with the link is left out).",
    default=lambda: no_tracking_link,
)
