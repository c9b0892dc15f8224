"""Segment definitions and the §5 condition grammar: invalid → InvalidCondition with a path."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import conditions, errors
from domain.meta import Meta

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))

VALID = [
    {"field": "email", "op": "contains", "value": "@shop"},
    {"field": "language", "op": "in", "value": ["et", "en"]},
    {"field": "variables.score", "op": "gte", "value": 10},
    {"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"},
    {"field": "subscriptions.viber.blacklisted", "op": "eq", "value": True},
    {"field": "createdAt", "op": "withinLastDays", "value": 7},
    {"field": "birthday", "op": "exists"},
    {"activity": "orderPlaced", "op": "countGte", "value": 2, "withinDays": 30},
    {"all": [{"any": [{"field": "firstName", "op": "startsWith", "value": "A"},
                      {"not": {"field": "lastName", "op": "notExists"}}]},
             {"field": "timezone", "op": "ne", "value": "UTC"}]},
]


@pytest.mark.parametrize("condition", VALID)
def test_valid_conditions_are_kept(condition):
    assert conditions.validate(condition) == condition


@pytest.mark.parametrize(("condition", "path"), [
    ({"field": "nickname", "op": "eq", "value": "x"}, "$"),
    ({"field": "email", "op": "like", "value": "x"}, "$"),
    ({"field": "email", "op": "eq"}, "$"),
    ({"field": "email", "op": "eq", "value": {"a": 1}}, "$"),
    ({"field": "email", "op": "in", "value": []}, "$"),
    ({"field": "email", "op": "in", "value": "et"}, "$"),
    ({"field": "createdAt", "op": "withinLastDays", "value": "7"}, "$"),
    ({"field": "createdAt", "op": "olderThanDays", "value": -1}, "$"),
    ({"field": "variables.1x", "op": "eq", "value": 1}, "$"),
    ({"field": "subscriptions.fax.status", "op": "eq", "value": "subscribed"}, "$"),
    ({"field": "email", "op": "eq", "value": "x", "extra": 1}, "$"),
    ({"activity": "", "op": "countGte", "value": 1, "withinDays": 3}, "$"),
    ({"activity": "orderPlaced", "op": "gte", "value": 1, "withinDays": 3}, "$"),
    ({"activity": "orderPlaced", "op": "countLt", "value": True, "withinDays": 3}, "$"),
    ({"all": []}, "$"),
    ({"all": {"field": "email", "op": "exists"}}, "$"),
    ({"any": [{"field": "email", "op": "exists"}], "not": {}}, "$"),
    ({"all": [{"field": "email", "op": "exists"}, {"any": [{"field": "x", "op": "eq", "value": 1}]}]},
     "$.all[1].any[0]"),
    ({"not": {"not": "email"}}, "$.not.not"),
    ("email = x", "$"),
    ([], "$"),
    ({"field": "variables.score", "op": "gt", "value": float("nan")}, "$"),
])
def test_invalid_conditions_name_the_offending_path(condition, path):
    with pytest.raises(errors.InvalidCondition) as refused:
        conditions.validate(condition)
    assert refused.value.code == "invalid_condition" and refused.value.status == 422
    assert str(refused.value).startswith(path + ":") or "at most" in str(refused.value)


def test_nesting_and_size_are_bounded():
    deep: dict = {"field": "email", "op": "exists"}
    for _ in range(conditions.MAX_DEPTH + 1):
        deep = {"not": deep}
    with pytest.raises(errors.InvalidCondition):
        conditions.validate(deep)
    with pytest.raises(errors.InvalidCondition):
        conditions.validate({"any": [{"field": "email", "op": "exists"}] * (conditions.MAX_RULES + 1)})


def test_time_relative_conditions_are_recognised():
    assert conditions.is_time_relative({"not": {"field": "createdAt", "op": "withinLastDays", "value": 1}})
    assert conditions.is_time_relative({"any": [{"activity": "a", "op": "countLt", "value": 1, "withinDays": 2}]})
    assert not conditions.is_time_relative({"all": [{"field": "email", "op": "exists"}]})


def test_define_redefine_delete(memory_app):
    condition = {"field": "language", "op": "eq", "value": "et"}
    segment, _ = memory_app.define_segment("shop", " Estonians ", condition, AT)
    assert (segment.name, segment.conditions) == ("Estonians", condition)
    redefined, _ = memory_app.redefine_segment("shop", segment.id, "Estonian speakers",
                                               {"field": "language", "op": "in", "value": ["et"]}, AT)
    assert redefined.name == "Estonian speakers"
    memory_app.delete_segment("shop", segment.id, AT)
    with pytest.raises(errors.SegmentNotFound):
        memory_app.redefine_segment("shop", segment.id, "x", condition, AT)
    with pytest.raises(errors.SegmentNotFound):
        memory_app.delete_segment("shop", segment.id, AT)
    topics = [n.topic for n in memory_app.recorder.select_notifications(1, 100)]
    assert topics == ["domain.segment:Segment.Defined", "domain.segment:Segment.Redefined",
                      "domain.segment:Segment.Deleted"]


def test_invalid_segment_definitions_record_nothing(memory_app):
    with pytest.raises(errors.InvalidCondition):
        memory_app.define_segment("shop", "x", {"field": "x", "op": "eq", "value": 1}, AT)
    with pytest.raises(errors.InvalidInput):
        memory_app.define_segment("shop", "  ", {"field": "email", "op": "exists"}, AT)
    with pytest.raises(errors.InvalidDomain):
        memory_app.define_segment("Shop", "x", {"field": "email", "op": "exists"}, AT)
    assert (memory_app.recorder.max_notification_id() or 0) == 0


def test_segments_do_not_cross_domains(memory_app):
    segment, _ = memory_app.define_segment("blog", "x", {"field": "email", "op": "exists"}, AT)
    with pytest.raises(errors.SegmentNotFound):
        memory_app.delete_segment("shop", segment.id, AT)
    with pytest.raises(errors.SegmentNotFound):
        memory_app.delete_segment("shop", uuid4(), AT)
