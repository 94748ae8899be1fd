"""Order use cases, the orders package's public face: place an order (prepare or take a resolved
draft → placement policies → write), change it after it is taken (a re-quoted draft written over
it), move it through its states, split it into receipts, read
revenue, backtest distribution conditions; open, change and switch off branches.

Callers write ``services.place_order(...)``; the modules hold one use-case family each.
"""

from orders.services.branches import (
    BranchData,
    create_branch,
    get_branch,
    list_branches,
    open_order_counts,
    open_orders,
    update_branch,
)
from orders.services.cart import (
    DEFAULT_LEAD,
    ORDER_KINDS,
    PAYMENT_KINDS,
    LineRequest,
    business_date,
    price_lines,
    valid_coordinates,
)
from orders.services.distribution import (
    BacktestResult,
    DeliveryAssignment,
    LineAssignment,
    PreviewReceipts,
    SplitOrder,
    backtest,
    order_receipts,
    organization_card,
    preview_receipts,
    receipt_documents,
    receipt_label,
    split_order,
)
from orders.services.editing import EDITED, edit_trails, editable_order, stale_version, write_edit
from orders.services.lifecycle import OrderFilter, cancel, change_status, get_order, list_orders
from orders.services.placement import (
    DefaultOrganization,
    OrderDraft,
    PlacementPolicy,
    PlaceOrder,
    apply_policies,
    charge_of,
    command_errors,
    next_number,
    place_order,
    prepare_draft,
    promise_errors,
    resolved_draft,
    write_draft,
)
from orders.services.revenue import UNSOLD, add_revenue, revenue_from_receipts, revenue_this_year

__all__ = [
    "DEFAULT_LEAD",
    "EDITED",
    "ORDER_KINDS",
    "PAYMENT_KINDS",
    "UNSOLD",
    "BacktestResult",
    "BranchData",
    "DefaultOrganization",
    "DeliveryAssignment",
    "LineAssignment",
    "LineRequest",
    "OrderDraft",
    "OrderFilter",
    "PlaceOrder",
    "PlacementPolicy",
    "PreviewReceipts",
    "SplitOrder",
    "add_revenue",
    "apply_policies",
    "backtest",
    "business_date",
    "cancel",
    "charge_of",
    "change_status",
    "command_errors",
    "create_branch",
    "edit_trails",
    "editable_order",
    "get_branch",
    "get_order",
    "list_branches",
    "list_orders",
    "next_number",
    "open_order_counts",
    "open_orders",
    "order_receipts",
    "organization_card",
    "place_order",
    "prepare_draft",
    "preview_receipts",
    "price_lines",
    "promise_errors",
    "receipt_documents",
    "receipt_label",
    "resolved_draft",
    "revenue_from_receipts",
    "revenue_this_year",
    "split_order",
    "stale_version",
    "update_branch",
    "valid_coordinates",
    "write_draft",
    "write_edit",
]
