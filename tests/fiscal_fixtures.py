"""Fiscal test fixtures: fake ATOL Online and ATOL Web Server on 127.0.0.1 (real HTTP servers,
fiscal.simulator), registers of the demo organizations pointed at them, and a sender with short
timeouts that the tests pump."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fiscal import services, simulator
from fiscal.adapters import registers
from fiscal.models import FiscalReceipt
from frontoffice.outbox import RelayPolicy
from tests.conftest import load_demo_catalogue

LLC, DRINKS_IP, DESSERTS_IP = 1, 2, 3
INNS = {LLC: "1655012344", DRINKS_IP: "165601234500", DESSERTS_IP: "165909876596"}
TAX_SYSTEMS = {LLC: ["osn"], DRINKS_IP: ["usn_income"], DESSERTS_IP: ["usn_income", "psn"]}
PASSWORD = simulator.ATOL_ONLINE_PASSWORD


def register_data(org: int, fake: simulator.FakeRegister, kind: str, **fields: Any) -> services.RegisterData:
    """A register of ``org`` on ``fake``."""
    base: dict[str, Any] = {
        "organization_id": org,
        "kind": kind,
        "name": f"{kind} of {org}",
        "inn": INNS[org],
        "tax_systems": TAX_SYSTEMS[org],
        "payment_address": "https://shop.example",
        "company_email": "receipts@shop.example",
        "base_url": fake.url,
        "group_code": simulator.ATOL_ONLINE_GROUP if kind == "atol_online" else "",
        "login": simulator.ATOL_ONLINE_LOGIN if kind == "atol_online" else "Cashier",
        "secret": PASSWORD if kind == "atol_online" else "",
    }
    base.update(fields)
    return services.RegisterData(**base)


@dataclass
class FiscalWorld:
    """The demo catalogue, the fakes, and a sender to pump."""

    kernel: Any
    online: simulator.FakeRegister
    webserver: simulator.FakeRegister
    sender: services.FiscalSender

    def add_register(self, org: int, kind: str = "atol_online", **fields: Any) -> int:
        """Add a register of ``org`` on the fake of ``kind``; its id."""
        fake = self.online if kind == "atol_online" else self.webserver
        with self.kernel.db.unit_of_work() as s:
            reg = services.create_register(
                s, register_data(org, fake, kind, **fields), app_secret=self.kernel.settings.secret_key
            )
            return reg.id

    def receipts(self, order_id: int | None = None) -> list[FiscalReceipt]:
        """The receipts (of an order), oldest first, detached."""
        with self.kernel.db.reading() as s:
            q = select(FiscalReceipt).order_by(FiscalReceipt.id)
            if order_id is not None:
                q = q.where(FiscalReceipt.order_id == order_id)
            found = list(s.scalars(q))
            s.expunge_all()
            return found

    def pump_until(
        self,
        done: Callable[[list[FiscalReceipt]], bool],
        order_id: int | None = None,
        deadline_s: float = 5.0,
    ) -> list[FiscalReceipt]:
        """Pump the sender until ``done(receipts)`` holds (fails past the deadline)."""
        end = time.monotonic() + deadline_s
        while True:
            self.sender.pump(wait=True)
            found = self.receipts(order_id)
            if done(found):
                return found
            assert time.monotonic() < end, [(r.id, r.state, r.message) for r in found]
            time.sleep(0.01)

    def settle(self, order_id: int | None = None) -> list[FiscalReceipt]:
        """Pump until every receipt is done or failed."""
        return self.pump_until(
            lambda rs: bool(rs) and all(r.state in ("done", "failed") for r in rs), order_id
        )


def fiscal_world(app) -> Iterator[FiscalWorld]:
    """For a test module's ``fiscal`` fixture (``yield from fiscal_world(app)``): the demo catalogue, a fake ATOL Online and a fake ATOL Web Server (one poll "in progress"
    before the result), and a sender with a 0.5 s timeout, no poll delay and three tries."""
    load_demo_catalogue(app)
    kernel = app.extensions["frontoffice"]
    online = simulator.start("atol_online")
    webserver = simulator.start("atol_webserver")
    sender = services.FiscalSender(
        kernel.db,
        registers(),
        app_secret=kernel.settings.secret_key,
        timeout_s=0.5,
        poll_s=0.0,
        policy=RelayPolicy(max_attempts=3, backoff_s=0.0, backoff_max_s=0.0),
    )
    yield FiscalWorld(kernel, online, webserver, sender)
    online.stop()
    webserver.stop()
