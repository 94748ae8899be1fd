"""Request and response models of the catalogue: menu, item groups, items, modifiers, stop-list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from frontoffice.money import from_minor
from frontoffice.schemas import Id, Money, SignedMoney, Strict
from nomenclature.models import Item, ItemGroup, ModifierGroup
from nomenclature.taxes import VatRate

# --- menu ---------------------------------------------------------------------------------------


class MenuQuery(Strict):
    """Which branch's stop-list to flag, and an optional search text."""

    branch_id: Id | None = None
    q: str | None = Field(default=None, max_length=100, description="Matches the name or SKU, any case.")


class MenuGroupOut(BaseModel):
    """A group of the menu tree."""

    id: int
    name: str
    parent_id: int | None


class MenuOptionOut(BaseModel):
    """An option of a modifier group."""

    id: int
    name: str
    price_delta: Decimal


class MenuModifierGroupOut(BaseModel):
    """A modifier group offered with an item: choose from ``min`` to ``max`` options."""

    id: int
    name: str
    min: int
    max: int
    options: list[MenuOptionOut]


class MenuItemOut(BaseModel):
    """An item on the menu."""

    id: int
    sku: str
    name: str
    group_id: int | None
    price: Decimal
    vat_rate: str
    unit: str
    description: str
    stopped: bool = Field(description="On the stop-list of the branch asked about.")
    modifier_groups: list[MenuModifierGroupOut]


class MenuOut(BaseModel):
    """The active menu."""

    groups: list[MenuGroupOut]
    items: list[MenuItemOut]

    @classmethod
    def of(cls, data: dict[str, Any]) -> MenuOut:
        """From :func:`nomenclature.services.menu` (minor units)."""
        return cls(
            groups=[MenuGroupOut(**g) for g in data["groups"]],
            items=[
                MenuItemOut(
                    id=i["id"],
                    sku=i["sku"],
                    name=i["name"],
                    group_id=i["group_id"],
                    price=from_minor(i["price"]),
                    vat_rate=i["vat_rate"],
                    unit=i["unit"],
                    description=i["description"],
                    stopped=i["stopped"],
                    modifier_groups=[
                        MenuModifierGroupOut(
                            id=g["id"],
                            name=g["name"],
                            min=g["min"],
                            max=g["max"],
                            options=[
                                MenuOptionOut(
                                    id=o["id"], name=o["name"], price_delta=from_minor(o["price_delta"])
                                )
                                for o in g["options"]
                            ],
                        )
                        for g in i["modifier_groups"]
                    ],
                )
                for i in data["items"]
            ],
        )


# --- groups and items ---------------------------------------------------------------------------


class GroupIn(Strict):
    """A new item group."""

    name: str = Field(min_length=1, max_length=200)
    parent_id: Id | None = None
    position: int = Field(default=0, ge=0, le=100000)
    active: bool = True


class GroupPatch(Strict):
    """Changes to an item group; fields left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: Id | None = None
    position: int | None = Field(default=None, ge=0, le=100000)
    active: bool | None = None


class GroupOut(BaseModel):
    """An item group."""

    id: int
    name: str
    parent_id: int | None
    position: int
    active: bool

    @classmethod
    def of(cls, g: ItemGroup) -> GroupOut:
        """Serialize a group."""
        return cls(id=g.id, name=g.name, parent_id=g.parent_id, position=g.position, active=g.active)


class ItemIn(Strict):
    """A new item."""

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price: Money
    vat_rate: VatRate = VatRate.VAT22
    group_id: Id | None = None
    unit: str = Field(default="pcs", min_length=1, max_length=20)
    description: str = Field(default="", max_length=5000)
    active: bool = True
    modifier_group_ids: list[Id] = Field(default_factory=list, max_length=20)


class ItemPatch(Strict):
    """Changes to an item; fields left out stay as they are."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    price: Money | None = None
    vat_rate: VatRate | None = None
    group_id: Id | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=5000)
    active: bool | None = None
    modifier_group_ids: list[Id] | None = Field(default=None, max_length=20)


class ItemQuery(Strict):
    """Filters of the item list."""

    group_id: Id | None = Field(default=None, description="The group with its subgroups.")
    q: str | None = Field(default=None, max_length=100)


class ItemOut(BaseModel):
    """An item of the catalogue."""

    id: int
    sku: str
    name: str
    price: Decimal
    vat_rate: str
    group_id: int | None
    unit: str
    description: str
    active: bool
    modifier_group_ids: list[int]

    @classmethod
    def of(cls, i: Item) -> ItemOut:
        """Serialize an item."""
        return cls(
            id=i.id,
            sku=i.sku,
            name=i.name,
            price=from_minor(i.price),
            vat_rate=i.vat_rate,
            group_id=i.group_id,
            unit=i.unit,
            description=i.description,
            active=i.active,
            modifier_group_ids=[link.modifier_group_id for link in i.modifier_links],
        )


# --- modifiers ----------------------------------------------------------------------------------


class OptionIn(Strict):
    """A new option of a modifier group."""

    name: str = Field(min_length=1, max_length=200)
    price_delta: SignedMoney = Decimal("0")
    active: bool = True


class OptionPatch(Strict):
    """Changes to an option."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    price_delta: SignedMoney | None = None
    position: int | None = Field(default=None, ge=0, le=1000)
    active: bool | None = None


class ModifierGroupIn(Strict):
    """A new modifier group with its options."""

    name: str = Field(min_length=1, max_length=200)
    min: int = Field(default=0, ge=0, le=50)
    max: int = Field(default=1, ge=1, le=50)
    active: bool = True
    options: list[OptionIn] = Field(default_factory=list, max_length=100)


class ModifierGroupPatch(Strict):
    """Changes to a modifier group (options are changed one by one)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    min: int | None = Field(default=None, ge=0, le=50)
    max: int | None = Field(default=None, ge=1, le=50)
    active: bool | None = None


class OptionOut(BaseModel):
    """An option of a modifier group."""

    id: int
    name: str
    price_delta: Decimal
    position: int
    active: bool


class ModifierGroupOut(BaseModel):
    """A modifier group with its options."""

    id: int
    name: str
    min: int
    max: int
    active: bool
    options: list[OptionOut]

    @classmethod
    def of(cls, g: ModifierGroup) -> ModifierGroupOut:
        """Serialize a modifier group."""
        return cls(
            id=g.id,
            name=g.name,
            min=g.min_choices,
            max=g.max_choices,
            active=g.active,
            options=[
                OptionOut(
                    id=o.id,
                    name=o.name,
                    price_delta=from_minor(o.price_delta),
                    position=o.position,
                    active=o.active,
                )
                for o in g.options
            ],
        )


# --- stop-list ----------------------------------------------------------------------------------


class StopIn(Strict):
    """Put an item on a branch's stop-list."""

    branch_id: Id
    item_id: Id | None = None
    sku: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _one_reference(self) -> StopIn:
        if (self.sku is None) == (self.item_id is None):
            raise ValueError("name the item by exactly one of sku or item_id")
        return self


class StopListQuery(Strict):
    """Which branch's stop-list."""

    branch_id: Id | None = None


class StopOut(BaseModel):
    """An item on a branch's stop-list."""

    branch_id: int
    item_id: int
    sku: str
    name: str
    reason: str
    stopped_by: int | None
    stopped_at: dt.datetime
