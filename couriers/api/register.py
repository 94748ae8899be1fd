"""The courier register for managers (``/api/v1/couriers``): the list with states, register, change."""

from __future__ import annotations

from flask import Blueprint

from couriers import schemas as sc
from couriers import services
from couriers.api.common import MANAGE, WATCH, invalidate_directory, signal_timeout
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.errors import InvalidInput, NotFound, field_error
from frontoffice.kernel import current_kernel

couriers_bp = Blueprint("couriers_api", __name__, url_prefix="/api/v1/couriers")


def _within_scope(branch_ids: list[int] | None) -> None:
    """422 naming ``branch_ids`` when the caller gives a courier a branch they do not work for."""
    scope = branch_scope()
    outside = [b for b in branch_ids or () if scope is not None and b not in scope]
    if outside:
        raise InvalidInput(
            f"You work for other branches than {', '.join(map(str, outside))}.",
            errors=[
                field_error("branch_ids", f"Branch {b} is not one you work for.", "branch_outside", branch=b)
                for b in outside
            ],
        )


def _courier_in_scope(s, courier_id: int) -> None:
    """404 for a courier that does not exist or serves none of the caller's branches."""
    scope = branch_scope()
    if scope is not None and not scope & set(services.get_courier(s, courier_id).branch_ids):
        raise NotFound(f"There is no courier {courier_id}.")


def _status(o: services.CourierOverview) -> sc.CourierStatusOut:
    return sc.CourierStatusOut(
        courier=sc.CourierOut.of(o.courier),
        state=o.state,
        carried=o.carried,
        position=sc.position_out(o.position),
        shift=sc.ShiftOut.of(o.shift) if o.shift else None,
    )


@endpoint(
    couriers_bp,
    "",
    roles=WATCH,
    response=sc.CourierListOut,
    summary="Every active courier of your branches with its state (offline, free, busy, no_signal)",
    tags=["couriers"],
)
def list_couriers() -> sc.CourierListOut:
    """The courier list."""
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        return sc.CourierListOut(
            items=[
                _status(o)
                for o in services.overview(s, signal_timeout_s=signal_timeout())
                if scope is None or scope & set(o.courier.branch_ids)
            ]
        )


@endpoint(
    couriers_bp,
    "",
    method="POST",
    roles=MANAGE,
    body=sc.CourierCreate,
    response=sc.CourierOut,
    status=201,
    summary="Register a courier (link a courier user and/or a Traccar device id)",
    tags=["couriers"],
)
def create_courier(body: sc.CourierCreate) -> sc.CourierOut:
    """Register."""
    _within_scope(body.branch_ids)
    k = current_kernel()
    with k.db.unit_of_work() as s:
        courier = services.create_courier(
            s,
            services.CourierData(
                name=body.name,
                phone=body.phone,
                vehicle=body.vehicle,
                max_active_orders=body.max_active_orders,
                branch_ids=body.branch_ids,
                user_id=body.user_id,
                device_id=body.device_id,
            ),
            region=k.settings.phone_region,
        )
        out = sc.CourierOut.of(courier)
    invalidate_directory()
    return out


@endpoint(
    couriers_bp,
    "/<int:courier_id>",
    method="PATCH",
    roles=MANAGE,
    body=sc.CourierPatch,
    response=sc.CourierOut,
    summary="Change a courier",
    tags=["couriers"],
    errors=(404,),
)
def patch_courier(courier_id: int, body: sc.CourierPatch) -> sc.CourierOut:
    """Edit."""
    _within_scope(body.branch_ids)
    k = current_kernel()
    sent = body.model_fields_set
    with k.db.unit_of_work() as s:
        _courier_in_scope(s, courier_id)
        branch_ids = services.scoped_branches(
            body.branch_ids, services.get_courier(s, courier_id).branch_ids, branch_scope()
        )
        courier = services.update_courier(
            s,
            courier_id,
            services.CourierData(
                name=body.name,
                phone=body.phone,
                vehicle=body.vehicle,
                max_active_orders=body.max_active_orders,
                branch_ids=branch_ids,
                user_id=body.user_id,
                device_id=body.device_id,
                active=body.active,
                unlink_user="user_id" in sent and body.user_id is None,
                clear_device="device_id" in sent and body.device_id is None,
            ),
            region=k.settings.phone_region,
        )
        out = sc.CourierOut.of(courier)
    invalidate_directory()
    return out


@endpoint(
    couriers_bp,
    "/<int:courier_id>/devices",
    method="POST",
    roles=MANAGE,
    body=sc.DeviceIn,
    response=sc.CourierOut,
    status=201,
    summary="Register one more Traccar Client device to a courier",
    tags=["couriers"],
    errors=(404,),
    description="A device id belongs to one courier at most: another courier's answers 422 naming "
    "`device_id`, as do characters other than letters, digits, '.', '_', ':' and '-'.",
)
def add_device(courier_id: int, body: sc.DeviceIn) -> sc.CourierOut:
    """Add a device."""
    with current_kernel().db.unit_of_work() as s:
        _courier_in_scope(s, courier_id)
        out = sc.CourierOut.of(services.add_device(s, courier_id, body.device_id))
    invalidate_directory()
    return out


@endpoint(
    couriers_bp,
    "/<int:courier_id>/devices/<device_id>",
    method="DELETE",
    roles=MANAGE,
    response=sc.CourierOut,
    summary="Cut a Traccar Client device off a courier: its reports are refused from then on",
    tags=["couriers"],
    errors=(404,),
)
def remove_device(courier_id: int, device_id: str) -> sc.CourierOut:
    """Remove a device."""
    with current_kernel().db.unit_of_work() as s:
        _courier_in_scope(s, courier_id)
        out = sc.CourierOut.of(services.remove_device(s, courier_id, device_id))
    invalidate_directory()
    return out
