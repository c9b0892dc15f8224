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
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

TIMESTAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)?")
Counter = Callable[..., int]  # (activity name, withinDays[, enough]) -> count, up to enough


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
        # Both ops compare with ``value``: counting stops there.
        n = count(rule["activity"], rule["withinDays"], value)
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
    if "all" in condition or "any" in condition:
        parts = [compile_condition(c) for c in condition.get("all", condition.get("any", []))]
        if len(parts) == 1:
            return parts[0]
        return _all(parts) if "all" in condition else _any(parts)
    if "not" in condition:
        inner = compile_condition(condition["not"])
        return lambda doc, count, now: not inner(doc, count, now)
    # Fast paths for the commonest rules (same semantics); the rest goes through ``_rule``.
    if "field" in condition and condition["op"] in ("eq", "in"):
        field, op, value = condition["field"], condition["op"], condition["value"]
        test = _equals(value) if op == "eq" else _one_of(value)
        if field.startswith("variables."):
            name = field[10:]
            return lambda doc, count, now: test(doc.get("variables", {}).get(name))
        if field.startswith("subscriptions."):
            _, channel, key = field.split(".")
            return lambda doc, count, now: test(doc.get("subscriptions", {}).get(channel, {}).get(key))
        return lambda doc, count, now: test(doc.get(field))
    if "activity" in condition:
        activity, days, value = condition["activity"], condition["withinDays"], condition["value"]
        if condition["op"] == "countGte":
            return lambda doc, count, now: count(activity, days, value) >= value
        return lambda doc, count, now: count(activity, days, value) < value
    return lambda doc, count, now: _rule(condition, doc, count, now)


def _all(parts: list[Predicate]) -> Predicate:
    def test(doc: dict[str, Any], count: Counter, now: datetime) -> bool:
        for part in parts:
            if not part(doc, count, now):
                return False
        return True
    return test


def _any(parts: list[Predicate]) -> Predicate:
    def test(doc: dict[str, Any], count: Counter, now: datetime) -> bool:
        for part in parts:
            if part(doc, count, now):
                return True
        return False
    return test


def _equals(value: Any) -> Callable[[Any], bool]:
    """``_eq(actual, value)`` for a fixed ``value``: only a str equals a str; a bool is a
    singleton; a number must equal and not be a bool (``True == 1``)."""
    if isinstance(value, bool):
        return lambda actual: actual is value
    if isinstance(value, str):
        return lambda actual: actual == value
    return lambda actual: actual == value and type(actual) is not bool and not isinstance(actual, str)


def _one_of(values: list[Any]) -> Callable[[Any], bool]:
    if all(isinstance(v, str) for v in values):
        strings = frozenset(values)
        return lambda actual: type(actual) is str and actual in strings
    tests = [_equals(v) for v in values]
    return lambda actual: any(t(actual) for t in tests)


def activity_rules(condition: dict[str, Any]) -> set[tuple[str, int]]:
    """The (activity name, withinDays) pairs a condition counts."""
    if "all" in condition or "any" in condition:
        return set().union(*(activity_rules(c) for c in condition.get("all", condition.get("any", []))))
    if "not" in condition:
        return activity_rules(condition["not"])
    return {(condition["activity"], condition["withinDays"])} if "activity" in condition else set()


def counter(rows: Sequence[tuple[str, datetime, int]], position: int, now: datetime) -> Counter:
    """Counts over a contact's activity rows (name, occurredAt, position) as of ``position``,
    stopping at ``enough``: newest rows first, as they are the likeliest to be in the window."""
    def count(name: str, days: int, enough: int = sys.maxsize) -> int:
        if enough <= 0:
            return 0
        edge = now - timedelta(days=days)
        n = 0
        for row_name, at, pos in reversed(rows):
            if row_name == name and pos <= position and at > edge:
                n += 1
                if n >= enough:
                    break
        return n
    return count
