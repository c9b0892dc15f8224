"""Keeps segment membership current and records every entry and exit.

- a run of contact changes is evaluated incrementally in Python, change by change in log
  order, each with its own document and time, so the history does not depend on where
  batch boundaries fall (a rebuild batches differently than the live path);
- a defined/redefined segment, and time-relative segments on each clock tick, are
  back-filled with one SQL statement (``compile.py``); the runner hands these "barrier"
  events over alone, after everything before them is applied.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from psycopg import Cursor

from domain.conditions import is_time_relative
from projections.batch import Batch, Change
from projections.copying import copy_rows
from projections.events import Fact, topics
from projections.segments import evaluate
from projections.segments.compile import matching_query

TOPICS = topics("Segment.Defined", "Segment.Redefined", "Segment.Deleted", "Clock.Started", "Clock.Ticked")
BARRIERS = frozenset(t[t.index(":") + 1:] for t in TOPICS)
HISTORY_COLUMNS = ("id", "segment_id", "segment_name", "domain", "contact_id", "kind", "occurred_at", "position")
# md5 of "segment:contact:position" as a uuid: the same id from Python and from SQL.
_SQL_HISTORY_ID = "md5(%(segment)s::text || ':' || {contact}::text || ':' || %(position)s::text)::uuid"


def history_id(segment_id: str, contact_id: str, position: int) -> str:
    return hashlib.md5(f"{segment_id}:{contact_id}:{position}".encode()).hexdigest()


def apply(cur: Cursor[Any], batch: Batch) -> None:
    if len(batch.facts) == 1 and batch.facts[0].kind in BARRIERS:
        _barrier(cur, batch, batch.facts[0])
    elif batch.changes:
        _incremental(cur, batch)


# -- incremental ------------------------------------------------------------------------

def _incremental(cur: Cursor[Any], batch: Batch) -> None:
    view = batch.view
    domains = sorted({c.domain for c in batch.changes})
    cur.execute(f"SELECT id::text, domain, name, conditions FROM {view}.segment_definitions WHERE domain = ANY(%s)",
                (domains,))
    segments: dict[str, list[Listed]] = defaultdict(list)
    compiled: dict[str, Compiled] = {}
    for sid, domain, name, conditions in cur.fetchall():
        compiled[sid] = compile_segment(conditions)
        segments[domain].append((sid, name, compiled[sid][0], compiled[sid][2]))
    changes = [c for c in batch.changes if c.domain in segments]
    if not changes:
        return
    contacts = list({c.contact_id for c in changes})
    cur.execute(f"SELECT segment_id::text, contact_id::text FROM {view}.segment_members WHERE contact_id = ANY(%s::uuid[])", (contacts,))
    initial = {(sid, cid) for sid, cid in cur.fetchall()}
    member = dict.fromkeys(initial, True)
    activity = _activity_rows(cur, view, compiled, changes, contacts)
    history, since = evaluate_changes(changes, segments, member, activity)
    if not history:
        return
    domain_of = {c.contact_id: c.domain for c in changes}
    # A member that left and came back within the batch is written again with its new
    # ``since``, as if the batch had ended in between: batch boundaries change nothing.
    gone = [key for key in initial if not member[key] or key in since]
    new = [(sid, cid, domain_of[cid], since[(sid, cid)]) for (sid, cid), inside in member.items()
           if inside and ((sid, cid) not in initial or (sid, cid) in since)]
    if gone:
        cur.execute(f"DELETE FROM {view}.segment_members m USING unnest(%s::uuid[], %s::uuid[]) AS g(s, c) "
                    "WHERE m.segment_id = g.s AND m.contact_id = g.c",
                    ([k[0] for k in gone], [k[1] for k in gone]))
    if new:
        copy_rows(cur, f"{view}.segment_members", ("segment_id", "contact_id", "domain", "since"), new)
    copy_rows(cur, f"{view}.segment_history", HISTORY_COLUMNS, history)
    delta: dict[str, int] = defaultdict(int)
    for sid, _ in gone:
        delta[sid] -= 1
    for sid, *_ in new:
        delta[sid] += 1
    if delta:
        cur.executemany(f"UPDATE {view}.segment_definitions SET members = members + %s WHERE id = %s",
                        [(d, sid) for sid, d in sorted(delta.items()) if d])


# (predicate, counted (activity, days) pairs, the counted activity names)
Compiled = tuple[evaluate.Predicate, set[tuple[str, int]], frozenset[str]]
Listed = tuple[str, str, evaluate.Predicate, frozenset[str]]  # a domain's segment: (id, name, predicate, counted names)
ActivityRows = list[tuple[str, Any, int]]  # (activity name, occurredAt, position)


def compile_segment(conditions: dict[str, Any]) -> Compiled:
    counted = evaluate.activity_rules(conditions)
    return evaluate.compile_condition(conditions), counted, frozenset(name for name, _ in counted)


def evaluate_changes(changes: list[Change], segments: Mapping[str, list[Listed]], member: dict[tuple[str, str], bool],
                     activity: Mapping[str, ActivityRows]) -> tuple[list[tuple[Any, ...]], dict[tuple[str, str], str]]:
    """Each change in log order against its domain's segments:
    ``member`` ((segment, contact) -> inside) is updated in place; returns the history
    rows and, for each membership entered, the time of its latest entry. No I/O: the
    live path and a bulk rebuild share it."""
    history: list[tuple[Any, ...]] = []
    since: dict[tuple[str, str], str] = {}
    no_rows: ActivityRows = []
    counted = {domain: frozenset().union(*(s[3] for s in listed)) for domain, listed in segments.items()}
    for change in changes:
        listed = segments.get(change.domain)
        if not listed:
            continue
        cid, doc, now, caused_by = change.contact_id, change.doc, change.when, change.activity
        # A profile change re-evaluates every segment of the domain; a custom activity
        # only those that count that activity (the profile did not change).
        if caused_by is not None and caused_by not in counted[change.domain]:
            continue
        count = evaluate.counter(activity.get(cid, no_rows), change.position, now)
        for sid, name, predicate, names in listed:
            if caused_by is not None and caused_by not in names:
                continue
            key = (sid, cid)
            now_in = doc is not None and predicate(doc, count, now)
            if now_in == member.get(key, False):
                continue
            member[key] = now_in
            if now_in:
                since[key] = change.at
            history.append((history_id(sid, cid, change.position), sid, name, change.domain, cid,
                            "entered" if now_in else "exited", change.at, change.position))
    return history, since


def _activity_rows(cur: Cursor[Any], view: str, compiled: Mapping[str, Compiled], changes: list[Change],
                   contacts: list[str]) -> dict[str, ActivityRows]:
    rules: set[tuple[str, int]] = set()
    for _, counted, _ in compiled.values():
        rules |= counted
    if not rules:
        return {}
    oldest = min(c.when for c in changes) - timedelta(days=max(days for _, days in rules))
    domain_of = {c.contact_id: c.domain for c in changes}
    # Per contact, a range scan of its own recent entries on the feed's main index. No
    # ``type = 'activity'`` (only activities have a name): it would let the planner, short
    # of statistics on a feed that grows under it, pick the partial counts index and read
    # every activity of that name in the domain for each contact (a live catch-up of 300k
    # events went from ~17 s to ~70 s when it did).
    cur.execute(
        f"SELECT c.id::text, f.name, f.occurred_at, f.position FROM unnest(%s::uuid[], %s::text[]) AS c(id, domain) "
        f"CROSS JOIN LATERAL (SELECT name, occurred_at, position FROM {view}.activity_feed f "
        "WHERE f.domain = c.domain AND f.contact_id = c.id AND f.occurred_at > %s AND f.name = ANY(%s)) f",
        (contacts, [domain_of[c] for c in contacts], oldest, sorted({name for name, _ in rules})))
    rows: dict[str, ActivityRows] = defaultdict(list)
    for cid, name, at, position in cur.fetchall():
        rows[cid].append((name, at, position))
    return rows


# -- barriers: definitions and clock ticks ---------------------------------------------

def _barrier(cur: Cursor[Any], batch: Batch, fact: Fact) -> None:
    view, data = batch.view, fact.data
    if fact.kind == "Segment.Defined":
        cur.execute(
            f"INSERT INTO {view}.segment_definitions (id, domain, name, conditions, time_relative, members, "
            "created_at, updated_at, position) VALUES (%s, %s, %s, %s::jsonb, %s, 0, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            (fact.originator_id, data["domain"], data["name"], orjson.dumps(data["conditions"]).decode(),
             is_time_relative(data["conditions"]), fact.at, fact.at, fact.position))
        _backfill(cur, batch, fact.originator_id, fact)
    elif fact.kind == "Segment.Redefined":
        cur.execute(
            f"UPDATE {view}.segment_definitions SET name = %s, conditions = %s::jsonb, time_relative = %s, "
            "updated_at = %s, position = %s WHERE id = %s",
            (data["name"], orjson.dumps(data["conditions"]).decode(), is_time_relative(data["conditions"]),
             fact.at, fact.position, fact.originator_id))
        _backfill(cur, batch, fact.originator_id, fact)
    elif fact.kind == "Segment.Deleted":
        params = {"segment": fact.originator_id, "position": fact.position, "at": fact.at}
        cur.execute(
            f"WITH gone AS (DELETE FROM {view}.segment_members WHERE segment_id = %(segment)s RETURNING contact_id, domain) "
            f"INSERT INTO {view}.segment_history ({', '.join(HISTORY_COLUMNS)}) "
            f"SELECT {_SQL_HISTORY_ID.format(contact='g.contact_id')}, %(segment)s::uuid, d.name, g.domain, g.contact_id, "
            f"'exited', %(at)s::timestamptz, %(position)s FROM gone g JOIN {view}.segment_definitions d ON d.id = %(segment)s",
            params)
        cur.execute(f"DELETE FROM {view}.segment_definitions WHERE id = %s", (fact.originator_id,))
    else:  # a clock tick: time passed, time-relative memberships may change
        cur.execute(f"SELECT id::text FROM {view}.segment_definitions WHERE time_relative ORDER BY id")
        for (sid,) in cur.fetchall():
            _backfill(cur, batch, sid, fact)


def _backfill(cur: Cursor[Any], batch: Batch, segment_id: str, fact: Fact) -> None:
    """Membership of one segment recomputed over its domain, set-based, in three steps.

    1. the matching contacts, with the id of their would-be history row, go to a
       temporary table by ``CREATE TABLE AS``, which may scan the profiles (and compute
       the ids) in parallel, where an ``INSERT … SELECT`` may not;
    2. the members as they were go to another: entries and exits are joins of two tables
       the planner can size, never a per-row probe of ``segment_members`` while it is
       being written (with the statistics of an empty table the planner re-scanned it
       for every row);
    3. members and history rows are inserted in contact order, so their contact indexes
       grow at the right edge instead of at random leaves."""
    view = batch.view
    cur.execute(f"SELECT domain, name, conditions FROM {view}.segment_definitions WHERE id = %s", (segment_id,))
    row = cur.fetchone()
    if row is None:
        return
    domain, name, conditions = row
    query, compiled = matching_query(conditions, view, batch.events)
    params = {**compiled.params, "domain": domain, "now": fact.at, "position": fact.position,
              "segment": segment_id, "name": name, "at": fact.at}
    # An earlier back-fill of this transaction (a clock tick re-evaluates several) made them.
    cur.execute("DROP TABLE IF EXISTS pg_temp.segment_matched, pg_temp.segment_was")
    cur.execute(f"CREATE TEMP TABLE segment_matched ON COMMIT DROP AS SELECT m.id, "
                f"{_SQL_HISTORY_ID.format(contact='m.id')} AS entry FROM ({query}) m ORDER BY m.id", params)
    cur.execute(f"CREATE TEMP TABLE segment_was ON COMMIT DROP AS SELECT contact_id AS id FROM {view}.segment_members "
                "WHERE segment_id = %(segment)s ORDER BY contact_id", params)
    cur.execute(
        "WITH entered AS (SELECT m.id, m.entry FROM pg_temp.segment_matched m "
        "LEFT JOIN pg_temp.segment_was w ON w.id = m.id WHERE w.id IS NULL), "
        "exited AS (SELECT w.id FROM pg_temp.segment_was w "
        "LEFT JOIN pg_temp.segment_matched m ON m.id = w.id WHERE m.id IS NULL), "
        f"joined AS (INSERT INTO {view}.segment_members (segment_id, contact_id, domain, since) "
        "SELECT %(segment)s::uuid, id, %(domain)s, %(at)s::timestamptz FROM entered ORDER BY id), "
        f"left_ AS (DELETE FROM {view}.segment_members s USING exited e "
        "WHERE s.segment_id = %(segment)s AND s.contact_id = e.id), "
        f"history AS (INSERT INTO {view}.segment_history ({', '.join(HISTORY_COLUMNS)}) "
        "SELECT x.entry, %(segment)s::uuid, %(name)s, %(domain)s, x.id, x.kind, %(at)s::timestamptz, %(position)s "
        "FROM (SELECT id, entry, 'entered' AS kind FROM entered "
        f"UNION ALL SELECT id, {_SQL_HISTORY_ID.format(contact='id')}, 'exited' FROM exited) x ORDER BY x.id) "
        f"UPDATE {view}.segment_definitions SET members = (SELECT count(*) FROM pg_temp.segment_matched) "
        "WHERE id = %(segment)s",
        params)
