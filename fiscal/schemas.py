"""Request and response models of the fiscal API (they also make its OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from frontoffice.schemas import Id

Kind = Literal["atol_online", "atol_webserver"]
TaxSystemCode = Literal["osn", "usn_income", "usn_income_expense", "eshn", "psn"]
State = Literal["pending", "sent", "done", "failed"]


class RegisterIn(BaseModel):
    """A new fiscal register of an organization."""

    model_config = ConfigDict(extra="forbid")
    organization_id: Id
    kind: Kind
    name: str = Field(max_length=200)
    inn: str = Field(max_length=12, description="The INN the register is registered to: the organization's.")
    tax_systems: list[TaxSystemCode] = Field(max_length=5, description="The tax systems it serves.")
    payment_address: str = Field(max_length=256, description="The point of sale (tag 1009).")
    company_email: str = Field(default="", max_length=64, description="The seller's e-mail (tag 1117).")
    base_url: str = Field(
        max_length=500, description="ATOL Online: …/possystem/v5; Web Server: http://host:16732."
    )
    group_code: str = Field(default="", max_length=100, description="ATOL Online's group code.")
    login: str = Field(
        default="", max_length=100, description="ATOL Online's login; Web Server: the cashier."
    )
    secret: str | None = Field(
        default=None, max_length=200, description="The password, stored encrypted and never shown back."
    )
    secret_env: str = Field(
        default="", max_length=100, description="Or: the environment variable that holds the password."
    )
    active: bool = True


class RegisterPatch(BaseModel):
    """Fields of a register to change (``secret: ""`` removes the stored password)."""

    model_config = ConfigDict(extra="forbid")
    organization_id: Id | None = None
    kind: Kind | None = None
    name: str | None = Field(default=None, max_length=200)
    inn: str | None = Field(default=None, max_length=12)
    tax_systems: list[TaxSystemCode] | None = Field(default=None, max_length=5)
    payment_address: str | None = Field(default=None, max_length=256)
    company_email: str | None = Field(default=None, max_length=64)
    base_url: str | None = Field(default=None, max_length=500)
    group_code: str | None = Field(default=None, max_length=100)
    login: str | None = Field(default=None, max_length=100)
    secret: str | None = Field(default=None, max_length=200)
    secret_env: str | None = Field(default=None, max_length=100)
    active: bool | None = None


class RegisterOut(BaseModel):
    """A register; its password is never shown, only where it comes from."""

    id: int
    organization_id: int
    kind: str
    name: str
    inn: str
    tax_systems: list[str]
    payment_address: str
    company_email: str
    base_url: str
    group_code: str
    login: str
    secret: str = Field(description='"stored encrypted", "from $NAME" or "none".')
    active: bool
    created_at: dt.datetime


class RegisterList(BaseModel):
    """Every register."""

    items: list[RegisterOut]


class ReceiptQuery(BaseModel):
    """Which receipts to list."""

    model_config = ConfigDict(extra="forbid")
    state: State | None = Field(default=None, description="Only this state; default: every one not done.")


class ReceiptOut(BaseModel):
    """A fiscal receipt: what it is for, where it stands, what the register printed or said."""

    id: int
    order_id: int
    order_number: str
    organization_id: int
    tax_system: str
    purpose: str = Field(description="prepayment, settlement or refund.")
    order_version: int = Field(
        description="The version of the order's receipts it carries: 0 as placed, else the order's "
        "version after the edit that prepaid them again (a refund has its prepayment's)."
    )
    operation: str = Field(description="sell or sell_refund (tag 1054).")
    total: str
    state: State
    message: str | None = Field(
        description="Why it is not done: a check before sending or the register's answer."
    )
    external_id: str = Field(description="What the register dedupes on: a retry never prints twice.")
    register_id: int | None
    attempts: int
    next_attempt_at: dt.datetime
    fiscal_sign: str | None = Field(description="Tag 1077.")
    fiscal_document_number: str | None = Field(description="Tag 1040.")
    fiscal_receipt_number: str | None = Field(description="Tag 1042.")
    fn_number: str | None = Field(description="Tag 1041.")
    fiscal_at: str | None = Field(description="Tag 1012, as the register wrote it.")
    document: dict = Field(description="The receipt's positions, payments and FFD 1.2 tags.")


class ReceiptList(BaseModel):
    """Receipts."""

    items: list[ReceiptOut]
