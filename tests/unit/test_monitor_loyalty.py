"""RFM scores, segments, rankings and the projection's buckets (pure loyalty rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor import loyalty
from monitor.loyalty import ClientTotals

NOW = dt.datetime(2025, 5, 14, 12, 0, tzinfo=dt.UTC)


def client(
    phone: str, deliveries: int, revenue: int, days_ago: float, first_days_ago: float = 400
) -> ClientTotals:
    return ClientTotals(
        phone=phone,
        name=phone,
        deliveries=deliveries,
        revenue=revenue,
        first_at=NOW - dt.timedelta(days=first_days_ago),
        last_at=NOW - dt.timedelta(days=days_ago),
    )


# Ten clients: recency 1..10 days... 300 days, frequency 1..20, money grows with frequency.
POPULATION = [
    client("+70000000001", 20, 40_000_00, 1),
    client("+70000000002", 15, 30_000_00, 3),
    client("+70000000003", 12, 20_000_00, 5),
    client("+70000000004", 9, 12_000_00, 20),
    client("+70000000005", 6, 8_000_00, 40),
    client("+70000000006", 4, 5_000_00, 90),
    client("+70000000007", 3, 3_000_00, 150),
    client("+70000000008", 2, 2_000_00, 200),
    client("+70000000009", 1, 1_000_00, 2, first_days_ago=2),
    client("+70000000010", 1, 500_00, 300),
]


def test_a_score_is_the_fifth_of_the_population_a_value_stands_in():
    population = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    assert [loyalty.score(v, population) for v in population] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [loyalty.score(v, population, lower_is_better=True) for v in (1, 10)] == [5, 1]
    assert loyalty.score(100, population) == 5 and loyalty.score(0, population) == 1


def test_tied_clients_stand_in_the_middle_of_their_tie():
    # most clients ordered once: they share one middling score instead of all being the worst
    once_mostly = (1, 1, 1, 1, 1, 1, 2, 3, 5, 8)
    assert loyalty.score(1, once_mostly) == 2  # (0 + 6/2) / 10 = 0.3
    assert loyalty.score(2, once_mostly) == 4  # (6 + 1/2) / 10 = 0.65
    assert loyalty.score(4, (4,)) == 3  # a population of one is average
    assert loyalty.score(4, ()) == 3


def test_segments_follow_the_table():
    assert loyalty.segment(5, 5, 30) == "champions"
    assert loyalty.segment(3, 4, 10) == "loyal"
    assert loyalty.segment(5, 1, 1) == "new"
    assert loyalty.segment(5, 5, 1) == "new"  # one delivery is never "champions"
    assert loyalty.segment(4, 2, 2) == "potential"
    assert loyalty.segment(1, 5, 20) == "cannot_lose"
    assert loyalty.segment(2, 3, 6) == "at_risk"
    assert loyalty.segment(2, 1, 1) == "hibernating"
    assert loyalty.segment(1, 1, 1) == "lost"


def test_rfm_of_a_population_names_the_best_the_newcomer_and_the_lost():
    scale = loyalty.scale_of(POPULATION, NOW)
    assert scale.population == 10
    by_phone = {c.phone: loyalty.rfm(c, scale, NOW) for c in POPULATION}
    best = by_phone["+70000000001"]
    assert (best.recency, best.frequency, best.monetary, best.segment) == (5, 5, 5, "champions")
    assert best.code == "555"
    assert by_phone["+70000000009"].segment == "new"
    assert by_phone["+70000000010"].segment == "lost"
    assert by_phone["+70000000005"].segment == "loyal"  # R 3 (40 days), F 3 (6 deliveries)
    assert by_phone["+70000000006"].segment == "at_risk"  # R 2 (90 days), F 3 (4 deliveries)
    assert {r.segment for r in by_phone.values()} <= set(loyalty.SEGMENTS)


def test_top_clients_rank_by_deliveries_then_money_or_by_money():
    tied = [
        client("+70000000100", 5, 100_00, 1),
        client("+70000000200", 5, 300_00, 1),
        client("+70000000300", 6, 1, 1),
    ]
    assert [c.phone for c in loyalty.top(tied, 3)] == ["+70000000300", "+70000000200", "+70000000100"]
    assert [c.phone for c in loyalty.top(tied, 2, by="revenue")] == ["+70000000200", "+70000000100"]
    with pytest.raises(ValueError):
        loyalty.top(tied, 1, by="charm")


def test_full_ties_go_to_the_greater_phone_like_the_index():
    tied = [client("+70000000001", 1, 1, 1), client("+70000000002", 1, 1, 1)]
    assert [c.phone for c in loyalty.top(tied, 2)] == ["+70000000002", "+70000000001"]


def test_a_delivery_counts_in_all_time_its_year_and_its_month():
    assert loyalty.period_keys(dt.date(2025, 5, 14)) == ("all", "y:2025", "m:2025-05")


@pytest.mark.parametrize(
    ("date_from", "date_to", "bucket"),
    [
        (None, None, "all"),
        (dt.date(2025, 5, 1), dt.date(2025, 5, 31), "m:2025-05"),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "m:2024-02"),
        (dt.date(2025, 12, 1), dt.date(2025, 12, 31), "m:2025-12"),
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "y:2025"),
        (dt.date(2025, 5, 2), dt.date(2025, 5, 31), None),
        (dt.date(2025, 5, 1), dt.date(2025, 6, 30), None),
        (dt.date(2025, 5, 1), None, None),
    ],
)
def test_a_range_has_a_bucket_only_when_it_is_a_whole_month_year_or_everything(date_from, date_to, bucket):
    assert loyalty.bucket_of_range(date_from, date_to) == bucket


def test_named_periods_are_calendar_month_year_or_everything():
    today = dt.date(2025, 2, 10)
    assert loyalty.period_range("month", today) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert loyalty.period_range("year", today) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert loyalty.period_range("all", today) == (None, None)
    with pytest.raises(ValueError):
        loyalty.period_range("week", today)
