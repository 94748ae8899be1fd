"""Delivery zones: geometry checks, point → zone with edges, holes and overlaps, opening hours, promises."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callcentre import promising
from callcentre.zones import WeeklyHours, ZoneError, ZoneIndex, ZoneRule, area_km2, parse_geometry

MSK = ZoneInfo("Europe/Moscow")


def square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """A closed rectangular ring in [lon, lat]."""
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def zone(zid: int, rings: list, *, priority: int = 0, active: bool = True, **kw) -> ZoneRule:
    """A zone rule from GeoJSON polygon rings."""
    shape = parse_geometry({"type": "Polygon", "coordinates": rings})
    return ZoneRule(id=zid, branch_id=1, name=f"z{zid}", shape=shape, priority=priority, active=active, **kw)


# --- geometry ---------------------------------------------------------------------------------


def test_a_point_inside_the_polygon_is_in_the_zone_and_one_outside_is_not():
    index = ZoneIndex([zone(1, [square(49.0, 55.0, 49.2, 55.2)])])
    assert index.locate(55.1, 49.1).id == 1
    assert index.locate(55.3, 49.1) is None


def test_a_point_exactly_on_an_edge_or_a_corner_belongs_to_the_zone():
    index = ZoneIndex([zone(1, [square(49.0, 55.0, 49.2, 55.2)])])
    assert index.locate(55.0, 49.1).id == 1
    assert index.locate(55.2, 49.2).id == 1
    assert index.locate(55.2000001, 49.1) is None


def test_a_point_in_a_hole_is_outside_but_the_hole_edge_is_inside():
    rings = [square(49.0, 55.0, 49.4, 55.4), square(49.1, 55.1, 49.2, 55.2)]
    index = ZoneIndex([zone(1, rings)])
    assert index.locate(55.15, 49.15) is None
    assert index.locate(55.1, 49.15).id == 1
    assert index.locate(55.3, 49.3).id == 1


def test_overlapping_zones_go_to_the_higher_priority_then_the_smaller_area_then_the_lower_id():
    outer = zone(1, [square(49.0, 55.0, 49.4, 55.4)], priority=0)
    inner = zone(2, [square(49.1, 55.1, 49.2, 55.2)], priority=0)
    vip = zone(3, [square(49.0, 55.0, 49.4, 55.4)], priority=5)
    assert ZoneIndex([outer, inner]).locate(55.15, 49.15).id == 2
    assert ZoneIndex([outer, inner, vip]).locate(55.15, 49.15).id == 3
    twin = zone(4, [square(49.1, 55.1, 49.2, 55.2)], priority=0)
    assert ZoneIndex([twin, inner]).locate(55.15, 49.15).id == 2
    assert [z.id for z in ZoneIndex([outer, inner, vip]).covering(55.15, 49.15)] == [3, 2, 1]


def test_inactive_zones_are_left_out_of_the_index():
    index = ZoneIndex([zone(1, [square(49.0, 55.0, 49.2, 55.2)], active=False)])
    assert index.empty and index.locate(55.1, 49.1) is None


def test_a_multipolygon_zone_covers_each_of_its_parts():
    shape = parse_geometry(
        {"type": "MultiPolygon", "coordinates": [[square(0, 0, 1, 1)], [square(5, 5, 6, 6)]]}
    )
    index = ZoneIndex([ZoneRule(id=9, branch_id=1, name="islands", shape=shape)])
    assert index.locate(0.5, 0.5).id == 9 and index.locate(5.5, 5.5).id == 9
    assert index.locate(3, 3) is None


def test_an_open_ring_is_closed_for_the_caller():
    shape = parse_geometry({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
    assert shape.is_valid and shape.area == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("geometry", "field", "words"),
    [
        ({"type": "Point", "coordinates": [49, 55]}, "geometry.type", "Polygon or a MultiPolygon"),
        ({"type": "Polygon", "coordinates": []}, "geometry.coordinates", "non-empty list of rings"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "geometry.coordinates.0", "three"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
            "geometry.coordinates.0.1",
            "outside the world",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]},
            "geometry.coordinates.0.1",
            "numbers",
        ),
        (
            {"type": "Polygon", "coordinates": [square(0, 0, 2, 2)[:1] + [[2, 2], [2, 0], [0, 2], [0, 0]]]},
            "geometry",
            "Self-intersection",
        ),
        ("not an object", "geometry", "GeoJSON object"),
    ],
)
def test_unusable_geometry_is_refused_with_the_place_and_the_reason(geometry, field, words):
    with pytest.raises(ZoneError) as err:
        parse_geometry(geometry)
    assert err.value.field == field
    assert words in err.value.message


def test_a_city_zone_has_a_plausible_area_in_square_kilometres():
    shape = parse_geometry({"type": "Polygon", "coordinates": [square(49.0, 55.7, 49.1, 55.8)]})
    # 0.1° of longitude at 55.75° N is about 6.3 km, 0.1° of latitude about 11.1 km.
    assert area_km2(shape) == pytest.approx(69.9, rel=0.02)


# --- opening hours ----------------------------------------------------------------------------


def local(y, mo, d, h, mi=0) -> dt.datetime:
    """A Moscow wall-clock time."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=MSK)


def test_hours_are_open_inside_an_interval_and_closed_outside_it():
    hours = WeeklyHours.parse({"mon": [["10:00", "23:00"]]})
    monday = local(2026, 11, 23, 10)
    assert hours.is_open(monday)
    assert hours.is_open(monday.replace(hour=22, minute=59))
    assert not hours.is_open(monday.replace(hour=23))
    assert not hours.is_open(monday.replace(hour=9, minute=59))
    assert not hours.is_open(local(2026, 11, 24, 12))  # Tuesday is not listed: closed


def test_an_interval_across_midnight_stays_open_into_the_next_morning():
    hours = WeeklyHours.parse({"fri": [["18:00", "02:00"]]})
    friday, saturday = local(2026, 11, 27, 23, 30), local(2026, 11, 28, 1, 59)
    assert hours.is_open(friday) and hours.is_open(saturday)
    assert not hours.is_open(local(2026, 11, 28, 2, 0))
    assert not hours.is_open(local(2026, 11, 28, 19, 0))  # Saturday evening: no interval
    assert not hours.is_open(local(2026, 11, 27, 1, 0))  # Friday early morning: Thursday had none


def test_sunday_night_runs_into_monday_morning():
    hours = WeeklyHours.parse({"sun": [["20:00", "03:00"]]})
    assert hours.is_open(local(2026, 11, 30, 2, 30))  # Monday 02:30


def test_twenty_four_hundred_closes_at_the_end_of_the_day_and_an_empty_schedule_is_always_open():
    hours = WeeklyHours.parse({d: [["00:00", "24:00"]] for d in ("mon", "tue")})
    assert hours.is_open(local(2026, 11, 23, 0, 0)) and hours.is_open(local(2026, 11, 23, 23, 59))
    assert not hours.is_open(local(2026, 11, 25, 12))
    assert WeeklyHours.parse({}).is_open(local(2026, 11, 25, 3))
    assert WeeklyHours.parse({"mon": [["18:00", "02:00"]]}).to_json() == {"mon": [["18:00", "02:00"]]}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"monday": [["10:00", "20:00"]]}, "opening_hours.monday"),
        ({"mon": [["10:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["25:00", "26:00"]]}, "opening_hours.mon.0.0"),
        ({"mon": [["9:00", "18:00"]]}, "opening_hours.mon.0.0"),
        ({"mon": [["10:00", "10:00"]]}, "opening_hours.mon.0"),
        ({"mon": "10-20"}, "opening_hours.mon"),
    ],
)
def test_malformed_hours_are_refused_naming_the_day_and_interval(raw, field):
    with pytest.raises(ZoneError) as err:
        WeeklyHours.parse(raw)
    assert err.value.field == field


# --- promises ---------------------------------------------------------------------------------


def test_the_branch_load_adds_ten_minutes_per_five_orders_beyond_ten_up_to_ninety():
    assert promising.load_extra_minutes(0) == 0
    assert promising.load_extra_minutes(10) == 0
    assert promising.load_extra_minutes(11) == 10
    assert promising.load_extra_minutes(15) == 10
    assert promising.load_extra_minutes(17) == 20
    assert promising.load_extra_minutes(500) == promising.MAX_EXTRA_MINUTES
    assert promising.eta_minutes(45, 17) == 65


def test_preorder_slots_lie_on_a_quarter_hour_grid_within_the_hours_until_the_end_of_tomorrow():
    hours = WeeklyHours.parse(
        {d: [["10:00", "02:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    now = local(2026, 11, 23, 22, 7).astimezone(dt.UTC)  # Monday 22:07
    slots = promising.preorder_slots(hours, "Europe/Moscow", now, now + dt.timedelta(minutes=50))
    wall = [s.astimezone(MSK) for s in slots]
    assert wall[0] == local(2026, 11, 23, 23, 0)
    assert all(w.minute % 15 == 0 for w in wall)
    assert local(2026, 11, 24, 1, 45) in wall and local(2026, 11, 24, 2, 0) not in wall
    assert local(2026, 11, 24, 10, 0) in wall
    assert wall[-1] == local(2026, 11, 24, 23, 45)  # tomorrow's last slot before midnight


def test_a_closed_zone_refuses_asap_and_a_promise_must_be_late_enough_and_within_hours():
    hours = WeeklyHours.parse(
        {d: [["10:00", "23:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    night = local(2026, 11, 23, 4, 0).astimezone(dt.UTC)
    earliest = night + dt.timedelta(minutes=45)
    assert "closed now" in promising.promise_problem(hours, "Europe/Moscow", night, earliest, None)
    assert promising.promise_problem(hours, "Europe/Moscow", night, earliest, local(2026, 11, 23, 12)) is None
    assert "outside the opening hours" in promising.promise_problem(
        hours, "Europe/Moscow", night, earliest, local(2026, 11, 23, 23, 30)
    )
    assert "too early" in promising.promise_problem(
        hours, "Europe/Moscow", night, earliest, night + dt.timedelta(minutes=10)
    )
    noon = local(2026, 11, 23, 12).astimezone(dt.UTC)
    assert (
        promising.promise_problem(hours, "Europe/Moscow", noon, noon + dt.timedelta(minutes=45), None) is None
    )
