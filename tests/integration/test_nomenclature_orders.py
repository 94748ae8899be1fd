"""Placing orders against the catalogue: stored assignments and receipts, revenue limits and
fallback, the default organization, and the compiled rules following changes made elsewhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from frontoffice.app import create_app
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput
from nomenclature import services as catalogue
from nomenclature.distribution import ORDER_KINDS as NOMENCLATURE_KINDS
from nomenclature.distribution import PAYMENT_KINDS as NOMENCLATURE_PAYMENTS
from nomenclature.distribution import SaleContext
from orders import services
from orders.models import OrderReceipt, OrganizationRevenue
from orders.ports import PLACEMENT_POLICIES
from tests.conftest import load_demo_catalogue
from tests.helpers import order_command

LLC, DRINKS_IP, DESSERTS_IP = 1, 2, 3


def command(*lines: tuple[str, int], **kw) -> services.PlaceOrder:
    """The test order of ``lines``, with no point on the map."""
    return order_command(*lines, **{"lat": None, "lon": None, **kw})


@pytest.fixture
def demo(app):
    load_demo_catalogue(app)
    return app.extensions["frontoffice"]


def revenue(kernel, org: int) -> int:
    with kernel.db.reading() as s:
        row = s.scalar(select(OrganizationRevenue.total).where(OrganizationRevenue.organization_id == org))
        return row or 0


def test_the_order_kinds_and_payments_known_to_distribution_are_those_of_orders():
    assert NOMENCLATURE_KINDS == services.ORDER_KINDS
    assert NOMENCLATURE_PAYMENTS == services.PAYMENT_KINDS


def test_placing_an_order_stores_each_lines_seller_and_one_receipt_per_seller(demo):
    with demo.db.unit_of_work() as s:
        order = services.place_order(
            s, command(("PZ-MARG", 1), ("DR-COLA05", 2), ("DS-TIRAM", 1), discount=5000, delivery_fee=9900)
        )
        order_id = order.id
    with demo.db.reading() as s:
        order = services.get_order(s, order_id)
        assert [(ln.organization_id, ln.tax_system, ln.vat_rate) for ln in order.lines] == [
            (LLC, "osn", "vat22"),
            (DRINKS_IP, "usn_income", "none"),
            (DESSERTS_IP, "psn", "none"),
        ]
        assert sum(ln.amount for ln in order.lines) == order.total
        assert sum(ln.discount_share for ln in order.lines) == 5000
        assert sum(ln.delivery_fee_share for ln in order.lines) == 9900
        receipts = s.scalars(select(OrderReceipt).where(OrderReceipt.order_id == order_id)).all()
        assert [(r.organization_id, r.tax_system) for r in receipts] == [
            (LLC, "osn"),
            (DRINKS_IP, "usn_income"),
            (DESSERTS_IP, "psn"),
        ]
        assert sum(r.total for r in receipts) == order.total
        assert receipts[0].inn == "1655012344" and receipts[0].vat == order.lines[0].vat
    assert revenue(demo, DRINKS_IP) == order.lines[1].amount


def test_an_order_that_ends_unsold_takes_its_revenue_back(demo):
    with demo.db.unit_of_work() as s:
        order_id = services.place_order(s, command(("DR-COLA05", 4))).id
    assert revenue(demo, DRINKS_IP) == 4 * 12900
    with demo.db.unit_of_work() as s:
        services.cancel(s, order_id, "client changed their mind")
    assert revenue(demo, DRINKS_IP) == 0


def test_past_its_revenue_limit_the_sole_proprietor_hands_the_drinks_to_the_llc(demo):
    with demo.db.unit_of_work() as s:
        catalogue.save_organization(s, DRINKS_IP, {"annual_revenue_limit": 50000}, on=utcnow().date())
    placed = []
    for _ in range(3):  # 2 × 258.00 each: the limit of 500.00 is reached after the second order
        with demo.db.unit_of_work() as s:
            order = services.place_order(s, command(("DR-COLA05", 2)))
            placed.append(
                (order.lines[0].organization_id, order.lines[0].vat_rate, order.lines[0].condition_id)
            )
    assert placed[0] == placed[1] == (DRINKS_IP, "none", 2)
    assert placed[2] == (LLC, "vat22", 2)  # the drinks condition still decided; the fallback sold
    with demo.db.reading() as s:
        explained = catalogue.explain_lines(
            s,
            [catalogue.items_for_lines(s, ["DR-COLA05"], [])[0]["DR-COLA05"]],
            SaleContext(utcnow().date(), 1, "delivery", "cash"),
            revenue=services.revenue_this_year(s, [DRINKS_IP], utcnow().date()),
        )
    assert explained[0]["assignment"]["fallback_from"] == [DRINKS_IP]
    assert "reached its annual revenue limit" in explained[0]["assignment"]["notes"][0]


def test_without_a_default_organization_an_uncovered_line_refuses_the_order(demo):
    with demo.db.unit_of_work() as s:
        for c in catalogue.list_conditions(s):
            if c.scope == "all":
                catalogue.delete_condition(s, c.id)
    with pytest.raises(InvalidInput) as refused, demo.db.unit_of_work() as s:
        services.place_order(s, command(("WK-CHK", 1), ("DR-WATER", 1)))
    assert refused.value.errors == [
        {
            "field": "lines.0",
            "message": "No distribution condition says which organization sells Wok noodles with chicken "
            "(WK-CHK); an administrator must add one.",
            "type": "value_error",
        }
    ]


def test_a_configured_default_organization_sells_what_no_condition_covers(demo, database_url, tmp_path):
    with demo.db.unit_of_work() as s:
        for c in catalogue.list_conditions(s):
            if c.scope == "all":
                catalogue.delete_condition(s, c.id)
    app = create_app(
        {
            "database_url": database_url,
            "secret_key": "test",
            "testing": True,
            "instance_path": tmp_path / "other",
            "default_organization_id": LLC,
        }
    )
    kernel = app.extensions["frontoffice"]
    try:
        with kernel.db.unit_of_work() as s:
            order = services.place_order(
                s, command(("WK-CHK", 1), ("DR-WATER", 1)), policies=kernel.extensions.all(PLACEMENT_POLICIES)
            )
            assert [(ln.organization_id, ln.condition_id) for ln in order.lines] == [
                (LLC, None),
                (DRINKS_IP, 2),
            ]
    finally:
        kernel.db.dispose()


def test_a_change_made_through_another_process_reaches_the_next_sale(demo, database_url, tmp_path):
    other = create_app(
        {
            "database_url": database_url,
            "secret_key": "test",
            "testing": True,
            "instance_path": tmp_path / "other",
        }
    )
    other_kernel = other.extensions["frontoffice"]
    try:
        with demo.db.unit_of_work() as s:
            assert services.place_order(s, command(("DS-CHEES", 1))).lines[0].organization_id == DESSERTS_IP
        with other_kernel.db.unit_of_work() as s:
            cheesecake = catalogue.items_for_lines(s, ["DS-CHEES"], [])[0]["DS-CHEES"]
            catalogue.save_condition(
                s,
                None,
                {"scope": "item", "item_id": cheesecake.id, "organization_id": LLC, "tax_system": "osn"},
            )
        with demo.db.unit_of_work() as s:
            assert services.place_order(s, command(("DS-CHEES", 1))).lines[0].organization_id == LLC
    finally:
        other_kernel.db.dispose()


def test_demo_data_loads_twice_without_duplicates(demo, app):
    load_demo_catalogue(app)
    with demo.db.reading() as s:
        assert len(catalogue.list_organizations(s)) == 3
        assert len(catalogue.list_conditions(s)) == 3
        assert len(catalogue.list_modifier_groups(s)) == 5
        lint = catalogue.lint(s, utcnow().date())
    assert lint["ambiguous"] == [] and lint["uncovered"] == [] and lint["problems"] == []
