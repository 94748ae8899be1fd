"""The zone editor's checks (pure): the polygon with the place it breaks, coordinates, sums, minutes,
hours, priority, the branch; every problem at once; and the overlaps with the zone that wins."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from callcentre.zone_checks import ZoneFacts, geometry_problems, money_problem, zone_problems
from callcentre.zones import ZoneRule, overlaps, parse_geometry

BRANCHES = {1: True, 2: False}


def ring(*points: tuple[float, float]) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


SQUARE = ring((49.0, 55.0), (49.2, 55.0), (49.2, 55.2), (49.0, 55.2), (49.0, 55.0))
BOW_TIE = ring((49.0, 55.0), (49.2, 55.2), (49.2, 55.0), (49.0, 55.2), (49.0, 55.0))


def codes(facts: ZoneFacts, creating: bool = False) -> dict[str, str]:
    problems, _checked = zone_problems(facts, creating=creating, branches=BRANCHES)
    return {p.field: p.code for p in problems}


def test_a_sound_zone_has_no_problem_and_comes_back_normalized():
    facts = ZoneFacts(
        name="Centre",
        branch_id=1,
        geometry=ring((49.0, 55.0), (49.2, 55.0), (49.2, 55.2), (49.0, 55.2)),  # open ring: closed for it
        delivery_fee=Decimal("99.00"),
        free_delivery_from=Decimal("1000"),
        min_order=Decimal("500.5"),
        delivery_minutes=45,
        opening_hours={"mon": [{"opens": "10:00", "closes": "02:00", "next_day": True}]},
        priority=3,
    )
    problems, checked = zone_problems(facts, creating=True, branches=BRANCHES)
    assert problems == []
    assert checked.geometry["coordinates"][0][-1] == [49.0, 55.0]
    assert checked.hours.to_json() == {"mon": [["10:00", "02:00"]]}


def test_an_outline_that_crosses_itself_is_explained_with_the_crossing_point():
    (problem,), geometry = geometry_problems(BOW_TIE)
    assert geometry is None
    assert problem.field == "geometry" and problem.code == "self_intersection"
    assert problem.params == {"lat": 55.1, "lon": 49.1}
    assert "55.1, 49.1" in problem.message


@pytest.mark.parametrize(
    ("position", "code"),
    [
        ((49.1, 91.0), "coordinates_range"),
        ((181.0, 55.0), "coordinates_range"),
        ((math.inf, 55.0), "not_a_number"),
        ((math.nan, 55.0), "not_a_number"),
    ],
)
def test_coordinates_must_be_finite_and_in_the_world(position, code):
    (problem,), _geometry = geometry_problems(ring((49.0, 55.0), (49.2, 55.0), position, (49.0, 55.0)))
    assert problem.field == "geometry.coordinates.0.2" and problem.code == code


def test_a_polygon_of_two_points_is_refused():
    (problem,), _geometry = geometry_problems(ring((49.0, 55.0), (49.2, 55.0), (49.0, 55.0)))
    assert problem.code == "too_few_points"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (Decimal("-0.01"), "negative"),
        (Decimal("1.005"), "too_precise"),
        ("abc", "not_a_number"),
        (float("nan"), "not_a_number"),
        (True, "not_a_number"),
    ],
)
def test_a_sum_is_a_decimal_of_at_least_zero_in_kopecks(value, code):
    assert money_problem("delivery_fee", value).code == code


def test_zero_and_whole_sums_are_fine():
    assert money_problem("min_order", Decimal("0")) is None
    assert money_problem("min_order", 150) is None


def test_minutes_are_positive_whole_numbers_and_priority_a_whole_number():
    assert codes(ZoneFacts(delivery_minutes=0)) == {"delivery_minutes": "minutes_range"}
    assert codes(ZoneFacts(delivery_minutes=12.5)) == {"delivery_minutes": "minutes_range"}
    assert codes(ZoneFacts(delivery_minutes=601)) == {"delivery_minutes": "minutes_range"}
    assert codes(ZoneFacts(priority=1.5)) == {"priority": "priority_range"}
    assert codes(ZoneFacts(priority=True)) == {"priority": "priority_range"}
    assert codes(ZoneFacts(priority=-7, delivery_minutes=1)) == {}


def test_hours_that_close_before_they_open_are_refused_by_the_branches_rule():
    facts = ZoneFacts(opening_hours={"wed": [{"opens": "22:00", "closes": "10:00"}]})
    assert codes(facts) == {"opening_hours.wed.0.closes": "closes_before_opens"}


def test_the_branch_must_exist_and_be_open():
    assert codes(ZoneFacts(branch_id=9)) == {"branch_id": "unknown_branch"}
    assert codes(ZoneFacts(branch_id=2)) == {"branch_id": "closed_branch"}


def test_free_delivery_cannot_start_below_the_minimum():
    facts = ZoneFacts(free_delivery_from=Decimal("100"), min_order=Decimal("500"))
    assert codes(facts) == {"free_delivery_from": "free_below_minimum"}


def test_a_new_zone_needs_name_branch_and_polygon_and_every_problem_comes_at_once():
    assert codes(ZoneFacts(), creating=True) == {
        "name": "name_missing",
        "branch_id": "branch_missing",
        "geometry": "geometry_missing",
    }
    assert codes(ZoneFacts(name=" ", geometry=BOW_TIE, branch_id=9, delivery_minutes=-1)) == {
        "name": "name_missing",
        "geometry": "self_intersection",
        "branch_id": "unknown_branch",
        "delivery_minutes": "minutes_range",
    }


def rule(zid: int, geometry: dict, priority: int = 0, active: bool = True) -> ZoneRule:
    return ZoneRule(
        id=zid, branch_id=1, name=f"z{zid}", shape=parse_geometry(geometry), priority=priority, active=active
    )


def square(x0, y0, x1, y1) -> dict:
    return ring((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))


def test_overlaps_name_the_winner_by_priority_then_area_then_id():
    big, small = rule(1, square(0, 0, 4, 4)), rule(2, square(1, 1, 2, 2))
    urgent, twin = rule(3, square(3, 3, 6, 6), priority=5), rule(4, square(3, 3, 6, 6), priority=5)
    found = {(o.first.id, o.second.id): (o.winner.id, o.reason) for o in overlaps([big, small, urgent, twin])}
    assert found == {
        (1, 2): (2, "smaller_area"),
        (1, 3): (3, "priority"),
        (1, 4): (4, "priority"),
        (3, 4): (3, "lower_id"),
    }


def test_touching_edges_and_inactive_zones_are_not_overlaps():
    left, right = rule(1, square(0, 0, 1, 1)), rule(2, square(1, 0, 2, 1))
    off = rule(3, square(0, 0, 2, 1), active=False)
    assert overlaps([left, right, off]) == []
