"""The customer's tracking link: issued once when a delivery order is placed, a page in the
browser's language that shows the courier only on the way, a live ETA through the bag, and a plain
404 for a link that does not work (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import delete, func, select, update

from frontoffice.db import utcnow
from frontoffice.outbox.models import OutboxProcessed
from notifications.models import NotificationMessage
from tests.conftest import _make_app, load_demo_catalogue
from tests.couriers_fixtures import BRANCH_1, KAZAN_CENTRE, make_courier, pool_order
from tracking import services
from tracking.eta import StraightLine
from tracking.models import TrackingLink


def token_of(kernel, order_id: int) -> str | None:
    with kernel.db.reading() as s:
        return s.scalar(select(TrackingLink.token).where(TrackingLink.order_id == order_id))


def view_of(kernel, order_id: int, now: dt.datetime | None = None) -> dict:
    with kernel.db.reading() as s:
        return services.tracking_view(s, order_id, travel=StraightLine(), now=now).as_json()


def test_a_delivery_order_gets_one_link_when_placed_and_a_replay_changes_nothing(
    app, catalogue, kernel, orders
):
    order_id = pool_order(app, status="new")
    token = token_of(kernel, order_id)
    assert token is not None and services.TOKEN_FORMAT.fullmatch(token)
    with kernel.db.unit_of_work() as s:  # the tracking projectors forget what they applied …
        s.execute(delete(OutboxProcessed).where(OutboxProcessed.consumer.like("tracking.%")))
    assert kernel.relay.replay() > 0  # … and hear every event again
    with kernel.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(TrackingLink)) == 1
        assert services.issue_link(s, order_id) == token == token_of(kernel, order_id)
    pickup = pool_order(app, status="new", kind="pickup")
    assert token_of(kernel, pickup) is None

    # A sender that hears OrderPlaced before the link's projector (the "order taken" message) asks
    # with issue=True and gets the link then; the projector, later, keeps it.
    early = pool_order(app, status="new")
    with kernel.db.unit_of_work() as s:
        s.execute(delete(TrackingLink).where(TrackingLink.order_id == early))
        url = services.tracking_url(s, early, base_url="https://eat.example.com", issue=True)
        assert services.tracking_url(s, pickup, base_url="https://eat.example.com", issue=True) is None
    assert url == f"https://eat.example.com/t/{token_of(kernel, early)}"
    with kernel.db.unit_of_work() as s:
        s.execute(delete(OutboxProcessed).where(OutboxProcessed.consumer.like("tracking.%")))
    kernel.relay.replay()
    assert url.endswith(token_of(kernel, early))
    orders.move(order_id, "confirmed", "cooking")
    orders.move(order_id, "cancelled", reason="client called")
    view = view_of(kernel, order_id)
    assert view["status"] == "cancelled" and view["courier"] is None and view["eta"] is None
    assert [s["state"] for s in view["steps"]] == ["done", "done", "todo", "todo"]  # how far it got


def test_the_page_speaks_the_browsers_language_and_a_link_that_does_not_work_is_a_plain_404(
    app, catalogue, kernel, client, users, auth
):
    order_id = pool_order(app, status="cooking")
    token = token_of(kernel, order_id)
    auth.login("admin")  # the order's page shows staff the link to read out or send
    staff_page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Tracking page" in staff_page and f"http://localhost/t/{token}" in staff_page
    auth.logout()
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
    for wrong in ("A" * 22, "short", "x" * 200, "ab cd ef gh ij kl mn op", token[:-1] + "!", token + "A"):
        resp = client.get(f"/t/{wrong}", headers={"Accept-Language": "ru"})
        assert resp.status_code == 404, wrong
        gone = resp.get_data(as_text=True)
        assert "Ссылка не найдена" in gone and "KZ1-001" not in gone and "<script" not in gone
        assert resp.headers["Cache-Control"] == "no-store"


def test_the_courier_shows_between_pickup_and_the_door_and_the_eta_passes_the_doors_before(
    app, catalogue, kernel, client
):
    courier = make_courier(app, "Anna Petrova", position=BRANCH_1)
    first = pool_order(app, status="ready", payment="prepaid", at=KAZAN_CENTRE)
    second = pool_order(app, status="ready", payment="prepaid", at=(55.8304, 49.0661))
    assert view_of(kernel, first)["courier"] is None
    for order_id in (first, second):
        assert (
            client.post(f"/api/courier/v1/orders/{order_id}/claim", headers=courier.headers).status_code
            == 200
        )
    claimed = view_of(kernel, first)
    assert claimed["courier"] is None and claimed["eta"] is None  # assigned, not yet picked up
    for order_id in (first, second):
        assert (
            client.post(f"/api/courier/v1/orders/{order_id}/pickup", headers=courier.headers).status_code
            == 200
        )
    a, b = view_of(kernel, first), view_of(kernel, second)
    assert a["courier"]["first_name"] == "Anna" and (a["courier"]["lat"], a["courier"]["lon"]) == BRANCH_1
    assert [s["state"] for s in a["steps"]] == ["done", "done", "current", "todo"]
    assert (a["eta"]["stops_before"], b["eta"]["stops_before"]) == (0, 1)
    assert 60 < a["eta"]["seconds"] < 900 and b["eta"]["seconds"] > a["eta"]["seconds"] + 180

    deliver = client.post(f"/api/courier/v1/orders/{first}/deliver", headers=courier.headers, json={})
    assert deliver.status_code == 200
    done = view_of(kernel, first)
    assert done["courier"] is None and done["eta"] is None
    assert [s["state"] for s in done["steps"]] == ["done"] * 4
    assert view_of(kernel, second)["eta"]["stops_before"] == 0

    token = token_of(kernel, first)
    with kernel.db.reading() as s:  # the link works for a day after the delivery, then no more
        link = s.scalar(select(TrackingLink).where(TrackingLink.order_id == first))
        ended = link.expires_at - dt.timedelta(hours=24)
        assert abs((ended - utcnow()).total_seconds()) < 60
        assert services.valid_link(s, token, now=ended + dt.timedelta(hours=23)) is not None
        assert services.valid_link(s, token, now=ended + dt.timedelta(hours=25)) is None
        url = services.tracking_url(s, first, base_url="https://eat.example.com/")
        assert url == f"https://eat.example.com/t/{token}"
        assert services.tracking_url(s, first, base_url=None) is None
        late = ended + dt.timedelta(hours=25)
        assert services.tracking_url(s, first, base_url="https://eat.example.com", now=late) is None
    assert client.get(f"/t/{token}").status_code == 200
    with kernel.db.unit_of_work() as s:  # a day has passed
        s.execute(update(TrackingLink).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    gone = client.get(f"/t/{token}")
    assert gone.status_code == 404 and "Anna" not in gone.get_data(as_text=True)


def test_the_order_taken_message_carries_the_tracking_link(tmp_path, _sqlite_template):
    app = _make_app(_sqlite_template.fresh(tmp_path), tmp_path, public_url="https://eat.example.com")
    try:
        load_demo_catalogue(app)
        kernel = app.extensions["frontoffice"]
        order_id = pool_order(app, status="new")
        with kernel.db.reading() as s:
            body = s.scalar(
                select(NotificationMessage.body).where(
                    NotificationMessage.order_id == order_id, NotificationMessage.event == "order_taken"
                )
            )
        assert f"https://eat.example.com/t/{token_of(kernel, order_id)}" in body
    finally:
        app.extensions["frontoffice"].db.dispose()
