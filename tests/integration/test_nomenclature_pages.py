"""The admin pages: organizations and conditions are listed, created and edited; refusals are
shown as readable reasons; the lint and the explanation of a cart are shown; the stop-list toggles."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from nomenclature.models import DistributionCondition, Item, Organization, StopListEntry
from tests.conftest import load_demo_catalogue, make_users
from tests.helpers import AuthActions, OrderActions


def problems(page: bytes) -> list[str]:
    block = re.search(rb'class="nm-problems".*?</div>', page, re.S)
    return [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", block.group(0).decode())] if block else []


@pytest.fixture
def admin_pages(sqlite_app):
    """A logged-in admin's browser session on the demo data, and the app's database."""
    load_demo_catalogue(sqlite_app)
    make_users(sqlite_app)
    client = sqlite_app.test_client()
    AuthActions(client).login("admin")
    return client, sqlite_app.extensions["frontoffice"].db


def count(db, model) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_admin_finds_the_nomenclature_pages_in_the_top_bar(admin_pages):
    client, _db = admin_pages
    page = client.get("/admin/nomenclature/organizations")
    assert page.status_code == 200
    assert b'href="/admin/nomenclature/organizations"' in client.get("/").data
    for name in (b"LLC &#34;Kazan Food&#34;", b"1655012344", b"165501001", b"PSN (patent) (32)"):
        assert name in page.data


def test_an_organization_is_added_and_edited_and_a_bad_one_is_explained(admin_pages):
    client, db = admin_pages
    token = AuthActions.csrf(client.get("/admin/nomenclature/organizations").data)
    bad = client.post(
        "/admin/nomenclature/organizations",
        data={
            "csrf_token": token,
            "name": "LLC Typo",
            "inn": "1655012345",
            "kpp": "165501001",
            "tax_systems": ["osn"],
            "pays_vat": "on",
            "default_vat_rate": "vat22",
            "active": "on",
        },
    )
    assert bad.status_code == 422
    assert problems(bad.data) == ["inn: the INN's check digit is wrong (mistyped?)"]
    assert b'value="LLC Typo"' in bad.data  # the form keeps what was typed
    assert count(db, Organization) == 3
    good = client.post(
        "/admin/nomenclature/organizations",
        data={
            "csrf_token": token,
            "name": "LLC Sber Catering",
            "inn": "7707083893",
            "kpp": "770701001",
            "tax_systems": ["osn"],
            "pays_vat": "on",
            "default_vat_rate": "vat22",
            "annual_revenue_limit": "1 000 000,50",
            "active": "on",
        },
    )
    assert good.status_code == 302
    with db.reading() as s:
        org = s.scalar(select(Organization).where(Organization.inn == "7707083893"))
        assert org.annual_revenue_limit == 100000050
    edit = client.post(
        f"/admin/nomenclature/organizations/{org.id}",
        data={
            "csrf_token": token,
            "name": "LLC Sber Catering",
            "inn": "7707083893",
            "kpp": "770701001",
            "tax_systems": ["osn"],
            "pays_vat": "on",
            "default_vat_rate": "vat10",
            "active": "on",
        },
    )
    assert edit.status_code == 302
    with db.reading() as s:
        assert s.get(Organization, org.id).default_vat_rate == "vat10"
        assert s.get(Organization, org.id).annual_revenue_limit is None


def test_a_condition_is_added_and_a_period_ending_before_it_starts_is_refused(admin_pages):
    client, db = admin_pages
    page = client.get("/admin/nomenclature/conditions")
    token = AuthActions.csrf(page.data)
    assert b"Drinks: sole proprietor" in page.data and b"USN income (simplified)" in page.data
    form = {
        "csrf_token": token,
        "name": "Sauces from the kitchen",
        "scope": "group",
        "group_id": "11",
        "organization_id": "1",
        "tax_system": "osn",
        "vat_rate": "vat10",
        "valid_from": "2027-01-10",
        "valid_to": "2027-01-01",
        "priority": "5",
        "active": "on",
        "branch_ids": ["1"],
    }
    before = count(db, DistributionCondition)
    bad = client.post("/admin/nomenclature/conditions", data=form)
    assert bad.status_code == 422
    assert problems(bad.data) == ["valid_to: the period ends (2027-01-01) before it starts (2027-01-10)"]
    assert count(db, DistributionCondition) == before
    good = client.post("/admin/nomenclature/conditions", data={**form, "valid_to": "2027-12-31"})
    assert good.status_code == 302
    with db.reading() as s:
        cond = s.scalar(
            select(DistributionCondition).where(DistributionCondition.name == "Sauces from the kitchen")
        )
        assert (cond.group_id, cond.priority, cond.branch_ids, cond.vat_rate) == (11, 5, [1], "vat10")
    edit = client.post(
        f"/admin/nomenclature/conditions/{cond.id}",
        data={**form, "valid_to": "", "valid_from": "", "priority": "7"},
    )
    assert edit.status_code == 302
    with db.reading() as s:
        assert s.get(DistributionCondition, cond.id).priority == 7
    assert (
        client.post(
            f"/admin/nomenclature/conditions/{cond.id}/delete", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert count(db, DistributionCondition) == before


def test_the_lint_page_shows_ambiguities(admin_pages):
    client, _db = admin_pages
    assert b'id="lint-ok"' in client.get("/admin/nomenclature/lint").data
    token = AuthActions.csrf(client.get("/admin/nomenclature/conditions").data)
    client.post(
        "/admin/nomenclature/conditions",
        data={
            "csrf_token": token,
            "name": "Rival",
            "scope": "group",
            "group_id": "10",
            "organization_id": "1",
            "tax_system": "osn",
            "priority": "0",
            "active": "on",
        },
    )
    page = client.get("/admin/nomenclature/lint").data.decode()
    assert 'id="lint-ok"' not in page
    assert "only their age separates them" in page


def explained(client, token: str, lines: str) -> str:
    """The explain page for a cart sold in branch 1, delivered and paid in cash."""
    data = {"csrf_token": token, "branch_id": "1", "kind": "delivery", "payment_kind": "cash", "lines": lines}
    return html.unescape(client.post("/admin/nomenclature/explain", data=data).data.decode())


def test_the_explain_page_says_who_sells_each_line_and_why(admin_pages):
    client, _db = admin_pages
    page = client.get("/admin/nomenclature/explain")
    token = AuthActions.csrf(page.data)
    shown = explained(client, token, "DS-CHEES 1\nPZ-MARG")
    assert "IP Khasanov R. I. (desserts)" in shown and "PSN (patent) (32)" in shown
    assert "a more specific scope won" in shown
    unknown = client.post("/admin/nomenclature/explain", data={"csrf_token": token, "lines": "NOPE"})
    assert unknown.status_code == 422 and problems(unknown.data) == ["lines.0: unknown item 'NOPE'"]


def test_the_catalogue_page_toggles_the_stop_list(admin_pages):
    client, db = admin_pages
    page = client.get("/admin/nomenclature/catalogue?branch_id=2")
    token = AuthActions.csrf(page.data)
    assert b"Pizza size (0\xe2\x80\x931)" in page.data
    resp = client.post(
        "/admin/nomenclature/catalogue",
        data={
            "csrf_token": token,
            "branch_id": "2",
            "item_id": "3",
            "action": "stop",
            "reason": "no gorgonzola",
        },
    )
    assert resp.status_code == 302
    assert b"no gorgonzola" in client.get("/admin/nomenclature/catalogue?branch_id=2").data
    client.post(
        "/admin/nomenclature/catalogue",
        data={"csrf_token": token, "branch_id": "2", "item_id": "3", "action": "resume"},
    )
    assert count(db, StopListEntry) == 0


def test_strangers_are_sent_to_log_in_and_operators_may_not_edit(sqlite_app):
    load_demo_catalogue(sqlite_app)
    make_users(sqlite_app)
    client = sqlite_app.test_client()
    assert client.get("/admin/nomenclature/conditions").status_code == 302
    AuthActions(client).login("operator")
    assert client.get("/admin/nomenclature/conditions").status_code == 403
    assert client.get("/admin/nomenclature/catalogue").status_code == 200


def test_the_backtest_page_shows_revenue_before_and_after_a_proposal(admin_pages, sqlite_app):
    client, db = admin_pages
    OrderActions(sqlite_app.extensions["frontoffice"]).place(
        ("DR-COLA05", 2), ("PZ-MARG", 1), address_text="Kazan", lat=None, lon=None, policies=False
    )
    token = AuthActions.csrf(client.get("/admin/nomenclature/backtest").data)
    page = client.post(
        "/admin/nomenclature/backtest",
        data={
            "csrf_token": token,
            "days": "7",
            "mode": "add",
            "scope": "group",
            "group_id": "7",
            "organization_id": "1",
            "tax_system": "osn",
            "priority": "1",
        },
    )
    assert page.status_code == 200
    text = page.data.decode()
    assert "1 orders, 2 lines" in text and "Lines that would change hands: 1, worth 258.00" in text
    assert '<td>IP Galimova A. R. (drinks)</td><td class="num">258.00</td><td class="num">0.00</td>' in text
    bad = client.post(
        "/admin/nomenclature/backtest",
        data={
            "csrf_token": token,
            "days": "7",
            "scope": "group",
            "group_id": "999",
            "organization_id": "1",
            "tax_system": "osn",
        },
    )
    assert bad.status_code == 422 and problems(bad.data) == ["conditions.0.group_id: unknown group 999"]


def test_items_groups_and_modifiers_are_kept_from_their_pages(admin_pages):
    from nomenclature.models import Item, ItemGroup, ModifierGroup

    client, db = admin_pages
    page = client.get("/admin/nomenclature/items")
    token = AuthActions.csrf(page.data)
    assert b"Sushi &amp; rolls \xe2\x80\xba Rolls" in page.data
    bad_group = client.post(
        "/admin/nomenclature/items",
        data={"csrf_token": token, "form": "group", "name": "Loose", "parent_id": "999"},
    )
    assert bad_group.status_code == 422 and problems(bad_group.data) == [
        "parent_id: unknown parent group 999"
    ]
    assert (
        client.post(
            "/admin/nomenclature/items",
            data={"csrf_token": token, "form": "group", "name": "Soups", "parent_id": ""},
        ).status_code
        == 302
    )
    with db.reading() as s:
        soups = s.scalars(select(ItemGroup).where(ItemGroup.name == "Soups")).one()
    item = {
        "csrf_token": token,
        "form": "item",
        "sku": "SP-TOM",
        "name": "Tom yum",
        "price": "459,00",
        "vat_rate": "vat22",
        "group_id": str(soups.id),
        "unit": "pcs",
        "active": "on",
    }
    bad = client.post("/admin/nomenclature/items", data={**item, "price": "4.591"})
    assert bad.status_code == 422 and "fractions of a minor unit" in problems(bad.data)[0]
    assert client.post("/admin/nomenclature/items", data=item).status_code == 302
    with db.reading() as s:
        tom = s.scalars(select(Item).where(Item.sku == "SP-TOM")).one()
        assert (tom.price, tom.group_id) == (45900, soups.id)
    mods = client.post(
        "/admin/nomenclature/modifiers",
        data={
            "csrf_token": token,
            "form": "group",
            "name": "Spiciness",
            "min": "1",
            "max": "1",
            "options": "Mild\nHot; 0\nInferno; 25.50",
        },
    )
    assert mods.status_code == 302
    with db.reading() as s:
        spicy = s.scalars(select(ModifierGroup).where(ModifierGroup.name == "Spiciness")).one()
        assert [(o.name, o.price_delta) for o in spicy.options] == [
            ("Mild", 0),
            ("Hot", 0),
            ("Inferno", 2550),
        ]
    edit = client.post(
        f"/admin/nomenclature/items/{tom.id}",
        data={**item, "price": "479.00", "modifier_group_ids": [str(spicy.id)]},
    )
    assert edit.status_code == 302
    with db.reading() as s:
        tom = s.get(Item, tom.id)
        assert tom.price == 47900 and [m.modifier_group_id for m in tom.modifier_links] == [spicy.id]
    client.post(
        "/admin/nomenclature/modifiers",
        data={
            "csrf_token": token,
            "form": "option",
            "group_id": str(spicy.id),
            "option_id": str(spicy.options[2].id),
            "active": "0",
        },
    )
    with db.reading() as s:
        assert not s.get(ModifierGroup, spicy.id).options[2].active


# --- VAT rates a seller cannot charge, and rates the law changes ------------------------------------


def farm_eggs(db) -> tuple[int, int]:
    """A УСН payer on the special 5 % rate selling a group Farm with eggs at 5 %: (condition, item)."""
    from nomenclature import services

    with db.unit_of_work() as s:
        org = services.save_organization(
            s,
            None,
            {
                "name": "IP Farm",
                "inn": "500100732259",
                "tax_systems": ["usn_income"],
                "pays_vat": True,
                "default_vat_rate": "vat5",
            },
            on=dt.date(2026, 6, 15),
        )
        group = services.save_group(s, None, {"name": "Farm"})
        cond = services.save_condition(
            s,
            None,
            {"scope": "group", "group_id": group.id, "organization_id": org.id, "tax_system": "usn_income"},
        )
        eggs = services.save_item(
            s,
            None,
            {"sku": "FM-EGGS", "name": "Farm eggs", "price": 14900, "vat_rate": "vat5", "group_id": group.id},
        )
        return cond.id, eggs.id


def test_an_items_page_says_a_legacy_rate_is_charged_as_22_percent_in_english_and_russian(admin_pages):
    client, db = admin_pages
    token = AuthActions.csrf(client.get("/admin/nomenclature/items").data)
    item = {
        "csrf_token": token,
        "form": "item",
        "sku": "PZ-OLD",
        "name": "Old pizza",
        "price": "400",
        "vat_rate": "vat20",
        "unit": "pcs",
        "active": "on",
    }
    assert client.post("/admin/nomenclature/items", data=item).status_code == 302
    with db.reading() as s:
        old = s.scalar(select(Item).where(Item.sku == "PZ-OLD"))
        margherita = s.scalar(select(Item).where(Item.sku == "PZ-MARG"))
    page = client.get(f"/admin/nomenclature/items/{old.id}").data.decode()
    assert "VAT: 20 % (legacy): charged as 22 % from 1 January 2026" in page
    assert 'id="vat-statement"' not in client.get(f"/admin/nomenclature/items/{margherita.id}").data.decode()
    AuthActions(client).choose_language("ru", back_to=f"/admin/nomenclature/items/{old.id}")
    page = client.get(f"/admin/nomenclature/items/{old.id}").data.decode()
    assert "НДС: 20 % (прежняя ставка): с 1 января 2026 года начисляется 22 %" in page


def test_the_conditions_page_refuses_a_condition_whose_seller_cannot_charge_the_rate(admin_pages):
    client, db = admin_pages
    _cond, eggs = farm_eggs(db)
    token = AuthActions.csrf(client.get("/admin/nomenclature/conditions").data)
    before = count(db, DistributionCondition)
    form = {
        "csrf_token": token,
        "name": "Eggs from the kitchen",
        "scope": "item",
        "item_id": str(eggs),
        "organization_id": "1",
        "tax_system": "osn",
        "priority": "0",
        "active": "on",
    }
    bad = client.post("/admin/nomenclature/conditions", data=form)
    assert bad.status_code == 422
    [problem] = problems(bad.data)
    assert problem.startswith('vat_rate: LLC "Kazan Food" under ОСН (general) cannot charge')
    assert "Farm eggs (FM-EGGS) at 5 %" in problem and "НК РФ ст. 164 п. 8" in problem
    assert count(db, DistributionCondition) == before


def test_the_lint_and_explain_pages_show_a_rate_the_seller_cannot_charge_and_every_change(admin_pages):
    from nomenclature import services

    client, db = admin_pages
    cond, _eggs = farm_eggs(db)
    with db.unit_of_work() as s:
        services.delete_condition(s, cond)
    lint = client.get("/admin/nomenclature/lint").data.decode()
    assert 'id="lint-ok"' not in lint
    card = html.unescape(lint[lint.index('id="vat"') : lint.index('id="problems"')])
    assert '#1 "Kitchen sells everything" gives Farm eggs (FM-EGGS)' in card and "НК РФ ст. 164 п. 8" in card
    token = AuthActions.csrf(client.get("/admin/nomenclature/explain").data)
    shown = explained(client, token, "FM-EGGS\nDS-CHEES")
    assert "the item's rate 5 %" in shown and "cannot be charged: the line is refused" in shown
    assert "which cannot charge the item's rate 5 %" in shown
    assert "22 % is sold without VAT: a patent (ПСН) replaces VAT on the patented activity" in shown
