"""The back-fill path: a segment condition compiled to ONE SQL query over a domain's
profile documents (+ activity counts), so a new segment over 1 000 000 contacts is one
set-based statement rather than a million evaluations in Python.

Mirrors ``evaluate.py`` rule by rule (see its docstring for the shared semantics). Field
paths and numbers from a validated condition are inlined (they match strict patterns);
every user value travels as a bound parameter.
"""

from __future__ import annotations

from typing import Any

import orjson

from domain.conditions import PLAIN_FIELDS


class Compiled:
    def __init__(self, events_schema: str) -> None:
        self.events = events_schema
        self.params: dict[str, Any] = {}
        self.counts: dict[tuple[str, int], str] = {}  # (activity, days) -> CTE alias

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"


def _path(field: str) -> str:
    if field in PLAIN_FIELDS:
        return f"p.doc -> '{field}'"
    parts = field.split(".")
    return "p.doc #> '{" + ",".join(parts) + "}'"


def _json(c: Compiled, value: Any) -> str:
    return c.param(orjson.dumps(value).decode()) + "::jsonb"


def _typed(v: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"jsonb_typeof({v}) = 'boolean'"
    if isinstance(value, int | float):
        return f"jsonb_typeof({v}) = 'number'"
    return f"jsonb_typeof({v}) = 'string'"


def _rule(c: Compiled, rule: dict[str, Any]) -> str:
    op, value = rule["op"], rule.get("value")
    if "activity" in rule:
        key = (rule["activity"], int(rule["withinDays"]))
        alias = c.counts.setdefault(key, f"a{len(c.counts)}")
        sign = ">=" if op == "countGte" else "<"
        return f"(coalesce({alias}.n, 0) {sign} {int(value)})"
    v = _path(rule["field"])
    if op in ("exists", "notExists"):
        present = f"coalesce(jsonb_typeof({v}) <> 'null', false)"
        return present if op == "exists" else f"(NOT {present})"
    if op in ("eq", "ne"):
        # jsonb equality is already type-strict and numeric-exact.
        test = f"coalesce({v} = {_json(c, value)}, false)"
        return test if op == "eq" else f"(NOT {test})"
    if op in ("in", "notIn"):
        test = f"coalesce({v} = ANY({c.param([orjson.dumps(x).decode() for x in value])}::jsonb[]), false)"
        return test if op == "in" else f"(NOT {test})"
    text = f"({v} #>> '{{}}')"
    if op == "contains":
        return f"coalesce(jsonb_typeof({v}) = 'string' AND strpos({text}, {c.param(value)}) > 0, false)"
    if op == "startsWith":
        return f"coalesce(jsonb_typeof({v}) = 'string' AND starts_with({text}, {c.param(value)}), false)"
    if op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool):
            return "false"
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        if isinstance(value, int | float):
            # Sent as text: float8 -> numeric would round to 15 digits.
            compare = f"({v})::numeric {sign} {c.param(repr(value))}::numeric"
        else:
            compare = f'{text} COLLATE "C" {sign} {c.param(value)}::text COLLATE "C"'
        return f"coalesce({_typed(v, value)} AND {compare}, false)"
    edge = f"(%(now)s::timestamptz - interval '1 day' * {int(value)})"
    if rule["field"] == "createdAt":  # the indexed column holds the same instant, no parsing
        test = (f"p.created_at BETWEEN {edge} AND %(now)s::timestamptz" if op == "withinLastDays"
                else f"p.created_at < {edge}")
        return f"coalesce({test}, false)"
    when = f"{c.events}.profiles_ts({text})"
    if op == "withinLastDays":
        test = f"{when} BETWEEN {edge} AND %(now)s::timestamptz"
    else:
        test = f"{when} < {edge}"
    return f"coalesce(jsonb_typeof({v}) = 'string' AND {test}, false)"


def expression(c: Compiled, condition: dict[str, Any]) -> str:
    if "all" in condition:
        return "(" + " AND ".join(expression(c, x) for x in condition["all"]) + ")"
    if "any" in condition:
        return "(" + " OR ".join(expression(c, x) for x in condition["any"]) + ")"
    if "not" in condition:
        return f"(NOT {expression(c, condition['not'])})"
    return _rule(c, condition)


def matching_query(condition: dict[str, Any], view: str, events_schema: str) -> tuple[str, Compiled]:
    """``SELECT p.id`` of the contacts of ``%(domain)s`` that match, as of ``%(now)s`` and
    log position ``%(position)s`` (those two and ``domain`` are bound by the caller)."""
    c = Compiled(events_schema)
    where = expression(c, condition)
    ctes, joins = [], []
    for (name, days), alias in c.counts.items():
        ctes.append(
            f"{alias} AS (SELECT contact_id, count(*) AS n FROM {view}.activity_feed "
            f"WHERE type = 'activity' AND domain = %(domain)s AND name = {c.param(name)} "
            f"AND occurred_at > %(now)s::timestamptz - interval '1 day' * {days} "
            f"AND position <= %(position)s GROUP BY contact_id)")
        joins.append(f"LEFT JOIN {alias} ON {alias}.contact_id = p.id")
    head = ("WITH " + ", ".join(ctes) + " ") if ctes else ""
    query = (f"{head}SELECT p.id FROM {view}.profile_contacts p {' '.join(joins)} "
             f"WHERE p.domain = %(domain)s AND {where}")
    return query, c
