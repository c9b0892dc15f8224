"""Catch-up rate of the three projections: batched vs one event per transaction, in the
same run over the same log. ``python -m projections.throughput --events 50000``.

``--backfill 1000000`` instead times the segment back-fill queries over a million profiles.

Writes a realistic log (contacts with subscriptions, variables, custom activities, a
blacklisting, three segments of which one counts activities) into a scratch schema, then
builds the projections from 0 twice into fresh schemas and prints events/s for each.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from domain.ingest import parse
from domain.meta import Meta
from projections import schema as tables
from projections.runner import Step, connect

DOMAIN = "bench"


def _envelopes(contacts: int, now: datetime) -> list[dict]:
    out = []
    for n in range(contacts):
        ref = {"email": f"c{n}@example.com"}
        at = now - timedelta(days=20) + timedelta(seconds=n)

        def env(tag: str, kind: str, data: dict, minutes: int, n: int = n, ref: dict = ref,
                at: datetime = at) -> dict:
            return {"eventId": f"{n}-{tag}", "domain": DOMAIN, "type": kind, "contact": ref, "data": data,
                    "occurredAt": (at + timedelta(minutes=minutes)).isoformat()}

        out.append(env("up", "contact.upserted", {"firstName": f"N{n}", "language": "et" if n % 3 else "en",
                                                  "variables": {"vip": n % 5 == 0, "score": n % 100}}, 0))
        out.append(env("sub", "subscription.changed", {"channel": "email", "status": "subscribed"}, 1))
        for k in range(6):
            out.append(env(f"a{k}", "activity", {"name": "orderPlaced" if k % 3 == 0 else "pageViewed",
                                                 "properties": {"k": k}}, 2 + k))
        out.append(env("var", "contact.variables_set", {"variables": {"score": (n * 7) % 100}}, 10))
        if n % 10 == 0:
            out.append(env("bl", "blacklist.added", {"channel": "email", "reason": "hardBounce"}, 11))
    return out


def seed(app, events: int) -> int:
    meta = Meta(method="import", actor="bench")
    app.define_segment(DOMAIN, "VIP", {"field": "variables.vip", "op": "eq", "value": True}, meta)
    app.define_segment(DOMAIN, "Estonian", {"all": [{"field": "language", "op": "eq", "value": "et"},
                                                    {"field": "subscriptions.email.status", "op": "eq",
                                                     "value": "subscribed"}]}, meta)
    app.define_segment(DOMAIN, "Buyers", {"activity": "orderPlaced", "op": "countGte", "value": 2,
                                          "withinDays": 30}, meta)
    envelopes = [parse(e) for e in _envelopes(max(1, events // 9), datetime.now(tz=UTC))]
    for i in range(0, len(envelopes), 1000):
        app.ingest(envelopes[i:i + 1000], lambda e: Meta(method="kafka", actor="bench", occurred_at=e.occurredAt))
    return app.recorder.max_notification_id() or 0


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds of a local PostgreSQL backend (None when not on this machine)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(database_url: str, events_schema: str, batch_size: int, stop: int) -> dict[str, float]:
    view = f"{events_schema}_b{batch_size}"
    with connect(database_url) as conn:
        tables.create(conn, view, events_schema)
        step = Step(conn, view, events_schema)
        pg_before, py_before = _backend_cpu(conn.info.backend_pid), time.process_time()
        applied, started = 0, time.perf_counter()
        while step.position() < stop:
            applied += step.run(batch_size, stop)[0]
        seconds = time.perf_counter() - started
        pg_after = _backend_cpu(conn.info.backend_pid)
        pg = (pg_after - pg_before) if pg_after is not None and pg_before is not None else float("nan")
        return {"events": applied, "seconds": seconds, "python_cpu": time.process_time() - py_before, "pg_cpu": pg}


BACKFILL_CONDITIONS = {
    "language and subscribed": {"all": [{"field": "language", "op": "eq", "value": "et"},
                                        {"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"}]},
    "score or vip": {"any": [{"field": "variables.score", "op": "gte", "value": 50},
                             {"field": "variables.vip", "op": "eq", "value": True}]},
    "created within 30 days": {"field": "createdAt", "op": "withinLastDays", "value": 30},
    "birthday older than 30 days": {"field": "birthday", "op": "olderThanDays", "value": 30},
    "2 orders in 30 days": {"activity": "orderPlaced", "op": "countGte", "value": 2, "withinDays": 30},
}


def backfill(url: str, contacts: int) -> None:
    """Time the one-query back-fill of each kind of condition over ``contacts`` profiles."""
    from projections.segments.compile import matching_query

    schema = f"bf_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            tables.create(conn, schema, schema)
            started = time.perf_counter()
            conn.execute(
                f'INSERT INTO "{schema}".profile_contacts (id, domain, created_at, version, position, doc) '
                "SELECT md5('c' || n)::uuid, 'big', now() - n * interval '1 min', 1, n, jsonb_build_object("
                "'email', 'c' || n || '@example.com', 'language', (array['et', 'en', 'de'])[1 + n %% 3], "
                "'createdAt', to_char(now() - n * interval '1 min', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"'), "
                "'birthday', to_char(now() - n * interval '1 min', 'YYYY-MM-DD'), "
                "'variables', jsonb_build_object('score', n %% 100, 'vip', n %% 7 = 0), "
                "'subscriptions', jsonb_build_object('email', jsonb_build_object("
                "'status', CASE WHEN n %% 2 = 0 THEN 'subscribed' ELSE 'none' END, 'blacklisted', false))) "
                "FROM generate_series(1, %s) n", (contacts,))
            conn.execute(
                f'INSERT INTO "{schema}".activity_feed (id, domain, contact_id, occurred_at, position, type, name, '
                "summary, data) SELECT md5('a' || n)::uuid, 'big', md5('c' || (1 + n %% %s))::uuid, "
                "now() - (n %% 45) * interval '1 day', n, 'activity', 'orderPlaced', '', '{}' "
                "FROM generate_series(1, %s) n", (contacts, 2 * contacts))
            conn.execute(f'ANALYZE "{schema}".profile_contacts')
            conn.execute(f'ANALYZE "{schema}".activity_feed')
            print(f"loaded {contacts} contacts and {2 * contacts} activities in {time.perf_counter() - started:.1f}s")
            for label, condition in BACKFILL_CONDITIONS.items():
                query, compiled = matching_query(condition, f'"{schema}"', f'"{schema}"')
                started = time.perf_counter()
                found = conn.execute(query, {**compiled.params, "domain": "big", "now": datetime.now(tz=UTC),
                                             "position": 2**62}).fetchall()
                print(f"back-fill {label:<28} members={len(found):<8} seconds={time.perf_counter() - started:.2f}")
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--single-events", type=int, default=5_000,
                        help="log positions for the one-event-per-transaction baseline (it is slow)")
    parser.add_argument("--backfill", type=int, default=0, metavar="CONTACTS",
                        help="instead: time segment back-fill queries over this many contacts")
    args = parser.parse_args()
    from profiles.bootstrap import build
    from profiles.settings import Settings

    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if args.backfill:
        backfill(url, args.backfill)
        return
    schema = f"tp_{uuid.uuid4().hex[:8]}"
    container = build(Settings(DATABASE_URL=url, PROFILES_DB_SCHEMA=schema))
    try:
        head = seed(container.app, args.events)
        for batch_size, stop in ((1000, head), (1, min(head, args.single_events))):
            m = measure(url, schema, batch_size, stop)
            print(f"batch={batch_size:<5} events={m['events']:<7} seconds={m['seconds']:7.2f} "
                  f"events/s={m['events'] / m['seconds']:9.0f} python_cpu={m['python_cpu']:.2f}s "
                  f"postgres_cpu={m['pg_cpu']:.2f}s (log positions {stop})")
    finally:
        container.close()
        with psycopg.connect(url, autocommit=True) as conn:
            for name in (schema, f"{schema}_b1000", f"{schema}_b1"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


if __name__ == "__main__":
    main()
