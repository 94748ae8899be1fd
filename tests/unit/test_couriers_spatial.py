"""Pure courier rules: distances, the grid index, arrival estimates, point checks, OsmAnd parsing."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from couriers.spatial import (
    GridIndex,
    distance_m,
    eta_seconds,
    haversine_m,
    nearest_ranked,
    path_length_m,
    valid_coordinates,
)
from couriers.tracking import (
    KNOT_MPS,
    OsmandError,
    TrackPoint,
    parse_osmand_params,
    parse_timestamp,
    parse_traccar_json,
    point_flags,
    point_problems,
)

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
KREMLIN = (55.7987, 49.1055)
BAUMANA = (55.7887, 49.1221)


def test_haversine_agrees_with_geopy_within_half_a_percent_across_kazan():
    exact = distance_m(*KREMLIN, *BAUMANA)
    assert 1500 < exact < 1600
    assert haversine_m(*KREMLIN, *BAUMANA) == pytest.approx(exact, rel=0.005)


def test_coordinates_must_be_finite_and_in_range():
    assert valid_coordinates(55.8, 49.1)
    for lat, lon in ((91, 0), (0, 181), (float("nan"), 0), (0, float("inf")), (None, 1), ("55", 49)):
        assert not valid_coordinates(lat, lon)


def test_a_car_beats_a_bike_beats_walking_over_the_same_distance():
    assert eta_seconds(1000, "car") < eta_seconds(1000, "bike") < eta_seconds(1000, "foot")
    assert eta_seconds(1000, "foot") == round(1000 * 1.35 / (5 / 3.6))


def test_a_track_length_sums_its_legs():
    assert path_length_m([KREMLIN, BAUMANA, KREMLIN]) == pytest.approx(2 * haversine_m(*KREMLIN, *BAUMANA))
    assert path_length_m([]) == 0


def test_the_index_finds_the_nearest_points_and_forgets_removed_ones():
    index = GridIndex(cell_m=500, ref_lat=55.8)
    index.add(1, *KREMLIN)
    index.add(2, *BAUMANA)
    index.add(3, 55.75, 49.20)
    assert [n.key for n in index.nearest(55.789, 49.122, k=2)] == [2, 1]
    index.remove(2)
    assert [n.key for n in index.nearest(55.789, 49.122, k=1)] == [1]
    index.move(3, 55.7888, 49.1222)
    assert index.nearest(55.789, 49.122, k=1)[0].key == 3
    assert len(index) == 2 and 3 in index
    assert index.nearest(55.789, 49.122, k=5, max_m=100)[0].key == 3
    assert len(index.nearest(55.789, 49.122, k=5, max_m=100)) == 1
    assert GridIndex().nearest(55.8, 49.1) == []
    with pytest.raises(ValueError):
        index.add(4, 100, 0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(1, 300),
    k=st.integers(1, 5),
    qlat=st.floats(55.6, 56.0),
    qlon=st.floats(48.9, 49.4),
    cell=st.sampled_from([100.0, 700.0, 3000.0]),
)
def test_the_index_answers_exactly_what_brute_force_answers(seed, count, k, qlat, qlon, cell):
    rng = random.Random(seed)
    points = {i: (rng.uniform(55.6, 56.0), rng.uniform(48.9, 49.4)) for i in range(count)}
    index = GridIndex(cell_m=cell, ref_lat=55.8)
    for key, (lat, lon) in points.items():
        index.add(key, lat, lon)
    brute = sorted(points, key=lambda key: (haversine_m(qlat, qlon, *points[key]), key))[:k]
    found = index.nearest(qlat, qlon, k)
    assert [round(n.distance_m, 6) for n in found] == [
        round(haversine_m(qlat, qlon, *points[b]), 6) for b in brute
    ]


def test_ranking_by_geodesic_keeps_the_true_nearest_first():
    index = GridIndex(cell_m=1000, ref_lat=55.8)
    for key, (lat, lon) in enumerate([(55.80, 49.10), (55.81, 49.12), (55.70, 49.30)]):
        index.add(key, lat, lon)
    best = nearest_ranked(index, 55.801, 49.101, k=1)
    assert best[0].key == 0 and best[0].distance_m == pytest.approx(distance_m(55.801, 49.101, 55.80, 49.10))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), count=st.integers(1, 120), k=st.integers(1, 3))
def test_geodesic_ranking_through_the_index_equals_brute_force_geodesic(seed, count, k):
    rng = random.Random(seed)
    points = {i: (rng.uniform(55.7, 55.9), rng.uniform(49.0, 49.3)) for i in range(count)}
    index = GridIndex(cell_m=700, ref_lat=55.8)
    for key, (lat, lon) in points.items():
        index.add(key, lat, lon)
    q = (rng.uniform(55.7, 55.9), rng.uniform(49.0, 49.3))
    brute = sorted(points, key=lambda key: (distance_m(*q, *points[key]), key))[:k]
    assert [n.key for n in nearest_ranked(index, *q, k=k)] == brute


def test_malformed_points_are_named_field_by_field():
    good = TrackPoint(recorded_at=NOW, lat=55.8, lon=49.1, speed=5, battery=50, bearing=359)
    assert point_problems(good) == []
    naive = TrackPoint(recorded_at=NOW.replace(tzinfo=None), lat=55.8, lon=49.1)
    broken = TrackPoint(recorded_at=NOW, lat=55.8, lon=49.1, speed=-1, battery=-1, bearing=400)
    assert [p["field"] for p in point_problems(naive)] == ["recorded_at"]
    assert [p["field"] for p in point_problems(broken)] == ["speed", "bearing", "battery"]
    assert [p["field"] for p in point_problems(replace(good, speed=math.inf))] == ["speed"]


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14))),
        dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),
    ],
)
def test_a_point_timed_outside_the_calendar_is_malformed_not_stored_flagged(at):
    point = TrackPoint(recorded_at=at, lat=55.8, lon=49.1)
    assert [p["field"] for p in point_problems(point)] == ["recorded_at"]
    assert parse_timestamp(at.isoformat()) == at


def test_implausible_points_are_flagged_not_refused():
    future = TrackPoint(recorded_at=NOW + dt.timedelta(minutes=10), lat=55.8, lon=49.1)
    ancient = TrackPoint(recorded_at=NOW - dt.timedelta(days=8), lat=55.8, lon=49.1, speed=400)
    assert point_problems(future) == point_problems(ancient) == []
    assert point_flags(future, NOW) == ("ahead",)
    assert point_flags(ancient, NOW) == ("old", "fast")
    assert point_flags(replace(future, recorded_at=NOW), NOW) == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1764244800", dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC)),
        ("1764244800000", dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC)),
        ("1764244800.5", dt.datetime(2025, 11, 27, 12, 0, 0, 500000, tzinfo=dt.UTC)),
        ("2025-11-27T15:00:00+03:00", dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC)),
        ("2025-11-27T12:00:00Z", dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC)),
        ("2025-11-27 15:00:00+03:00", dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC)),
        ("2025-11-27 12:00:00", dt.datetime(2025, 11, 27, 12, 0)),  # naive: point_problems refuses it
    ],
)
def test_timestamps_are_seconds_milliseconds_or_iso(raw, expected):
    assert parse_timestamp(raw) == expected


@pytest.mark.parametrize("raw", ["soon", "-5", "inf", "1e30"])
def test_unreadable_timestamps_are_refused(raw):
    with pytest.raises(OsmandError):
        parse_timestamp(raw)


def test_osmand_parameters_convert_knots_and_read_every_alias():
    device, point = parse_osmand_params(
        {
            "deviceid": "d1",
            "location": "55.8,49.1",
            "speed": "10",
            "heading": "90",
            "batt": "40",
            "timestamp": "",
        },
        NOW,
    )
    assert device == "d1" and (point.lat, point.lon, point.bearing, point.battery) == (55.8, 49.1, 90, 40)
    assert point.speed == pytest.approx(10 * KNOT_MPS) and point.recorded_at == NOW


def test_the_traccar_json_reads_coords_battery_and_unknown_markers():
    device, points = parse_traccar_json(
        {
            "device_id": 12345,
            "location": [
                {
                    "timestamp": "2026-11-27T11:59:00Z",
                    "coords": {
                        "latitude": 55.8,
                        "longitude": 49.1,
                        "speed": -1,
                        "heading": -1,
                        "accuracy": 3,
                    },
                    "battery": {"level": -1},
                },
                {"coords": {"latitude": 55.81, "longitude": 49.11, "speed": 2}, "battery": {"level": 0.5}},
            ],
        },
        NOW,
    )
    assert device == "12345"
    assert (points[0].speed, points[0].bearing, points[0].battery, points[0].accuracy) == (
        None,
        None,
        None,
        3,
    )
    assert (points[1].speed, points[1].battery, points[1].recorded_at) == (2, 50, NOW)
    for bad in (
        {"device_id": True, "location": {}},
        {"device_id": "d", "location": {"coords": {"latitude": True}}},
    ):
        with pytest.raises(OsmandError):
            parse_traccar_json(bad, NOW)
