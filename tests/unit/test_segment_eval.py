"""The Python segment evaluator: what each rule means for a marketer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from projections.segments.evaluate import activity_rules, counter, matches, parse_time

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DOC = {
    "email": "ann@example.com", "firstName": "Ann", "language": "et", "birthday": "1990-05-01",
    "createdAt": (NOW - timedelta(days=3)).isoformat(), "lastName": None,
    "variables": {"score": 42, "vip": True, "city": "Tallinn", "renewal": "2026-11-20"},
    "subscriptions": {"email": {"status": "subscribed", "blacklisted": False}},
}


def no_activity(name: str, days: int) -> int:
    return 0


@pytest.mark.parametrize(("rule", "expected"), [
    ({"field": "language", "op": "eq", "value": "et"}, True),
    ({"field": "variables.vip", "op": "eq", "value": 1}, False),  # true is not 1
    ({"field": "variables.score", "op": "eq", "value": 42.0}, True),
    ({"field": "lastName", "op": "ne", "value": "Lee"}, True),  # missing is "not equal"
    ({"field": "lastName", "op": "exists"}, False),
    ({"field": "variables.city", "op": "in", "value": ["Tartu", "Tallinn"]}, True),
    ({"field": "variables.city", "op": "notIn", "value": ["Tallinn"]}, False),
    ({"field": "email", "op": "contains", "value": "@example."}, True),
    ({"field": "email", "op": "startsWith", "value": "ANN"}, False),  # case-sensitive
    ({"field": "variables.score", "op": "gt", "value": 41.5}, True),
    ({"field": "variables.score", "op": "lt", "value": "50"}, False),  # no cross-type ordering
    ({"field": "birthday", "op": "lt", "value": "2000-01-01"}, True),
    ({"field": "createdAt", "op": "withinLastDays", "value": 7}, True),
    ({"field": "createdAt", "op": "withinLastDays", "value": 2}, False),
    ({"field": "variables.renewal", "op": "olderThanDays", "value": 7}, True),
    ({"field": "variables.city", "op": "olderThanDays", "value": 1}, False),  # not a date
    ({"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"}, True),
    ({"field": "subscriptions.email.blacklisted", "op": "eq", "value": False}, True),
    ({"not": {"field": "language", "op": "eq", "value": "et"}}, False),
    ({"any": [{"field": "language", "op": "eq", "value": "en"}, {"field": "variables.vip", "op": "exists"}]}, True),
])
def test_rules(rule, expected):
    assert matches(rule, DOC, no_activity, NOW) is expected


def test_activity_counts_respect_window_and_log_position():
    rows = [("orderPlaced", NOW - timedelta(days=1), 10), ("orderPlaced", NOW - timedelta(days=10), 11),
            ("orderPlaced", NOW - timedelta(hours=1), 99), ("pageViewed", NOW, 5)]
    count = counter(rows, position=50, now=NOW)
    assert count("orderPlaced", 7) == 1  # the 10-day-old one is out, position 99 is not applied yet
    assert count("orderPlaced", 30) == 2
    rule = {"activity": "orderPlaced", "op": "countGte", "value": 2, "withinDays": 30}
    assert matches(rule, DOC, count, NOW)
    assert not matches({**rule, "op": "countLt"}, DOC, count, NOW)
    assert activity_rules({"all": [rule, {"not": {**rule, "activity": "x", "withinDays": 3}}]}) == {
        ("orderPlaced", 30), ("x", 3)}


def test_time_strings():
    assert parse_time("2026-11-28") == datetime(2026, 11, 28, tzinfo=UTC)
    assert parse_time("2026-11-28T10:00:00") == datetime(2026, 11, 28, 10, tzinfo=UTC)  # naive is UTC
    assert parse_time("2026-11-28T12:00:00+02:00") == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert parse_time("2026-02-30") is None
    assert parse_time("28.11.2026") is None
    assert parse_time(20261128) is None
