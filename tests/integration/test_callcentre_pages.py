"""The call-centre pages: who may open them, what their scripts are told, and the interface in Russian."""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from orders.states import TRANSITIONS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "frontoffice" / "translations" / "ru" / "LC_MESSAGES"
#: The keywords pybabel extracts with (docs/translations.md): the defaults plus these.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
    "add_nav": None,
    "flash": None,
}


def msgid(message) -> str:
    """A message's id (the singular of a plural one)."""
    return message[0] if isinstance(message, tuple) else message


def page_config(html: bytes) -> dict:
    blob = re.search(rb'<script type="application/json" id="page-config">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    for path in ("/callcentre", "/callcentre/board"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_operators_and_managers_take_calls_and_the_back_office_only_watches_the_board(client, users, auth):
    for role in ("operator", "manager", "admin"):
        auth.logout()
        auth.login(users[role])
        assert client.get("/callcentre").status_code == 200
        assert page_config(client.get("/callcentre/board").data)["can_move"] is True
    auth.logout()
    auth.login(users["backoffice"])
    refused = client.get("/callcentre", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and b"<html" in refused.data
    board = client.get("/callcentre/board")
    assert board.status_code == 200
    config = page_config(board.data)
    assert config["can_move"] is False and config["workspace_url"] == ""


def test_the_board_mirrors_the_state_machine(client, users, auth):
    auth.login(users["operator"])
    config = page_config(client.get("/callcentre/board").data)
    assert config["transitions"] == {str(s): sorted(str(t) for t in nxt) for s, nxt in TRANSITIONS.items()}
    assert set(config["needs_reason"]) == {"cancelled", "rejected", "failed"}
    assert set(config["labels"]["order_status"]) == {str(s) for s in TRANSITIONS}


def test_an_incoming_call_link_hands_the_number_to_the_workspace(client, users, catalogue, auth):
    auth.login(users["operator"])
    html = client.get("/callcentre?phone=%2B7%20912%20345-67-89").data
    config = page_config(html)
    assert config["phone"] == "+7 912 345-67-89"
    assert [b["code"] for b in config["branches"]] == ["KZ1", "KZ2"]
    assert config["api"]["take_order"] == "/api/v1/callcentre/orders"
    assert b'id="phone"' in html and b"autofocus" in html


def test_the_workspace_lists_its_keyboard_shortcuts(client, users, auth):
    auth.login(users["operator"])
    html = client.get("/callcentre").data.decode()
    for key in ("F1", "Alt+1", "Alt+2", "Alt+3", "Alt+4", "Alt+R", "Alt+M", "Ctrl+Enter", "Esc"):
        assert f"<kbd>{key}</kbd>" in html


def test_russian_is_chosen_once_and_every_page_follows_including_log_in(client, users, auth):
    auth.choose_language("ru")
    login = client.get("/login").data.decode()
    assert '<html lang="ru">' in login and "Войти" in login and "Пароль" in login
    auth.login(users["operator"])
    workspace = client.get("/callcentre").data.decode()
    assert "Оформить заказ" in workspace and "Горячие клавиши" in workspace
    config = page_config(workspace.encode())
    assert config["locale"] == "ru" and config["strings"]["new_client"] == "Новый клиент"
    board = client.get("/callcentre/board").data.decode()
    assert (
        "Заказы на сегодня" in board
        and page_config(board.encode())["labels"]["order_status"]["cooking"] == "Готовится"
    )
    auth.choose_language("en", back_to="/callcentre")
    assert "Place order" in client.get("/callcentre").data.decode()


def test_a_wrong_password_is_told_in_russian(client, users, auth):
    auth.choose_language("ru")
    resp = auth.login("test-operator", "nope", expect=None)
    assert (
        resp.status_code == 401 and "Неизвестное имя пользователя или неверный пароль" in resp.data.decode()
    )


def test_every_message_of_the_interface_has_a_russian_translation():
    catalog = read_po((TRANSLATIONS / "messages.po").open("rb"))
    translated = {(m.context, msgid(m.id)) for m in catalog if m.id and m.string and not m.fuzzy}
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    missing = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options_map, keywords=KEYWORDS
    ):
        if (context, msgid(message)) not in translated:
            missing.add(f"{context}|{msgid(message)}" if context else msgid(message))
    assert not missing, f"{len(missing)} messages lack a Russian translation: {sorted(missing)[:20]}"


def test_the_committed_compiled_catalogue_matches_its_source():
    po = read_po((TRANSLATIONS / "messages.po").open("rb"))
    mo = read_mo((TRANSLATIONS / "messages.mo").open("rb"))
    source = {(m.context, m.id): m.string for m in po if m.id and m.string and not m.fuzzy}
    compiled = {(m.context, m.id): m.string for m in mo if m.id}
    assert compiled == source
