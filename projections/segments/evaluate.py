"""The incremental path: a segment condition evaluated in Python over one contact
document, as of a point in the log.

Semantics shared with ``compile.py`` (the back-fill SQL), checked by a property test:
- a missing or null field matches nothing but ``ne``, ``notIn`` and ``notExists``;
- values compare only with values of the same JSON type (``true`` is not ``1``);
- strings order by code point (SQL uses ``COLLATE "C"``), numbers exactly;
- time rules read ISO dates/timestamps (``TIMESTAMP`` below; naive means UTC) and compare
  with ``now``, the time of the event being applied (a clock tick's time on ticks);
- an activity rule counts the contact's activities of that name recorded so far
  (log position ≤ the event's) whose time is after ``now - withinDays``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

TIMESTAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)?")
Counter = Callable[[str, int], int]  # (activity name, withinDays) -> count


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def field_value(doc: dict[str, Any], field: str) -> Any:
    if field.startswith("variables."):
        return doc.get("variables", {}).get(field[10:])
    if field.startswith("subscriptions."):
        _, channel, key = field.split(".")
        return doc.get("subscriptions", {}).get(channel, {}).get(key)
    return doc.get(field)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_type(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b)
    return isinstance(a, str) and isinstance(b, str)


def _eq(a: Any, b: Any) -> bool:
    return a is not None and _same_type(a, b) and a == b


def _order(op: str, a: Any, b: Any) -> bool:
    if a is None or isinstance(b, bool) or not _same_type(a, b):
        return False
    if op == "gt":
        return a > b
    if op == "gte":
        return a >= b
    if op == "lt":
        return a < b
    return a <= b


def _rule(rule: dict[str, Any], doc: dict[str, Any], count: Counter, now: datetime) -> bool:
    op, value = rule["op"], rule.get("value")
    if "activity" in rule:
        n = count(rule["activity"], rule["withinDays"])
        return n >= value if op == "countGte" else n < value
    actual = field_value(doc, rule["field"])
    if op == "exists":
        return actual is not None
    if op == "notExists":
        return actual is None
    if op == "eq":
        return _eq(actual, value)
    if op == "ne":
        return not _eq(actual, value)
    if op == "in":
        return any(_eq(actual, v) for v in value)
    if op == "notIn":
        return not any(_eq(actual, v) for v in value)
    if op == "contains":
        return isinstance(actual, str) and value in actual
    if op == "startsWith":
        return isinstance(actual, str) and actual.startswith(value)
    if op in ("gt", "gte", "lt", "lte"):
        return _order(op, actual, value)
    when = parse_time(actual)
    if when is None:
        return False
    edge = now - timedelta(days=value)
    if op == "withinLastDays":
        return edge <= when <= now
    return when < edge  # olderThanDays


def matches(condition: dict[str, Any], doc: dict[str, Any], count: Counter, now: datetime) -> bool:
    return compile_condition(condition)(doc, count, now)


Predicate = Callable[[dict[str, Any], Counter, datetime], bool]


def compile_condition(condition: dict[str, Any]) -> Predicate:
    """``matches`` with the tree walked once: the batch evaluates each segment many times."""
    if "all" in condition:
        parts = [compile_condition(c) for c in condition["all"]]
        return lambda doc, count, now: all(p(doc, count, now) for p in parts)
    if "any" in condition:
        parts = [compile_condition(c) for c in condition["any"]]
        return lambda doc, count, now: any(p(doc, count, now) for p in parts)
    if "not" in condition:
        inner = compile_condition(condition["not"])
        return lambda doc, count, now: not inner(doc, count, now)
    if "field" in condition and condition["op"] == "eq" and not condition["field"].startswith("subscriptions."):
        field, value = condition["field"], condition["value"]
        if field.startswith("variables."):
            name = field[10:]
            return lambda doc, count, now: _eq(doc.get("variables", {}).get(name), value)
        return lambda doc, count, now: _eq(doc.get(field), value)
    return lambda doc, count, now: _rule(condition, doc, count, now)


def activity_rules(condition: dict[str, Any]) -> set[tuple[str, int]]:
    """The (activity name, withinDays) pairs a condition counts."""
    if "all" in condition or "any" in condition:
        return set().union(*(activity_rules(c) for c in condition.get("all", condition.get("any", []))))
    if "not" in condition:
        return activity_rules(condition["not"])
    return {(condition["activity"], condition["withinDays"])} if "activity" in condition else set()


def counter(rows: Sequence[tuple[str, datetime, int]], position: int, now: datetime) -> Counter:
    """Counts over a contact's activity rows (name, occurredAt, position) as of ``position``."""
    def count(name: str, days: int) -> int:
        edge = now - timedelta(days=days)
        return sum(1 for n, at, pos in rows if n == name and pos <= position and at > edge)
    return count
