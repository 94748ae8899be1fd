"""Registers the fiscal package: the projector that writes receipts when money moves, the sender
(a pump of the relay's loop), the order and dossier sections, the API and the pages, and the demo's
fake ATOL."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext

from callcentre.ports import DOSSIER_SECTIONS
from fiscal import demo, labels, services
from fiscal.adapters import registers
from fiscal.models import ReceiptState
from fiscal.ports import SENDER
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.models import Role
from frontoffice.outbox import RelayPolicy
from frontoffice.packages import DomainPackage
from frontoffice.ports import DEMO_SERVICES
from orders.events import OrderEdited, OrderPlaced, OrderStatusChanged
from orders.ports import ORDER_SECTIONS, OrderSection


def receipt_line(r: Any) -> str:
    """One receipt in words: purpose, total, state and what the register said or printed."""
    lbl = current_kernel().labels
    head = f"{lbl.text('fiscal_purpose', r.purpose)} · {r.document.get('organization', {}).get('name', '')} · {r.document.get('total')}"
    if r.order_version:
        head += " · " + gettext("the order as changed (version %(version)s)", version=r.order_version)
    if r.state == ReceiptState.DONE:
        return gettext(
            "%(head)s — fiscalized: FD %(fd)s, FP %(fp)s, %(at)s",
            head=head,
            fd=r.fiscal_document_number,
            fp=r.fiscal_sign,
            at=r.fiscal_at,
        )
    state = lbl.text("fiscal_state", r.state)
    return f"{head} — {state}" + (f": {r.message}" if r.message else "")


def order_section(session: Any, order_id: int) -> OrderSection | None:
    """The fiscal receipts of an order, for its page."""
    found = services.receipts_of_order(session, order_id)
    if not found:
        return None
    done = sum(1 for r in found if r.state == ReceiptState.DONE)
    return OrderSection(
        title=gettext("Fiscal receipts"),
        summary=gettext("%(done)s of %(n)s fiscalized.", done=done, n=len(found)),
        facts=tuple((f"#{r.id}", receipt_line(r)) for r in found),
    )


def dossier_section(session: Any, client: Any, phone: str) -> dict[str, Any]:
    """The caller's latest fiscal receipts: ``{"fiscal": [{"order_number", "purpose", "state",
    "total", "fiscal_sign", "fiscal_document_number", "fiscal_at", "message", "line" (one line in
    the reader's language)}, …]}``."""
    return {
        "fiscal": [
            {
                "order_number": r.order_number,
                "purpose": r.purpose,
                "state": r.state,
                "total": r.document.get("total"),
                "fiscal_sign": r.fiscal_sign,
                "fiscal_document_number": r.fiscal_document_number,
                "fiscal_at": r.fiscal_at,
                "message": r.message,
                "line": f"{r.order_number}: {receipt_line(r)}",
            }
            for r in services.receipts_of_client(session, phone)
        ]
    }


def register(app: Flask, kernel: Kernel) -> None:
    """Wire the fiscal package into the app."""
    from fiscal import api, views

    settings = kernel.settings
    kernel.labels.declare(*labels.VOCABULARIES)
    sender = services.FiscalSender(
        kernel.db,
        registers(),
        app_secret=settings.secret_key,
        timeout_s=settings.fiscal_timeout_s,
        poll_s=settings.fiscal_poll_s,
        policy=RelayPolicy(
            settings.fiscal_max_attempts, settings.relay_backoff_s, settings.relay_backoff_max_s
        ),
    )
    kernel.extensions.provide(SENDER, sender)
    kernel.relay.pumps.append(sender.pump)

    def fiscal_placed(session: Any, event: OrderPlaced) -> None:
        services.on_order_placed(session, event)

    def fiscal_status(session: Any, event: OrderStatusChanged) -> None:
        services.on_status_changed(session, event)

    def fiscal_edited(session: Any, event: OrderEdited) -> None:
        services.on_order_edited(session, event)

    # Projectors: the receipts are written in the relay's transaction, once per event.
    kernel.bus.project(OrderPlaced, fiscal_placed)
    kernel.bus.project(OrderStatusChanged, fiscal_status)
    kernel.bus.project(OrderEdited, fiscal_edited)
    kernel.extensions.add(ORDER_SECTIONS, "fiscal_receipts", order_section, order=40)
    kernel.extensions.add(DOSSIER_SECTIONS, "fiscal", dossier_section, order=30)
    kernel.extensions.add(DEMO_SERVICES, "fake_atol", demo.start_fake_atol, order=10)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    # The titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Fiscal registers", "fiscal_pages.registers_page", frozenset({Role.ADMIN}), order=96)
    kernel.add_nav("Receipts", "fiscal_pages.queue_page", views.QUEUE_ROLES, order=30)


PACKAGE = DomainPackage("fiscal", register)
