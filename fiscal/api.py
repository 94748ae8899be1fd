"""Fiscal registers (admins) and receipts (managers and admins) over JSON: ``/api/v1/fiscal``."""

from __future__ import annotations

from flask import Blueprint

from fiscal import secrets, services
from fiscal.models import FiscalReceipt, FiscalRegister, ReceiptState
from fiscal.schemas import (
    ReceiptList,
    ReceiptOut,
    ReceiptQuery,
    RegisterIn,
    RegisterList,
    RegisterOut,
    RegisterPatch,
)
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("fiscal_api", __name__, url_prefix="/api/v1/fiscal")

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.MANAGER})
TAGS = ["fiscal"]


def register_out(r: FiscalRegister) -> RegisterOut:
    """A register as the API shows it: where its password comes from, never the password."""
    return RegisterOut(
        id=r.id,
        organization_id=r.organization_id,
        kind=r.kind,
        name=r.name,
        inn=r.inn,
        tax_systems=list(r.tax_systems or ()),
        payment_address=r.payment_address,
        company_email=r.company_email,
        base_url=r.base_url,
        group_code=r.group_code,
        login=r.login,
        secret=secrets.hint(r.secret_encrypted, r.secret_env),
        active=r.active,
        created_at=r.created_at,
    )


def receipt_out(r: FiscalReceipt) -> ReceiptOut:
    """A receipt as the API shows it."""
    return ReceiptOut(
        id=r.id,
        order_id=r.order_id,
        order_number=r.order_number,
        organization_id=r.organization_id,
        tax_system=r.tax_system,
        purpose=r.purpose,
        order_version=r.order_version,
        operation=r.operation,
        total=str(r.document.get("total")),
        state=r.state,
        message=r.message,
        external_id=r.external_id,
        register_id=r.register_id,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        fiscal_sign=r.fiscal_sign,
        fiscal_document_number=r.fiscal_document_number,
        fiscal_receipt_number=r.fiscal_receipt_number,
        fn_number=r.fn_number,
        fiscal_at=r.fiscal_at,
        document=r.document,
    )


@endpoint(bp, "/registers", roles=ADMIN, response=RegisterList, summary="List fiscal registers", tags=TAGS)
def list_registers() -> RegisterList:
    """Every register, by organization."""
    with current_kernel().db.reading() as s:
        return RegisterList(items=[register_out(r) for r in services.list_registers(s)])


@endpoint(
    bp,
    "/registers",
    method="POST",
    roles=ADMIN,
    body=RegisterIn,
    response=RegisterOut,
    status=201,
    summary="Add a fiscal register",
    tags=TAGS,
    errors=(422,),
    description="422 names the field: an INN that is not the organization's, a tax system it does not "
    "apply, ATOL Online without group code, login or e-mail, an address that is not http(s).",
)
def create_register(body: RegisterIn) -> RegisterOut:
    """Add a register to an organization."""
    kernel = current_kernel()
    data = services.RegisterData(**body.model_dump())
    with kernel.db.unit_of_work() as s:
        return register_out(services.create_register(s, data, app_secret=kernel.settings.secret_key))


@endpoint(
    bp,
    "/registers/<int:register_id>",
    roles=ADMIN,
    response=RegisterOut,
    summary="Read a fiscal register",
    tags=TAGS,
    errors=(404,),
)
def read_register(register_id: int) -> RegisterOut:
    """One register."""
    with current_kernel().db.reading() as s:
        return register_out(services.get_register(s, register_id))


@endpoint(
    bp,
    "/registers/<int:register_id>",
    method="PATCH",
    roles=ADMIN,
    body=RegisterPatch,
    response=RegisterOut,
    summary="Change a fiscal register",
    tags=TAGS,
    errors=(404, 422),
)
def patch_register(register_id: int, body: RegisterPatch) -> RegisterOut:
    """Change the given fields (switch it off with ``{"active": false}``)."""
    kernel = current_kernel()
    data = services.RegisterData(**body.model_dump(exclude_unset=True))
    with kernel.db.unit_of_work() as s:
        return register_out(
            services.change_register(s, register_id, data, app_secret=kernel.settings.secret_key)
        )


@endpoint(
    bp,
    "/receipts",
    roles=STAFF,
    query=ReceiptQuery,
    response=ReceiptList,
    summary="List fiscal receipts not done",
    tags=TAGS,
    description="Failed first, then the oldest; within the caller's branches.",
)
def list_receipts(query: ReceiptQuery) -> ReceiptList:
    """The manager's queue: receipts pending (with the reason), sent, failed — or those of ``state``."""
    states = [query.state] if query.state else [ReceiptState.PENDING, ReceiptState.SENT, ReceiptState.FAILED]
    with current_kernel().db.reading() as s:
        return ReceiptList(items=[receipt_out(r) for r in services.queue(s, states, within=branch_scope())])


@endpoint(
    bp,
    "/orders/<int:order_id>/receipts",
    roles=STAFF,
    response=ReceiptList,
    summary="List an order's fiscal receipts",
    tags=TAGS,
    errors=(404,),
)
def order_receipts(order_id: int) -> ReceiptList:
    """Every fiscal receipt of an order, in the order they were written."""
    from orders import services as orders

    with current_kernel().db.reading() as s:
        orders.get_order(s, order_id, within=branch_scope())
        return ReceiptList(items=[receipt_out(r) for r in services.receipts_of_order(s, order_id)])


@endpoint(
    bp,
    "/receipts/<int:receipt_id>/resend",
    method="POST",
    roles=STAFF,
    response=ReceiptOut,
    summary="Resend a fiscal receipt",
    tags=TAGS,
    errors=(404, 409),
    description="Back in line now, tries counted afresh; under the same external id unless the register "
    "refused it (then nothing was printed and it gets a new one). 409 once fiscalized.",
)
def resend_receipt(receipt_id: int) -> ReceiptOut:
    """Put a receipt back in line; the relay's loop sends it."""
    kernel = current_kernel()
    with kernel.db.unit_of_work() as s:
        out = receipt_out(services.resend(s, receipt_id, within=branch_scope()))
    kernel.relay.notify()
    return out
