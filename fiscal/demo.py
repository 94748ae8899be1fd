"""The demo's fiscal loop without hardware: ``frontoffice demo`` starts a fake ATOL Online on
127.0.0.1 in its own process and points one register per demo organization at it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fiscal import secrets, simulator
from fiscal.models import FiscalRegister
from frontoffice.db import utcnow
from frontoffice.kernel import kernel_of
from nomenclature.models import Organization

DEMO_NAME = "Demo ATOL Online (local fake)"


def configure(session: Any, url: str, app_secret: str) -> int:
    """Point a register per active organization at the fake ATOL Online at ``url`` (created once,
    its address updated on every start); how many registers."""
    count = 0
    for org in session.scalars(select(Organization).where(Organization.active).order_by(Organization.id)):
        reg = session.scalar(
            select(FiscalRegister).where(
                FiscalRegister.organization_id == org.id, FiscalRegister.name == DEMO_NAME
            )
        )
        if reg is None:
            reg = FiscalRegister(
                organization_id=org.id,
                kind="atol_online",
                name=DEMO_NAME,
                inn=org.inn,
                tax_systems=list(org.tax_systems or ()),
                payment_address="https://demo.frontoffice.local",
                company_email="receipts@demo.frontoffice.local",
                group_code=simulator.ATOL_ONLINE_GROUP,
                login=simulator.ATOL_ONLINE_LOGIN,
                secret_env="",
                active=True,
            )
            session.add(reg)
        reg.base_url = url
        reg.secret_encrypted = secrets.encrypt(simulator.ATOL_ONLINE_PASSWORD, app_secret)
        reg.updated_at = utcnow()
        count += 1
    return count


def start_fake_atol(app: Any) -> str:
    """Start the fake ATOL Online for this demo process and configure the registers to use it."""
    fake = simulator.start("atol_online")
    kernel = kernel_of(app)
    with app.app_context(), kernel.db.unit_of_work() as s:
        count = configure(s, fake.url, kernel.settings.secret_key)
    return f"Fiscal receipts: {count} register(s) print on a fake ATOL Online at {fake.url}"
