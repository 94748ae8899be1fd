"""Pages show codes by their labels, in the word the meaning needs, in English and in Russian."""

from __future__ import annotations

import pytest

from tests.backoffice_helpers import add_rule, move, place
from tests.integration.test_callcentre_pages import page_config


def in_russian(auth, page: str) -> None:
    auth.choose_language("ru", back_to=page)


def test_the_monitor_calls_a_free_courier_free_to_take_an_order_not_free_of_charge(client, users, auth):
    auth.login("manager")
    in_russian(auth, "/monitor")
    html = client.get("/monitor").data.decode()
    legend = html[html.index('class="legend"') :]
    assert "свободен" in legend and "свободны" in html
    assert "бесплатно" not in html
    assert page_config(html.encode())["labels"]["courier_state"]["free"] == "свободен"


def test_the_workspace_still_offers_free_delivery_as_free_of_charge(client, users, auth):
    auth.login("operator")
    in_russian(auth, "/callcentre")
    config = page_config(client.get("/callcentre").data)
    assert config["strings"]["free"] == "бесплатно"
    assert config["labels"]["payment_kind"] == {
        "cash": "Наличные",
        "card_on_delivery": "Картой курьеру",
        "prepaid": "Онлайн",
    }


def test_the_ticket_queue_counts_the_open_tickets_with_an_adjective_not_a_verb(client, users, auth):
    auth.login("backoffice")
    in_russian(auth, "/callcentre/tickets")
    counters = client.get("/callcentre/tickets").data.decode().split('class="card"')[0]
    assert "Открытые" in counters and "Открыть" not in counters


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(("language", "shown"), [("en", "Out for delivery"), ("ru", "В пути")])
def test_an_order_out_for_delivery_is_shown_by_its_label_not_its_code(
    client, users, auth, kernel, language, shown
):
    add_rule(kernel, "change_to_card", "flag", 30)
    order = place(kernel, comment="Please send the change to my card")
    move(kernel, order.id, "confirmed", "cooking", "ready", "in_delivery")
    auth.login("manager")
    auth.choose_language(language, back_to="/callcentre/antifraud")
    fired = client.get("/callcentre/antifraud").data.decode()
    fired = fired[fired.index(order.number) :]
    assert f"<td>{shown}</td>" in fired and "in_delivery" not in fired


def test_the_ticket_page_names_kind_and_state_in_russian(client, users, auth):
    auth.login("backoffice")
    in_russian(auth, "/callcentre/tickets")
    queue = client.get("/callcentre/tickets")
    opened = client.post(
        "/callcentre/tickets",
        data={
            "csrf_token": auth.csrf(queue.data),
            "kind": "refund",
            "client_phone": "+7 912 345-67-89",
            "subject": "Cold pizza",
        },
        follow_redirects=True,
    ).data.decode()
    assert "Возврат денег" in opened and "Открыто" in opened
    assert ">refund<" not in opened and ">open<" not in opened
