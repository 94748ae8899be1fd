"""Placing orders against the catalogue: stored assignments and receipts, the delivery as a position
of its own, revenue limits and fallback, the default organization, the backtest and the lint, and the
compiled rules following changes made elsewhere."""

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
from orders.models import Order, OrderLine, OrderReceipt, OrganizationRevenue
from orders.ports import PLACEMENT_POLICIES
from tests.conftest import load_demo_catalogue
from tests.helpers import order_command

LLC, DRINKS_IP, DESSERTS_IP = 1, 2, 3
#: The demo's condition giving the delivery position to the LLC on ОСН.
DELIVERY_CONDITION = 4


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
        assert sum(ln.amount for ln in order.lines) + 9900 == order.total
        assert sum(ln.discount_share for ln in order.lines) == 5000
        receipts = s.scalars(select(OrderReceipt).where(OrderReceipt.order_id == order_id)).all()
        assert [(r.organization_id, r.tax_system) for r in receipts] == [
            (LLC, "osn"),
            (DRINKS_IP, "usn_income"),
            (DESSERTS_IP, "psn"),
        ]
        assert sum(r.total for r in receipts) == order.total
        assert receipts[0].inn == "1655012344" and receipts[0].vat == order.lines[0].vat + 1785
    assert revenue(demo, DRINKS_IP) == order.lines[1].amount


def test_the_delivery_is_stored_as_a_position_of_its_own_and_food_only_carries_the_discount(demo):
    with demo.db.unit_of_work() as s:
        order = services.place_order(
            s, command(("PZ-MARG", 2), ("DR-COLA05", 1), discount=5000, delivery_fee=15000)
        )
        order_id = order.id
    with demo.db.reading() as s:
        order = services.get_order(s, order_id)
        # 1098.00 + 129.00 − 50.00 + 150.00; the discount's quotas 44.7432… and 5.2567…
        assert order.total == 109800 + 12900 - 5000 + 15000
        assert [(ln.total, ln.discount_share, ln.delivery_fee_share, ln.amount) for ln in order.lines] == [
            (109800, 4474, 0, 105326),
            (12900, 526, 0, 12374),
        ]
        (delivery,) = order.charges
        # 150.00 × 22/122 = 27.049… → 27.05
        assert (
            delivery.kind,
            delivery.sku,
            delivery.name,
            delivery.amount,
            delivery.vat_rate,
            delivery.vat,
        ) == (
            "delivery",
            "DELIVERY",
            "Delivery",
            15000,
            "vat22",
            2705,
        )
        assert (delivery.organization_id, delivery.tax_system, delivery.condition_id) == (
            LLC,
            "osn",
            DELIVERY_CONDITION,
        )
        llc, ip = order.receipts
        assert (llc.organization_id, llc.total, llc.vat) == (LLC, 105326 + 15000, order.lines[0].vat + 2705)
        assert (ip.organization_id, ip.total) == (DRINKS_IP, 12374)
    assert revenue(demo, LLC) == 105326 + 15000


def test_pickup_and_free_delivery_have_no_delivery_position(demo):
    with demo.db.unit_of_work() as s:
        pickup = services.place_order(s, command(("PZ-MARG", 1), kind="pickup", address_text=""))
        free = services.place_order(s, command(("PZ-MARG", 1), delivery_fee=0))
        assert pickup.charges == [] and free.charges == []
        assert [r.total for r in pickup.receipts] == [r.total for r in free.receipts] == [54900]


def test_the_delivery_fee_counts_to_its_sellers_revenue_and_limit(demo):
    with demo.db.unit_of_work() as s:
        catalogue.save_condition(
            s, DELIVERY_CONDITION, {"organization_id": DRINKS_IP, "tax_system": "usn_income"}
        )
        catalogue.save_organization(s, DRINKS_IP, {"annual_revenue_limit": 30000}, on=utcnow().date())
    placed = []
    for _ in range(3):  # 150.00 each: the limit of 300.00 is reached after the second order
        with demo.db.unit_of_work() as s:
            order = services.place_order(s, command(("PZ-MARG", 1), delivery_fee=15000))
            (delivery,) = order.charges
            placed.append((order.id, delivery.organization_id, delivery.vat_rate, delivery.vat))
    assert [p[1:] for p in placed] == [
        (DRINKS_IP, "none", 0),
        (DRINKS_IP, "none", 0),
        (LLC, "vat22", 2705),  # past the limit the fallback sells the delivery
    ]
    assert revenue(demo, DRINKS_IP) == 30000
    assert revenue(demo, LLC) == 3 * 54900 + 15000
    with demo.db.unit_of_work() as s:
        services.cancel(s, placed[0][0], "client changed their mind")
    assert revenue(demo, DRINKS_IP) == 15000


def test_an_order_with_a_fee_is_refused_when_no_condition_covers_the_delivery(demo):
    with demo.db.unit_of_work() as s:
        for c in catalogue.list_conditions(s):
            if c.scope == "all" or c.id == DELIVERY_CONDITION:
                catalogue.delete_condition(s, c.id)
    with pytest.raises(InvalidInput) as refused, demo.db.unit_of_work() as s:
        services.place_order(s, command(("DR-WATER", 1), delivery_fee=9900))
    assert refused.value.errors == [
        {
            "field": "delivery_fee",
            "message": "No distribution condition says which organization sells the delivery "
            "(Delivery, DELIVERY); an administrator must add one.",
            "type": "value_error",
        }
    ]
    with demo.db.unit_of_work() as s:  # a free delivery has no delivery position to sell
        assert services.place_order(s, command(("DR-WATER", 1), delivery_fee=0)).charges == []


def test_the_lint_says_when_delivery_is_not_covered_and_only_for_deliveries(demo):
    today = utcnow().date()
    with demo.db.unit_of_work() as s:
        catalogue.delete_condition(s, DELIVERY_CONDITION)
    with demo.db.reading() as s:  # the condition on all nomenclature still covers the delivery
        assert catalogue.lint(s, today)["uncovered"] == []
    with demo.db.unit_of_work() as s:
        catalogue.delete_condition(s, next(c.id for c in catalogue.list_conditions(s) if c.scope == "all"))
    with demo.db.reading() as s:
        uncovered = {u["sku"]: u for u in catalogue.lint(s, today)["uncovered"]}
    delivery = uncovered["DELIVERY"]
    assert delivery["everywhere"] and delivery["message"].startswith(
        "Delivery is not covered in any delivery context: no distribution condition says which "
        "organization sells the delivery position (DELIVERY)"
    )
    assert {c["order_kind"] for c in delivery["contexts"]} == {"delivery"}
    assert {c["order_kind"] for c in uncovered["PZ-MARG"]["contexts"]} == {"delivery", "pickup"}
    assert uncovered["PZ-MARG"]["message"] is None


def test_the_backtest_replays_the_delivery_like_a_line(demo):
    with demo.db.unit_of_work() as s:
        order = services.place_order(s, command(("DR-COLA05", 2), delivery_fee=9900))
        day = order.business_date
    with demo.db.reading() as s:
        delivery_item = catalogue.delivery_item(s)
        proposal = catalogue.proposed_condition(
            -1,
            {
                "scope": "item",
                "item_id": delivery_item.id,
                "organization_id": DRINKS_IP,
                "tax_system": "usn_income",
                "priority": 1,
            },
            utcnow(),
        )
        result = services.backtest(s, [proposal], start=day, end=day)
        same = services.backtest(s, [], start=day, end=day)
    assert (result.orders, result.lines) == (1, 2)
    assert result.before == {DRINKS_IP: 25800, LLC: 9900}
    assert result.after == {DRINKS_IP: 25800 + 9900}
    assert (result.moved_lines, result.moved_amount) == (1, 9900)
    assert same.after == same.before and same.moved_lines == 0


def test_an_order_taken_before_the_delivery_was_a_position_keeps_its_receipts_as_recorded(demo):
    # Such an order spread its fee over the lines (delivery_fee_share) and stored no delivery position:
    # here one is written as it was, a pizza and two colas with a fee of 99.00 shared 54.00 / 45.00.
    with demo.db.unit_of_work() as s:
        order = services.place_order(s, command(("PZ-MARG", 1), ("DR-COLA05", 1), delivery_fee=0))
        order_id = order.id
        order.delivery_fee, order.total = 9900, order.total + 9900
        for ln, share in zip(order.lines, (5400, 4500), strict=True):
            ln.delivery_fee_share, ln.amount = share, ln.amount + share
        for r, share in zip(order.receipts, (5400, 4500), strict=True):
            r.total += share
        s.flush()
    with demo.db.reading() as s:
        order, docs = services.order_receipts(s, order_id)
        assert s.get(Order, order_id).charges == []
        assert s.scalars(select(OrderLine.amount).where(OrderLine.order_id == order_id)).all() == [
            60300,
            17400,
        ]
    assert [[(i["line"], i["price"], i["subject"]) for i in d["items"]] for d in docs] == [
        [(0, "603.00", 1)],
        [(1, "174.00", 1)],
    ]
    assert sum(int(d["total"].replace(".", "")) for d in docs) == order.total == 54900 + 12900 + 9900


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
                s,
                command(("WK-CHK", 1), ("DR-WATER", 1), delivery_fee=9900),
                policies=kernel.extensions.all(PLACEMENT_POLICIES),
            )
            assert [(ln.organization_id, ln.condition_id) for ln in order.lines] == [
                (LLC, None),
                (DRINKS_IP, 2),
            ]
            # The delivery condition still decides the delivery; without it the default sells it too.
            assert [(c.organization_id, c.condition_id) for c in order.charges] == [(LLC, DELIVERY_CONDITION)]
            catalogue.delete_condition(s, DELIVERY_CONDITION)
        with kernel.db.unit_of_work() as s:
            order = services.place_order(
                s,
                command(("DR-WATER", 1), delivery_fee=9900),
                policies=kernel.extensions.all(PLACEMENT_POLICIES),
            )
            assert [(c.organization_id, c.tax_system, c.condition_id) for c in order.charges] == [
                (LLC, "osn", None)
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
        assert len(catalogue.list_conditions(s)) == 4
        assert catalogue.delivery_item(s).sku == "DELIVERY"
        assert len(catalogue.list_modifier_groups(s)) == 5
        lint = catalogue.lint(s, utcnow().date())
    assert lint["ambiguous"] == [] and lint["uncovered"] == [] and lint["problems"] == []
