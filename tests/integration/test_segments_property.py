"""The incremental path (Python) and the back-fill path (one SQL query) agree on every
generated profile, activity history and condition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from domain.conditions import PLAIN_FIELDS, validate
from domain.errors import InvalidCondition
from domain.values import CHANNELS, STATUSES
from projections import schema as tables
from projections.segments.compile import matching_query
from projections.segments.evaluate import counter, matches

NOW = datetime(2026, 6, 15, 12, 30, 15, 123456, tzinfo=UTC)
POSITION = 50
ACTIVITIES = ("orderPlaced", "pageViewed")
VARIABLES = ("a", "b", "c")
FIELDS = (*PLAIN_FIELDS, *(f"variables.{v}" for v in VARIABLES),
          *(f"subscriptions.{c}.{k}" for c in CHANNELS for k in ("status", "blacklisted")))

words = st.sampled_from(["", "a", "ab", "B", "b", "é", "Ann", "ann@example.com", "+37255512345", "zz", "ä1"])
texts = words | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                        max_size=5)
numbers = st.integers(-5, 5) | st.sampled_from([0.5, -1.5, 1e20, 2**53 + 1, 0.1, 0.30000000000000004]) | \
    st.floats(allow_nan=False, allow_infinity=False)
moments = st.integers(-200 * 24 * 60, 5 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m, microseconds=m * 7))


def _time_text(moment: datetime, form: int) -> str:
    if form == 0:
        return moment.date().isoformat()
    if form == 1:
        return moment.isoformat()
    if form == 2:
        return moment.astimezone(timezone(timedelta(hours=-5))).isoformat(timespec="milliseconds")
    if form == 3:
        return moment.replace(tzinfo=None).isoformat(timespec="seconds")
    if form == 4:
        return moment.strftime("%Y-%m-%dT%H:%MZ")
    if form == 5:
        return moment.astimezone(timezone(timedelta(hours=14, minutes=59))).isoformat()[:-11] + "+14:59"
    return ["2026-02-30", "2024-02-29", "2026-13-01", "2026-06-15T25:00", "not a date", "0999-01-01",
            "2026-06-15T10:00:00+15:00", "2026-06-15T10:00:00.5", "2026-00-10", "2026-06-00"][moment.minute % 10]


times = st.builds(_time_text, moments, st.integers(0, 6))
scalars = texts | numbers | st.booleans() | times


@st.composite
def documents(draw) -> dict:
    doc = {name: draw(st.none() | words | times) for name in PLAIN_FIELDS}
    doc["createdAt"] = draw(moments).isoformat()
    doc["variables"] = draw(st.dictionaries(st.sampled_from(VARIABLES), scalars, max_size=3))
    doc["subscriptions"] = {c: {"status": draw(st.sampled_from(STATUSES)), "blacklisted": draw(st.booleans())}
                            for c in CHANNELS}
    return doc


def _rule(draw) -> dict:
    if draw(st.integers(0, 6)) == 0:
        return {"activity": draw(st.sampled_from(ACTIVITIES)), "op": draw(st.sampled_from(["countGte", "countLt"])),
                "value": draw(st.integers(0, 4)), "withinDays": draw(st.integers(0, 40))}
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(["eq", "ne", "in", "notIn", "contains", "startsWith", "gt", "gte", "lt", "lte",
                               "exists", "notExists", "withinLastDays", "olderThanDays"]))
    if op in ("exists", "notExists"):
        return {"field": field, "op": op}
    if op in ("in", "notIn"):
        return {"field": field, "op": op, "value": draw(st.lists(scalars, min_size=1, max_size=3))}
    if op in ("contains", "startsWith"):
        return {"field": field, "op": op, "value": draw(texts)}
    if op in ("withinLastDays", "olderThanDays"):
        return {"field": field, "op": op, "value": draw(st.integers(0, 200))}
    return {"field": field, "op": op, "value": draw(scalars)}


@st.composite
def conditions(draw, depth: int = 0) -> dict:
    shape = draw(st.integers(0, 5)) if depth < 3 else 0
    if shape <= 2:
        return _rule(draw)
    if shape == 3:
        return {"not": draw(conditions(depth + 1))}
    return {"all" if shape == 4 else "any": draw(st.lists(conditions(depth + 1), min_size=1, max_size=3))}


activity_rows = st.lists(st.tuples(st.sampled_from(ACTIVITIES),
                                   st.integers(0, 45 * 24).map(lambda h: NOW - timedelta(hours=h, seconds=1)),
                                   st.integers(1, 2 * POSITION)), max_size=6)


@pytest.fixture
def conn(database_url, schema):
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables.create(conn, schema, schema)
        yield conn


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(documents(), activity_rows), min_size=1, max_size=6), condition=conditions())
def test_python_and_sql_agree(conn, schema, people, condition):
    try:
        condition = validate(condition)
    except InvalidCondition:
        assume(False)  # e.g. a date field compared with "not a date": refused when defined
    view = f'"{schema}"'
    expected = set()
    with conn.transaction(force_rollback=True), conn.cursor() as cur:  # each example leaves nothing behind
        for doc, activity in people:
            cid = uuid.uuid4()
            cur.execute(f"INSERT INTO {view}.profile_contacts (id, domain, created_at, version, position, doc) "
                        "VALUES (%s, 'd', %s, 1, 1, %s::jsonb)", (cid, doc["createdAt"], orjson.dumps(doc).decode()))
            for name, at, position in activity:
                cur.execute(f"INSERT INTO {view}.activity_feed (id, domain, contact_id, occurred_at, position, type, "
                            "name, summary, data) VALUES (%s, 'd', %s, %s, %s, 'activity', %s, '', '{}')",
                            (uuid.uuid4(), cid, at, position, name))
            if matches(condition, doc, counter(activity, POSITION, NOW), NOW):
                expected.add(cid)
        query, compiled = matching_query(condition, view, view)
        cur.execute(query, {**compiled.params, "domain": "d", "now": NOW, "position": POSITION})
        found = {row[0] for row in cur.fetchall()}
    event(f"matched {len(expected)} of {len(people)}")
    assert found == expected, (condition, people)
