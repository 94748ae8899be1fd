"""The vocabularies of the training package's codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from frontoffice.labels import Vocabulary
from training.mistakes import MISTAKE_KINDS

#: What a trainee's mistake was caught by (training.mistakes.MISTAKE_KINDS).
TRAINING_MISTAKE = Vocabulary(
    "training_mistake",
    MISTAKE_KINDS,
    {
        "minimum": _l("Below the minimum"),
        "zone": _l("Outside the zone"),
        "stop_list": _l("On the stop-list"),
        "antifraud": _l("Antifraud"),
        "address": _l("Address missing or incomplete"),
    },
)

VOCABULARIES = (TRAINING_MISTAKE,)
