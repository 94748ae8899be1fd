"""Test helpers, one object per verb, exposed as fixtures by tests/conftest.py (Flask's tutorial
``AuthActions`` is the model): ``auth`` logs a test client in through the pages and reads the CSRF
tokens they render; ``orders`` builds, places and moves orders through the orders service.

Modules that need them outside a test (a helper of their own, a thread) build them directly:
``AuthActions(client)``, ``OrderActions(kernel)``, ``order_command(...)``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData

from frontoffice.db import Database, make_engine
from orders import services as order_services
from orders.models import Order
from orders.ports import PLACEMENT_POLICIES
from orders.states import NEEDS_REASON


@contextmanager
def database_with(database_url: str, metadata: MetaData) -> Iterator[Database]:
    """A :class:`Database` on ``database_url`` with a test module's private tables, dropped after."""
    database = Database(make_engine(database_url))
    metadata.create_all(database.engine)
    try:
        yield database
    finally:
        metadata.drop_all(database.engine)
        database.dispose()


#: The test caller and the address every default order goes to (branch 1's centre zone in the demo).
DEFAULT_ORDER: dict[str, Any] = {
    "branch_id": 1,
    "client_phone": "+79123456789",
    "address_text": "Kazan, Kremlyovskaya 21",
    "lat": 55.79,
    "lon": 49.11,
}
#: What a default order holds: (sku, quantity) pairs of the demo menu.
DEFAULT_LINES: tuple[tuple[str, int], ...] = (("PZ-MARG", 1),)
#: The reason a move that needs one is given when the test names none.
DEFAULT_REASON = "changed plans"

_FORM_TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')
_META_TOKEN = re.compile(rb'name="csrf-token" content="([^"]+)"')


class AuthActions:
    """Logging a Flask test client in and out through the pages, as a browser does."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def csrf(page: bytes) -> str:
        """The CSRF token a rendered page carries (its form's field, else the page's meta tag)."""
        match = _FORM_TOKEN.search(page) or _META_TOKEN.search(page)
        assert match is not None, "no CSRF token on the page"
        return match.group(1).decode()

    def login(self, who: Any = "operator", password: str | None = None, *, expect: int | None = 302) -> Any:
        """Log in through the login page; the response, its status checked against ``expect``.

        ``who`` is a role (the test user ``test-<role>`` with ``pw-<role>``), a user with
        ``username`` and ``password`` (an ``Actor``), or a username given with its ``password``.
        """
        if hasattr(who, "username"):
            username, password = who.username, who.password
        elif password is None:
            username, password = f"test-{who}", f"pw-{who}"
        else:
            username = who
        token = self.csrf(self.client.get("/login").data)
        resp = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        if expect is not None:
            assert resp.status_code == expect, resp.data[:500]
        return resp

    def choose_language(self, code: str, back_to: str = "/login") -> Any:
        """Switch the interface language with the top bar's form on ``back_to``; the redirect back."""
        token = self.csrf(self.client.get(back_to).data)
        resp = self.client.post(f"/lang/{code}", data={"csrf_token": token, "next": back_to})
        assert resp.status_code == 302, resp.data[:500]
        return resp

    def logout(self) -> None:
        """Forget whoever is logged in (the session cookie's content)."""
        with self.client.session_transaction() as session:
            session.clear()


def order_command(*lines: tuple[str, int], **fields: Any) -> order_services.PlaceOrder:
    """A command placing ``lines`` ((sku, quantity) pairs; one Margherita when none) from the
    test caller to Kremlyovskaya 21 at branch 1, any field overridden by ``fields``."""
    base = {
        **DEFAULT_ORDER,
        "lines": [order_services.LineRequest(quantity=q, sku=sku) for sku, q in (lines or DEFAULT_LINES)],
    }
    base.update(fields)
    return order_services.PlaceOrder(**base)


class OrderActions:
    """Placing orders and moving them through their states, each step in its own transaction."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    def command(self, *lines: tuple[str, int], **fields: Any) -> order_services.PlaceOrder:
        """See :func:`order_command`."""
        return order_command(*lines, **fields)

    def place(
        self,
        *lines: tuple[str, int],
        policies: bool | Sequence[Any] = True,
        actor_id: int | None = None,
        now: dt.datetime | None = None,
        **fields: Any,
    ) -> Order:
        """Place an order of :func:`order_command` (``lines``, ``fields``) through the orders service.

        ``policies``: True runs the app's placement policies (as both order endpoints do), False
        none, or the given ones.
        """
        if policies is True:
            chosen: Sequence[Any] = self.kernel.extensions.all(PLACEMENT_POLICIES)
        elif policies is False:
            chosen = ()
        else:
            chosen = policies
        with self.kernel.db.unit_of_work() as s:
            return order_services.place_order(
                s, order_command(*lines, **fields), actor_id=actor_id, policies=chosen, now=now
            )

    def move(
        self,
        order_id: int,
        *statuses: str,
        reason: str | None = None,
        at: dt.datetime | None = None,
        actor_id: int | None = None,
    ) -> None:
        """Move an order through ``statuses``, one transaction each; a move that needs a reason
        (cancel, reject, fail) gets :data:`DEFAULT_REASON` when ``reason`` is not given."""
        for status in statuses:
            why = reason if reason is not None or status not in NEEDS_REASON else DEFAULT_REASON
            with self.kernel.db.unit_of_work() as s:
                order_services.change_status(s, order_id, status, actor_id=actor_id, reason=why, now=at)


def assert_api_admits(
    client: Any, method: str, url: str, callers: dict[str, dict[str, str]], admitted
) -> None:
    """``url`` answers 401 problem+json without credentials, and to each role in ``callers`` (role →
    Authorization header) anything but 401/403 when it is ``admitted``, else 403 problem+json."""
    anonymous = client.open(url, method=method, json={})
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json"
    for role, headers in callers.items():
        resp = client.open(url, method=method, json={}, headers=headers)
        if role in admitted:
            assert resp.status_code not in (401, 403), (role, resp.json)
        else:
            assert resp.status_code == 403 and resp.mimetype == "application/problem+json", role


def assert_page_admits(app: Any, method: str, url: str, roles, admitted) -> None:
    """A page sends anonymous visitors to the login page (a POST first meets the CSRF check), and
    answers each of ``roles`` logged in anything but 401/403 when it is ``admitted``, else 403."""
    anonymous = app.test_client().open(url, method=method)
    assert anonymous.status_code in (302, 400)
    for role in roles:
        client = app.test_client()
        auth = AuthActions(client)
        auth.login(role)
        data = {"csrf_token": auth.csrf(client.get("/login").data)} if method == "POST" else None
        resp = client.open(url, method=method, data=data)
        if role in admitted:
            assert resp.status_code not in (401, 403), (role, resp.status_code)
        else:
            assert resp.status_code == 403, (role, resp.status_code)
