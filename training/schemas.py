"""Request and response models of the training API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from frontoffice.schemas import Id


class Refusal(BaseModel):
    """A refusal the quote or the placement gave during the call, as the API answered it."""

    type: str = Field(max_length=64)
    field: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=1000)


class CallIn(BaseModel):
    """A trainee's finished call, as the workspace measured it."""

    model_config = ConfigDict(extra="forbid")

    started_at: dt.datetime
    duration_s: float = Field(ge=0, le=24 * 3600)
    keystrokes: int = Field(ge=0, le=1_000_000)
    refusals: list[Refusal] = Field(default_factory=list, max_length=500)
    order_id: Id | None = None
    assignment_id: Id | None = None


class CallOut(BaseModel):
    """A recorded call: its mistakes and, for a scripted call, the differences from the expected order."""

    id: int
    duration_s: float
    keystrokes: int
    order_id: int | None
    assignment_id: int | None
    mistakes: list[dict[str, str]]
    differences: list[dict[str, str]]


class ScenarioLine(BaseModel):
    """An item the caller wants."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=999)


class ScenarioIn(BaseModel):
    """A scripted call: the caller, what they say, the order expected."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    caller_phone: str = Field(max_length=40)
    caller_name: str = Field(default="", max_length=200)
    request_text: str = Field(default="", max_length=4000)
    kind: str = "delivery"
    address: str = Field(default="", max_length=500)
    payment_kind: str = "cash"
    lines: list[ScenarioLine] = Field(max_length=100)


class ScenarioOut(BaseModel):
    """A scripted call as stored."""

    id: int
    title: str
    caller_phone: str
    caller_name: str
    request_text: str
    kind: str
    address: str
    payment_kind: str
    lines: list[ScenarioLine]


class AssignIn(BaseModel):
    """Whom to give a scenario to."""

    model_config = ConfigDict(extra="forbid")

    trainee_id: Id


class AssignmentOut(BaseModel):
    """The scripted call waiting for the trainee: the caller and what they say (the expected order
    stays the trainer's)."""

    id: int
    title: str
    caller_phone: str
    caller_name: str
    request_text: str


class AssignmentWaiting(BaseModel):
    """The trainee's next scripted call, null when none waits."""

    assignment: AssignmentOut | None
