"""The segment condition grammar of DESIGN §5, validated into a canonical form.

    condition := {"all": [...]} | {"any": [...]} | {"not": condition} | rule
    rule      := {"field": F, "op": OP, "value": V}
               | {"activity": NAME, "op": "countGte" | "countLt", "value": n, "withinDays": d}

Validation returns plain dicts (events store primitives only); evaluation lives with the
segments projection, which compiles the same tree to SQL.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from domain.errors import InvalidCondition
from domain.values import CHANNELS

PLAIN_FIELDS = (
    "email", "phoneNumber", "userId", "firstName", "lastName", "language", "timezone",
    "birthday", "createdAt",
)
OPS = (
    "eq", "ne", "in", "notIn", "contains", "startsWith", "gt", "gte", "lt", "lte",
    "exists", "notExists", "withinLastDays", "olderThanDays",
)
ACTIVITY_OPS = ("countGte", "countLt")
TIME_OPS = ("withinLastDays", "olderThanDays")
DATE_FIELDS = ("birthday", "createdAt")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?")
_VARIABLE_FIELD = re.compile(r"variables\.[A-Za-z][A-Za-z0-9_]{0,63}")
_SUBSCRIPTION_FIELD = re.compile(rf"subscriptions\.({'|'.join(CHANNELS)})\.(status|blacklisted)")
MAX_DEPTH = 8
MAX_RULES = 64


def _field_ok(name: Any) -> bool:
    return isinstance(name, str) and (
        name in PLAIN_FIELDS or bool(_VARIABLE_FIELD.fullmatch(name)) or bool(_SUBSCRIPTION_FIELD.fullmatch(name))
    )


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not (isinstance(value, float) and not math.isfinite(value))


def validate(condition: Any) -> dict[str, Any]:
    counter = [0]
    return _validate(condition, "$", 0, counter)


def _validate(node: Any, path: str, depth: int, counter: list[int]) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise InvalidCondition(f"{path}: conditions nest at most {MAX_DEPTH} deep")
    if not isinstance(node, dict):
        raise InvalidCondition(f"{path}: a condition is an object")
    for group in ("all", "any"):
        if group in node:
            items = node[group]
            if len(node) != 1 or not isinstance(items, list) or not items:
                raise InvalidCondition(f"{path}: {group!r} takes a non-empty list and nothing else")
            return {group: [_validate(c, f"{path}.{group}[{i}]", depth + 1, counter) for i, c in enumerate(items)]}
    if "not" in node:
        if len(node) != 1:
            raise InvalidCondition(f"{path}: 'not' takes one condition and nothing else")
        return {"not": _validate(node["not"], f"{path}.not", depth + 1, counter)}
    counter[0] += 1
    if counter[0] > MAX_RULES:
        raise InvalidCondition(f"a segment has at most {MAX_RULES} rules")
    if "activity" in node:
        return _activity_rule(node, path)
    return _field_rule(node, path)


def _activity_rule(node: dict[str, Any], path: str) -> dict[str, Any]:
    extra = set(node) - {"activity", "op", "value", "withinDays"}
    if extra:
        raise InvalidCondition(f"{path}: unknown keys {sorted(extra)}")
    name, op, value, days = node.get("activity"), node.get("op"), node.get("value"), node.get("withinDays")
    if not isinstance(name, str) or not name:
        raise InvalidCondition(f"{path}: 'activity' names an activity")
    if op not in ACTIVITY_OPS:
        raise InvalidCondition(f"{path}: activity op must be one of {ACTIVITY_OPS}")
    for label, number in (("value", value), ("withinDays", days)):
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 100_000:
            raise InvalidCondition(f"{path}: {label} must be a whole number 0..100000")
    return {"activity": name, "op": op, "value": value, "withinDays": days}


def _field_rule(node: dict[str, Any], path: str) -> dict[str, Any]:
    extra = set(node) - {"field", "op", "value"}
    if extra:
        raise InvalidCondition(f"{path}: unknown keys {sorted(extra)}")
    field, op = node.get("field"), node.get("op")
    if not _field_ok(field):
        raise InvalidCondition(f"{path}: unknown field {field!r}")
    if op not in OPS:
        raise InvalidCondition(f"{path}: unknown op {op!r}; one of {', '.join(OPS)}")
    value = node.get("value")
    if op in ("exists", "notExists"):
        return {"field": field, "op": op}
    if op in ("in", "notIn"):
        if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
            raise InvalidCondition(f"{path}: {op} takes a non-empty list of values")
    elif op in TIME_OPS:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36_500:
            raise InvalidCondition(f"{path}: {op} takes a whole number of days")
    elif op in ("contains", "startsWith"):
        if not isinstance(value, str):
            raise InvalidCondition(f"{path}: {op} takes a string")
    elif not _scalar(value):
        raise InvalidCondition(f"{path}: {op} takes a string, number or boolean")
    if field in DATE_FIELDS and op not in TIME_OPS and op not in ("contains", "startsWith"):
        value = [_date(field, v, path) for v in value] if op in ("in", "notIn") else _date(field, value, path)
    return {"field": field, "op": op, "value": value}


def _date(field: str, value: Any, path: str) -> str:
    """A date field's rule value in the form the profile holds it, so the rule compares
    instants, not spellings: ``birthday`` a date, ``createdAt`` a date (midnight UTC) or a
    date-time, turned to UTC. Anything else would match nothing (or everything) silently."""
    try:
        if isinstance(value, str) and _DATE.fullmatch(value):
            return date.fromisoformat(value).isoformat()
        if field == "createdAt" and isinstance(value, str) and _DATE_TIME.fullmatch(value):
            moment = datetime.fromisoformat(value)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        pass
    wanted = "a date (YYYY-MM-DD)" if field == "birthday" else "a date (YYYY-MM-DD) or date-time (ISO 8601)"
    raise InvalidCondition(f"{path}: {field} compares with {wanted}, got {value!r}")


def is_time_relative(condition: dict[str, Any]) -> bool:
    """Whether membership can change by time passing alone (re-evaluated on clock ticks)."""
    if "all" in condition or "any" in condition:
        return any(is_time_relative(c) for c in condition.get("all", condition.get("any", [])))
    if "not" in condition:
        return is_time_relative(condition["not"])
    return "activity" in condition or condition.get("op") in TIME_OPS
