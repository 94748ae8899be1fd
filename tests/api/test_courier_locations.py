"""Position reports: batches with per-point errors, repeats stored once, the current position never
moving back in time; and the OsmAnd endpoint in every shape Traccar Client sends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from couriers.events import CourierMoved
from couriers.models import CourierPosition, CourierTrackPoint
from frontoffice.db import utcnow
from tests.couriers_fixtures import make_courier

API = "/api/courier/v1"
KNOT = 1852 / 3600


def iso(t: dt.datetime) -> str:
    return t.isoformat()


def points_of(db, courier_id: int) -> int:
    with db.reading() as s:
        return s.scalar(
            select(func.count())
            .select_from(CourierTrackPoint)
            .where(CourierTrackPoint.courier_id == courier_id)
        )


def position_of(db, courier_id: int) -> CourierPosition | None:
    with db.reading() as s:
        return s.get(CourierPosition, courier_id)


@pytest.fixture
def anna(app, catalogue):
    return make_courier(app, "Anna", device_id="anna-phone")


def test_a_batch_keeps_the_good_points_and_refuses_the_malformed_ones_alone(app, client, db, anna):
    now = utcnow()
    batch = [
        {
            "recorded_at": iso(now - dt.timedelta(seconds=30)),
            "lat": 55.79,
            "lon": 49.12,
            "speed": 4.2,
            "battery": 80,
        },
        {"recorded_at": iso(now - dt.timedelta(seconds=20)), "lat": 95.0, "lon": 49.12},
        {"recorded_at": iso(now + dt.timedelta(hours=2)), "lat": 55.79, "lon": 49.12},
        {"recorded_at": iso(now - dt.timedelta(seconds=10)), "lat": 55.791, "lon": 49.121, "battery": 140},
        {"recorded_at": iso(now - dt.timedelta(seconds=5)), "lat": 55.792, "lon": 49.122, "accuracy": 6},
    ]
    resp = client.post(f"{API}/locations", json={"points": batch}, headers=anna.headers)
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["accepted"] == 3 and body["duplicates"] == 0
    assert [r["index"] for r in body["rejected"]] == [1, 3]
    assert body["rejected"][0]["errors"][0]["field"] == "lat"
    assert body["rejected"][1]["errors"][0]["field"] == "battery"
    assert body["flagged"] == [{"index": 2, "flags": ["ahead"]}]  # stored, but not the current position
    assert body["current"]["lat"] == 55.792
    assert points_of(db, anna.id) == 3


def test_a_point_timed_at_the_edge_of_the_calendar_is_refused_alone(client, db, anna):
    batch = [
        {"recorded_at": "0001-01-01T00:00:00+14:00", "lat": 55.79, "lon": 49.12},
        {"recorded_at": "9999-12-31T23:59:59-14:00", "lat": 55.79, "lon": 49.12},
        {"recorded_at": iso(utcnow()), "lat": 55.792, "lon": 49.122},
    ]
    resp = client.post(f"{API}/locations", json={"points": batch}, headers=anna.headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["accepted"] == 1 and [r["index"] for r in resp.json["rejected"]] == [0, 1]
    assert {r["errors"][0]["field"] for r in resp.json["rejected"]} == {"recorded_at"}
    assert points_of(db, anna.id) == 1


def test_a_point_sent_twice_is_stored_once_and_old_points_do_not_move_the_courier_back(app, client, db, anna):
    now = utcnow()
    newest = {"recorded_at": iso(now - dt.timedelta(seconds=1)), "lat": 55.80, "lon": 49.10}
    older = {"recorded_at": iso(now - dt.timedelta(minutes=3)), "lat": 55.70, "lon": 49.00}
    first = client.post(f"{API}/locations", json={"points": [newest, newest]}, headers=anna.headers).json
    assert first["accepted"] == 1 and first["duplicates"] == 1
    late = client.post(f"{API}/locations", json={"points": [older, newest]}, headers=anna.headers).json
    assert late["accepted"] == 1 and late["duplicates"] == 1
    assert late["current"]["lat"] == 55.80  # the late, older point went to history only
    assert points_of(db, anna.id) == 2
    assert position_of(db, anna.id).lat == 55.80


def test_a_retried_batch_with_the_same_key_returns_the_first_answer_and_stores_nothing_more(
    app, client, db, anna
):
    now = utcnow()
    batch = {
        "points": [
            {"recorded_at": iso(now - dt.timedelta(seconds=s)), "lat": 55.79, "lon": 49.12} for s in (3, 2, 1)
        ]
    }
    h = {**anna.headers, "Idempotency-Key": "batch-42"}
    first = client.post(f"{API}/locations", json=batch, headers=h)
    second = client.post(f"{API}/locations", json=batch, headers=h)
    assert first.json == second.json and first.json["accepted"] == 3
    assert second.headers["Idempotent-Replayed"] == "true"
    assert points_of(db, anna.id) == 3


def test_malformed_batches_are_refused_whole(client, anna):
    assert client.post(f"{API}/locations", json={"points": []}, headers=anna.headers).status_code == 422
    bad_type = client.post(
        f"{API}/locations",
        json={"points": [{"recorded_at": "yesterday", "lat": 1, "lon": 2}]},
        headers=anna.headers,
    )
    assert bad_type.status_code == 422 and bad_type.json["errors"][0]["field"] == "points.0.recorded_at"
    naive = client.post(
        f"{API}/locations",
        json={"points": [{"recorded_at": "2026-01-01T10:00:00", "lat": 1, "lon": 2}]},
        headers=anna.headers,
    )
    assert naive.status_code == 200 and naive.json["rejected"][0]["errors"][0]["field"] == "recorded_at"


def test_a_move_is_published_for_the_monitor(app, client, kernel, anna):
    heard: list[CourierMoved] = []
    kernel.bus.subscribe(CourierMoved, heard.append)
    point = {"recorded_at": iso(utcnow()), "lat": 55.79, "lon": 49.12}
    client.post(f"{API}/locations", json={"points": [point]}, headers=anna.headers)
    client.post(f"{API}/locations", json={"points": [point]}, headers=anna.headers)  # a repeat: no move
    assert [(e.courier_id, e.lat, e.branch_ids) for e in heard] == [(anna.id, 55.79, (1,))]


# --- OsmAnd / Traccar Client ----------------------------------------------------------------


def test_osmand_get_with_query_parameters(client, db, anna):
    ts = int(utcnow().timestamp())
    resp = client.get(
        f"/api/osmand?id=anna-phone&timestamp={ts}&lat=55.7901&lon=49.1301&speed=10&bearing=90&altitude=120&accuracy=5&batt=77"
    )
    assert resp.status_code == 200 and resp.data == b""
    pos = position_of(db, anna.id)
    assert (pos.lat, pos.lon, pos.bearing, pos.altitude, pos.accuracy, pos.battery) == (
        55.7901,
        49.1301,
        90,
        120,
        5,
        77,
    )
    assert pos.speed == pytest.approx(10 * KNOT)  # knots in, metres per second stored
    assert pos.recorded_at == dt.datetime.fromtimestamp(ts, dt.UTC)


def test_osmand_post_with_query_parameters_and_milliseconds(client, db, anna):
    ms = int(utcnow().timestamp() * 1000)
    resp = client.post(f"/api/osmand?deviceid=anna-phone&timestamp={ms}&location=55.7902,49.1302&heading=45")
    assert resp.status_code == 200 and resp.data == b""
    pos = position_of(db, anna.id)
    assert (pos.lat, pos.lon, pos.bearing) == (55.7902, 49.1302, 45)
    assert abs(pos.recorded_at.timestamp() * 1000 - ms) < 1


def test_osmand_post_as_a_form_with_an_iso_timestamp(client, db, anna):
    stamp = utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    resp = client.post(
        "/api/osmand", data={"id": "anna-phone", "timestamp": stamp, "lat": "55.7903", "lon": "49.1303"}
    )
    assert resp.status_code == 200
    pos = position_of(db, anna.id)
    assert pos.lat == 55.7903 and pos.recorded_at.isoformat().startswith(stamp[:19])


def test_osmand_json_body_of_newer_traccar_clients(client, db, anna):
    body = {
        "device_id": "anna-phone",
        "location": {
            "timestamp": utcnow().isoformat(),
            "coords": {
                "latitude": 55.7904,
                "longitude": 49.1304,
                "accuracy": 4.5,
                "speed": 3.5,
                "heading": 180,
                "altitude": 90,
            },
            "is_moving": True,
            "odometer": 1200,
            "event": "motionchange",
            "battery": {"level": 0.62, "is_charging": False},
            "activity": {"type": "on_bicycle"},
        },
    }
    resp = client.post("/api/osmand", json=body)
    assert resp.status_code == 200 and resp.data == b""
    pos = position_of(db, anna.id)
    assert (pos.lat, pos.lon, pos.speed, pos.bearing, pos.battery) == (55.7904, 49.1304, 3.5, 180, 62)


def test_a_repeated_osmand_ping_is_stored_once(client, db, anna):
    url = f"/api/osmand?id=anna-phone&timestamp={int(utcnow().timestamp())}&lat=55.79&lon=49.13"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert points_of(db, anna.id) == 1


def test_an_osmand_move_is_published_by_its_commit_like_every_event(client, kernel, anna):
    committed: list[object] = []
    kernel.db.on_commit(committed.extend)
    url = f"/api/osmand?id=anna-phone&timestamp={int(utcnow().timestamp())}&lat=55.79&lon=49.13"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # a repeat: no move
    moves = [e for e in committed if isinstance(e, CourierMoved)]
    assert [(e.courier_id, e.lat, e.lon, e.branch_ids) for e in moves] == [(anna.id, 55.79, 49.13, (1,))]


def test_an_unknown_device_is_refused_as_traccar_does(client, db, anna):
    resp = client.get("/api/osmand?id=stranger&lat=55.79&lon=49.13")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert "not registered" in resp.json["detail"]
    json_resp = client.post(
        "/api/osmand",
        json={"device_id": "stranger", "location": {"coords": {"latitude": 55.79, "longitude": 49.13}}},
    )
    assert json_resp.status_code == 404
    assert points_of(db, anna.id) == 0


@pytest.mark.parametrize(
    "query",
    [
        "",
        "lat=55.79&lon=49.13",
        "id=anna-phone",
        "id=anna-phone&lat=abc&lon=49.13",
        "id=anna-phone&lat=91&lon=49.13",
        "id=anna-phone&location=55.79",
        "id=anna-phone&lat=55.79&lon=49.13&timestamp=tomorrow",
        "id=anna-phone&lat=55.79&lon=49.13&timestamp=99999999999999999999",
        "id=anna-phone&lat=55.79&lon=49.13&timestamp=0001-01-01T00:00:00%2B14:00",
        "id=anna-phone&lat=55.79&lon=49.13&timestamp=9999-12-31T23:59:59-14:00",
        "id=anna-phone&lat=nan&lon=49.13",
        "id=anna-phone&lat=55.79&lon=49.13&speed=fast",
    ],
)
def test_garbage_on_the_osmand_endpoint_is_a_400_problem(client, db, anna, query):
    resp = client.get(f"/api/osmand?{query}")
    assert resp.status_code == 400, resp.data
    assert resp.mimetype == "application/problem+json"
    assert points_of(db, anna.id) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"device_id": "anna-phone"}',
        b'{"device_id": "anna-phone", "location": {"coords": {"latitude": "x"}}}',
    ],
)
def test_garbage_json_on_the_osmand_endpoint_is_a_400_problem(client, body, anna):
    resp = client.post("/api/osmand", data=body, content_type="application/json")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


def test_a_switched_off_courier_device_stops_being_accepted(app, client, users, anna):
    assert client.get("/api/osmand?id=anna-phone&lat=55.79&lon=49.13").status_code == 200
    off = client.patch(
        f"/api/v1/couriers/{anna.id}", json={"active": False}, headers=users["manager"].headers
    )
    assert off.status_code == 200
    assert client.get("/api/osmand?id=anna-phone&lat=55.79&lon=49.14").status_code == 400


def test_the_flask_route_behind_the_middleware_answers_the_same(app, db, anna):
    from werkzeug.test import Client

    inner = Client(app.wsgi_app.app)  # Flask itself, without the OsmAnd middleware in front
    ok = inner.post(
        f"/api/osmand?id=anna-phone&timestamp={int(utcnow().timestamp())}&lat=55.7905&lon=49.1305"
    )
    assert ok.status_code == 200 and ok.data == b""
    assert position_of(db, anna.id).lat == 55.7905
    assert inner.get("/api/osmand?id=stranger&lat=55.79&lon=49.13").status_code == 400
    assert inner.get("/api/osmand?id=anna-phone&lat=x&lon=1").status_code == 400


def test_an_oversized_osmand_body_is_refused(client, anna):
    resp = client.post("/api/osmand", data=b"x" * (300 * 1024), content_type="application/json")
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"


# --- Traccar Client's offline buffer, equal timestamps, times without an offset ---------------


def flags_of(db, courier_id: int) -> dict[float, str]:
    with db.reading() as s:
        rows = s.execute(
            select(CourierTrackPoint.lat, CourierTrackPoint.flags).where(
                CourierTrackPoint.courier_id == courier_id
            )
        )
        return dict(rows.all())


def test_traccar_client_drains_its_offline_buffer_old_points_are_kept_flagged(client, db, anna):
    now = utcnow()
    buffered = int((now - dt.timedelta(days=10)).timestamp())  # taken offline, sent when back online
    old = client.get(f"/api/osmand?id=anna-phone&timestamp={buffered}&lat=55.70&lon=49.00")
    assert old.status_code == 200 and old.data == b""  # a refusal would block the phone's queue forever
    assert position_of(db, anna.id) is None  # an old point never becomes the current position
    fresh = client.get(f"/api/osmand?id=anna-phone&timestamp={int(now.timestamp())}&lat=55.80&lon=49.10")
    assert fresh.status_code == 200
    assert position_of(db, anna.id).lat == 55.80
    assert flags_of(db, anna.id) == {55.70: "old", 55.80: ""}


def test_a_phone_clock_running_ahead_is_stored_flagged_and_does_not_freeze_the_position(client, db, anna):
    now = utcnow()
    ahead = int((now + dt.timedelta(hours=3)).timestamp())
    assert client.get(f"/api/osmand?id=anna-phone&timestamp={ahead}&lat=55.70&lon=49.00").status_code == 200
    assert position_of(db, anna.id) is None
    assert (
        client.get(
            f"/api/osmand?id=anna-phone&timestamp={int(now.timestamp())}&lat=55.8&lon=49.1"
        ).status_code
        == 200
    )
    assert position_of(db, anna.id).lat == 55.8
    assert flags_of(db, anna.id) == {55.70: "ahead", 55.8: ""}


def test_the_batch_api_keeps_implausible_times_flagged_too(client, db, anna):
    now = utcnow()
    batch = [
        {"recorded_at": iso(now - dt.timedelta(days=30)), "lat": 55.70, "lon": 49.0},
        {"recorded_at": iso(now - dt.timedelta(seconds=5)), "lat": 55.80, "lon": 49.1},
    ]
    body = client.post(f"{API}/locations", json={"points": batch}, headers=anna.headers).json
    assert body["accepted"] == 2 and body["rejected"] == []
    assert body["flagged"] == [{"index": 0, "flags": ["old"]}]
    assert body["current"]["lat"] == 55.80


def test_a_second_fix_with_the_same_timestamp_wins_as_in_traccar(client, db, kernel, anna):
    heard: list[CourierMoved] = []
    kernel.bus.subscribe(CourierMoved, heard.append)
    ts = int(utcnow().timestamp())
    assert client.get(f"/api/osmand?id=anna-phone&timestamp={ts}&lat=55.79&lon=49.13").status_code == 200
    assert client.get(f"/api/osmand?id=anna-phone&timestamp={ts}&lat=55.81&lon=49.15").status_code == 200
    pos = position_of(db, anna.id)
    assert (pos.lat, pos.lon) == (55.81, 49.15)  # received last wins the tie
    assert flags_of(db, anna.id) == {55.81: ""}  # the history row of that time holds the newest fix
    assert [e.lat for e in heard] == [55.79, 55.81]


def test_a_tie_inside_one_batch_is_won_by_the_later_point(client, db, anna):
    at = iso(utcnow() - dt.timedelta(seconds=2))
    batch = [{"recorded_at": at, "lat": 55.79, "lon": 49.13}, {"recorded_at": at, "lat": 55.81, "lon": 49.15}]
    body = client.post(f"{API}/locations", json={"points": batch}, headers=anna.headers).json
    assert body["accepted"] == 1 and body["duplicates"] == 1 and body["current"]["lat"] == 55.81
    assert flags_of(db, anna.id) == {55.81: ""}


@pytest.mark.parametrize("layout", ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])
def test_an_osmand_time_without_an_offset_is_refused_like_everywhere_else(client, db, anna, layout):
    stamp = utcnow().strftime(layout)  # which zone? Unix time or an offset says; this does not
    resp = client.get(
        "/api/osmand", query_string={"id": "anna-phone", "timestamp": stamp, "lat": 55.79, "lon": 49.13}
    )
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert "offset" in resp.json["detail"]
    assert points_of(db, anna.id) == 0
