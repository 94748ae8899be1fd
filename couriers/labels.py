"""What users read for the couriers' codes: a courier's state, the kind of a courier's device (see
frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

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

VOCABULARIES = (COURIER_STATE, DEVICE_KIND)
