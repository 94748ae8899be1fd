"""What users read for the fiscal package's codes: receipt states and purposes, register kinds
(see frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from fiscal import ffd
from fiscal.adapters import KINDS
from fiscal.models import ReceiptState
from frontoffice.labels import Vocabulary

FISCAL_STATE = Vocabulary(
    "fiscal_state",
    ReceiptState.ALL,
    {
        ReceiptState.PENDING: lazy_pgettext("fiscal receipt state", "Pending"),
        ReceiptState.SENT: lazy_pgettext("fiscal receipt state", "Sent"),
        ReceiptState.DONE: lazy_pgettext("fiscal receipt state", "Fiscalized"),
        ReceiptState.FAILED: lazy_pgettext("fiscal receipt state", "Failed"),
    },
)

FISCAL_PURPOSE = Vocabulary(
    "fiscal_purpose",
    ffd.PURPOSES,
    {
        ffd.PREPAYMENT: lazy_pgettext("fiscal receipt purpose", "Prepayment"),
        ffd.SETTLEMENT: lazy_pgettext("fiscal receipt purpose", "Settlement"),
        ffd.REFUND: lazy_pgettext("fiscal receipt purpose", "Refund of the prepayment"),
    },
)

FISCAL_REGISTER_KIND = Vocabulary(
    "fiscal_register_kind",
    KINDS,
    {
        "atol_online": lazy_pgettext("fiscal register kind", "ATOL Online (cloud)"),
        "atol_webserver": lazy_pgettext("fiscal register kind", "ATOL Web Server (till)"),
    },
)

VOCABULARIES = (FISCAL_STATE, FISCAL_PURPOSE, FISCAL_REGISTER_KIND)
