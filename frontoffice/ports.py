"""Extension points the kernel itself offers to domain packages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from frontoffice.extensions import Chain, Slot

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from frontoffice.kernel import Kernel

#: ``play(url, rate)``: start a simulated day against a running instance in a daemon thread.
LivePlayer = Callable[[str, str], None]

LIVE_DAY: Slot[LivePlayer] = Slot(
    "frontoffice.live_day",
    "What ``frontoffice demo --simulate`` starts: plays a live day (orders, kitchen, couriers) against "
    "the instance at ``url`` once it answers; provided by the monitor's simulator.",
)

#: ``start(app)``: start a stand-in for an outside system in a background thread of the demo process
#: and point the app's configuration at it (in the database); returns what to print.
DemoService = Callable[[Any], str]

DEMO_SERVICES: Chain[DemoService] = Chain(
    "frontoffice.demo_services",
    "What ``frontoffice demo`` starts before it serves: local stand-ins for outside systems (a fake "
    "fiscal register …) on 127.0.0.1, in a thread of the demo process, so the loop is visible "
    "without them; each configures the app to use its stand-in and returns a line to print.",
)

#: ``start(kernel)``: start, in a background task of the app's Socket.IO server (a greenlet on the
#: gevent worker, a daemon thread otherwise), work the serving process does beside its requests, if
#: the settings say this process does it; must not block.
BackgroundService = Callable[["Kernel"], object]

BACKGROUND_SERVICES: Chain[BackgroundService] = Chain(
    "frontoffice.background_services",
    "What a serving web process runs beside its requests (the Asterisk AMI listener of the embedded "
    "default …): started at the end of ``create_app`` in the gunicorn worker, after the fork, as the "
    "outbox relay's thread is; not in commands, gunicorn's arbiter or tests (``create_app`` with "
    "``background_services=False``). Each decides from the settings whether this process runs it.",
)

#: ``names(session)``: every branch staff may work for, id → what an admin reads ("KZ1 · Kazan — Baumana").
BranchNames = Callable[["Session"], dict[int, str]]


def _no_branches(session: Session) -> dict[int, str]:
    """The directory of an app without branches: none."""
    return {}


BRANCH_DIRECTORY: Slot[BranchNames] = Slot(
    "frontoffice.branch_directory",
    "The branches a staff user may be linked to (the staff admin's choice and check), id → name, "
    "in the order to show them; provided by the package that owns branches (orders).",
    default=lambda: _no_branches,
)


@dataclass(frozen=True)
class Device:
    """A device that acts for a user without a password or token (a phone's Traccar Client …)."""

    #: Names the device among the user's devices (a path segment: letters, digits, ``-``).
    key: str
    #: A code of the kind of device (``traccar``); pages show its label (family ``device_kind``,
    #: declared by the package that provides such devices).
    kind: str
    #: What identifies it (the device id it sends).
    detail: str


class UserDevices(Protocol):
    """The devices one package lets act for users, and how to cut one off."""

    def devices(self, session: Session, user_id: int) -> list[Device]:
        """The user's devices."""

    def revoke(self, session: Session, user_id: int, key: str) -> bool:
        """Stop the device ``key`` of the user acting for them; False when they have no such device."""


USER_DEVICES: Chain[UserDevices] = Chain(
    "frontoffice.user_devices",
    "Devices that act for a user (a courier's Traccar Client id …), listed and revoked on the staff "
    "admin's page and API; each package adds those it registers.",
)


@dataclass(frozen=True)
class StaffPage:
    """A page about staff that another package keeps (the operators' telephone extensions …)."""

    #: What the link says (a lazy translation).
    title: str
    #: The Flask endpoint of the page (no URL parameters).
    endpoint: str


STAFF_PAGES: Chain[StaffPage] = Chain(
    "frontoffice.staff_pages",
    "Pages about staff other packages keep, linked from the staff admin's list (telephony adds the "
    "operators' extensions).",
)
