"""The compiled rules selling needs, shared by the process and rebuilt when they change.

Stored rows become the pure rules' values here (:func:`profile_of`, :func:`condition_of`,
:func:`group_view`). Every write that changes what selling compiles (groups, organizations,
conditions, modifiers, the delivery position) calls :func:`mark_changed`, so each process rebuilds
its compiled rules on the next sale.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frontoffice.db import execute_fast, upsert, utcnow
from nomenclature.distribution import (
    Condition,
    Distributor,
    GroupTree,
    OrganizationProfile,
    Scope,
    build_distributor,
)
from nomenclature.models import (
    DistributionCondition,
    DistributionState,
    ItemGroup,
    ItemModifierGroup,
    ModifierGroup,
    Organization,
)
from nomenclature.modifiers import ModifierGroupView, OptionView
from nomenclature.services.delivery import DeliveryPosition, delivery_position
from nomenclature.taxes import TaxSystem, VatRate


def group_view(group: ModifierGroup) -> ModifierGroupView:
    """A modifier group as the pure rules see it."""
    return ModifierGroupView(
        id=group.id,
        name=group.name,
        min_choices=group.min_choices,
        max_choices=group.max_choices,
        options=tuple(OptionView(o.id, o.name, o.price_delta, o.active) for o in group.options),
    )


def group_parents(session: Session) -> dict[int, int | None]:
    """``{group id: parent id}`` of every group."""
    return dict(session.execute(select(ItemGroup.id, ItemGroup.parent_id)).all())


def profile_of(org: Organization) -> OrganizationProfile:
    """An organization as the distribution rules see it."""
    return OrganizationProfile(
        id=org.id,
        name=org.name,
        tax_systems=tuple(TaxSystem(t) for t in org.tax_systems),
        pays_vat=org.pays_vat,
        default_vat_rate=VatRate(org.default_vat_rate),
        annual_revenue_limit=org.annual_revenue_limit,
        fallback_organization_id=org.fallback_organization_id,
        fallback_tax_system=TaxSystem(org.fallback_tax_system) if org.fallback_tax_system else None,
        active=org.active,
        inn=org.inn,
        kpp=org.kpp,
    )


def condition_of(row: DistributionCondition) -> Condition:
    """A stored condition as the distribution rules see it."""
    scope = Scope(row.scope)
    return Condition(
        id=row.id,
        scope=scope,
        target_id=row.group_id if scope is Scope.GROUP else row.item_id if scope is Scope.ITEM else None,
        organization_id=row.organization_id,
        tax_system=TaxSystem(row.tax_system),
        vat_rate=VatRate(row.vat_rate) if row.vat_rate else None,
        priority=row.priority,
        branch_ids=frozenset(row.branch_ids or ()),
        order_kinds=frozenset(row.order_kinds or ()),
        payment_kinds=frozenset(row.payment_kinds or ()),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        active=row.active,
        created_at=row.created_at,
        name=row.name,
    )


def proposed_condition(condition_id: int, values: Mapping[str, Any], created_at: dt.datetime) -> Condition:
    """A condition that is not stored (a backtest proposal), from checked ``values``."""
    scope = Scope(values["scope"])
    vat = values.get("vat_rate")
    return Condition(
        id=condition_id,
        scope=scope,
        target_id=values.get("group_id")
        if scope is Scope.GROUP
        else values.get("item_id")
        if scope is Scope.ITEM
        else None,
        organization_id=values["organization_id"],
        tax_system=TaxSystem(values["tax_system"]),
        vat_rate=VatRate(vat) if vat else None,
        priority=values.get("priority", 0),
        branch_ids=frozenset(values.get("branch_ids") or ()),
        order_kinds=frozenset(values.get("order_kinds") or ()),
        payment_kinds=frozenset(values.get("payment_kinds") or ()),
        valid_from=values.get("valid_from"),
        valid_to=values.get("valid_to"),
        active=values.get("active", True),
        created_at=created_at,
        name=values.get("name") or "proposed",
    )


@dataclass(frozen=True)
class CatalogueRules:
    """What selling needs beyond prices, compiled once per change: the distribution, the
    modifier groups each item offers, and the delivery position."""

    distributor: Distributor
    modifiers: Mapping[int, tuple[ModifierGroupView, ...]]
    # The catalogue's delivery position; None where it is missing.
    delivery: DeliveryPosition | None = None


_CACHE: OrderedDict[str, CatalogueRules] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def mark_changed(session: Session) -> None:
    """Record, in the current transaction, that groups, organizations or conditions changed."""
    state = DistributionState.__table__
    token = uuid.uuid4().hex
    now = utcnow()
    session.execute(
        upsert(
            session,
            state,
            {"id": 1, "token": token, "changed_at": now},
            ["id"],
            update={"token": token, "changed_at": now},
        )
    )


def build_from_rows(session: Session, conditions: Iterable[Condition] | None = None) -> Distributor:
    """Compile the stored groups, organizations and conditions (or ``conditions`` instead)."""
    tree = GroupTree(group_parents(session))
    orgs = {o.id: profile_of(o) for o in session.scalars(select(Organization))}
    if conditions is None:
        conditions = [condition_of(r) for r in session.scalars(select(DistributionCondition))]
    return build_distributor(conditions, tree, orgs)


def all_modifier_views(session: Session) -> dict[int, tuple[ModifierGroupView, ...]]:
    """The active modifier groups of every item that offers any."""
    rows = session.execute(
        select(ItemModifierGroup.item_id, ModifierGroup)
        .join(ModifierGroup, ModifierGroup.id == ItemModifierGroup.modifier_group_id)
        .where(ModifierGroup.active.is_(True))
        .order_by(ItemModifierGroup.item_id, ItemModifierGroup.position, ModifierGroup.id)
        .options(selectinload(ModifierGroup.options))
    ).all()
    views: dict[int, ModifierGroupView] = {}
    out: dict[int, list[ModifierGroupView]] = defaultdict(list)
    for item_id, group in rows:
        if group.id not in views:
            views[group.id] = group_view(group)
        out[item_id].append(views[group.id])
    return {k: tuple(v) for k, v in out.items()}


_TOKEN = select(DistributionState.token).where(DistributionState.id == 1)  # read per order: built once


def rules(session: Session) -> CatalogueRules:
    """The compiled distribution and modifiers of the database, reused while nothing changed.

    One primary-key read per call; the rules are rebuilt when the token differs.
    """
    token = execute_fast(session, _TOKEN).scalar()
    if token is not None:
        with _CACHE_LOCK:
            found = _CACHE.get(token)
            if found is not None:
                _CACHE.move_to_end(token)
                return found
    built = CatalogueRules(build_from_rows(session), all_modifier_views(session), delivery_position(session))
    if token is not None:
        with _CACHE_LOCK:
            _CACHE[token] = built
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return built


def distributor(session: Session) -> Distributor:
    """The compiled distribution of the database (see :func:`rules`)."""
    return rules(session).distributor
