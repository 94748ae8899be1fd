"""The customer's tracking link: issued once when a delivery order is placed, a page in the
browser's language that shows the courier only on the way, a live ETA through the bag, and a plain
404 for a link that does not work (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select, update

from frontoffice.db import utcnow
from orders.events import OrderPlaced
from orders.models import Order
from tests.couriers_fixtures import BRANCH_1, KAZAN_CENTRE, make_courier, pool_order
from tracking import services
from tracking.eta import StraightLine
from tracking.models import TrackingLink

pytestmark = pytest.mark.usefixtures("catalogue")


def token_of(kernel, order_id: int) -> str | None:
    with kernel.db.reading() as s:
        return s.scalar(select(TrackingLink.token).where(TrackingLink.order_id == order_id))


def view_of(kernel, order_id: int, now: dt.datetime | None = None) -> dict:
    with kernel.db.reading() as s:
        return services.tracking_view(s, order_id, travel=StraightLine(), now=now).as_json()


def on_the_way(app, client, courier, order_id: int) -> None:
    """The courier claims a ready order and picks it up, through the courier API."""
    for step in ("claim", "pickup"):
        resp = client.post(f"/api/courier/v1/orders/{order_id}/{step}", headers=courier.headers)
        assert resp.status_code == 200, resp.json


def test_a_delivery_order_gets_one_link_when_placed_and_a_replay_changes_nothing(app, kernel, orders):
    order_id = pool_order(app, status="new")
    token = token_of(kernel, order_id)
    assert token is not None and services.TOKEN_FORMAT.fullmatch(token)
    with kernel.db.unit_of_work() as s:
        placed = s.get(Order, order_id)
        event = OrderPlaced(
            order_id=order_id,
            branch_id=1,
            number=placed.number,
            status=placed.status,
            kind="delivery",
            total=placed.total,
            client_phone=placed.client_phone,
            client_name=placed.client_name,
            payment_kind=placed.payment_kind,
            created_at=placed.created_at,
            promised_at=placed.promised_at,
            lat=placed.lat,
            lon=placed.lon,
            actor_id=None,
        )
        services.on_order_placed(s, event)
        assert services.issue_link(s, order_id) == token
    with kernel.db.reading() as s:
        assert s.scalar(select(TrackingLink.id).where(TrackingLink.order_id == order_id)) is not None
        assert len(s.scalars(select(TrackingLink)).all()) == 1
    pickup = pool_order(app, status="new", kind="pickup")
    assert token_of(kernel, pickup) is None


def test_the_page_speaks_the_browsers_language_and_keeps_the_link_private(app, kernel, client):
    order_id = pool_order(app, status="cooking")
    token = token_of(kernel, order_id)
    en = client.get(f"/t/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert en.status_code == 200
    page = en.get_data(as_text=True)
    assert "Order KZ1-001" in page and "Cooking" in page
    assert en.headers["Cache-Control"] == "no-store" and en.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in en.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in en.headers
    ru = client.get(f"/t/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    text = ru.get_data(as_text=True)
    assert ru.status_code == 200 and "Заказ KZ1-001" in text and "Готовится" in text
    config = json.loads(re.search(r'id="page-config">(.*?)</script>', text).group(1))
    assert config["strings"]["step_in_delivery"] == "В пути" and config["token"] == token
    assert config["view"]["courier"] is None and config["labels"]["order_status"]["cooking"] == "Готовится"


@pytest.mark.parametrize(
    "token",
    ["AAAAAAAAAAAAAAAAAAAAAA", "short", "x" * 200, "ab cd ef gh ij kl mn op", "Z" * 21 + "!"],
)
def test_an_unknown_or_malformed_token_gets_a_plain_404(app, client, token):
    pool_order(app, status="cooking")
    resp = client.get(f"/t/{token}", headers={"Accept-Language": "ru"})
    assert resp.status_code == 404
    text = resp.get_data(as_text=True)
    assert "Ссылка не найдена" in text and "KZ1-001" not in text
    assert resp.headers["Cache-Control"] == "no-store"


def test_a_link_works_until_a_day_after_the_order_ends_then_gets_a_404(app, kernel, client):
    courier = make_courier(app, "Anna Petrova", position=BRANCH_1)
    order_id = pool_order(app, status="ready", payment="prepaid")
    on_the_way(app, client, courier, order_id)
    token = token_of(kernel, order_id)
    assert (
        client.post(
            f"/api/courier/v1/orders/{order_id}/deliver", headers=courier.headers, json={}
        ).status_code
        == 200
    )
    with kernel.db.reading() as s:
        link = s.scalar(select(TrackingLink).where(TrackingLink.order_id == order_id))
        ended = link.expires_at - dt.timedelta(hours=24)
        assert abs((ended - utcnow()).total_seconds()) < 60
        assert services.valid_link(s, token, now=ended + dt.timedelta(hours=23)) is not None
        assert services.valid_link(s, token, now=ended + dt.timedelta(hours=25)) is None
        assert (
            services.tracking_url(s, order_id, base_url="https://eat.example.com/")
            == f"https://eat.example.com/t/{token}"
        )
        assert services.tracking_url(s, order_id, base_url=None) is None
        assert (
            services.tracking_url(
                s, order_id, base_url="https://eat.example.com", now=ended + dt.timedelta(hours=25)
            )
            is None
        )
    assert client.get(f"/t/{token}").status_code == 200
    with kernel.db.unit_of_work() as s:  # a day has passed
        s.execute(update(TrackingLink).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    gone = client.get(f"/t/{token}")
    assert gone.status_code == 404 and "Anna" not in gone.get_data(as_text=True)


def test_the_courier_shows_only_between_pickup_and_the_door(app, kernel, client):
    courier = make_courier(app, "Anna Petrova", position=BRANCH_1)
    order_id = pool_order(app, status="ready", payment="prepaid")
    assert view_of(kernel, order_id)["courier"] is None
    assert client.post(f"/api/courier/v1/orders/{order_id}/claim", headers=courier.headers).status_code == 200
    claimed = view_of(kernel, order_id)
    assert claimed["courier"] is None and claimed["eta"] is None  # assigned, not yet picked up
    assert (
        client.post(f"/api/courier/v1/orders/{order_id}/pickup", headers=courier.headers).status_code == 200
    )
    moving = view_of(kernel, order_id)
    assert moving["courier"]["first_name"] == "Anna"
    assert (moving["courier"]["lat"], moving["courier"]["lon"]) == BRANCH_1
    assert moving["eta"]["stops_before"] == 0 and 60 < moving["eta"]["seconds"] < 900
    assert [s["state"] for s in moving["steps"]] == ["done", "done", "current", "todo"]
    assert (
        client.post(
            f"/api/courier/v1/orders/{order_id}/deliver", headers=courier.headers, json={}
        ).status_code
        == 200
    )
    done = view_of(kernel, order_id)
    assert done["courier"] is None and done["eta"] is None
    assert [s["state"] for s in done["steps"]] == ["done"] * 4


def test_the_eta_passes_the_doors_the_courier_reaches_first(app, kernel, client, orders):
    courier = make_courier(app, "Boris", position=BRANCH_1)
    first = pool_order(app, status="ready", payment="prepaid", at=KAZAN_CENTRE)
    second = pool_order(app, status="ready", payment="prepaid", at=(55.8304, 49.0661))
    for order_id in (first, second):
        on_the_way(app, client, courier, order_id)
    a, b = view_of(kernel, first), view_of(kernel, second)
    assert (a["eta"]["stops_before"], b["eta"]["stops_before"]) == (0, 1)
    assert b["eta"]["seconds"] > a["eta"]["seconds"] + 180
    assert (
        client.post(f"/api/courier/v1/orders/{first}/deliver", headers=courier.headers, json={}).status_code
        == 200
    )
    assert view_of(kernel, second)["eta"]["stops_before"] == 0


def test_a_cancelled_order_shows_how_far_it_got(app, kernel, orders):
    order_id = pool_order(app, status="cooking")
    orders.move(order_id, "cancelled", reason="client called")
    view = view_of(kernel, order_id)
    assert view["status"] == "cancelled" and view["courier"] is None
    assert [s["state"] for s in view["steps"]] == ["done", "done", "todo", "todo"]
