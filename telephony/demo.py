"""Demo telephony: the demo operator answers at extension 101, two lines of the chain are named, and
today's call log has an answered, a missed and an abandoned call and one from a withheld number —
so the call log and the call-back list have something to show without a PBX. Loading twice changes
nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.db import utcnow
from frontoffice.kernel import Kernel
from frontoffice.models import User
from telephony import services
from telephony.calls import INBOUND, CallAnswered, CallEnded, CallRinging, CallStarted
from telephony.models import Call, PhoneLine

LINES = (("78432001010", "Pizza Kazan"), ("78432002020", "Sushi Kazan"))
#: key, caller, line, minutes ago, rang, answered seconds (None: not answered)
CALLS = (
    ("demo-1", "+79175551234", "78432001010", 95, True, 140),
    ("demo-2", "+79172223344", "78432002020", 40, True, None),
    ("demo-3", "+79035556677", "78432001010", 25, False, None),
    ("demo-4", "anonymous", "78432001010", 12, True, 45),
)


def load(session: Session, kernel: Kernel | None) -> None:
    """Extension 101 for the demo operator, the named lines and today's demo calls."""
    operator = session.scalar(select(User).where(User.username == "operator"))
    if operator is not None and services.extension_of(session, operator.id) is None:
        services.set_extension(session, operator.id, "101")
    for number, name in LINES:
        if session.scalar(select(PhoneLine.id).where(PhoneLine.number == number)) is None:
            services.add_line(session, number, name)
    if session.scalar(select(Call.id).where(Call.source == "demo")) is not None:
        return
    now = utcnow()
    region = kernel.settings.phone_region if kernel else "RU"
    for key, caller, line, ago, rang, talked in CALLS:
        start = now - dt.timedelta(minutes=ago)
        facts: list = [CallStarted(key, INBOUND, caller, line, start)]
        if rang:
            facts.append(CallRinging(key, "101", start + dt.timedelta(seconds=5)))
        end = start + dt.timedelta(seconds=30)
        if talked is not None:
            facts.append(CallAnswered(key, "101", start + dt.timedelta(seconds=12)))
            end = start + dt.timedelta(seconds=12 + talked)
        facts.append(CallEnded(key, end))
        services.record_facts(session, "demo", facts, region)
