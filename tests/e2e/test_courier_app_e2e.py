"""The courier's web app on a phone (Chromium in mobile emulation: a phone viewport, touch, a set
position): a whole shift — log in, start the shift, an order placed through the API appears in the
pool without reload, claim it, go offline, pick up and deliver with cash, come back online and both
actions land exactly once (the answer to the delivery is lost once and the retry is replayed);
two couriers race for one order; photos within and over the API's limit; the service worker serves
the shell offline; the app loads nothing from anywhere but the server. Screenshots of every screen
go to test-artifacts/."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from couriers.models import CourierDelivery, CourierShift, DeliveryProof
from couriers.services.pool import MAX_PROOF_BYTES
from orders.models import Order, OrderEvent
from tests.conftest import LiveServer, load_demo_catalogue, make_users, order_body
from tests.couriers_fixtures import make_courier, pool_order, set_status
from tests.e2e.conftest import TIMEOUT_MS

PHONE = {"width": 390, "height": 844}
KAZAN = {"latitude": 55.7901, "longitude": 49.1150}


@pytest.fixture
def server(app):
    """A live server of a fresh app (SQLite, and PostgreSQL when configured) with the demo menu."""
    load_demo_catalogue(app)
    live = LiveServer(app)
    yield live
    live.stop()


@pytest.fixture
def phones(browser):
    """Make phone contexts: 390×844, touch, geolocation allowed at a point in Kazan."""
    made = []

    def make(*, service_workers: str = "block", locale: str = "en-US"):
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            geolocation=KAZAN,
            permissions=["geolocation"],
            service_workers=service_workers,
        )
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def db(server):
    return server.app.extensions["frontoffice"].db


def log_in(page, server, courier, device="Pixel 7"):
    page.goto(f"{server.url}/courier/")
    page.wait_for_selector("#login-form")
    page.fill("input[name=username]", courier.username)
    page.fill("input[name=password]", courier.password)
    page.fill("input[name=device_name]", device)
    page.click("#login-form button[type=submit]")


def shot(page, artifacts, name):
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def place_through_api(server, users, **overrides) -> dict:
    resp = requests.post(
        f"{server.url}/api/v1/orders",
        json=order_body(**overrides),
        headers=users["operator"].headers,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def transitions(server, order_id) -> list[str]:
    with db(server).reading() as s:
        return list(
            s.scalars(
                select(OrderEvent.to_status)
                .where(OrderEvent.order_id == order_id, OrderEvent.to_status.is_not(None))
                .order_by(OrderEvent.id)
            )
        )


def test_a_whole_shift_on_a_phone_with_the_network_lost_in_the_middle(server, phones, artifacts):
    users = make_users(server.app)
    courier = make_courier(server.app, "Kirill", shift=False)
    context = phones()
    page = context.new_page()
    elsewhere = []
    context.on(
        "request", lambda r: urlsplit(r.url).hostname not in ("127.0.0.1", None) and elsewhere.append(r.url)
    )
    page.on("websocket", lambda ws: urlsplit(ws.url).hostname != "127.0.0.1" and elsewhere.append(ws.url))

    log_in(page, server, courier)
    shot(page, artifacts, "01-login")
    page.wait_for_selector("#screen[data-screen=start]")
    assert page.inner_text("#who") == "Kirill"
    shot(page, artifacts, "02-start-shift")
    page.fill("input[name=opening_cash]", "1000")
    page.click("#shift-start button[type=submit]")
    page.wait_for_selector("#screen[data-screen=pool] .empty")
    page.wait_for_selector("#conn.on")
    shot(page, artifacts, "03-pool-empty")
    with db(server).reading() as s:
        shift = s.scalar(select(CourierShift).where(CourierShift.courier_id == courier.id))
        assert shift.opening_cash == 100000 and shift.ended_at is None

    order = place_through_api(server, users)
    set_status(server.app, order["id"], "confirmed")
    card = page.wait_for_selector(f".card[data-order-id='{order['id']}']", timeout=5000)
    assert page.locator("#notice").inner_text() == f"New order {order['number']}"
    page.wait_for_function(
        "() => !document.querySelector('.card .distance').textContent.includes('unknown')", timeout=20000
    )
    text = card.inner_text()
    assert "Kremlyovskaya" in text and "min left" in text and "Cash" in text and "change from" in text
    shot(page, artifacts, "04-pool-new-order")

    page.tap(f".card[data-order-id='{order['id']}'] button.claim")
    page.wait_for_selector("#notice.ok")
    assert page.inner_text("#notice") == f"Order {order['number']} is yours."
    page.tap("#tabs button[data-tab=mine]")
    mine = page.wait_for_selector(f".card.mine[data-order-id='{order['id']}']")
    assert mine.query_selector("a[href^='tel:+7']") and mine.query_selector("a[href^='geo:55.7963,49.1088']")
    page.tap(f".card.mine[data-order-id='{order['id']}'] button.pickup")  # too early: still cooking
    refused = page.wait_for_selector("#outbox .refused[data-kind=pickup][data-status='409']")
    assert "The kitchen is still cooking" in refused.inner_text()
    shot(page, artifacts, "05a-pickup-refused")
    page.tap("#outbox .refused button")
    page.wait_for_selector("#outbox", state="hidden")
    set_status(server.app, order["id"], "cooking")  # the kitchen; the phone hears order_ready
    set_status(server.app, order["id"], "ready")
    page.wait_for_selector(f".card.mine[data-status=ready][data-order-id='{order['id']}']")
    shot(page, artifacts, "05-my-orders")

    context.set_offline(True)
    page.tap(f".card.mine[data-order-id='{order['id']}'] button.pickup")
    page.wait_for_selector("#outbox li[data-kind=pickup]")
    page.tap(f".card.mine[data-order-id='{order['id']}'] button.deliver")
    page.wait_for_selector("#screen[data-screen=deliver]")
    total = Decimal(order["total"])
    page.fill("input[name=cash_taken]", "5000")
    page.fill("input[name=change_given]", str(Decimal("5000") - total))
    assert page.inner_text("#cash-counted") == f"Counts as collected: {total:,.2f} ₽".replace(",", "\u202f")
    shot(page, artifacts, "06-deliver")
    page.tap("#deliver-form button[type=submit]")
    page.wait_for_selector("#outbox li[data-kind=deliver]")
    assert page.inner_text("#outbox h2") == "2 action(s) waiting to be sent"
    shot(page, artifacts, "07-waiting-offline")
    assert transitions(server, order["id"])[-1] == "ready"  # nothing reached the server

    # the answer to the delivery is lost once on the way back: the app sends it again, same key
    lost = []

    def lose_first_answer(route):
        if not lost:
            lost.append(route.fetch().status)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/orders/*/deliver", lose_first_answer)
    context.set_offline(False)
    page.wait_for_selector("#outbox", state="hidden", timeout=20000)
    assert lost == [200]
    assert transitions(server, order["id"])[-2:] == ["in_delivery", "delivered"]
    assert transitions(server, order["id"]).count("delivered") == 1
    with db(server).reading() as s:
        delivery = s.get(CourierDelivery, order["id"])
        assert delivery.outcome == "delivered" and delivery.cash_collected == int(total * 100)
        assert s.get(Order, order["id"]).status == "delivered"
        assert s.get(CourierShift, shift.id).cash_collected == int(total * 100)

    page.tap("#tabs button[data-tab=shift]")
    page.wait_for_selector("#shift-end")
    report = page.inner_text(".report")
    assert "Delivered\n1" in report.replace("\t", "\n")
    shot(page, artifacts, "08-shift-report")
    page.fill("input[name=cash_handed_in]", str(Decimal("1000") + total))
    page.tap("#shift-end button[type=submit]")
    page.wait_for_selector("#screen[data-screen=report]")
    assert "Discrepancy" in page.inner_text(".report")
    shot(page, artifacts, "09-shift-closed")
    with db(server).reading() as s:
        closed = s.get(CourierShift, shift.id)
        assert closed.ended_at is not None and closed.closing_cash == 100000 + int(total * 100)

    token = page.evaluate("() => JSON.parse(localStorage.getItem('courierapp.session')).token")
    me = requests.get(
        f"{server.url}/api/courier/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 200
    context.set_offline(True)  # a logout must reach the server: offline, the app stays logged in
    page.tap("#logout")
    page.wait_for_selector("#notice.error")
    assert page.inner_text("#notice") == "No network: try again when you are online."
    assert page.evaluate("() => localStorage.getItem('courierapp.session')") is not None
    context.set_offline(False)
    page.tap("#logout")
    page.wait_for_selector("#login-form")
    gone = requests.get(
        f"{server.url}/api/courier/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert gone.status_code == 401
    assert page.evaluate("() => localStorage.getItem('courierapp.session')") is None
    assert elsewhere == []


def test_the_session_survives_a_reload_and_queued_actions_survive_it_too(server, phones, artifacts):
    courier = make_courier(server.app, "Lena", position=(55.79, 49.115))
    order_id = pool_order(server.app, status="ready")
    context = phones()
    page = context.new_page()
    log_in(page, server, courier)
    page.wait_for_selector(f".card[data-order-id='{order_id}']")
    context.set_offline(True)
    page.tap(f".card[data-order-id='{order_id}'] button.claim")
    page.wait_for_selector("#outbox li[data-kind=claim]")
    page.route("**/orders/*/claim", lambda route: route.abort("internetdisconnected"))
    context.set_offline(False)
    page.reload()
    page.wait_for_selector("#outbox li[data-kind=claim]")  # still waiting after the reload
    assert page.inner_text("#who") == "Lena"  # still logged in
    shot(page, artifacts, "waiting-after-reload")
    page.unroute("**/orders/*/claim")
    page.wait_for_selector("#outbox", state="hidden", timeout=20000)
    with db(server).reading() as s:
        assert s.get(Order, order_id).courier_id == courier.id


def test_the_app_swaps_its_token_for_a_new_one_past_half_its_life(server, phones):
    courier = make_courier(server.app, "Vera", position=(55.79, 49.115))
    page = phones().new_page()
    log_in(page, server, courier)
    page.wait_for_selector("#screen[data-screen=pool]")
    old = page.evaluate("() => JSON.parse(localStorage.getItem('courierapp.session'))")
    assert old["expires_at"]  # 30 days by default
    old["issued_at"] = "2000-01-01T00:00:00Z"  # as if issued long ago: past half its life
    page.evaluate("(s) => localStorage.setItem('courierapp.session', JSON.stringify(s))", old)
    page.reload()
    page.wait_for_function(
        "(old) => JSON.parse(localStorage.getItem('courierapp.session')).token !== old", arg=old["token"]
    )
    new = page.evaluate("() => JSON.parse(localStorage.getItem('courierapp.session')).token")
    me = f"{server.url}/api/courier/v1/me"
    assert (
        requests.get(me, headers={"Authorization": f"Bearer {old['token']}"}, timeout=10).status_code == 401
    )
    assert requests.get(me, headers={"Authorization": f"Bearer {new}"}, timeout=10).status_code == 200
    page.wait_for_selector("#screen[data-screen=pool]")


def test_two_couriers_race_for_one_order_and_the_loser_is_told(server, phones, artifacts):
    first = make_courier(server.app, "Anna", position=(55.79, 49.115))
    second = make_courier(server.app, "Boris", position=(55.80, 49.12))
    order_id = pool_order(server.app, status="ready")
    pages = []
    for courier in (first, second):
        context = phones()
        page = context.new_page()
        log_in(page, server, courier)
        page.wait_for_selector(f".card[data-order-id='{order_id}']")
        context.set_offline(True)  # both tap while offline, then both come back at once
        page.tap(f".card[data-order-id='{order_id}'] button.claim")
        page.wait_for_selector("#outbox li[data-kind=claim]")
        pages.append((context, page))
    for context, _page in pages:
        context.set_offline(False)
    for _context, page in pages:
        page.wait_for_selector("#notice.ok, #notice.error", timeout=20000)
    notices = sorted(page.inner_text("#notice") for _c, page in pages)
    number = notices[0].split()[1]
    assert notices == sorted(
        [f"Order {number} is yours.", f"Order {number} was already taken by another courier."]
    )
    loser = next(page for _c, page in pages if "taken" in page.inner_text("#notice"))
    refused = loser.wait_for_selector("#outbox .refused[data-kind=claim][data-status='409']")
    assert "already taken by another courier" in refused.inner_text()
    shot(loser, artifacts, "claim-lost")
    refused.query_selector("button").tap()
    loser.wait_for_selector("#outbox", state="hidden")
    with db(server).reading() as s:
        assert s.get(Order, order_id).courier_id in (first.id, second.id)


def png(width: int, height: int, *, noise: bool) -> bytes:
    """A PNG picture: random pixels (does not compress) or a smooth gradient."""
    import os

    rows = []
    for y in range(height):
        row = (
            os.urandom(width * 3)
            if noise
            else bytes(
                (x * 255 // width, y * 255 // height, 128)[i % 3] for x in range(width) for i in range(3)
            )
        )
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 1))
        + chunk(b"IEND", b"")
    )


def test_photos_within_and_over_the_limit_and_a_signature_and_a_failed_delivery(server, phones, artifacts):
    courier = make_courier(server.app, "Oleg", position=(55.79, 49.115))
    orders = [pool_order(server.app, status="ready", payment="prepaid") for _ in range(3)]
    for order_id in orders:
        for action in ("claim", "pickup"):
            resp = requests.post(
                f"{server.url}/api/courier/v1/orders/{order_id}/{action}", headers=courier.headers, timeout=10
            )
            assert resp.status_code == 200, resp.text
    small = png(320, 240, noise=False)
    big = png(2400, 1800, noise=True)
    assert len(big) > 4 * MAX_PROOF_BYTES
    context = phones()
    page = context.new_page()
    log_in(page, server, courier)
    page.tap("#tabs button[data-tab=mine]")

    def deliver(order_id, picture, name, *, sign=False):
        page.tap(f".card.mine[data-order-id='{order_id}'] button.deliver")
        page.set_input_files("input[name=photo]", {"name": name, "mimeType": "image/png", "buffer": picture})
        page.wait_for_function(
            "() => document.querySelector('#photo-note').textContent !== ''", timeout=20000
        )
        assert page.get_attribute("#photo-note", "class") == "note ok", page.inner_text("#photo-note")
        if sign:
            box = page.locator("#signature").bounding_box()
            page.mouse.move(box["x"] + 20, box["y"] + 20)
            page.mouse.down()
            page.mouse.move(box["x"] + 200, box["y"] + 80, steps=8)
            page.mouse.up()
        shot(page, artifacts, f"deliver-{name}")
        page.tap("#deliver-form button[type=submit]")
        page.wait_for_selector(f".card.mine[data-order-id='{order_id}']", state="detached", timeout=20000)

    # not a picture: refused on the phone, nothing sent
    page.tap(f".card.mine[data-order-id='{orders[0]}'] button.deliver")
    page.set_input_files(
        "input[name=photo]", {"name": "notes.txt", "mimeType": "image/png", "buffer": b"hello"}
    )
    page.wait_for_selector("#photo-note.error")
    assert page.inner_text("#photo-note") == "This file is not a picture."
    page.click("#deliver-form button.secondary")

    deliver(orders[0], small, "small.png", sign=True)
    deliver(orders[1], big, "big.png")
    with db(server).reading() as s:
        proofs = {(p.order_id, p.kind): p for p in s.scalars(select(DeliveryProof))}
    assert set(proofs) == {(orders[0], "photo"), (orders[0], "signature"), (orders[1], "photo")}
    assert proofs[(orders[0], "photo")].size < 64 * 1024
    assert proofs[(orders[0], "signature")].content_type == "image/png"
    big_proof = proofs[(orders[1], "photo")]
    assert big_proof.content_type == "image/jpeg" and big_proof.data[:3] == b"\xff\xd8\xff"
    assert big_proof.size <= MAX_PROOF_BYTES < len(big)

    page.tap(f".card.mine[data-order-id='{orders[2]}'] button.fail")
    page.wait_for_selector("#fail-form")
    labels = page.locator("#fail-form .choice").all_inner_texts()
    assert labels[0] == "Nobody at the door and the client does not answer"
    assert "Another reason (explain in the comment)" in labels
    page.tap("#fail-form .choice:has-text('Other reason')")
    page.tap("#fail-form button[type=submit]")
    assert page.inner_text("#fail-error") == "Explain the reason in the comment."
    page.fill("#fail-form input[name=comment]", "gate locked")
    shot(page, artifacts, "fail")
    page.tap("#fail-form button[type=submit]")
    page.wait_for_selector("#screen[data-screen=mine] .empty", timeout=20000)
    with db(server).reading() as s:
        failed = s.get(CourierDelivery, orders[2])
        assert (failed.outcome, failed.reason_code, failed.comment) == ("failed", "other", "gate locked")
        assert s.scalar(select(func.count()).select_from(CourierDelivery)) == 3


def test_the_service_worker_serves_the_shell_offline_in_russian(server, phones, artifacts):
    courier = make_courier(server.app, "Pavel", position=(55.79, 49.115))
    context = phones(service_workers="allow", locale="ru-RU")
    page = context.new_page()
    page.goto(f"{server.url}/courier/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    context.set_offline(True)
    shell = page.reload()
    assert shell.from_service_worker and shell.ok
    page.wait_for_selector("#login-form")
    assert page.inner_text("#login-form button[type=submit]") == "Войти"
    shot(page, artifacts, "offline-shell-ru")
    context.set_offline(False)
    log_in(page, server, courier)
    page.wait_for_selector("#screen[data-screen=pool]")
    assert page.inner_text("#tabs button[data-tab=pool]") == "Заказы"


def test_after_an_admins_reset_the_courier_chooses_a_new_password_in_the_app(server, phones, artifacts):
    users = make_users(server.app)
    courier = make_courier(server.app, "Gleb", position=(55.79, 49.115))
    reset = requests.post(
        f"{server.url}/api/v1/staff/users/{courier.user_id}/password-reset",
        headers=users["admin"].headers,
        timeout=10,
    )
    assert reset.status_code == 200, reset.text
    courier.password = reset.json()["temporary_password"]
    page = phones().new_page()
    log_in(page, server, courier)
    page.wait_for_selector("#password-form")
    page.fill("input[name=new_password]", "short")
    page.tap("#password-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#password-error').textContent !== ''")
    assert page.inner_text("#password-error").startswith("Choose a stronger password")
    shot(page, artifacts, "new-password")
    page.fill("input[name=new_password]", "Sunny-Kazan-route-42")
    page.tap("#password-form button[type=submit]")
    page.wait_for_selector("#screen[data-screen=pool]")
    again = requests.post(
        f"{server.url}/api/courier/v1/session",
        json={"login": courier.username, "password": "Sunny-Kazan-route-42", "device_name": "test"},
        timeout=10,
    )
    assert again.status_code == 201 and again.json()["must_change_password"] is False


def test_a_courier_switched_off_is_sent_back_to_the_login_with_the_reason(server, phones):
    users = make_users(server.app)
    courier = make_courier(server.app, "Ilya", position=(55.79, 49.115))
    page = phones().new_page()
    log_in(page, server, courier)
    page.wait_for_selector("#screen[data-screen=pool]")
    off = requests.patch(
        f"{server.url}/api/v1/couriers/{courier.id}",
        json={"active": False},
        headers=users["manager"].headers,
        timeout=10,
    )
    assert off.status_code == 200, off.text
    page.reload()
    page.wait_for_selector("#login-form")
    # the reason comes with the API's refusal, which may land after the form is drawn: wait for it
    has_reason = "() => (document.querySelector('#login-error')?.textContent || '').trim() !== ''"
    page.wait_for_function(has_reason)
    reason = page.inner_text("#login-error")
    # The app may learn of it by itself (a live refresh) just before a reload: the reason must survive
    # the reload, not only the first login screen after the refusal.
    page.reload()
    page.wait_for_selector("#login-form")
    page.wait_for_function(has_reason)
    assert page.inner_text("#login-error") == reason
    assert page.evaluate("() => localStorage.getItem('courierapp.session')") is None


def test_a_redraw_while_typing_the_opening_cash_keeps_the_selection_typed_over(server, phones):
    """The start screen redraws when the connection comes back (the pool is reloaded). A courier who
    had selected the "0" and types after such a redraw replaces it, not types beside it."""
    make_users(server.app)
    courier = make_courier(server.app, "Lena", shift=False)
    context = phones()
    page = context.new_page()
    log_in(page, server, courier)
    page.wait_for_selector("#screen[data-screen=start]")
    page.wait_for_selector("#conn.on")
    # The reload that follows "connected" redraws the screen at a moment of its own: the field is
    # found, focused and selected in one step, never through a handle a redraw may have replaced.
    page.evaluate(
        """() => {
            const field = document.querySelector("input[name=opening_cash]");
            field.focus();
            field.select();
            window.selectedField = field;
        }"""
    )
    context.set_offline(True)
    page.wait_for_selector("#conn.off")
    context.set_offline(False)
    page.wait_for_function("() => !window.selectedField.isConnected", timeout=30000)  # redrawn
    page.keyboard.type("1000")
    assert page.input_value("input[name=opening_cash]") == "1000"
