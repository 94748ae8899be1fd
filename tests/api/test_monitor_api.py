"""The monitor's API, pages and reports, and the /metrics endpoint."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from tests.conftest import order_body
from tests.monitor_fixtures import DayBuilder, add_courier, at_evening, table

NOW = at_evening()
TODAY = NOW.astimezone(ZoneInfo("Europe/Moscow")).date()


@pytest.fixture
def deliveries(app, catalogue) -> DayBuilder:
    """Three clients' deliveries today and yesterday at two branches, one failed delivery."""
    b = DayBuilder(app.extensions["frontoffice"].db, NOW)
    b.deliver("a1", created=200, took=30, phone="+79120000001", client_name="Alla", sku="SU-SET1")
    b.deliver("a2", created=24 * 60 + 200, took=50, phone="+79120000001", client_name="Alla", sku="PZ-MARG")
    b.deliver("b1", created=150, took=70, phone="+79120000002", client_name="Boris", sku="PZ-4CH")
    b.deliver(
        "c1", created=100, took=20, phone="+79120000003", branch_id=2, sku="DR-WATER", lat=55.70, lon=49.30
    )
    b.place("f1", created=90, phone="+79120000003", branch_id=2)
    b.move("f1", "confirmed", "cooking", "ready", "in_delivery", "failed", at=30, reason="Nobody home")
    return b


def test_a_manager_reads_the_snapshot_of_every_branch_or_one(client, users, catalogue):
    h = users["manager"].headers
    placed = client.post("/api/v1/orders", json=order_body(branch_id=2), headers=users["operator"].headers)
    assert placed.status_code == 201
    everything = client.get("/api/v1/monitor/snapshot", headers=h)
    assert everything.status_code == 200
    assert everything.json["orders_today"] == 1 and everything.json["orders_by_status"]["new"] == 1
    assert [o["order_id"] for o in everything.json["map_orders"]] == [placed.json["id"]]
    one = client.get("/api/v1/monitor/snapshot?branch_id=2", headers=h).json
    assert one["branch_id"] == 2 and one["orders_today"] == 1
    assert client.get("/api/v1/monitor/snapshot?branch_id=1", headers=h).json["orders_today"] == 0
    assert client.get("/api/v1/monitor/snapshot?branch_id=zero", headers=h).status_code == 422
    assert client.get("/api/v1/monitor/snapshot", headers=users["operator"].headers).status_code == 403


def test_the_loyalty_api_checks_its_period(client, users, deliveries):
    h = users["manager"].headers
    top = client.get("/api/v1/monitor/loyalty?period=all&limit=2", headers=h).json
    assert [c["phone"] for c in top["clients"]] == ["+79120000001", "+79120000002"]  # then the bigger sum
    assert top["clients"][0]["deliveries"] == 2 and top["clients"][0]["name"] == "Alla"
    custom = client.get(
        f"/api/v1/monitor/loyalty?period=custom&date_from={TODAY}&date_to={TODAY}&by=revenue", headers=h
    ).json
    assert custom["by"] == "revenue" and custom["clients"][0]["deliveries"] == 1
    bad = client.get("/api/v1/monitor/loyalty?period=custom&date_from=2025-05-02", headers=h)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert client.get("/api/v1/monitor/loyalty?period=week", headers=h).status_code == 422
    segments = client.get("/api/v1/monitor/loyalty/segments", headers=h).json
    assert segments["population"] == 3


def test_deliveries_by_client_give_sums_checks_and_shares(client, users, deliveries):
    d = deliveries
    url = f"/api/v1/reports/deliveries-by-client?date_from={TODAY - dt.timedelta(days=1)}&date_to={TODAY}"
    report = client.get(url, headers=users["manager"].headers).json
    assert (report["clients"], report["deliveries"]) == (3, 4)
    revenue = d.total("a1") + d.total("a2") + d.total("b1") + d.total("c1")
    assert Decimal(report["revenue"]) == Decimal(revenue) / 100
    alla = next(r for r in report["rows"] if r["phone"] == "+79120000001")
    assert (
        alla["deliveries"] == 2 and Decimal(alla["revenue"]) == Decimal(d.total("a1") + d.total("a2")) / 100
    )
    assert Decimal(alla["average_check"]) == Decimal(round((d.total("a1") + d.total("a2")) / 2)) / 100
    assert alla["first_at"] < alla["last_at"]
    assert sum(Decimal(r["share"]) for r in report["rows"]) == pytest.approx(
        Decimal(100), abs=Decimal("0.02")
    )


@pytest.mark.parametrize(("sort", "key"), [("revenue", "revenue"), ("name", "name"), ("last_at", "last_at")])
def test_deliveries_by_client_sort_both_ways(client, users, deliveries, sort, key):
    h = users["manager"].headers
    base = f"/api/v1/reports/deliveries-by-client?date_from={TODAY - dt.timedelta(days=1)}&sort={sort}"
    down = [r[key] for r in client.get(base + "&order=desc", headers=h).json["rows"]]
    up = [r[key] for r in client.get(base + "&order=asc", headers=h).json["rows"]]
    as_value = Decimal if key == "revenue" else str
    assert [as_value(v) for v in down] == sorted((as_value(v) for v in down), reverse=True)
    assert [as_value(v) for v in up] == sorted(as_value(v) for v in up)


def test_deliveries_by_client_page_through(client, users, deliveries):
    h = users["manager"].headers
    pages = [
        client.get(
            f"/api/v1/reports/deliveries-by-client?date_from={TODAY}&per_page=2&page={p}", headers=h
        ).json
        for p in (1, 2)
    ]
    assert [len(p["rows"]) for p in pages] == [2, 1]
    assert len({r["phone"] for p in pages for r in p["rows"]}) == 3


def test_a_report_refuses_a_backwards_period(client, users):
    resp = client.get(
        "/api/v1/reports/deliveries-by-client?date_from=2025-05-10&date_to=2025-05-01",
        headers=users["manager"].headers,
    )
    assert resp.status_code == 422
    assert (
        client.get(
            "/api/v1/reports/delivery-performance?group=moon", headers=users["manager"].headers
        ).status_code
        == 422
    )


def test_delivery_performance_per_day_branch_and_courier(client, users, deliveries, app):
    h = users["manager"].headers
    courier = add_courier(app.extensions["frontoffice"].db, "Anna")
    deliveries.assign("b1", courier)
    period = f"date_from={TODAY - dt.timedelta(days=2)}&date_to={TODAY}"
    per_day = client.get(f"/api/v1/reports/delivery-performance?group=day&{period}", headers=h).json
    assert [r["key"] for r in per_day["rows"]] == [str(TODAY - dt.timedelta(days=n)) for n in (2, 1, 0)]
    assert [r["delivered"] for r in per_day["rows"]] == [0, 1, 3]
    assert per_day["total"]["failed"] == 1
    assert per_day["total"]["median_min"] == 40.0  # 20, 30, 50, 70
    per_branch = client.get(f"/api/v1/reports/delivery-performance?group=branch&{period}", headers=h).json
    assert {r["key"]: (r["delivered"], r["failed"]) for r in per_branch["rows"]} == {"1": (3, 0), "2": (1, 1)}
    per_courier = client.get(f"/api/v1/reports/delivery-performance?group=courier&{period}", headers=h).json
    rows = {r["label"]: r for r in per_courier["rows"]}
    assert rows["Anna"]["delivered"] == 1 and rows["Anna"]["average_min"] == 70.0
    assert rows["Anna"]["on_time_rate"] == 0.0 and rows["Anna"]["late"] == 1
    assert rows["(no courier)"]["delivered"] == 3


def test_delivery_performance_per_zone_finds_orders_in_the_polygons(client, users, deliveries, app):
    square = {
        "type": "Polygon",
        "coordinates": [[[49.0, 55.75], [49.2, 55.75], [49.2, 55.85], [49.0, 55.85], [49.0, 55.75]]],
    }
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(insert(table("delivery_zones")).values(branch_id=1, name="Centre", geometry=square))
    report = client.get(
        f"/api/v1/reports/delivery-performance?group=zone&date_from={TODAY - dt.timedelta(days=1)}",
        headers=users["manager"].headers,
    ).json
    assert report["available"] is True
    rows = {r["label"]: r["delivered"] for r in report["rows"]}
    assert rows == {"Centre": 3, "(outside every zone)": 1}


def test_the_monitor_page_is_for_managers(client, users, auth):
    assert client.get("/monitor").status_code == 302  # to the login page
    auth.login("operator")
    assert client.get("/monitor").status_code == 403


def test_a_manager_opens_the_monitor_and_the_reports(client, users, deliveries, auth):
    auth.login("manager")
    page = client.get("/monitor")
    assert page.status_code == 200
    assert b'id="page-config"' in page.data and b"vendor/leaflet/leaflet.js" in page.data
    assert b"vendor/chartjs/chart.umd.js" in page.data
    assert client.get("/monitor/static/monitor/monitor.js").status_code == 200
    clients = client.get(f"/monitor/reports/clients?date_from={TODAY - dt.timedelta(days=1)}&sort=revenue")
    assert clients.status_code == 200 and b"Alla" in clients.data and b"+79120000002" in clients.data
    perf = client.get("/monitor/reports/performance?group=branch")
    assert perf.status_code == 200 and b"KZ2" in perf.data
    bad = client.get("/monitor/reports/clients?date_from=yesterday")
    assert bad.status_code == 200 and b"date_from" in bad.data  # a readable message, the default period


def test_the_client_report_exports_csv_with_the_same_sorting(client, users, deliveries, auth):
    auth.login("manager")
    resp = client.get(
        f"/monitor/reports/clients.csv?date_from={TODAY - dt.timedelta(days=1)}&sort=revenue&order=asc"
    )
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 3
    assert [Decimal(r["revenue"]) for r in rows] == sorted(Decimal(r["revenue"]) for r in rows)
    assert client.get("/monitor/reports/clients.csv?sort=nonsense").status_code == 422


def test_metrics_expose_requests_orders_and_sockets(client, users, deliveries):
    client.get("/api/v1/monitor/snapshot", headers=users["manager"].headers)
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'frontoffice_http_requests_total{method="GET",route="/api/v1/monitor/snapshot",status="200"} 1.0'
        in text
    )
    assert "frontoffice_http_request_duration_seconds_bucket" in text
    assert 'frontoffice_orders_open{status="new"}' in text
    assert "frontoffice_orders_today" in text and "frontoffice_monitor_screens 0.0" in text
    assert "# TYPE frontoffice_socketio_connections gauge" in text


def test_the_zone_an_order_was_taken_in_wins_over_where_its_point_lies(client, users, catalogue, app, orders):
    db = app.extensions["frontoffice"].db
    far_away = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}
    with db.unit_of_work() as s:
        zone_id = s.execute(
            insert(table("delivery_zones"))
            .values(branch_id=1, name="Recorded", geometry=far_away)
            .returning(table("delivery_zones").c.id)
        ).scalar_one()

    def zone_policy(session, draft):
        draft.extra["zone_id"] = zone_id  # what the call centre's zone policy records

    placed_at = NOW - dt.timedelta(minutes=90)
    order = orders.place(
        ("PZ-MARG", 1),
        client_phone="+79120000009",
        address_text="Kazan",
        lon=49.12,
        now=placed_at,
        policies=[zone_policy],
    )
    for i, status in enumerate(("confirmed", "cooking", "ready", "in_delivery", "delivered")):
        orders.move(order.id, status, at=placed_at + dt.timedelta(minutes=10 + i))
    report = client.get(
        f"/api/v1/reports/delivery-performance?group=zone&date_from={TODAY}&date_to={TODAY}",
        headers=users["manager"].headers,
    ).json
    assert {r["label"]: r["delivered"] for r in report["rows"]} == {"Recorded": 1}


def _csv_rows(resp, delimiter):
    """The rows of a CSV download, checking it is UTF-8 with a byte-order mark."""
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_exports_open_in_excel_and_carry_no_formulas(app, client, users, catalogue, auth):
    b = DayBuilder(app.extensions["frontoffice"].db, NOW)
    b.deliver("x1", created=200, took=30, phone="+79120000007", client_name='=HYPERLINK("x")', sku="PZ-MARG")
    b.deliver("x2", created=100, took=30, phone="+79120000008", client_name="Алла Петрова", sku="PZ-MARG")
    auth.login("manager")
    since = TODAY - dt.timedelta(days=1)
    english = _csv_rows(client.get(f"/monitor/reports/clients.csv?date_from={since}"), ",")
    names = {r[1] for r in english[1:]}
    assert names == {'\'=HYPERLINK("x")', "Алла Петрова"}
    auth.choose_language("ru", back_to="/monitor")
    russian = _csv_rows(client.get(f"/monitor/reports/clients.csv?date_from={since}"), ";")
    assert russian[0][:3] == ["phone", "name", "deliveries"] and len(russian) == 3


def test_the_performance_report_exports_csv(client, users, deliveries, auth):
    auth.login("manager")
    page = client.get("/monitor/reports/performance?group=branch")
    assert b"/monitor/reports/performance.csv" in page.data
    resp = client.get(
        f"/monitor/reports/performance.csv?group=branch&date_from={TODAY - dt.timedelta(days=1)}"
    )
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = _csv_rows(resp, ",")
    assert rows[0][:3] == ["branch", "delivered", "failed"]
    assert rows[-1][0] == "total" and int(rows[-1][1]) == sum(int(r[1]) for r in rows[1:-1]) == 4
    bad = client.get("/monitor/reports/performance.csv?group=nonsense")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
