"""Stored scripts in Chromium: every free-text field the product stores holds a script payload, and
no page or map of any role runs it.

The demo day is loaded (catalogue, organizations, zones, clients with histories, couriers on shift,
tickets, antifraud rules), then every free-text column — names, notes, comments, addresses, zones,
items, groups, modifiers, tickets, couriers, organizations, branches, users — is overwritten with a
payload that tries a script in every context: an ``<img onerror>`` and a ``<script>`` for HTML text,
a quote break-out for attributes, ``javascript:`` for links. Each payload names its field, so a
dialog says which field leaked (``alert("delivery_zones.name")``). What the demo leaves empty is
then added with payloads: an order held by antifraud with a modifier and a line comment, a
stop-listed item, a ticket. Each role logs in and opens every page its menu leads to (and their detail pages), the
operator's workspace with a client's dossier, menu, modifiers and map, and the manager's monitor
map with couriers, orders and zones; every map label is opened.

A page fails on any JavaScript dialog, any Content-Security-Policy violation, any console error or
uncaught exception, and any element a payload would have made (``<q>``, ``img[src=x]``,
``a[href^=javascript:]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
import sqlalchemy as sa

from backoffice.services import open_ticket
from frontoffice.app import load_all_models
from frontoffice.auth import create_user
from frontoffice.cli import load_demo
from frontoffice.db import Base, utcnow
from frontoffice.outbox import OutboxEvent
from frontoffice.webhooks.models import WebhookDelivery, WebhookEndpoint
from monitor.ports import MONITOR_HUB
from nomenclature.services import stop_item
from orders.services import LineRequest
from tests.conftest import LiveServer, _make_app, make_users
from tests.e2e.conftest import login
from tests.helpers import OrderActions
from training.models import TrainingAssignment, TrainingCall, TrainingScenario

#: Free-text columns, table by table: whatever a user, a client or an integration can type.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "branches": ("code", "name", "address"),
    "clients": ("name", "notes"),
    "client_phones": ("label",),
    "client_addresses": ("text", "street", "house", "entrance", "floor", "apartment", "intercom", "comment"),
    "delivery_zones": ("name", "color"),
    "item_groups": ("name",),
    "items": ("sku", "name", "description", "unit"),
    "modifier_groups": ("name",),
    "modifier_options": ("name",),
    "organizations": ("name",),
    "distribution_conditions": ("name",),
    "stop_list": ("reason",),
    "orders": ("client_name", "address_text", "comment"),
    "order_lines": ("sku", "name", "comment"),
    "order_charges": ("sku", "name"),
    "order_events": ("reason",),
    "order_receipts": ("organization_name",),
    "couriers": ("name",),
    "courier_devices": ("device_id",),
    "courier_deliveries": ("comment",),
    "tickets": ("subject", "body", "resolution"),
    "ticket_events": ("body",),
    "antifraud_rule_versions": ("name", "note"),
    "antifraud_blacklist": ("display", "reason"),
    "bonus_ledger": ("note",),
    "users": ("username", "full_name"),
    "api_tokens": ("name",),
    "audit_log": ("actor_name", "entity_id"),
    "monitor_client_totals": ("client_name",),
    "monitor_loyalty_facts": ("client_name",),
    "address_streets": ("city", "name"),
    "address_houses": ("number",),
    # What an admin typed, what a receiver answered, what a failing projector said.
    "webhook_endpoints": ("url", "description"),
    "webhook_deliveries": ("last_response", "last_error"),
    "outbox": ("last_error",),
    # What an admin wrote for clients, what a gateway answered.
    "notification_templates": ("body",),
    "notification_messages": ("body", "provider_id", "last_error"),
    # A line's name an admin typed; the caller id a PBX sent when it is not a phone number.
    "telephony_lines": ("name",),
    "telephony_calls": ("raw_number",),
    "training_scenarios": ("title", "caller_name", "request_text", "address"),
    # What an admin typed about a fiscal register; what a register answered.
    "fiscal_registers": ("name", "payment_address", "company_email", "base_url", "group_code", "login"),
    "fiscal_receipts": ("message",),
}
#: Rows whose unique text is left alone: the test users log in with their names.
KEPT = {"users": lambda users: users.c.username.like("test-%")}
#: JSON columns holding free text (lists of words, notes, names of modifiers and rules).
FREE_TEXT_JSON: dict[str, tuple[str, ...]] = {
    "clients": ("tags",),
    "order_lines": ("modifiers",),
    "order_events": ("payload",),
    "antifraud_rule_versions": ("params",),
    "antifraud_verdicts": ("hits",),
    "audit_log": ("changes",),
    "training_calls": ("mistakes", "differences"),
    "fiscal_receipts": ("document",),
}
#: Text columns that hold codes, numbers, secrets or machine data — nothing typed as prose: they are
#: validated against a vocabulary or a format (phones in E.164, INN/KPP, enums, hashes), generated
#: (order numbers, tokens), or answers of an outside geocoder not shown without one.
CODES = set(
    """
    antifraud_rules.kind antifraud_blacklist.kind antifraud_blacklist.value antifraud_rule_versions.action
    antifraud_verdicts.action antifraud_verdicts.version_ids api_tokens.token_hash audit_log.action
    audit_log.entity audit_log.request_id audit_log.address bonus_rules.operation
    bonus_rules.method bonus_rules.params bonus_ledger.operation branches.timezone branches.opening_hours
    branches.phone clients.phone client_phones.phone client_order_facts.fact couriers.phone couriers.vehicle
    courier_deliveries.outcome courier_deliveries.reason_code courier_track_points.source
    courier_track_points.flags delivery_proofs.kind delivery_proofs.content_type delivery_proofs.sha256
    delivery_zones.geometry delivery_zones.opening_hours distribution_conditions.scope
    distribution_conditions.tax_system distribution_conditions.vat_rate distribution_conditions.branch_ids
    distribution_conditions.order_kinds distribution_conditions.payment_kinds distribution_state.token
    geocode_cache.provider geocode_cache.query geocode_cache.results idempotency_records.key
    idempotency_records.fingerprint idempotency_records.response_body idempotency_records.response_mimetype
    items.vat_rate monitor_client_totals.period monitor_client_totals.client_phone
    monitor_loyalty_facts.client_phone order_address_keys.address_key order_events.kind
    order_events.from_status order_events.to_status order_lines.vat_rate order_lines.tax_system
    order_charges.kind order_charges.vat_rate order_charges.tax_system
    order_receipts.tax_system order_receipts.inn order_receipts.kpp orders.number orders.kind orders.status
    orders.client_phone orders.payment_kind organizations.inn organizations.kpp organizations.tax_systems
    organizations.default_vat_rate organizations.fallback_tax_system tickets.kind tickets.status
    tickets.client_phone ticket_events.kind ticket_events.from_status ticket_events.to_status
    users.password_hash users.role address_streets.key address_houses.key
    outbox.topic outbox.payload outbox.state outbox_processed.consumer
    scheduled_jobs.name scheduled_jobs.owner scheduled_jobs.last_error
    webhook_endpoints.secret webhook_endpoints.events webhook_deliveries.event_type webhook_deliveries.body
    webhook_deliveries.status tracking_links.token
    notification_templates.event notification_templates.language notification_recipients.phone
    notification_recipients.language notification_messages.order_number notification_messages.event
    notification_messages.phone notification_messages.channel notification_messages.recipient
    notification_messages.language notification_messages.status notification_messages.skip_reason
    telephony_extensions.extension telephony_lines.number telephony_calls.source telephony_calls.external_id
    telephony_calls.direction telephony_calls.caller telephony_calls.line telephony_calls.extension
    telephony_calls.status
    training_scenarios.caller_phone training_scenarios.kind training_scenarios.payment_kind
    training_scenarios.lines
    fiscal_registers.kind fiscal_registers.inn fiscal_registers.tax_systems fiscal_registers.secret_encrypted
    fiscal_registers.secret_env fiscal_receipts.order_number fiscal_receipts.client_phone
    fiscal_receipts.tax_system fiscal_receipts.purpose fiscal_receipts.operation fiscal_receipts.external_id
    fiscal_receipts.state fiscal_receipts.provider_uuid fiscal_receipts.fiscal_sign
    fiscal_receipts.fiscal_document_number fiscal_receipts.fiscal_receipt_number fiscal_receipts.fn_number
    fiscal_receipts.fiscal_at
    """.split()
)
#: Keys of those JSON documents whose values are text someone typed.
JSON_TEXT_KEYS = {
    "name",
    "group",
    "group_name",
    "notes",
    "keywords",
    "reason",
    "rule",
    "display",
    "before",
    "after",
    "message",
    "expected",
    "actual",
}
#: What a payload leaves in the DOM when it is parsed as HTML instead of shown as text.
INJECTED = "q, img[src='x'], svg[onload], a[href^='javascript:' i], [onerror], [onload]"
#: Pages the crawler leaves alone: downloads, the language switch, logging out, machine answers.
SKIPPED = re.compile(r"(\.csv|\.json)$|^/(lang|logout|metrics|healthz|api/(?!docs))")
#: Detail pages of one kind opened per role (items/1 and items/2 show the same template).
PER_KIND = 1

SELF_REPORT = """
window.__inflight = 0;
const realFetch = window.fetch;
window.fetch = (...args) => {
  window.__inflight += 1;
  return realFetch(...args).finally(() => { window.__inflight -= 1; });
};
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample || ""}`);
});
"""


def payload(where: str, room: int | None) -> str:
    """A script payload naming ``where``, as long as the column allows (``room`` characters)."""
    candidates = (
        f'javascript:alert("{where}")//\'"></script><q>{where}</q><img src=x onerror=alert("{where}")>'
        f'<script>alert("{where}")</script>',
        f'\'"><q>{where}</q><img src=x onerror=alert("{where}")>',
        "<img src=x onerror=alert(1)>",
    )
    for text in candidates:
        if room is None or len(text) <= room:
            return text
    return f"<q>{where}</q>"[:room] if room >= 9 else "<q>"


def plant_json(value: Any, where: str) -> Any:
    """``value`` with every typed string in it replaced by a payload."""
    if isinstance(value, str):
        return payload(where, None)
    if isinstance(value, list):
        return [plant_json(v, where) for v in value]
    if isinstance(value, dict):
        return {k: plant_json(v, f"{where}.{k}") if k in JSON_TEXT_KEYS else v for k, v in value.items()}
    return value


def unique_columns(table: sa.Table) -> set[str]:
    """Columns of ``table`` that take part in a unique constraint or index."""
    found = {c.name for c in table.columns if c.unique}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            found |= {c.name for c in constraint.columns}
    for index in table.indexes:
        if index.unique:
            found |= {c.name for c in index.columns}
    return found


def plant_payloads(engine: sa.Engine) -> None:
    """Overwrite every free-text column of every row with a payload naming its field (a unique
    one ends with the row's id)."""
    tables = Base.metadata.tables
    with engine.begin() as conn:
        for name, columns in FREE_TEXT.items():
            table = tables[name]
            unique = unique_columns(table) & set(columns)
            room = {c: table.c[c].type.length for c in columns}
            shared = {c: payload(f"{name}.{c}", room[c]) for c in columns if c not in unique}
            if shared:
                conn.execute(table.update().values(shared))
            if unique:
                (key,) = table.primary_key.columns
                rows = sa.select(key)
                if name in KEPT:
                    rows = rows.where(sa.not_(KEPT[name](table)))
                for (row_id,) in conn.execute(rows).all():
                    own = {c: payload(f"{name}.{c}", room[c] - 4) + f"#{row_id}" for c in unique}
                    conn.execute(table.update().where(key == row_id).values(own))
        for name, columns in FREE_TEXT_JSON.items():
            table = tables[name]
            keys = list(table.primary_key.columns)
            for row in conn.execute(sa.select(*keys, *(table.c[c] for c in columns))).mappings():
                changed = {c: plant_json(row[c], f"{name}.{c}") for c in columns if row[c]}
                if changed:
                    where = sa.and_(*(k == row[k.name] for k in keys))
                    conn.execute(table.update().where(where).values(changed))


def add_what_the_demo_leaves_empty(app: Any, operator_id: int) -> None:
    """An order held by antifraud (a large cash order of a new client) with a modifier and a line
    comment, an item on the stop-list and a ticket about the order, all typed as payloads."""
    kernel = app.extensions["frontoffice"]
    with kernel.db.reading() as s:
        option_id = s.execute(sa.text("SELECT id FROM modifier_options ORDER BY id LIMIT 1")).scalar_one()
        sku = s.execute(
            sa.text(
                "SELECT i.sku FROM items i JOIN item_modifier_groups l ON l.item_id = i.id "
                "JOIN modifier_options o ON o.group_id = l.modifier_group_id WHERE o.id = :o LIMIT 1"
            ),
            {"o": option_id},
        ).scalar_one()
    order = OrderActions(kernel).place(
        actor_id=operator_id,
        client_phone="+79035550101",
        client_name=payload("new order client_name", None),
        address_text=payload("new order address_text", None),
        comment=payload("new order comment", None),
        payment_kind="cash",
        lines=[
            LineRequest(
                quantity=12, sku=sku, modifiers=(option_id,), comment=payload("new line comment", None)
            ),
        ],
    )
    assert order.status == "on_hold", "a large cash order of a new client is held by the demo rules"
    with kernel.db.unit_of_work() as s:
        stop_item(s, 1, 1, payload("new stop reason", 300))
        open_ticket(
            s,
            kind="complaint",
            subject=payload("new ticket subject", 200),
            body=payload("new ticket body", None),
            client_phone="+79035550101",
            order_id=order.id,
            actor_id=operator_id,
        )
    # A trainee's scripted call with a mistake and a difference, on the trainer's page.
    with kernel.db.unit_of_work() as s:
        trainee = create_user(s, "trainee", "pw-trainee-long", "operator", "Trainee", strength_checked=False)
        trainee.trainee = True
        scenario = TrainingScenario(
            title="t", caller_phone="+79035550102", caller_name="n", request_text="r", address="a", lines=[]
        )
        s.add(scenario)
        s.flush()
        given = TrainingAssignment(scenario_id=scenario.id, trainee_id=trainee.id)
        s.add(given)
        s.flush()
        s.add(
            TrainingCall(
                trainee_id=trainee.id,
                started_at=utcnow(),
                duration_s=60,
                keystrokes=100,
                assignment_id=given.id,
                mistakes=[{"kind": "zone", "code": "outside_zones", "message": "m"}],
                differences=[{"field": "address", "expected": "e", "actual": "a"}],
            )
        )
    # A webhook endpoint with a delivery that got an answer and one that got none, a parked event.
    with kernel.db.unit_of_work() as s:
        hook = WebhookEndpoint(
            url="https://hooks.example.org/in", events=["*"], secret="s" * 24, description="d"
        )
        s.add(hook)
        s.flush()
        for n, code in ((1, 500), (2, None)):
            s.add(
                WebhookDelivery(
                    endpoint_id=hook.id,
                    event_id=n,
                    event_type="order_placed",
                    body="{}",
                    status="parked",
                    attempts=3,
                    last_status_code=code,
                    last_response="r",
                    last_error="e",
                )
            )
        first = s.scalar(sa.select(sa.func.min(OutboxEvent.id)))
        s.execute(
            sa.update(OutboxEvent).where(OutboxEvent.id == first).values(state="parked", last_error="e")
        )


@dataclass
class PlantedServer:
    """The live server of the planted database and the phone of a client with a long history."""

    url: str
    client_phone: str
    server: LiveServer


@pytest.fixture(scope="module")
def planted(_sqlite_template, tmp_path_factory) -> Iterator[PlantedServer]:
    """The demo day with a payload in every free-text field, served by an app started afterwards
    (so no cache holds a name from before)."""
    tmp = tmp_path_factory.mktemp("stored-scripts")
    url = _sqlite_template.fresh(tmp)
    loader = _make_app(url, tmp)
    load_demo(loader)
    users = make_users(loader)
    plant_payloads(loader.extensions["frontoffice"].db.engine)
    add_what_the_demo_leaves_empty(loader, users["operator"].id)
    with loader.extensions["frontoffice"].db.reading() as s:
        phone = s.execute(
            sa.text(
                "SELECT c.phone FROM clients c JOIN orders o ON o.client_phone = c.phone "
                "JOIN client_addresses a ON a.client_id = c.id "
                "GROUP BY c.phone ORDER BY count(o.id) DESC LIMIT 1"
            )
        ).scalar_one()
    loader.extensions["frontoffice"].db.dispose()
    app = _make_app(url, tmp)
    server = LiveServer(app)
    yield PlantedServer(server.url, phone, server)
    hub = app.extensions["frontoffice"].extensions.find(MONITOR_HUB)
    if hub is not None:
        hub.stop()
    server.stop()
    app.extensions["frontoffice"].db.dispose()


@dataclass
class Watch:
    """What went wrong in a page: dialogs, CSP violations, console errors, uncaught exceptions."""

    page: Any
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.add_init_script(SELF_REPORT)
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: m.type == "error" and self.note(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.note(f"uncaught: {e}"))

    def note(self, what: str) -> None:
        """Record a problem on the page it happened on."""
        self.problems.append(f"{urlsplit(self.page.url).path}: {what}")

    def _dialog(self, dialog: Any) -> None:
        self.note(f"{dialog.type} dialog {dialog.message!r}")
        dialog.dismiss()

    def look_at(self) -> None:
        """Open every map label and look for elements a payload made."""
        open_map_labels(self.page)
        self.page.wait_for_timeout(150)  # a broken image fires its onerror
        for found in self.page.eval_on_selector_all(INJECTED, "ns => ns.map(n => n.outerHTML.slice(0, 120))"):
            self.note(f"injected element {found}")


def open_map_labels(page: Any) -> None:
    """Hover every shape and marker of every Leaflet map, so each tooltip is drawn."""
    page.evaluate(
        """() => {
          for (const n of document.querySelectorAll(".leaflet-interactive, .leaflet-marker-icon")) {
            const box = n.getBoundingClientRect();
            const at = { bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 };
            n.dispatchEvent(new MouseEvent("mouseover", at));
            n.dispatchEvent(new MouseEvent("mousemove", at));
          }
        }"""
    )


def settle(page: Any) -> None:
    """Wait until the page's scripts have fetched what they show (the sockets of live pages
    never go quiet, so this counts the page's fetches rather than waiting for an idle network)."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => done(window.__inflight === 0), 50)))"
    )


def crawl(page: Any, watch: Watch, base: str) -> list[str]:
    """Open the start page and every page reachable by its links (same site, GET, at most
    :data:`PER_KIND` detail pages of one kind); the paths opened."""
    queue, seen, kinds, opened = [f"{base}/"], set(), {}, []
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        kind = re.sub(r"\d+", "N", path)
        if url in seen or SKIPPED.search(path) or kinds.get(kind, 0) >= PER_KIND:
            continue
        seen.add(url)
        kinds[kind] = kinds.get(kind, 0) + 1
        response = page.goto(url)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        settle(page)
        watch.look_at()
        opened.append(path)
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            link, _ = urldefrag(href)
            if link.startswith(base) and link not in seen:
                queue.append(link)
    return opened


@pytest.fixture
def watched(page) -> Watch:
    """A fresh page watched for dialogs, CSP violations and errors."""
    return Watch(page)


@pytest.mark.parametrize("role", ["operator", "manager", "admin", "backoffice"])
def test_no_page_runs_a_stored_script(planted, watched, role):
    page = watched.page
    login(page, planted.url, f"test-{role}", f"pw-{role}")
    opened = crawl(page, watched, planted.url)
    assert len(opened) >= 3, opened
    assert not watched.problems, "\n".join(watched.problems)


def test_the_workspace_shows_a_planted_dossier_menu_and_map_as_text(planted, watched, artifacts):
    page = watched.page
    login(page, planted.url, "test-operator", "pw-operator")
    page.goto(f"{planted.url}/callcentre")
    page.fill("#phone", planted.client_phone)
    page.press("#phone", "Enter")
    page.wait_for_selector("#dossier:not([hidden]) #history li")
    assert "<img" in page.input_value("#client-name")  # the name is there, as text
    page.click("#repeat-last")
    page.wait_for_selector("#cart-lines tr")
    settle(page)
    watched.look_at()
    page.locator("#menu-items li").first.dispatch_event("click")  # a pizza: its modifiers dialog opens
    page.wait_for_selector("#modifiers-dialog[open]")
    watched.look_at()
    page.click("#modifiers-cancel")
    page.keyboard.press("Alt+KeyM")
    page.wait_for_selector("#map-dialog[open] .cc-map-label")
    page.wait_for_selector("#map path.leaflet-interactive")
    watched.look_at()
    assert page.locator(".leaflet-tooltip", has_text="delivery_zones.name").count() >= 1
    page.screenshot(path=str(artifacts / "workspace-map.png"))
    assert not watched.problems, "\n".join(watched.problems)


def test_the_monitor_map_shows_planted_couriers_zones_and_branches_as_text(planted, watched, artifacts):
    page = watched.page
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, planted.url, "test-manager", "pw-manager")
    page.goto(f"{planted.url}/monitor")
    page.wait_for_selector("#mon-conn.live")
    page.wait_for_selector("#mon-map .leaflet-marker-icon")
    page.wait_for_function("() => document.querySelectorAll('#mon-map path.leaflet-interactive').length > 8")
    watched.look_at()
    tooltips = page.eval_on_selector_all(".leaflet-tooltip", "ns => ns.map(n => n.textContent)")
    assert any("couriers.name" in t for t in tooltips), tooltips
    assert any("delivery_zones.name" in t for t in tooltips), tooltips
    page.screenshot(path=str(artifacts / "monitor-map.png"))
    assert not watched.problems, "\n".join(watched.problems)


def test_every_text_column_is_planted_or_is_a_code():
    """The lists above cover the schema: a new text column is either planted or declared a code."""
    load_all_models()
    lists = (FREE_TEXT, FREE_TEXT_JSON)
    planted_columns = {f"{t}.{c}" for chosen in lists for t, cs in chosen.items() for c in cs}
    text_columns = {
        f"{t.name}.{c.name}"
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, sa.String | sa.Text | sa.JSON)
    }
    assert text_columns - planted_columns - CODES == set()
    assert CODES <= text_columns


def test_the_courier_app_shows_planted_orders_as_text(planted, watched, artifacts):
    """The courier's app (its pool, orders and shift) on the planted day, as the demo courier."""
    import json

    from couriers.models import Courier
    from couriers.services import claim_order, open_shift, start_shift
    from frontoffice.auth import issue_token
    from frontoffice.models import User
    from orders.models import Order

    app = planted.server.app
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        courier = s.scalars(
            sa.select(Courier).where(Courier.user_id.is_not(None)).order_by(Courier.id)
        ).first()
        if open_shift(s, courier.id) is None:
            start_shift(s, courier)
        courier_id, branch_ids = courier.id, courier.branch_ids
    # two planted orders of its branches back in the pool (as if the kitchen had just confirmed them)
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        pool = s.scalars(
            sa.select(Order.id)
            .where(Order.kind == "delivery", Order.branch_id.in_(branch_ids), Order.lat.is_not(None))
            .order_by(Order.id)
            .limit(2)
        ).all()
        s.execute(sa.update(Order).where(Order.id.in_(pool)).values(status="ready", courier_id=None))
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        courier = s.get(Courier, courier_id)
        claim_order(s, courier, pool[0], actor_id=courier.user_id)
        token = issue_token(s, s.get(User, courier.user_id), "stored scripts")
        session = {
            "token": token,
            "expires_at": None,
            "issued_at": "2026-01-01T00:00:00Z",
            "courier": {"id": courier.id},
        }
    page = watched.page
    page.add_init_script(f"localStorage.setItem('courierapp.session', {json.dumps(json.dumps(session))})")
    page.goto(f"{planted.url}/courier/")
    page.wait_for_selector("#screen[data-screen=pool] .card")
    settle(page)
    watched.look_at()
    assert "orders.address_text" in page.inner_text("#screen")
    assert re.search(r"\d+ h \d+ min late", page.inner_text("#screen"))  # the planted day is long past
    page.screenshot(path=str(artifacts / "courier-pool.png"))
    for tab in ("mine", "shift"):
        page.click(f"#tabs button[data-tab={tab}]")
        page.wait_for_selector(f"#screen[data-screen={tab}]")
        settle(page)
        watched.look_at()
    page.click("#tabs button[data-tab=mine]")
    assert "orders.comment" in page.inner_text("#screen") or "orders.address_text" in page.inner_text(
        "#screen"
    )
    page.click("#screen .card.mine button.pickup")
    page.screenshot(path=str(artifacts / "courier-mine.png"))
    assert not watched.problems, "\n".join(watched.problems)
