"""What users read for telephony's codes: a call's outcome and direction (see frontoffice.labels;
declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from telephony import calls

CALL_STATUS = Vocabulary(
    "call_status",
    calls.STATUSES,
    {
        calls.RINGING: lazy_pgettext("call status", "Ringing"),
        calls.TALKING: lazy_pgettext("call status", "Talking"),
        calls.ANSWERED: lazy_pgettext("call status", "Answered"),
        calls.MISSED: lazy_pgettext("call status", "Missed"),
        calls.ABANDONED: lazy_pgettext("call status", "Abandoned"),
    },
)

CALL_DIRECTION = Vocabulary(
    "call_direction",
    calls.DIRECTIONS,
    {
        calls.INBOUND: lazy_pgettext("call direction", "Incoming"),
        calls.OUTBOUND: lazy_pgettext("call direction", "Outgoing"),
    },
)

VOCABULARIES = (CALL_STATUS, CALL_DIRECTION)
