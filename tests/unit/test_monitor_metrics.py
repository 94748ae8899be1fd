"""The monitor's metrics against hand-built orders and couriers, with every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from monitor import metrics
from monitor.metrics import CourierRow, OrderRow

NOW = dt.datetime(2025, 5, 14, 18, 0, tzinfo=dt.UTC)  # 21:00 in Moscow
MSK = ZoneInfo("Europe/Moscow")


def at(minutes_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes_ago)


def order(oid: int, status: str, total: int = 100_00, **kw) -> OrderRow:
    kw.setdefault("created_at", at(120))
    return OrderRow(id=oid, number=f"KZ1-{oid:03d}", branch_id=1, status=status, total=total, **kw)


# Five delivered orders taking 20, 30, 40, 50 and 100 minutes; promises 45 minutes after creation.
DELIVERED = [
    order(
        i,
        "delivered",
        total=total,
        created_at=at(200),
        promised_at=at(200 - 45),
        delivered_at=at(200 - minutes),
    )
    for i, (minutes, total) in enumerate(
        [(20, 500_00), (30, 700_00), (40, 300_00), (50, 1000_00), (100, 1_01)], 1
    )
]


def test_orders_are_counted_per_status_with_every_status_present():
    counts = metrics.orders_by_status([*DELIVERED, order(10, "new"), order(11, "cancelled")])
    assert counts["delivered"] == 5 and counts["new"] == 1 and counts["cancelled"] == 1
    assert counts["cooking"] == 0 and list(counts)[: len(metrics.STATUSES)] == list(metrics.STATUSES)


def test_revenue_counts_delivered_orders_and_open_ones_are_pending():
    day = [*DELIVERED, order(10, "cooking", total=250_00), order(11, "cancelled", total=999_00)]
    money = metrics.revenue(day)
    assert money.total == 500_00 + 700_00 + 300_00 + 1000_00 + 1_01 == 2501_01
    assert money.delivered == 5
    # 250101 / 5 = 50020.2 → 50020 kopecks
    assert money.average_check == 500_20
    assert money.pending == 250_00


def test_the_average_check_rounds_half_up_to_a_kopeck():
    two = [order(1, "delivered", total=1_01), order(2, "delivered", total=2_00)]
    assert metrics.revenue(two).average_check == 151  # 150.5 → 151


def test_delivery_times_average_median_and_90th_percentile():
    times = metrics.delivery_times(DELIVERED)
    assert times.count == 5
    assert times.average == 48.0  # (20+30+40+50+100)/5
    assert times.median == 40.0
    # rank (5-1)*0.9 = 3.6 → 50 + 0.6 * (100 - 50) = 80
    assert times.p90 == 80.0


def test_delivery_times_of_a_day_without_deliveries_are_empty():
    assert metrics.delivery_times([order(1, "cooking")]) == metrics.DeliveryTimes(0, None, None, None)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([7], 90, 7), ([1, 2], 50, 1.5), ([10, 20, 30, 40], 90, 37.0), ([3, 1, 2], 0, 1), ([3, 1, 2], 100, 3)],
)
def test_percentiles_interpolate_between_closest_ranks(values, q, expected):
    assert metrics.percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        metrics.percentile([], 50)


def test_on_time_rate_compares_delivery_with_the_promise():
    punctual = metrics.on_time(
        [*DELIVERED, order(9, "delivered", delivered_at=at(1))]
    )  # no promise: not judged
    # promised 45 min after creation: the 20, 30 and 40 minute deliveries made it
    assert (punctual.count, punctual.on_time) == (5, 3)
    assert punctual.rate == pytest.approx(0.6)
    assert metrics.on_time([]).rate is None


def test_an_order_delivered_exactly_at_the_promised_minute_is_on_time():
    exact = order(1, "delivered", promised_at=at(10), delivered_at=at(10))
    assert metrics.on_time([exact]).on_time == 1


def test_late_orders_are_open_orders_past_their_promise_latest_first_with_a_colour():
    day = [
        order(1, "cooking", promised_at=at(5)),
        order(2, "in_delivery", promised_at=at(45.5)),
        order(3, "ready", promised_at=at(12)),
        order(4, "new", promised_at=NOW + dt.timedelta(minutes=5)),  # not yet due
        order(5, "delivered", promised_at=at(60), delivered_at=at(1)),  # closed
        order(6, "confirmed"),  # no promise
    ]
    late = metrics.late_orders(day, NOW)
    assert [(x.order.id, x.minutes_late, x.level) for x in late] == [
        (2, 45, "critical"),
        (3, 12, "serious"),
        (1, 5, "minor"),
    ]


@pytest.mark.parametrize(
    ("minutes", "level"), [(0, "minor"), (9.9, "minor"), (10, "serious"), (29, "serious"), (30, "critical")]
)
def test_lateness_levels(minutes, level):
    assert metrics.lateness_level(minutes) == level


def test_couriers_on_shift_split_into_free_busy_and_no_signal():
    couriers = [
        CourierRow(1, "Anna", active_orders=0, last_seen=at(1)),
        CourierRow(2, "Boris", active_orders=2, last_seen=at(2)),
        CourierRow(3, "Vera", active_orders=1, last_seen=at(30)),  # busy but silent for 30 min
        CourierRow(4, "Gleb", active_orders=0, last_seen=None),  # never reported
    ]
    summary = metrics.courier_summary(couriers, NOW, signal_timeout_s=300)
    assert (summary.on_shift, summary.free, summary.busy, summary.no_signal) == (4, 1, 1, 2)
    assert summary.free + summary.busy + summary.no_signal == summary.on_shift
    assert {c.courier.name: c.state for c in summary.couriers} == {
        "Anna": "free",
        "Boris": "busy",
        "Vera": "no_signal",
        "Gleb": "no_signal",
    }


def test_orders_per_hour_today_against_the_same_weekday_last_week():
    today = [NOW.replace(hour=h) for h in (7, 7, 8, 17)]  # 10:00, 10:00, 11:00, 20:00 in Moscow
    week_ago = NOW - dt.timedelta(days=7)
    last_week = [week_ago.replace(hour=7), week_ago.replace(hour=17, minute=30), week_ago.replace(hour=19)]
    hourly = metrics.hourly_comparison(today, last_week, NOW, MSK)
    assert (
        hourly.today[10] == 2 and hourly.today[11] == 1 and hourly.today[20] == 1 and sum(hourly.today) == 4
    )
    assert hourly.last_week[10] == 1 and hourly.last_week[20] == 1 and hourly.last_week[22] == 1
    assert hourly.today_so_far == 4
    assert hourly.last_week_same_time == 2  # the 22:00 order of last week came later than now


def test_the_business_day_follows_the_business_time_zone():
    late_evening_utc = dt.datetime(2025, 5, 14, 22, 30, tzinfo=dt.UTC)  # 01:30 on the 15th in Moscow
    assert metrics.business_day(late_evening_utc, MSK) == dt.date(2025, 5, 15)


def test_share_is_a_percentage_with_two_decimals():
    assert str(metrics.share(1, 3)) == "33.33"
    assert str(metrics.share(5, 0)) == "0.00"
