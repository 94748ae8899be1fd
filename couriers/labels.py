"""What users read for the couriers' codes: a courier's state, the kind of a courier's device, why a delivery failed (see
frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from couriers.models import DELIVERY_OUTCOMES, VEHICLES
from couriers.services.pool import FAIL_REASONS, PROOF_KINDS
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

VEHICLE = Vocabulary(
    "vehicle",
    VEHICLES,
    {
        "foot": lazy_pgettext("vehicle", "On foot"),
        "bike": lazy_pgettext("vehicle", "Bike"),
        "car": lazy_pgettext("vehicle", "Car"),
    },
)

PROOF_KIND = Vocabulary(
    "proof_kind",
    PROOF_KINDS,
    {
        "photo": lazy_pgettext("proof kind", "Photo"),
        "signature": lazy_pgettext("proof kind", "Signature"),
    },
)

DELIVERY_OUTCOME = Vocabulary(
    "delivery_outcome",
    DELIVERY_OUTCOMES,
    {
        "delivered": lazy_pgettext("delivery outcome", "Delivered"),
        "failed": lazy_pgettext("delivery outcome", "Not delivered"),
    },
)

FAIL_REASON = Vocabulary(
    "fail_reason",
    FAIL_REASONS,
    {
        "client_absent": lazy_pgettext("fail reason", "Nobody at the door and the client does not answer"),
        "client_refused": lazy_pgettext("fail reason", "The client refused the order"),
        "wrong_address": lazy_pgettext("fail reason", "The address does not exist or is wrong"),
        "unreachable": lazy_pgettext(
            "fail reason", "The place cannot be reached (closed area, road blocked)"
        ),
        "damaged": lazy_pgettext("fail reason", "The order was damaged on the way"),
        "other": lazy_pgettext("fail reason", "Another reason (explain in the comment)"),
    },
)

VOCABULARIES = (COURIER_STATE, DEVICE_KIND, VEHICLE, PROOF_KIND, DELIVERY_OUTCOME, FAIL_REASON)
