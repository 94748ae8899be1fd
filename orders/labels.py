"""What users read for the orders' codes: statuses, kinds of order and of payment (see
frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from orders.services import ORDER_KINDS, PAYMENT_KINDS
from orders.states import OrderStatus

S = OrderStatus

ORDER_STATUS = Vocabulary(
    "order_status",
    OrderStatus,
    {
        S.NEW: lazy_pgettext("order status", "New"),
        S.ON_HOLD: lazy_pgettext("order status", "On hold"),
        S.CONFIRMED: lazy_pgettext("order status", "Confirmed"),
        S.COOKING: lazy_pgettext("order status", "Cooking"),
        S.READY: lazy_pgettext("order status", "Ready"),
        S.IN_DELIVERY: lazy_pgettext("order status", "Out for delivery"),
        S.DELIVERED: lazy_pgettext("order status", "Delivered"),
        S.FAILED: lazy_pgettext("order status", "Not delivered"),
        S.REJECTED: lazy_pgettext("order status", "Rejected"),
        S.CANCELLED: lazy_pgettext("order status", "Cancelled"),
    },
)

ORDER_KIND = Vocabulary(
    "order_kind",
    ORDER_KINDS,
    {
        "delivery": lazy_pgettext("order kind", "Delivery"),
        "pickup": lazy_pgettext("order kind", "Pickup"),
    },
)

PAYMENT_KIND = Vocabulary(
    "payment_kind",
    PAYMENT_KINDS,
    {
        "cash": lazy_pgettext("payment kind", "Cash"),
        "card_on_delivery": lazy_pgettext("payment kind", "Card to courier"),
        "prepaid": lazy_pgettext("payment kind", "Paid online"),
    },
)

VOCABULARIES = (ORDER_STATUS, ORDER_KIND, PAYMENT_KIND)
