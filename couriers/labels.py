"""What users read for the couriers' codes: a courier's state (see frontoffice.labels; declared in
wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

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

VOCABULARIES = (COURIER_STATE,)
