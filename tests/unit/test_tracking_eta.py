"""The tracking page's arrival estimate and steps (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from couriers.spatial import haversine_m
from frontoffice.settings import Settings
from tracking import eta
from tracking.adapters.osrm import OsrmTable
from tracking.wiring import make_travel_time

NOW = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)
BRANCH = (55.7887, 49.1221)
CLIENT = (55.7963, 49.1088)
NEIGHBOUR = (55.8010, 49.1000)


def test_the_straight_line_is_the_distance_times_the_detour_at_the_speed():
    legs = eta.StraightLine(1.5).legs([BRANCH, CLIENT, NEIGHBOUR], speed_mps=10.0)
    assert legs == pytest.approx(
        [haversine_m(*BRANCH, *CLIENT) * 0.15, haversine_m(*CLIENT, *NEIGHBOUR) * 0.15]
    )
    assert eta.StraightLine().legs([BRANCH], 10.0) == []


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf")])
def test_the_straight_line_refuses_a_speed_that_is_no_speed(speed):
    with pytest.raises(ValueError, match="speed_mps"):
        eta.StraightLine().legs([BRANCH, CLIENT], speed)


def test_a_car_is_faster_than_a_bike_and_an_unknown_vehicle_is_a_car():
    assert eta.vehicle_speed_mps("car") == pytest.approx(24 / 3.6)
    assert eta.vehicle_speed_mps("foot") < eta.vehicle_speed_mps("bike") < eta.vehicle_speed_mps("car")
    assert eta.vehicle_speed_mps("hovercraft") == eta.vehicle_speed_mps("car")


def test_the_estimate_adds_each_door_before_this_one_and_its_handover():
    travel = eta.StraightLine()
    direct = eta.estimate(BRANCH, CLIENT, now=NOW, speed_mps=5.0, travel=travel)
    assert direct.stops_before == 0
    assert direct.seconds == pytest.approx(sum(travel.legs([BRANCH, CLIENT], 5.0)), abs=1)
    assert direct.arrive_at == NOW + dt.timedelta(seconds=direct.seconds)
    via = eta.estimate(BRANCH, CLIENT, now=NOW, speed_mps=5.0, travel=travel, stops=[NEIGHBOUR])
    legs = travel.legs([BRANCH, NEIGHBOUR, CLIENT], 5.0)
    assert via.stops_before == 1
    assert via.seconds == pytest.approx(sum(legs) + eta.HANDOVER_S, abs=1)
    at_the_door = eta.estimate(CLIENT, CLIENT, now=NOW, speed_mps=5.0, travel=travel)
    assert (at_the_door.seconds, at_the_door.arrive_at) == (0, NOW)


def test_the_bag_is_delivered_earliest_promise_first_and_unpromised_last():
    later, sooner = NOW + dt.timedelta(minutes=40), NOW + dt.timedelta(minutes=20)
    bag = [
        eta.BagOrder(1, *NEIGHBOUR, None),
        eta.BagOrder(2, *CLIENT, later),
        eta.BagOrder(3, *BRANCH, sooner),
        eta.BagOrder(4, None, None, sooner),
    ]
    assert [o.order_id for o in eta.delivery_sequence(bag)] == [3, 4, 2, 1]
    assert eta.stops_before(bag, 3) == []
    assert eta.stops_before(bag, 2) == [BRANCH]  # order 4 has no position to drive to
    assert eta.stops_before(bag, 1) == [BRANCH, CLIENT]
    assert eta.stops_before(bag, 99) == [BRANCH, CLIENT, NEIGHBOUR]


@pytest.mark.parametrize(
    ("status", "last", "states"),
    [
        ("new", None, ["current", "todo", "todo", "todo"]),
        ("confirmed", None, ["current", "todo", "todo", "todo"]),
        ("ready", None, ["done", "current", "todo", "todo"]),
        ("in_delivery", None, ["done", "done", "current", "todo"]),
        ("delivered", None, ["done", "done", "done", "done"]),
        ("cancelled", "cooking", ["done", "done", "todo", "todo"]),
        ("failed", "in_delivery", ["done", "done", "done", "todo"]),
        ("rejected", None, ["done", "todo", "todo", "todo"]),
    ],
)
def test_each_status_stands_at_one_step(status, last, states):
    steps = eta.steps(status, last)
    assert [s.code for s in steps] == list(eta.STEPS)
    assert [s.state for s in steps] == states


@pytest.mark.parametrize(("name", "first"), [("Anna Petrova", "Anna"), ("  Boris  ", "Boris"), ("", "")])
def test_the_customer_learns_the_couriers_first_name_only(name, first):
    assert eta.first_name(name) == first


def test_the_settings_choose_the_travel_time_and_refuse_what_cannot_work():
    base = Settings(database_url="sqlite://", secret_key="x")
    assert make_travel_time(base) == eta.StraightLine(1.35)
    osrm = make_travel_time(dataclasses.replace(base, travel_time="osrm", osrm_url="http://osrm.test:5000/"))
    assert isinstance(osrm, OsrmTable) and osrm.base_url == "http://osrm.test:5000"
    for wrong, message in (
        ({"travel_time": "teleport"}, "FRONTOFFICE_TRAVEL_TIME"),
        ({"travel_time": "osrm"}, "FRONTOFFICE_OSRM_URL"),
        ({"route_detour_factor": 0.5}, "FRONTOFFICE_ROUTE_DETOUR_FACTOR"),
    ):
        with pytest.raises(ValueError, match=message):
            make_travel_time(dataclasses.replace(base, **wrong))
