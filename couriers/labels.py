"""What users read for the couriers' codes: a courier's state, the kind of a courier's device, why a delivery failed (see
frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from couriers.services.pool import FAIL_REASONS
from couriers.services.register import DeviceKind
from couriers.services.tracking import CourierState
from frontoffice.labels import Vocabulary

COURIER_STATE = Vocabulary(
    "courier_state",
    CourierState,
    {
        CourierState.OFFLINE: lazy_pgettext("courier state", "Off shift"),
        CourierState.FREE: lazy_pgettext("courier state", "Free"),
        CourierState.BUSY: lazy_pgettext("courier state", "Busy"),
        CourierState.NO_SIGNAL: lazy_pgettext("courier state", "No signal"),
    },
)

DEVICE_KIND = Vocabulary(
    "device_kind",
    DeviceKind,
    {DeviceKind.TRACCAR: lazy_pgettext("device kind", "Traccar Client device")},
)

FAIL_REASON = Vocabulary(
    "fail_reason",
    tuple(FAIL_REASONS),
    {
        "client_absent": lazy_pgettext("failed delivery", "Client not there"),
        "client_refused": lazy_pgettext("failed delivery", "Client refused"),
        "wrong_address": lazy_pgettext("failed delivery", "Wrong address"),
        "unreachable": lazy_pgettext("failed delivery", "Cannot get there"),
        "damaged": lazy_pgettext("failed delivery", "Order damaged"),
        "other": lazy_pgettext("failed delivery", "Other reason"),
    },
)

VOCABULARIES = (COURIER_STATE, DEVICE_KIND, FAIL_REASON)
