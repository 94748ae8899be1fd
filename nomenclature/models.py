"""Catalogue and distribution tables: groups, items, modifiers, stop-list, organizations, conditions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontoffice.db import Base, utcnow


class ItemGroup(Base):
    """A node of the catalogue tree: Pizza, Sushi & rolls, Drinks › Soft drinks …"""

    __tablename__ = "item_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("item_groups.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Item(Base):
    """Something the business sells; prices in minor units, VAT included."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    price: Mapped[int]
    vat_rate: Mapped[str] = mapped_column(String(10), default="vat22")
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("item_groups.id"), index=True)

    modifier_links: Mapped[list[ItemModifierGroup]] = relationship(
        cascade="all, delete-orphan", order_by="ItemModifierGroup.position"
    )


class ModifierGroup(Base):
    """Options offered with items, e.g. "Size" (choose exactly one) or "Extras" (up to three)."""

    __tablename__ = "modifier_groups"
    __table_args__ = (
        CheckConstraint("min_choices >= 0", name="min_not_negative"),
        CheckConstraint("max_choices >= 1 AND max_choices >= min_choices", name="max_at_least_min"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    min_choices: Mapped[int] = mapped_column(default=0)
    max_choices: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)

    options: Mapped[list[ModifierOption]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="ModifierOption.position"
    )


class ModifierOption(Base):
    """One choice of a modifier group, with the price it adds (or takes off) in minor units."""

    __tablename__ = "modifier_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("modifier_groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    price_delta: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    group: Mapped[ModifierGroup] = relationship(back_populates="options")


class ItemModifierGroup(Base):
    """Which modifier groups an item offers, in display order."""

    __tablename__ = "item_modifier_groups"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    modifier_group_id: Mapped[int] = mapped_column(
        ForeignKey("modifier_groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    modifier_group: Mapped[ModifierGroup] = relationship()


class StopListEntry(Base):
    """An item temporarily unavailable in a branch: who stopped it, when and why."""

    __tablename__ = "stop_list"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    stopped_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stopped_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Organization(Base):
    """A legal entity or sole proprietor that sells: INN, KPP, tax systems, VAT, revenue limit."""

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("inn", "kpp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str] = mapped_column(String(9), default="")
    # Tax system codes, the main one first: ["usn_income", "psn"].
    tax_systems: Mapped[list] = mapped_column(default=list)
    pays_vat: Mapped[bool] = mapped_column(default=False)
    default_vat_rate: Mapped[str] = mapped_column(String(10), default="none")
    # Minor units; past it the fallback organization takes over (kopecks overflow 32 bits).
    annual_revenue_limit: Mapped[int | None] = mapped_column(BigInteger)
    fallback_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    fallback_tax_system: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DistributionCondition(Base):
    """Which organization and tax system sells all nomenclature, a group or an item, and when."""

    __tablename__ = "distribution_conditions"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'all' AND group_id IS NULL AND item_id IS NULL)"
            " OR (scope = 'group' AND group_id IS NOT NULL AND item_id IS NULL)"
            " OR (scope = 'item' AND item_id IS NOT NULL AND group_id IS NULL)",
            name="scope_target",
        ),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to", name="period_ordered"
        ),
        Index("ix_distribution_conditions_scope", "scope", "group_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(10))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("item_groups.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    tax_system: Mapped[str] = mapped_column(String(30))
    vat_rate: Mapped[str | None] = mapped_column(String(10))
    # Context filters; an empty list means "any".
    branch_ids: Mapped[list] = mapped_column(default=list)
    order_kinds: Mapped[list] = mapped_column(default=list)
    payment_kinds: Mapped[list] = mapped_column(default=list)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DistributionState(Base):
    """One row whose token changes with every change to groups, organizations or conditions,
    so every process knows when its compiled index is stale."""

    __tablename__ = "distribution_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
