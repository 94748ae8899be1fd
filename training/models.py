"""Training tables: scripted calls, their assignment to trainees, and the trainees' calls."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class TrainingScenario(Base):
    """A scripted call a trainer wrote: who calls, what they say they want, the order expected."""

    __tablename__ = "training_scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    caller_phone: Mapped[str] = mapped_column(String(20))
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    #: What the caller says they want, as the trainer wrote it.
    request_text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="delivery")
    address: Mapped[str] = mapped_column(String(500), default="")
    payment_kind: Mapped[str] = mapped_column(String(20), default="cash")
    #: The expected items: ``[{"sku", "quantity"}]``.
    lines: Mapped[list] = mapped_column(default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TrainingAssignment(Base):
    """A scenario a trainer gave a trainee to play; done once a call of the trainee answers it."""

    __tablename__ = "training_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("training_scenarios.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]


class TrainingCall(Base):
    """One call a trainee took: how long, how many keys, what the checks refused, the order taken
    (if any) and, for a scripted call, how that order differs from the expected one."""

    __tablename__ = "training_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime]
    duration_s: Mapped[float] = mapped_column(Float)
    keystrokes: Mapped[int]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_assignments.id", ondelete="SET NULL")
    )
    #: ``[{"kind", "code", "message"}]`` (training.mistakes).
    mistakes: Mapped[list] = mapped_column(default=list)
    #: ``[{"field", "expected", "actual"}]`` (training.comparison); empty for an unscripted call.
    differences: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
