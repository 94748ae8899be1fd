"""A branch's opening hours, time zone, code and place, as an admin types them (orders.hours,
orders.branches): what is refused, where, and what a schedule means."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest

from orders.branches import BranchFacts, branch_problems, place_problems
from orders.hours import (
    HoursError,
    WeeklyHours,
    check_timezone,
    day_groups,
    hours_from_intervals,
    intervals_of,
)

MSK = ZoneInfo("Europe/Moscow")


def interval(opens: str, closes: str, next_day: bool = False) -> dict:
    return {"opens": opens, "closes": closes, "next_day": next_day}


def refusal(raw) -> HoursError:
    with pytest.raises(HoursError) as err:
        hours_from_intervals(raw)
    return err.value


def test_an_interval_that_closes_before_it_opens_is_refused_naming_its_closing_time():
    err = refusal({"tue": [interval("10:00", "23:00"), interval("23:30", "09:00")]})
    assert err.field == "opening_hours.tue.1.closes"
    assert err.code == "closes_before_opens"
    assert err.params == {"opens": "23:30", "closes": "09:00"}


def test_an_interval_said_to_close_the_next_day_runs_past_midnight():
    hours = hours_from_intervals({"fri": [interval("18:00", "02:00", next_day=True)]})
    assert hours.is_open(dt.datetime(2026, 11, 28, 1, 30, tzinfo=MSK))  # Saturday 01:30
    assert not hours.is_open(dt.datetime(2026, 11, 28, 2, 0, tzinfo=MSK))
    assert hours.to_json() == {"fri": [["18:00", "02:00"]]}


def test_closing_the_next_day_after_the_opening_time_would_last_over_a_day():
    err = refusal({"mon": [interval("10:00", "11:00", next_day=True)]})
    assert err.field == "opening_hours.mon.0.closes" and err.code == "over_a_day"


def test_closing_at_midnight_is_written_either_way_and_reads_back_as_twenty_four_hundred():
    by_flag = hours_from_intervals({"mon": [interval("10:00", "00:00", next_day=True)]})
    by_clock = hours_from_intervals({"mon": [interval("10:00", "24:00")]})
    assert by_flag == by_clock
    assert intervals_of(by_flag) == {"mon": [interval("10:00", "24:00")]}


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"mon": [interval("9:00", "18:00")]}, "opening_hours.mon.0.opens", "time_format"),
        ({"mon": [interval("10:00", "25:00")]}, "opening_hours.mon.0.closes", "time_format"),
        ({"mon": [interval("24:00", "02:00", True)]}, "opening_hours.mon.0.opens", "value_error"),
        ({"mon": [interval("10:00", "10:00")]}, "opening_hours.mon.0.closes", "closes_before_opens"),
        ({"monday": [interval("10:00", "20:00")]}, "opening_hours.monday", "value_error"),
        ({"mon": ["10:00", "20:00"]}, "opening_hours.mon.0", "value_error"),
        (
            {"mon": [interval("10:00", "20:00") | {"next_day": "yes"}]},
            "opening_hours.mon.0.next_day",
            "value_error",
        ),
    ],
)
def test_malformed_intervals_are_refused_naming_the_day_the_interval_and_the_part(raw, field, code):
    err = refusal(raw)
    assert (err.field, err.code) == (field, code)


def test_intervals_of_one_day_may_not_overlap():
    err = refusal({"wed": [interval("10:00", "15:00"), interval("14:00", "23:00")]})
    assert err.field == "opening_hours.wed.1" and err.code == "overlap"


def test_a_night_interval_may_not_run_into_the_next_days_opening():
    err = refusal({"thu": [interval("20:00", "03:00", True)], "fri": [interval("02:00", "12:00")]})
    assert err.field == "opening_hours.fri.0" and err.code == "overlap"


def test_sunday_night_may_not_run_into_monday_morning_hours():
    err = refusal({"sun": [interval("20:00", "04:00", True)], "mon": [interval("03:00", "12:00")]})
    assert err.field == "opening_hours.mon.0" and err.code == "overlap"


def test_a_lunch_break_is_two_intervals_that_touch_nothing():
    hours = hours_from_intervals({"mon": [interval("09:00", "13:00"), interval("14:00", "18:00")]})
    assert hours.is_open(dt.datetime(2026, 11, 23, 12, 59, tzinfo=MSK))
    assert not hours.is_open(dt.datetime(2026, 11, 23, 13, 30, tzinfo=MSK))


def test_no_schedule_is_around_the_clock_but_a_schedule_closed_every_day_is_refused():
    assert hours_from_intervals({}).always
    err = refusal({"mon": [], "tue": []})
    assert err.field == "opening_hours" and err.code == "closed_every_day"


def test_stored_hours_read_back_in_the_admin_format_with_the_night_said():
    stored = WeeklyHours.parse({"mon": [["10:00", "23:00"]], "sat": [["11:00", "02:00"]]})
    assert intervals_of(stored) == {
        "mon": [interval("10:00", "23:00")],
        "sat": [interval("11:00", "02:00", next_day=True)],
    }
    assert hours_from_intervals(intervals_of(stored)) == stored


def test_days_with_the_same_hours_are_summed_up_as_runs():
    raw = {d: [["10:00", "23:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    raw |= {"sat": [["11:00", "02:00"]], "sun": [["11:00", "02:00"]]}
    assert day_groups(WeeklyHours.parse(raw)) == [
        ("mon", "fri", (("10:00", "23:00"),)),
        ("sat", "sun", (("11:00", "02:00"),)),
    ]
    assert day_groups(WeeklyHours.parse({"mon": [["10:00", "12:00"]], "wed": [["10:00", "12:00"]]})) == [
        ("mon", "mon", (("10:00", "12:00"),)),
        ("wed", "wed", (("10:00", "12:00"),)),
    ]
    assert day_groups(WeeklyHours.parse({})) == []


@pytest.mark.parametrize("name", ["Europe/Moscow", "Asia/Yekaterinburg", "UTC"])
def test_iana_time_zones_are_accepted(name):
    assert check_timezone(name) == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "europe/moscow", 3])
def test_anything_else_is_not_a_time_zone(name):
    with pytest.raises(HoursError) as err:
        check_timezone(name)
    assert err.value.field == "timezone" and err.value.code == "unknown_timezone"


@pytest.mark.parametrize(
    ("lat", "lon", "fields"),
    [
        (91.0, 37.6, ["lat"]),
        (55.7, -180.5, ["lon"]),
        (math.nan, 37.6, ["lat"]),
        (55.7, math.inf, ["lon"]),
        (True, 37.6, ["lat"]),
        (0.0, 0.0, ["lat"]),
    ],
)
def test_coordinates_off_the_world_or_not_numbers_are_refused_by_field(lat, lon, fields):
    assert [p.field for p in place_problems(lat, lon)] == fields


def test_a_new_branch_needs_a_code_a_name_and_a_place_and_every_problem_is_told_at_once():
    problems, hours = branch_problems(
        BranchFacts(code="KZ 1", timezone="Nowhere", opening_hours={"mon": [interval("10:00", "09:00")]}),
        creating=True,
    )
    assert {(p.field, p.code) for p in problems} == {
        ("code", "code_format"),
        ("name", "name_missing"),
        ("lat", "place_missing"),
        ("timezone", "unknown_timezone"),
        ("opening_hours.mon.0.closes", "closes_before_opens"),
    }
    assert hours is None


def test_a_change_names_only_what_it_changes():
    problems, hours = branch_problems(BranchFacts(name="Kazan — Kremlin"), creating=False)
    assert problems == [] and hours is None
    problems, _ = branch_problems(BranchFacts(lat=55.8), creating=False)
    assert [(p.field, p.code) for p in problems] == [("lon", "place_half")]
    problems, _ = branch_problems(BranchFacts(code="KZ3", name="Kremlin", lon=200.0), creating=True)
    assert [(p.field, p.code) for p in problems] == [("lon", "longitude_range"), ("lat", "place_half")]
