"""What users read for the back office's codes: ticket kinds and states, antifraud rule kinds,
actions and blacklists, bonus operations and methods (see frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from backoffice import antifraud, bonuses, sla
from backoffice.bonuses import Operation
from frontoffice.labels import Vocabulary

TICKET_KIND = Vocabulary(
    "ticket_kind",
    sla.TicketKind,
    {
        sla.TicketKind.COMPLAINT: lazy_pgettext("ticket kind", "Complaint"),
        sla.TicketKind.QUESTION: lazy_pgettext("ticket kind", "Question"),
        sla.TicketKind.REFUND: lazy_pgettext("ticket kind", "Refund"),
        sla.TicketKind.QUALITY: lazy_pgettext("ticket kind", "Food quality"),
    },
)

TICKET_STATE = Vocabulary(
    "ticket_state",
    sla.TicketStatus,
    {
        sla.TicketStatus.OPEN: lazy_pgettext("ticket state", "Open"),
        sla.TicketStatus.IN_PROGRESS: lazy_pgettext("ticket state", "In progress"),
        sla.TicketStatus.RESOLVED: lazy_pgettext("ticket state", "Resolved"),
        sla.TicketStatus.REJECTED: lazy_pgettext("ticket state", "Rejected"),
    },
)

ANTIFRAUD_KIND = Vocabulary(
    "antifraud_kind",
    antifraud.KINDS,
    {
        "blacklist": lazy_pgettext("antifraud rule kind", "Blacklist"),
        "velocity": lazy_pgettext("antifraud rule kind", "Too many orders at once"),
        "large_cash_new_client": lazy_pgettext("antifraud rule kind", "Large cash order from a new client"),
        "bad_history": lazy_pgettext("antifraud rule kind", "History of cancelled or failed deliveries"),
        "far_address": lazy_pgettext("antifraud rule kind", "Address far from the usual ones"),
        "change_to_card": lazy_pgettext("antifraud rule kind", "“Send the change to my card”"),
        "many_names": lazy_pgettext("antifraud rule kind", "One phone, many names"),
    },
)

#: What a rule does when it fires, and the verdict on a caller or an order (the most severe action).
ANTIFRAUD_ACTION = Vocabulary(
    "antifraud_action",
    antifraud.ACTIONS,
    {
        "none": lazy_pgettext("antifraud action", "Clean"),
        "note": lazy_pgettext("antifraud action", "Note"),
        "flag": lazy_pgettext("antifraud action", "Check"),
        "hold": lazy_pgettext("antifraud action", "Hold"),
        "reject": lazy_pgettext("antifraud action", "Refuse"),
    },
)

BLACKLIST_KIND = Vocabulary(
    "blacklist_kind",
    antifraud.BLACKLIST_KINDS,
    {
        "phone": lazy_pgettext("blacklist kind", "Phone"),
        "address": lazy_pgettext("blacklist kind", "Address"),
        "device": lazy_pgettext("blacklist kind", "Device"),
    },
)

BONUS_OPERATION = Vocabulary(
    "bonus_operation",
    Operation,
    {
        Operation.ORDER_TAKEN: lazy_pgettext("bonus operation", "Order taken"),
        Operation.ORDER_DELIVERED: lazy_pgettext("bonus operation", "Order delivered"),
        Operation.PREORDER_TAKEN: lazy_pgettext("bonus operation", "Pre-order taken"),
        Operation.UPSELL: lazy_pgettext("bonus operation", "Upsell"),
        Operation.TICKET_RESOLVED: lazy_pgettext("bonus operation", "Ticket resolved"),
        Operation.PENALTY_CANCELLED: lazy_pgettext(
            "bonus operation", "Penalty: cancelled for operator error"
        ),
    },
)

BONUS_METHOD = Vocabulary(
    "bonus_method",
    bonuses.METHODS,
    {
        "fixed": lazy_pgettext("bonus method", "Fixed amount"),
        "percent": lazy_pgettext("bonus method", "Percent of the order"),
    },
)

VOCABULARIES = (
    TICKET_KIND,
    TICKET_STATE,
    ANTIFRAUD_KIND,
    ANTIFRAUD_ACTION,
    BLACKLIST_KIND,
    BONUS_OPERATION,
    BONUS_METHOD,
)
