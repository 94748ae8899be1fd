"""Response models of receipts: one per (organization, tax system), close to FFD 1.2."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class ReceiptOrganizationOut(BaseModel):
    """The seller of a receipt (tags 1048, 1018)."""

    id: int
    name: str
    inn: str
    kpp: str


class ReceiptVatOut(BaseModel):
    """Amount and VAT of a receipt at one rate."""

    vat_rate: str
    vat_code: int = Field(description="FFD tag 1199.")
    amount: Decimal
    vat: Decimal


class ReceiptItemOut(BaseModel):
    """A receipt position; price × quantity = amount exactly."""

    line: int | None = Field(description="Position of the order line it comes from; null for the delivery.")
    name: str
    quantity: int
    price: Decimal
    amount: Decimal
    vat_rate: str
    vat_code: int = Field(description="FFD tag 1199.")
    vat: Decimal = Field(description="FFD tag 1200: round_half_up(amount × rate / (100 + rate)).")
    subject: int = Field(description="FFD tag 1212 (1: goods, 4: service — the delivery).")
    payment_method: int = Field(description="FFD tag 1214 (4: full settlement, 1: 100 % prepayment).")


class ReceiptOut(BaseModel):
    """One receipt of an order: one (organization, tax system), close to FFD 1.2."""

    organization: ReceiptOrganizationOut
    tax_system: str
    tax_system_code: int = Field(description="FFD tag 1055.")
    settlement: int = Field(description="FFD tag 1054 (1: income).")
    payment_method: int = Field(description="FFD tag 1214.")
    total: Decimal = Field(description="FFD tag 1020.")
    cash: Decimal = Field(description="FFD tag 1031.")
    electronic: Decimal = Field(description="FFD tag 1081.")
    vat: list[ReceiptVatOut]
    items: list[ReceiptItemOut]
    ffd: dict[str, Any] = Field(description="The same receipt keyed by FFD tag numbers.")
