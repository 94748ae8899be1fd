"""Demo back office: the default antifraud rules, a small blacklist, bonus rules, a few tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice import services
from backoffice.models import AntifraudRule, BlacklistEntry, BonusRule, Ticket
from backoffice.ports import TICKET_SLA_MINUTES
from frontoffice.db import utcnow
from frontoffice.kernel import Kernel
from frontoffice.models import User

#: The default rule set: (name, kind, params, score, action).
DEFAULT_RULES: tuple[tuple[str, str, dict[str, Any], int, str], ...] = (
    (
        "Blacklisted phone, address or device",
        "blacklist",
        {"lists": ["phone", "address", "device"]},
        100,
        "reject",
    ),
    (
        "Three orders from one phone in 30 minutes",
        "velocity",
        {"by": "phone", "count": 3, "minutes": 30},
        60,
        "hold",
    ),
    (
        "Five orders to one address in an hour",
        "velocity",
        {"by": "address", "count": 5, "minutes": 60},
        40,
        "flag",
    ),
    (
        "Large cash order from a new client",
        "large_cash_new_client",
        {"min_total": "5000.00", "max_delivered": 0, "days": 365},
        50,
        "hold",
    ),
    (
        "Two cancelled or failed deliveries in half a year",
        "bad_history",
        {"statuses": ["cancelled", "failed"], "min_count": 2, "days": 180},
        40,
        "flag",
    ),
    (
        "Address far from the client's usual ones",
        "far_address",
        {"km": 15, "min_history": 2, "days": 365},
        20,
        "note",
    ),
    (
        "“Send the change to my card”",
        "change_to_card",
        {"min_note": "5000.00", "min_change": "3000.00"},
        70,
        "hold",
    ),
    ("One phone under many names", "many_names", {"max_names": 3, "days": 365}, 30, "flag"),
)

BLACKLIST = (
    ("phone", "+7 927 000-13-13", "Three no-shows with cash orders in 2025; refused by the courier service."),
    ("address", "Kazan, Nekrasova St, 10, apt 13", "Prank orders to an empty flat."),
)

#: (operation, method, amount in minor units, percent in basis points, params)
BONUS_RULES: tuple[tuple[str, str, int, int, dict[str, Any]], ...] = (
    ("order_taken", "fixed", 1000, 0, {}),
    ("order_delivered", "percent", 0, 100, {}),
    ("preorder_taken", "fixed", 1500, 0, {"min_lead_minutes": 120}),
    (
        "upsell",
        "percent",
        0,
        500,
        {"skus": ["DR-COLA05", "DR-JUICE1", "SD-FRIES", "DS-CHEES", "DS-TIRAM", "SC-SOY"]},
    ),
    ("ticket_resolved", "fixed", 2000, 0, {}),
    (
        "penalty_cancelled",
        "fixed",
        5000,
        0,
        {"reason_codes": ["operator_error", "wrong_address", "wrong_items"]},
    ),
)

#: (kind, subject, body, phone, hours ago)
TICKETS = (
    (
        "complaint",
        "Pizza arrived cold",
        "The client says the Margherita was cold and the courier was 40 minutes late.",
        "+79171234567",
        3,
    ),
    ("question", "Can we deliver to the office on Saturdays?", "", "+79876543210", 1),
    ("refund", "Charged twice for one order", "Two card payments in the bank app.", "+79055551234", 2),
)


def load(session: Session, kernel: Kernel) -> None:
    """Create the default rules, blacklist, bonus rules and tickets that do not exist yet (idempotent)."""
    now = utcnow()
    if not session.scalar(select(func.count()).select_from(AntifraudRule)):
        for name, kind, params, score, action in DEFAULT_RULES:
            services.create_rule(
                session, kind=kind, name=name, params=params, score=score, action=action, now=now
            )
    region = kernel.settings.phone_region
    for kind, value, reason in BLACKLIST:
        stored = services.blacklist_value(kind, value, region)
        exists = session.scalar(
            select(BlacklistEntry.id).where(BlacklistEntry.kind == kind, BlacklistEntry.value == stored)
        )
        if exists is None:
            services.add_to_blacklist(session, kind, value, reason, region=region)
    known_bonus = set(session.scalars(select(BonusRule.operation)))
    for operation, method, amount, percent_bp, params in BONUS_RULES:
        if operation not in known_bonus:
            services.save_bonus_rule(
                session,
                operation,
                method=method,
                amount=amount,
                percent_bp=percent_bp,
                params=params,
                now=now,
            )
    if not session.scalar(select(func.count()).select_from(Ticket)):
        operator = session.scalar(select(User.id).where(User.username == "operator"))
        backoffice = session.scalar(select(User.id).where(User.username == "backoffice"))
        for i, (kind, subject, body, phone, hours_ago) in enumerate(TICKETS):
            ticket = services.open_ticket(
                session,
                kind=kind,
                subject=subject,
                body=body,
                client_phone=phone,
                actor_id=operator,
                region=region,
                sla_minutes=kernel.extensions.get(TICKET_SLA_MINUTES),
                now=now - dt.timedelta(hours=hours_ago),
            )
            if i == 1 and backoffice is not None:
                services.move_ticket(
                    session, ticket.id, "in_progress", actor_id=backoffice, now=now - dt.timedelta(minutes=30)
                )
    session.flush()
