"""Tickets from the call (issue 16, item 5): an order is named by the number people see with its
business day — in the ticket API's request, its answers, its filter, the dossier and the back-office
pages — never by an internal id; a number without its day, or one that does not exist, is refused
by field and writes nothing. The workspace is offered the ticket endpoint through its extension
point (the call centre does not import the back office)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from backoffice.models import Ticket
from tests.backoffice_helpers import place
from tests.helpers import AuthActions

pytestmark = pytest.mark.usefixtures("catalogue")

PHONE = "+79123456789"


@pytest.fixture
def two_days(kernel):
    """Two orders of the same caller with the same number, on two business days."""
    earlier = place(kernel, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    latest = place(kernel)
    assert earlier.number == latest.number and earlier.business_date != latest.business_date
    return earlier, latest


def count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Ticket))


def open_about(client, users, order, **extra):
    return client.post(
        "/api/v1/tickets",
        json={
            "kind": "complaint",
            "subject": "Cold pizza",
            "order_number": order.number,
            "order_date": order.business_date.isoformat(),
        }
        | extra,
        headers=users["operator"].headers,
    )


def test_the_day_tells_two_orders_of_the_same_number_apart(client, users, db, two_days):
    earlier, latest = two_days
    resp = open_about(client, users, earlier)
    assert resp.status_code == 201, resp.json
    assert resp.json["order_number"] == earlier.number
    assert resp.json["order_date"] == earlier.business_date.isoformat()
    assert "order_id" not in resp.json and resp.json["client_phone"] == PHONE
    with db.reading() as s:
        assert s.scalar(select(Ticket.order_id)) == earlier.id
    typed = open_about(client, users, latest, order_number=f" {latest.number.lower()} ")
    assert typed.status_code == 201 and typed.json["order_date"] == latest.business_date.isoformat()


def test_the_queue_names_orders_and_filters_by_number_and_day(client, users, two_days):
    earlier, latest = two_days
    open_about(client, users, earlier)
    open_about(client, users, latest, subject="Late")
    h = users["backoffice"].headers
    items = client.get("/api/v1/tickets", headers=h).json["items"]
    assert {(t["order_number"], t["order_date"]) for t in items} == {
        (earlier.number, earlier.business_date.isoformat()),
        (latest.number, latest.business_date.isoformat()),
    }
    assert all("order_id" not in t for t in items)
    one_day = client.get(
        f"/api/v1/tickets?order_number={latest.number}&order_date={latest.business_date}", headers=h
    ).json
    assert [t["subject"] for t in one_day["items"]] == ["Late"]
    both = client.get(f"/api/v1/tickets?order_number={latest.number}", headers=h).json
    assert both["total"] == 2


def test_an_order_named_badly_is_refused_by_field_and_nothing_is_written(client, users, db, two_days):
    _earlier, latest = two_days
    no_day = open_about(client, users, latest, order_date=None)
    assert no_day.status_code == 422 and no_day.mimetype == "application/problem+json"
    assert [e["field"] for e in no_day.json["errors"]] == ["order_date"]
    unknown = open_about(client, users, latest, order_number="KZ9-999")
    assert unknown.status_code == 422
    (error,) = unknown.json["errors"]
    assert error["field"] == "order_number" and error["type"] == "unknown_order"
    assert error["params"] == {"number": "KZ9-999", "date": latest.business_date.isoformat()}
    wrong_day = open_about(client, users, latest, order_date="2001-01-01")
    assert wrong_day.status_code == 422 and wrong_day.json["errors"][0]["field"] == "order_number"
    by_id = client.post(
        "/api/v1/tickets",
        json={"kind": "complaint", "subject": "x", "order_id": latest.id},
        headers=users["operator"].headers,
    )
    assert by_id.status_code == 422 and by_id.json["errors"][0]["field"] == "order_id"
    assert count(db) == 0


def test_the_dossier_names_the_orders_and_the_tickets_by_number_and_day(client, users, two_days):
    earlier, _latest = two_days
    open_about(client, users, earlier)
    dossier = client.get(f"/api/v1/callcentre/lookup?phone={PHONE}", headers=users["operator"].headers).json
    assert [o["business_date"] for o in dossier["orders"]] == [
        o.business_date.isoformat() for o in reversed(two_days)
    ]
    (ticket,) = dossier["sections"]["tickets"]
    assert (ticket["order_number"], ticket["order_date"]) == (
        earlier.number,
        earlier.business_date.isoformat(),
    )
    assert "order_id" not in ticket


def test_the_workspace_is_offered_the_ticket_endpoint_and_the_kinds(app, users):
    client = app.test_client()
    AuthActions(client).login("operator")
    page = client.get("/callcentre").data
    config = json.loads(re.search(rb'id="page-config">(.*?)</script>', page, re.S)[1])
    assert config["api"]["tickets"] == "/api/v1/tickets"
    assert set(config["labels"]["ticket_kind"]) == {"complaint", "question", "refund", "quality"}
    assert "Alt+I" in page.decode()


def test_the_back_office_form_takes_the_number_and_day_and_the_queue_shows_them(app, users, two_days):
    earlier, _latest = two_days
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("operator")
    form = {
        "csrf_token": auth.csrf(client.get("/callcentre/tickets").data),
        "kind": "refund",
        "client_phone": "",
        "order_number": earlier.number,
        "order_date": earlier.business_date.isoformat(),
        "subject": "Refund the delivery",
        "body": "",
    }
    resp = client.post("/callcentre/tickets", data=form)
    assert resp.status_code == 302, resp.data[:500]
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    day = earlier.business_date.strftime("%d.%m.%Y")
    assert f"{earlier.number} of {day}" in detail
    queue = client.get("/callcentre/tickets").get_data(as_text=True)
    assert f"order {earlier.number} of {day}" in queue and "order id" not in queue
    bad_day = client.post("/callcentre/tickets", data=form | {"order_date": "05.12"})
    assert bad_day.status_code == 422
    assert re.search(r'name="order_date"[^>]*>\s*<span class="field-error"', bad_day.get_data(as_text=True))
