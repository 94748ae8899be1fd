"""Request and response models of the courier mobile API and of dispatch (they feed /api/openapi.json)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from couriers import services
from couriers.models import Courier, CourierShift
from frontoffice.money import from_minor
from frontoffice.schemas import Id, Latitude, Longitude, Money, Strict
from orders.models import Order


class SessionIn(Strict):
    """A courier's login from the phone app."""

    login: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    device_name: str = Field(default="", max_length=100, description="Shown to managers, e.g. 'Pixel 7'.")


class CourierOut(BaseModel):
    """A courier's profile."""

    id: int
    name: str
    phone: str
    vehicle: str
    max_active_orders: int
    branch_ids: list[int]
    device_id: str | None = Field(description="The first of device_ids (null without any).")
    device_ids: list[str] = Field(description="Every Traccar Client device id reporting for the courier.")
    user_id: int | None
    active: bool

    @classmethod
    def of(cls, c: Courier) -> CourierOut:
        """Serialize a loaded courier."""
        return cls(
            id=c.id,
            name=c.name,
            phone=c.phone,
            vehicle=c.vehicle,
            max_active_orders=c.max_active_orders,
            branch_ids=c.branch_ids,
            device_id=c.device_id,
            device_ids=c.device_ids,
            user_id=c.user_id,
            active=c.active,
        )


class SessionOut(BaseModel):
    """A bearer token for the phone (shown once) and the courier it acts for."""

    token: str
    courier: CourierOut
    expires_at: dt.datetime | None = Field(
        default=None,
        description="When the token stops working (FRONTOFFICE_TOKEN_TTL_DAYS after it was issued; null: "
        "never): refresh it before with POST /session/refresh.",
    )
    must_change_password: bool = Field(
        default=False,
        description="An admin reset the password: every other call answers 403 until the courier sets a "
        "new one with POST /api/v1/account/password.",
    )


class PositionOut(BaseModel):
    """A position with its time (speed m/s, bearing degrees, battery percent)."""

    lat: float
    lon: float
    recorded_at: dt.datetime
    accuracy: float | None = None
    speed: float | None = None
    bearing: float | None = None
    battery: float | None = None


class ShiftOut(BaseModel):
    """A shift and the cash the courier carries."""

    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    opening_cash: Decimal
    cash_collected: Decimal
    cash_on_hand: Decimal = Field(description="Cash carried and not yet handed in.")
    cash_handed_in: Decimal | None

    @classmethod
    def of(cls, s: CourierShift) -> ShiftOut:
        """Serialize a shift."""
        return cls(
            id=s.id,
            started_at=s.started_at,
            ended_at=s.ended_at,
            opening_cash=from_minor(s.opening_cash),
            cash_collected=from_minor(s.cash_collected),
            cash_on_hand=from_minor(s.cash_on_hand),
            cash_handed_in=from_minor(s.closing_cash) if s.closing_cash is not None else None,
        )


class MeOut(BaseModel):
    """Who the token belongs to and what the courier is doing."""

    courier: CourierOut
    state: services.CourierState
    shift: ShiftOut | None
    position: PositionOut | None
    carried: int


class ShiftStartIn(Strict):
    """Open a shift."""

    opening_cash: Money = Field(default=Decimal("0"), description="Change float taken along.")


class ShiftEndIn(Strict):
    """Close the shift."""

    cash_handed_in: Money | None = Field(
        default=None, description="Cash handed in at the branch; default: all cash on hand."
    )


class ShiftDeliveryOut(BaseModel):
    """One order finished in a shift."""

    order_id: int
    number: str
    outcome: Literal["delivered", "failed"]
    reason_code: str | None
    cash_collected: Decimal
    at: dt.datetime


class ShiftReportOut(BaseModel):
    """The report of a shift."""

    shift: ShiftOut
    courier_id: int
    duration_s: int
    delivered: int
    failed: int
    distance_km: float
    cash_expected: Decimal = Field(description="Opening cash plus cash collected.")
    discrepancy: Decimal | None = Field(description="Handed in minus expected (negative: short).")
    deliveries: list[ShiftDeliveryOut]

    @classmethod
    def of(cls, r: services.ShiftReport, now: dt.datetime) -> ShiftReportOut:
        """Serialize a report."""
        end = r.shift.ended_at or now
        return cls(
            shift=ShiftOut.of(r.shift),
            courier_id=r.courier.id,
            duration_s=int((end - r.shift.started_at).total_seconds()),
            delivered=r.delivered,
            failed=r.failed,
            distance_km=round(r.distance_m / 1000, 3),
            cash_expected=from_minor(r.expected_cash),
            discrepancy=from_minor(r.discrepancy) if r.discrepancy is not None else None,
            deliveries=[
                ShiftDeliveryOut(
                    order_id=d.order_id,
                    number=number,
                    outcome=d.outcome,  # type: ignore[arg-type]
                    reason_code=d.reason_code,
                    cash_collected=from_minor(d.cash_collected),
                    at=d.at,
                )
                for d, number in r.deliveries
            ],
        )


class PointIn(BaseModel):
    """One reported point. Types are checked for the whole batch; impossible values point by point."""

    model_config = ConfigDict(extra="ignore")
    recorded_at: dt.datetime = Field(description="When the phone took the fix, ISO 8601 with offset.")
    lat: float
    lon: float
    accuracy: float | None = Field(default=None, description="Metres.")
    speed: float | None = Field(default=None, description="Metres per second.")
    bearing: float | None = Field(default=None, description="Degrees clockwise from north.")
    altitude: float | None = Field(default=None, description="Metres.")
    battery: float | None = Field(default=None, description="Percent, 0–100.")


class LocationBatchIn(Strict):
    """Points collected since the last report (oldest first or in any order)."""

    points: list[PointIn] = Field(min_length=1, max_length=1000)


class PointErrorOut(BaseModel):
    """Why one point was refused."""

    index: int
    errors: list[dict[str, str]]


class PointFlagsOut(BaseModel):
    """Why one stored point is implausible: ``old``, ``ahead`` (of the server's clock), ``fast``."""

    index: int
    flags: list[str]


class LocationBatchOut(BaseModel):
    """What became of the batch: stored, repeated, refused, flagged; and the current position."""

    accepted: int
    duplicates: int
    rejected: list[PointErrorOut]
    flagged: list[PointFlagsOut]
    current: PositionOut | None


class OrderLineBrief(BaseModel):
    """A line, for the courier to check the bag."""

    name: str
    quantity: int


class CourierOrderOut(BaseModel):
    """An order as a courier sees it (money in major units, distances in metres)."""

    id: int
    number: str
    branch_id: int
    branch_name: str
    branch_address: str
    branch_lat: float
    branch_lon: float
    status: str
    client_name: str
    client_phone: str
    address_text: str
    lat: float | None
    lon: float | None
    comment: str
    promised_at: dt.datetime | None
    total: Decimal
    payment_kind: str
    change_from: Decimal | None
    change_due: Decimal | None = Field(description="Cash orders: change to give (change_from − total).")
    courier_id: int | None
    assigned_at: dt.datetime | None
    distance_from_courier_m: float | None
    distance_from_branch_m: float | None
    version: int
    lines: list[OrderLineBrief]

    @classmethod
    def of(cls, entry: services.PoolEntry | Order) -> CourierOrderOut:
        """Serialize an order (with distances when given a pool entry)."""
        if isinstance(entry, Order):
            order, from_courier, from_branch = entry, None, None
        else:
            order, from_courier, from_branch = entry.order, entry.from_courier_m, entry.from_branch_m
        branch = order.branch
        return cls(
            id=order.id,
            number=order.number,
            branch_id=order.branch_id,
            branch_name=branch.name,
            branch_address=branch.address,
            branch_lat=branch.lat,
            branch_lon=branch.lon,
            status=order.status,
            client_name=order.client_name,
            client_phone=order.client_phone,
            address_text=order.address_text,
            lat=order.lat,
            lon=order.lon,
            comment=order.comment,
            promised_at=order.promised_at,
            total=from_minor(order.total),
            payment_kind=order.payment_kind,
            change_from=from_minor(order.change_from) if order.change_from is not None else None,
            change_due=from_minor(order.change_from - order.total) if order.change_from is not None else None,
            courier_id=order.courier_id,
            assigned_at=order.assigned_at,
            distance_from_courier_m=round(from_courier, 1) if from_courier is not None else None,
            distance_from_branch_m=round(from_branch, 1) if from_branch is not None else None,
            version=order.version,
            lines=[OrderLineBrief(name=ln.name, quantity=ln.quantity) for ln in order.lines],
        )


class OrderListOut(BaseModel):
    """Orders for the courier."""

    items: list[CourierOrderOut]


class HistoryQuery(Strict):
    """Paging of the history."""

    page: int = Field(default=1, ge=1, le=10000)
    per_page: int = Field(default=50, ge=1, le=200)


class HistoryOut(BaseModel):
    """A page of finished orders."""

    items: list[CourierOrderOut]
    total: int
    page: int
    per_page: int


class ReleaseIn(Strict):
    """Give an order back."""

    reason: str | None = Field(default=None, max_length=500)


class ProofIn(Strict):
    """A photo or signature image, base64 encoded (JPEG, PNG or WebP, at most 512 KiB decoded)."""

    kind: Literal["photo", "signature"]
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data_base64: str = Field(max_length=700_000)


class StampIn(Strict):
    """Where the courier is (optional: the last reported position is used otherwise)."""

    lat: Latitude | None = None
    lon: Longitude | None = None


class DeliverIn(StampIn):
    """Hand the order over."""

    cash_collected: Money | None = Field(default=None, description="Required for cash orders.")
    comment: str = Field(default="", max_length=500)
    proofs: list[ProofIn] = Field(default_factory=list, max_length=2)


class FailIn(StampIn):
    """The delivery failed."""

    reason_code: Literal[tuple(services.FAIL_REASONS)]  # type: ignore[valid-type]
    comment: str = Field(default="", max_length=500)


# --- managers ---------------------------------------------------------------------------------


class CourierCreate(Strict):
    """Register a courier."""

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(default="", max_length=40)
    vehicle: Literal["foot", "bike", "car"] = "car"
    max_active_orders: int = Field(default=3, ge=1, le=20)
    branch_ids: list[Id] = Field(min_length=1, max_length=50)
    user_id: Id | None = Field(default=None, description="A user with the courier role (phone app).")
    device_id: str | None = Field(
        default=None, max_length=100, description="Traccar Client device identifier."
    )


class CourierPatch(Strict):
    """Change a courier; absent fields stay as they are, null unlinks user_id / removes every device.
    ``device_id`` makes that device the courier's only one (``…/devices`` adds and removes one)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    vehicle: Literal["foot", "bike", "car"] | None = None
    max_active_orders: int | None = Field(default=None, ge=1, le=20)
    branch_ids: list[Id] | None = Field(default=None, min_length=1, max_length=50)
    user_id: Id | None = None
    device_id: str | None = Field(default=None, max_length=100)
    active: bool | None = None


class DeviceIn(Strict):
    """A Traccar Client device to register to a courier."""

    device_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The identifier Traccar Client shows: letters, digits, '.', '_', ':' or '-'.",
    )


class CourierStatusOut(BaseModel):
    """A courier on the manager's list."""

    courier: CourierOut
    state: services.CourierState
    carried: int
    position: PositionOut | None
    shift: ShiftOut | None


class CourierListOut(BaseModel):
    """Every courier with its state."""

    items: list[CourierStatusOut]


class CandidateOut(BaseModel):
    """A free courier who could take the order."""

    courier_id: int
    name: str
    vehicle: str
    lat: float
    lon: float
    position_at: dt.datetime
    battery: float | None
    distance_m: float = Field(description="Straight-line (geodesic) distance to the branch.")
    eta_s: int = Field(description="Estimated seconds to reach the branch.")
    eta_to_client_s: int | None = Field(description="Estimated seconds to the branch and on to the client.")


class CandidatesOut(BaseModel):
    """Candidates for an order, best first."""

    order_id: int
    items: list[CandidateOut]


class AssignIn(Strict):
    """Give an order to a courier."""

    courier_id: Id


class UnassignIn(Strict):
    """Take an order back from its courier."""

    reason: str | None = Field(default=None, max_length=500)


class AutoDispatchIn(Strict):
    """Run auto-dispatch once."""

    after_minutes: float = Field(default=5, ge=0, le=240)


class AutoDispatchOut(BaseModel):
    """What auto-dispatch assigned."""

    assigned: list[dict[str, int]]


def position_out(p) -> PositionOut | None:
    """A stored position (row or track point) as the API shows it."""
    if p is None:
        return None
    return PositionOut(
        lat=p.lat,
        lon=p.lon,
        recorded_at=p.recorded_at,
        accuracy=p.accuracy,
        speed=p.speed,
        bearing=p.bearing,
        battery=p.battery,
    )


# --- the dispatch screen ----------------------------------------------------------------------


class BoardOrderOut(BaseModel):
    """An order on the dispatch screen."""

    id: int
    number: str
    business_date: dt.date
    branch_id: int
    branch_name: str
    status: str
    client_name: str
    address: str
    promised_at: dt.datetime | None
    minutes_late: int | None = Field(description="Whole minutes past the promise; null when not late.")
    late_level: Literal["minor", "serious", "critical"] | None = Field(
        description="Colour class of a late order, as on the monitor (10 and 30 minutes)."
    )
    courier_id: int | None
    courier_name: str | None
    assigned_at: dt.datetime | None
    proofs: int = Field(default=0, description="Proof images the courier took at the door.")

    @classmethod
    def of(cls, o: services.BoardOrder, proofs: int = 0) -> BoardOrderOut:
        """From the service's record."""
        return cls(**{f: getattr(o, f) for f in services.BoardOrder.__dataclass_fields__}, proofs=proofs)


class AutoDispatchRuleIn(Strict):
    """Switch auto-dispatch on or off and set how long a ready order waits for a courier first."""

    enabled: bool
    after_minutes: int = Field(ge=1, le=240, description="Minutes a ready, unclaimed order waits.")


class AutoDispatchRuleOut(BaseModel):
    """The auto-dispatch rule in force."""

    enabled: bool
    after_minutes: float
    rule: str = Field(description="The rule in words.")
    updated_at: dt.datetime | None
    updated_by: int | None

    @classmethod
    def of(cls, r: services.AutoDispatchRule) -> AutoDispatchRuleOut:
        """From the service's record."""
        return cls(
            enabled=r.enabled,
            after_minutes=r.after_minutes,
            rule=f"A delivery order ready and unclaimed for {r.after_minutes:g} min goes to the free "
            "courier of its branch who reaches the branch first.",
            updated_at=r.updated_at,
            updated_by=r.updated_by,
        )


class DispatchBoardOut(BaseModel):
    """The dispatch screen: undelivered orders of the caller's branches, the trips that ended in the
    last hours (with their proofs), and the auto-dispatch rule."""

    orders: list[BoardOrderOut]
    finished: list[BoardOrderOut]
    auto_dispatch: AutoDispatchRuleOut


class ProofImageOut(BaseModel):
    """A photo or signature taken at the door; its bytes at ``url``."""

    id: int
    kind: Literal["photo", "signature"]
    content_type: str
    size: int
    created_at: dt.datetime
    url: str


class ProofOfDeliveryOut(BaseModel):
    """How a courier's trip with an order ended: where, when, the cash taken, the images."""

    order_id: int
    outcome: Literal["delivered", "failed"]
    courier_id: int
    courier_name: str
    at: dt.datetime
    lat: float | None
    lon: float | None
    cash_collected: Decimal
    reason_code: str | None
    comment: str
    images: list[ProofImageOut]
