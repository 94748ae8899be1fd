"""Courier use cases: the courier register, app sessions, shifts and cash, positions, the order
pool (claim, release, pick up, deliver, fail), dispatch and auto-dispatch.

One module per use-case family; this package is their public face, so callers write
``services.claim_order(...)``. Taking an order is one conditional
``UPDATE orders … WHERE courier_id IS NULL AND …`` (DESIGN.md, :mod:`.assignment`): the database
decides who wins, on SQLite and PostgreSQL alike. Status moves go through
:func:`orders.services.change_status`, so the audit trail and the events of an order stay in one
place; assignments are audited here with ``OrderEvent`` rows of their own (:mod:`.audit`).
"""

from __future__ import annotations

from couriers.services.dispatch import (
    Candidate,
    CourierOverview,
    assign_courier,
    auto_dispatch,
    dispatch_candidates,
    overview,
    unassign_courier,
)
from couriers.services.pool import (
    FAIL_REASONS,
    MAX_PROOF_BYTES,
    PROOF_KINDS,
    PROOF_TYPES,
    PoolEntry,
    ProofUpload,
    active_orders,
    available_orders,
    claim_order,
    decode_proofs,
    deliver_order,
    delivery_of,
    describe,
    fail_order,
    order_history,
    pickup_order,
    release_order,
    visible_order,
)
from couriers.services.register import (
    AppSession,
    CourierData,
    CourierDevices,
    DeviceKind,
    branch_couriers,
    courier_for_user,
    create_courier,
    get_courier,
    open_app_session,
    refresh_app_session,
    update_courier,
)
from couriers.services.shifts import ShiftReport, end_shift, get_shift, open_shift, shift_report, start_shift
from couriers.services.tracking import (
    CARRIED_STATES,
    DEFAULT_SIGNAL_TIMEOUT_S,
    CourierDirectory,
    CourierState,
    DeviceEntry,
    TrackResult,
    carried_count,
    courier_states,
    current_position,
    derive_state,
    load_device,
    record_track,
)

__all__ = [
    "CARRIED_STATES",
    "DEFAULT_SIGNAL_TIMEOUT_S",
    "FAIL_REASONS",
    "MAX_PROOF_BYTES",
    "PROOF_KINDS",
    "PROOF_TYPES",
    "Candidate",
    "CourierData",
    "CourierDirectory",
    "CourierOverview",
    "CourierState",
    "DeviceEntry",
    "PoolEntry",
    "ProofUpload",
    "ShiftReport",
    "TrackResult",
    "active_orders",
    "assign_courier",
    "auto_dispatch",
    "available_orders",
    "carried_count",
    "claim_order",
    "AppSession",
    "CourierDevices",
    "DeviceKind",
    "branch_couriers",
    "courier_for_user",
    "courier_states",
    "create_courier",
    "current_position",
    "decode_proofs",
    "deliver_order",
    "delivery_of",
    "derive_state",
    "describe",
    "dispatch_candidates",
    "end_shift",
    "fail_order",
    "get_courier",
    "get_shift",
    "load_device",
    "open_app_session",
    "refresh_app_session",
    "open_shift",
    "order_history",
    "overview",
    "pickup_order",
    "record_track",
    "release_order",
    "shift_report",
    "start_shift",
    "unassign_courier",
    "update_courier",
    "visible_order",
]
