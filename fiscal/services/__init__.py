"""Fiscal use cases, the package's public face: registers (add, change, list), receipts (written
when money moves or a paid order changes, the manager's queue, resend) and the sender that delivers them."""

from fiscal.services.receipts import (
    REFUSED_MARK,
    get_receipt,
    live_prepayments,
    on_order_edited,
    on_order_placed,
    on_status_changed,
    queue,
    receipts_of_client,
    receipts_of_order,
    resend,
    write_receipts,
)
from fiscal.services.registers import (
    RegisterData,
    change_register,
    create_register,
    get_register,
    list_registers,
    organization_choices,
    register_for,
)
from fiscal.services.sender import FiscalSender

__all__ = [
    "REFUSED_MARK",
    "FiscalSender",
    "RegisterData",
    "change_register",
    "create_register",
    "get_receipt",
    "get_register",
    "list_registers",
    "live_prepayments",
    "on_order_edited",
    "on_order_placed",
    "on_status_changed",
    "organization_choices",
    "queue",
    "receipts_of_client",
    "receipts_of_order",
    "register_for",
    "resend",
    "write_receipts",
]
