"""The courier register (create, change, look up), the courier app's sign-in and its refresh, and the
couriers' devices as the staff admin sees them."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from couriers.models import VEHICLES, Courier, CourierBranch, CourierDevice
from frontoffice.auth import authenticate, new_token
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, field_error
from frontoffice.models import ApiToken, Role, User
from frontoffice.phones import InvalidPhone, normalize_phone
from frontoffice.ports import Device
from orders.models import Branch

#: What a Traccar Client device id may be: it travels in a URL's query and is the device's credential.
DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


@dataclass(frozen=True)
class CourierData:
    """The editable facts of a courier (a field left None is not changed on update)."""

    name: str | None = None
    phone: str | None = None
    vehicle: str | None = None
    max_active_orders: int | None = None
    branch_ids: Sequence[int] | None = None
    user_id: int | None = None
    device_id: str | None = None
    active: bool | None = None
    unlink_user: bool = False
    clear_device: bool = False


def get_courier(session: Session, courier_id: int) -> Courier:
    """The courier, or :class:`NotFound`."""
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise NotFound(f"There is no courier {courier_id}.")
    return courier


def courier_for_user(session: Session, user: User) -> Courier:
    """The active courier profile of a logged-in user; 403 when the user has none."""
    courier = session.scalar(select(Courier).where(Courier.user_id == user.id))
    if courier is None:
        raise Forbidden(
            f"User {user.username} has no courier profile: the courier API answers only for couriers "
            "(a manager links a courier to a user in /api/v1/couriers)."
        )
    if not courier.active:
        raise Forbidden(f"Courier {courier.name} is switched off; ask a manager.")
    return courier


def courier_logins(session: Session, current: Courier | None = None) -> list[User]:
    """The logins a courier's phone app may use for ``current`` (None: a new courier): active
    courier-role users not yet linked to another courier, and the one it has, by username."""
    taken = select(Courier.user_id).where(Courier.user_id.is_not(None))
    if current is not None:
        taken = taken.where(Courier.id != current.id)
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.COURIER, User.active.is_(True), User.id.not_in(taken))
            .order_by(User.username)
        )
    )


def scoped_branches(
    requested: Sequence[int] | None, current: Sequence[int], scope: frozenset[int] | None
) -> list[int] | None:
    """The branches a courier serving ``current`` ends with when a reader who works for ``scope``
    (None: every branch) asks for ``requested``: the branches outside the reader's scope stay as they
    were, whatever the reader sent (None: the branches are not changed)."""
    if requested is None or scope is None:
        return None if requested is None else list(requested)
    kept = [b for b in current if b not in scope]
    return kept + [b for b in requested if b not in kept]


def courier_problems(session: Session, data: CourierData, region: str, current: Courier | None) -> list[dict]:
    """Every problem of ``data`` for a new courier (``current`` None) or a change of ``current``."""
    errors: list[dict] = []
    if data.name is not None and not data.name.strip():
        errors.append(field_error("name", "The name must not be empty.", "name_missing"))
    if data.vehicle is not None and data.vehicle not in VEHICLES:
        errors.append(
            field_error("vehicle", f"The vehicle must be one of {', '.join(VEHICLES)}.", "vehicle_unknown")
        )
    if data.max_active_orders is not None and not 1 <= data.max_active_orders <= 20:
        errors.append(
            field_error(
                "max_active_orders", "From 1 to 20 orders at a time.", "max_active_range", low=1, high=20
            )
        )
    if data.phone:
        try:
            normalize_phone(data.phone, region)
        except InvalidPhone as exc:
            errors.append(field_error("phone", str(exc), "invalid_phone"))
    if data.branch_ids is not None:
        known = set(session.scalars(select(Branch.id).where(Branch.id.in_(list(data.branch_ids)))))
        for bid in data.branch_ids:
            if bid not in known:
                errors.append(
                    field_error("branch_ids", f"There is no branch {bid}.", "branch_unknown", branch=bid)
                )
        if not data.branch_ids:
            errors.append(
                field_error("branch_ids", "A courier serves at least one branch.", "branch_missing")
            )
    if data.user_id is not None:
        user = session.get(User, data.user_id)
        if user is None:
            errors.append(field_error("user_id", f"There is no user {data.user_id}.", "user_unknown"))
        elif user.role != Role.COURIER:
            errors.append(
                field_error(
                    "user_id", f"User {user.username} is a {user.role}, not a courier.", "user_not_courier"
                )
            )
        else:
            other = session.scalar(select(Courier.id).where(Courier.user_id == data.user_id))
            if other is not None and (current is None or other != current.id):
                errors.append(
                    field_error("user_id", f"User {user.username} is already courier {other}.", "user_taken")
                )
    if data.device_id is not None:
        errors.extend(device_problems(session, data.device_id, current))
    return errors


def device_problems(session: Session, device_id: str, current: Courier | None) -> list[dict]:
    """What is wrong with registering ``device_id`` to ``current`` (None: a new courier): its
    characters, or another courier having it."""
    device = device_id.strip()
    if not DEVICE_ID.fullmatch(device):
        return [
            field_error(
                "device_id",
                "A device id has 1 to 100 letters, digits, '.', '_', ':' or '-' (as Traccar Client shows it).",
                "device_format",
            )
        ]
    other = session.scalar(select(CourierDevice.courier_id).where(CourierDevice.device_id == device))
    if other is not None and (current is None or other != current.id):
        return [
            field_error(
                "device_id",
                f"Device {device!r} is registered to courier {other}.",
                "device_taken",
                courier=other,
            )
        ]
    return []


def create_courier(session: Session, data: CourierData, *, region: str = "RU") -> Courier:
    """Register a courier; all problems are reported at once (422)."""
    errors = courier_problems(session, data, region, None)
    if data.name is None:
        errors.append(field_error("name", "A courier needs a name.", "name_missing"))
    if data.branch_ids is None:
        errors.append(field_error("branch_ids", "A courier serves at least one branch.", "branch_missing"))
    if errors:
        raise InvalidInput(
            "The courier cannot be registered: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    courier = Courier(
        name=(data.name or "").strip(),
        phone=normalize_phone(data.phone, region) if data.phone else "",
        vehicle=data.vehicle or "car",
        max_active_orders=data.max_active_orders or 3,
        active=True if data.active is None else data.active,
        user_id=data.user_id,
    )
    courier.branches = [CourierBranch(branch_id=b) for b in dict.fromkeys(data.branch_ids or ())]
    if data.device_id:
        courier.devices = [CourierDevice(device_id=data.device_id.strip())]
    session.add(courier)
    session.flush()
    return courier


def update_courier(session: Session, courier_id: int, data: CourierData, *, region: str = "RU") -> Courier:
    """Change a courier's facts; fields left None stay as they are."""
    courier = get_courier(session, courier_id)
    errors = courier_problems(session, data, region, courier)
    if errors:
        raise InvalidInput(
            "The courier cannot be changed: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    if data.name is not None:
        courier.name = data.name.strip()
    if data.phone is not None:
        courier.phone = normalize_phone(data.phone, region) if data.phone else ""
    if data.vehicle is not None:
        courier.vehicle = data.vehicle
    if data.max_active_orders is not None:
        courier.max_active_orders = data.max_active_orders
    if data.active is not None:
        courier.active = data.active
    if data.unlink_user:
        courier.user_id = None
    elif data.user_id is not None:
        courier.user_id = data.user_id
    if data.clear_device:
        courier.devices = []
    elif data.device_id is not None:
        # The single-device shorthand of the API: the courier reports through this device only.
        device = data.device_id.strip()
        courier.devices = [d for d in courier.devices if d.device_id == device] or [
            CourierDevice(device_id=device)
        ]
    if data.branch_ids is not None:
        wanted = list(dict.fromkeys(data.branch_ids))
        courier.branches = [b for b in courier.branches if b.branch_id in wanted]
        have = {b.branch_id for b in courier.branches}
        courier.branches.extend(CourierBranch(branch_id=b) for b in wanted if b not in have)
    session.flush()
    return courier


def branch_couriers(session: Session, branch_id: int) -> list[Courier]:
    """The active couriers who take a branch's orders, by name."""
    return list(
        session.scalars(
            select(Courier)
            .join(CourierBranch, CourierBranch.courier_id == Courier.id)
            .where(CourierBranch.branch_id == branch_id, Courier.active.is_(True))
            .order_by(Courier.name)
        )
    )


# --- app sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AppSession:
    """A courier app's session: the raw token (shown once), its stored row, the courier, and
    whether the courier must change the password first."""

    raw: str
    token: ApiToken
    courier: Courier
    must_change_password: bool


def open_app_session(
    session: Session, login: str, password: str, device_name: str, *, lifetime: dt.timedelta | None = None
) -> AppSession:
    """Log a courier's phone in: a bearer token working for ``lifetime`` for a user with the courier
    role and an active profile."""
    user = authenticate(session, login, password)
    if user is None:
        raise Unauthorized("Unknown login or wrong password.")
    if user.role != Role.COURIER:
        raise Forbidden("Only couriers sign in here; staff use /api/v1/tokens.")
    courier = courier_for_user(session, user)
    raw, token = new_token(session, user, f"courier app: {device_name.strip() or 'phone'}", lifetime=lifetime)
    return AppSession(raw, token, courier, user.must_change_password)


def refresh_app_session(
    session: Session, user: User, token_id: int | None, *, lifetime: dt.timedelta | None = None
) -> AppSession:
    """Swap the app's live token ``token_id`` for a new one of the same name working for
    ``lifetime``; the old one is revoked at once. Needs the app's bearer token (409 without)."""
    old = session.get(ApiToken, token_id) if token_id is not None else None
    if old is None or old.user_id != user.id:
        raise Conflict("A session is refreshed with the bearer token of the app's session, not a cookie.")
    courier = courier_for_user(session, user)
    old.revoked_at = utcnow()
    raw, token = new_token(session, user, old.name, lifetime=lifetime)
    return AppSession(raw, token, courier, user.must_change_password)


class DeviceKind(enum.StrEnum):
    """The kinds of devices that act for a courier (label family ``device_kind``)."""

    TRACCAR = "traccar"


def add_device(session: Session, courier_id: int, device_id: str) -> Courier:
    """Register one more Traccar Client device to a courier (422 naming ``device_id`` when its
    characters are wrong or another courier has it; adding one it has changes nothing)."""
    courier = get_courier(session, courier_id)
    errors = device_problems(session, device_id, courier)
    if errors:
        raise InvalidInput(errors[0]["message"], errors=errors)
    device = device_id.strip()
    if device not in courier.device_ids:
        courier.devices.append(CourierDevice(device_id=device))
        session.flush()
    return courier


def remove_device(session: Session, courier_id: int, device_id: str) -> Courier:
    """Cut one device off a courier: its reports are refused from then on (404 when the courier
    has no such device)."""
    courier = get_courier(session, courier_id)
    kept = [d for d in courier.devices if d.device_id != device_id]
    if len(kept) == len(courier.devices):
        raise NotFound(f"Courier {courier.name} has no device {device_id!r}.")
    courier.devices = kept
    session.flush()
    return courier


class CourierDevices:
    """The Traccar Client devices of a user's courier profile, for the staff admin
    (``frontoffice.ports.USER_DEVICES``): listed as one entry, and all cut off at once."""

    KEY = "traccar"

    def __init__(self, invalidate: Callable[[], None]):
        self.invalidate = invalidate

    def devices(self, session: Session, user_id: int) -> list[Device]:
        """The devices registered to the user's courier profile (one entry naming them all), if any."""
        ids = session.scalars(
            select(CourierDevice.device_id)
            .join(Courier, Courier.id == CourierDevice.courier_id)
            .where(Courier.user_id == user_id)
            .order_by(CourierDevice.device_id)
        ).all()
        if not ids:
            return []
        return [Device(key=self.KEY, kind=DeviceKind.TRACCAR, detail=", ".join(ids))]

    def revoke(self, session: Session, user_id: int, key: str) -> bool:
        """Remove every device of the user's courier: their reports are refused from then on (other
        processes: within the device cache's TTL)."""
        if key != self.KEY:
            return False
        courier = session.scalar(select(Courier).where(Courier.user_id == user_id))
        if courier is None or not courier.devices:
            return False
        courier.devices = []
        session.flush()
        self.invalidate()
        return True
