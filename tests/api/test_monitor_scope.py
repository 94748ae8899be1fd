"""The branch scope on the managers' side (issue 16, item 2): a manager who works for some branches
sees the monitor, its socket and the reports of those branches only; the operators' live board hears
only their branches' orders. Admins and staff linked to no branch keep every branch."""

from __future__ import annotations

import re

import pytest

from tests.conftest import order_body
from tests.helpers import AuthActions


def link(client, users, role: str, branch_ids: list[int]) -> None:
    resp = client.patch(
        f"/api/v1/staff/users/{users[role].id}",
        json={"branch_ids": branch_ids},
        headers=users["admin"].headers,
    )
    assert resp.status_code == 200 and resp.json["branch_ids"] == branch_ids


@pytest.fixture
def manager_of_2(client, users, catalogue):
    link(client, users, "manager", [2])
    return users["manager"]


def page_config(html: str) -> str:
    return re.search(r'id="page-config">(.*?)</script>', html, re.S)[1]


def test_the_snapshot_api_shows_a_manager_of_one_branch_that_branch_and_refuses_another(client, manager_of_2):
    h = manager_of_2.headers
    assert client.get("/api/v1/monitor/snapshot", headers=h).json["branch_id"] == 2
    assert client.get("/api/v1/monitor/snapshot?branch_id=2", headers=h).json["branch_id"] == 2
    refused = client.get("/api/v1/monitor/snapshot?branch_id=1", headers=h)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"


def test_an_admin_still_sees_every_branch_on_the_monitor(client, users, catalogue):
    link(client, users, "admin", [1])
    h = users["admin"].headers
    assert client.get("/api/v1/monitor/snapshot", headers=h).json["branch_id"] is None
    assert client.get("/api/v1/monitor/snapshot?branch_id=2", headers=h).json["branch_id"] == 2


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/deliveries-by-client", "/api/v1/reports/delivery-performance"]
)
def test_the_report_apis_keep_a_manager_within_their_branches(client, manager_of_2, path):
    h = manager_of_2.headers
    assert client.get(f"{path}?branch_id=1", headers=h).status_code == 404
    own = client.get(path, headers=h)
    assert own.status_code == 200
    if "branch_id" in own.json:
        assert own.json["branch_id"] == 2


def test_the_monitor_page_offers_a_manager_only_their_branches(app, client, manager_of_2):
    AuthActions(client).login("manager")
    config = page_config(client.get("/monitor").data.decode())
    assert '"branch": 2' in config and '"branches": [2]' in config
    assert client.get("/monitor?branch=1").status_code == 404
    assert client.get("/monitor?branch=2").status_code == 200


@pytest.mark.parametrize("report", ["/monitor/reports/clients", "/monitor/reports/performance"])
def test_the_report_pages_offer_a_manager_only_their_branches(client, manager_of_2, report):
    AuthActions(client).login("manager")
    html = client.get(report).data.decode()
    assert "KZ2" in html and "KZ1" not in html and "All branches" not in html
    assert client.get(f"{report}?branch_id=1").status_code == 404
    assert client.get(f"{report}.csv?branch_id=1").status_code == 404


def test_the_report_pages_still_offer_every_branch_to_an_unlinked_manager(client, users, catalogue):
    AuthActions(client).login("manager")
    html = client.get("/monitor/reports/clients").data.decode()
    assert "KZ1" in html and "KZ2" in html and "All branches" in html


def monitor_socket(app, token: str, branch: int | None = None):
    auth: dict = {"token": token}
    if branch is not None:
        auth["branch"] = branch
    return app.extensions["frontoffice"].socketio.test_client(app, namespace="/monitor", auth=auth)


def test_the_monitor_socket_refuses_a_manager_another_branch_and_gives_them_their_own(app, manager_of_2):
    assert not monitor_socket(app, manager_of_2.token, branch=1).is_connected("/monitor")
    screen = monitor_socket(app, manager_of_2.token)
    assert screen.is_connected("/monitor")
    (snapshot,) = [m["args"][0] for m in screen.get_received("/monitor") if m["name"] == "snapshot"]
    assert snapshot["branch_id"] == 2
    screen.disconnect("/monitor")


def test_the_operators_board_hears_only_the_orders_of_their_branches(app, client, users, catalogue):
    link(client, users, "operator", [2])
    board = app.extensions["frontoffice"].socketio.test_client(
        app, namespace="/callcentre", auth={"token": users["operator"].token}
    )
    assert board.is_connected("/callcentre")
    board.get_received("/callcentre")
    admin = users["admin"].headers
    for branch in (1, 2):
        assert (
            client.post("/api/v1/orders", json=order_body(branch_id=branch), headers=admin).status_code == 201
        )
    heard = [m["args"][0] for m in board.get_received("/callcentre") if m["name"] == "order_placed"]
    assert [m["branch_id"] for m in heard] == [2]
    refused = app.extensions["frontoffice"].socketio.test_client(
        app, namespace="/callcentre", auth={"token": users["operator"].token, "branch": 1}
    )
    assert not refused.is_connected("/callcentre")
