"""Telephony's request and response models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from frontoffice.schemas import Day


class DialIn(BaseModel):
    """Call a client from the operator's own extension."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=40, description="The client's number, any format (E.164 after checking).")


class DialOut(BaseModel):
    """The PBX accepted: the operator's phone rings first, then the client's."""

    extension: str
    phone: str


class CallOut(BaseModel):
    """One call of the log."""

    id: int
    source: str = Field(description="asterisk or mango")
    direction: str = Field(description="in (a client calls) or out (an operator calls)")
    phone: str | None = Field(description="The client's number in E.164; null when withheld.")
    anonymous: bool
    line: str = Field(description="The number the client called (digits), empty if unknown.")
    line_name: str
    extension: str
    operator: str
    status: str = Field(description="ringing, talking, answered, missed or abandoned")
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_s: int = Field(description="Seconds of conversation.")
    order_id: int | None
    order_number: str | None


class CallList(BaseModel):
    """Calls of one day, newest first."""

    items: list[CallOut]


class CallQuery(BaseModel):
    """Which calls."""

    model_config = ConfigDict(extra="forbid")
    day: Day | None = Field(default=None, description="The business day (default today).")
    status: str | None = Field(default=None, max_length=10)


class CallbackOut(BaseModel):
    """A client to call back."""

    call_id: int
    phone: str
    line: str
    line_name: str
    status: str = Field(description="missed or abandoned")
    last_call_at: dt.datetime
    attempts: int = Field(description="How many of their calls went unanswered.")


class CallbackList(BaseModel):
    """The call-back list, latest first."""

    items: list[CallbackOut]


class ExtensionIn(BaseModel):
    """An operator's extension (empty: none)."""

    model_config = ConfigDict(extra="forbid")
    extension: str = Field(max_length=20, description="2 to 10 digits; empty takes it away.")


class ExtensionOut(BaseModel):
    """Who answers at which extension."""

    user_id: int
    username: str
    extension: str | None


class ExtensionList(BaseModel):
    """Every staff user who takes calls, with their extension."""

    items: list[ExtensionOut]


class LineIn(BaseModel):
    """A number clients call, and its name."""

    model_config = ConfigDict(extra="forbid")
    number: str = Field(max_length=40)
    name: str = Field(max_length=200)


class LineOut(BaseModel):
    """A named line."""

    id: int
    number: str
    name: str


class LineList(BaseModel):
    """Every named line."""

    items: list[LineOut]


class Accepted(BaseModel):
    """The notification was taken."""

    accepted: bool
