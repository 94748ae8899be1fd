"""Fiscal registers: an admin adds, changes and lists them; the sender finds the one that serves a
receipt."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fiscal import secrets
from fiscal.adapters import KINDS
from fiscal.models import FiscalReceipt, FiscalRegister, ReceiptState
from frontoffice import audit
from frontoffice.db import utcnow
from frontoffice.errors import FieldError, InvalidInput, NotFound, field_error
from nomenclature.inn import inn_problem
from nomenclature.models import Organization

AUDITED = (
    "organization_id",
    "kind",
    "name",
    "inn",
    "tax_systems",
    "payment_address",
    "company_email",
    "base_url",
    "group_code",
    "login",
    "secret_env",
    "active",
)
ENV_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclasses.dataclass(frozen=True)
class RegisterData:
    """Fields of a register to set (None: unchanged; on creation every field but the secrets is
    needed). ``secret`` is the password to store encrypted ("" removes it)."""

    organization_id: int | None = None
    kind: str | None = None
    name: str | None = None
    inn: str | None = None
    tax_systems: Sequence[str] | None = None
    payment_address: str | None = None
    company_email: str | None = None
    base_url: str | None = None
    group_code: str | None = None
    login: str | None = None
    secret: str | None = None
    secret_env: str | None = None
    active: bool | None = None


def _problems(session: Session, reg: FiscalRegister) -> list[FieldError]:
    errors: list[FieldError] = []
    org = session.get(Organization, reg.organization_id) if reg.organization_id else None
    if org is None:
        errors.append(field_error("organization_id", "Choose an organization.", "fiscal_organization"))
    if reg.kind not in KINDS:
        errors.append(field_error("kind", f"The kind must be one of {', '.join(KINDS)}.", "fiscal_kind"))
    if not reg.name.strip():
        errors.append(field_error("name", "Name the register.", "fiscal_name"))
    problem = inn_problem(reg.inn)
    if problem:
        errors.append(field_error("inn", problem, "fiscal_inn_invalid"))
    elif org is not None and reg.inn != org.inn:
        errors.append(
            field_error(
                "inn",
                f"The organization's INN is {org.inn}: a register fiscalizes for the taxpayer it is registered to.",
                "fiscal_inn_mismatch",
                expected=org.inn,
            )
        )
    if not reg.tax_systems:
        errors.append(field_error("tax_systems", "Tick at least one tax system.", "fiscal_no_tax_system"))
    elif org is not None:
        foreign = [t for t in reg.tax_systems if t not in org.tax_systems]
        if foreign:
            errors.append(
                field_error(
                    "tax_systems",
                    f"The organization does not apply {', '.join(foreign)}.",
                    "fiscal_tax_system_foreign",
                    names=", ".join(foreign),
                )
            )
    if not reg.payment_address.strip():
        errors.append(field_error("payment_address", "Give the point of sale (tag 1009).", "fiscal_address"))
    if not reg.base_url.startswith(("http://", "https://")) or len(reg.base_url) < 10:
        errors.append(
            field_error("base_url", "The address must start with http:// or https://.", "fiscal_url")
        )
    if reg.kind == "atol_online":
        if not reg.group_code.strip():
            errors.append(field_error("group_code", "ATOL Online needs the group code.", "fiscal_group"))
        if not reg.login.strip():
            errors.append(field_error("login", "ATOL Online needs the login.", "fiscal_login"))
        if "@" not in reg.company_email:
            errors.append(
                field_error("company_email", "ATOL Online needs the seller's e-mail.", "fiscal_email")
            )
        if not reg.secret_encrypted and not reg.secret_env:
            errors.append(
                field_error(
                    "secret",
                    "ATOL Online needs the password, or the environment variable that holds it.",
                    "fiscal_secret",
                )
            )
    if reg.secret_env and not set(reg.secret_env) <= ENV_NAME_CHARS:
        errors.append(
            field_error("secret_env", "An environment variable name has A-Z, 0-9 and _ only.", "fiscal_env")
        )
    return errors


def _apply(reg: FiscalRegister, data: RegisterData, app_secret: str) -> None:
    for name in AUDITED:
        value = getattr(data, name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        if name == "tax_systems":
            value = list(dict.fromkeys(value))
        setattr(reg, name, value)
    if data.secret is not None:
        reg.secret_encrypted = secrets.encrypt(data.secret, app_secret) if data.secret else None


def _audit_state(reg: FiscalRegister) -> dict:
    return {**audit.state(reg, AUDITED), "secret": reg.secret_encrypted}


def create_register(session: Session, data: RegisterData, *, app_secret: str) -> FiscalRegister:
    """Add a register; 422 naming each field that is wrong."""
    reg = FiscalRegister(
        organization_id=data.organization_id or 0,
        kind=data.kind or "",
        name="",
        inn="",
        tax_systems=[],
        payment_address="",
        company_email="",
        base_url="",
        group_code="",
        login="",
        secret_env="",
        active=True,
    )
    _apply(reg, data, app_secret)
    errors = _problems(session, reg)
    if errors:
        raise InvalidInput("The fiscal register is not valid.", errors=errors)
    session.add(reg)
    session.flush()
    wake_waiting(session, reg.organization_id)
    audit.record(session, audit.Action.CREATE, audit.Entity.FISCAL_REGISTER, reg.id, None, _audit_state(reg))
    return reg


def change_register(
    session: Session, register_id: int, data: RegisterData, *, app_secret: str
) -> FiscalRegister:
    """Change the given fields of a register; 422 naming each field that is wrong."""
    reg = get_register(session, register_id)
    before = _audit_state(reg)
    _apply(reg, data, app_secret)
    errors = _problems(session, reg)
    if errors:
        session.expire(reg)
        raise InvalidInput("The fiscal register is not valid.", errors=errors)
    reg.updated_at = utcnow()
    session.flush()
    wake_waiting(session, reg.organization_id)
    audit.record(
        session, audit.Action.UPDATE, audit.Entity.FISCAL_REGISTER, reg.id, before, _audit_state(reg)
    )
    return reg


def wake_waiting(session: Session, organization_id: int) -> None:
    """An organization's receipts held before sending are checked again now (its register changed)."""
    session.execute(
        update(FiscalReceipt)
        .where(FiscalReceipt.organization_id == organization_id, FiscalReceipt.state == ReceiptState.PENDING)
        .values(next_attempt_at=utcnow(), attempts=0)
        .execution_options(synchronize_session=False)
    )


def get_register(session: Session, register_id: int) -> FiscalRegister:
    """A register, or 404."""
    reg = session.get(FiscalRegister, register_id)
    if reg is None:
        raise NotFound(f"No fiscal register {register_id}.")
    return reg


def list_registers(session: Session) -> list[FiscalRegister]:
    """Every register, by organization then name."""
    return list(
        session.scalars(select(FiscalRegister).order_by(FiscalRegister.organization_id, FiscalRegister.name))
    )


def organization_choices(session: Session) -> list[tuple[int, str, str, list[str]]]:
    """The organizations a register may belong to: id, name, INN and tax systems."""
    rows = session.execute(
        select(Organization.id, Organization.name, Organization.inn, Organization.tax_systems).order_by(
            Organization.name
        )
    ).all()
    return [(r.id, r.name, r.inn, list(r.tax_systems or ())) for r in rows]


def register_for(session: Session, organization_id: int, tax_system: str) -> FiscalRegister | None:
    """The active register of an organization that serves ``tax_system``; failing that, its first
    active register (whose check then says what it lacks); None when it has none."""
    regs = list(
        session.scalars(
            select(FiscalRegister)
            .where(FiscalRegister.organization_id == organization_id, FiscalRegister.active)
            .order_by(FiscalRegister.id)
        )
    )
    return next((r for r in regs if tax_system in (r.tax_systems or ())), regs[0] if regs else None)
