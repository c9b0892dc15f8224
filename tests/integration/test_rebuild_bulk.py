"""The bulk rebuild builds exactly the tables the live runner builds, with the same
indexes and constraints, analysed; it refuses tables that already hold a projection."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bench import workload
from domain.ingest import parse
from domain.meta import Meta
from profiles.demo import load_demo
from projections import schema as tables
from projections.rebuild import rebuild
from projections.replay import checksums
from projections.runner import ProjectionRunner
from tests.conftest import fresh_schema


def api(at: datetime) -> Meta:
    return Meta(method="api", actor="key-shop", occurred_at=at)


def _log(app) -> int:
    """Generated traffic in two domains, with segments defined before, during (over
    populated domains) and after it, redefined and deleted; time-relative segments and
    clock ticks; notes added and deleted; templates revised; sends; removals."""
    rng = random.Random(5)
    now = datetime.now(tz=UTC)
    load_demo(app, now=now)
    for domain in ("shop", "travel"):
        app.define_segment(domain, "Estonians", {"field": "language", "op": "in", "value": ["et", "fi"]},
                           api(now))
    raws = list(workload.envelopes(2400, 240, seed=11, prefix="rb", domain=None))
    parsed = [parse(r) for r in raws if r["domain"] in ("shop", "travel")]
    for start in range(0, len(parsed), 300):
        app.ingest(parsed[start:start + 300],
                   lambda e: Meta(method="kafka", actor="bench", occurred_at=e.occurredAt))
        if start == 900:  # segments over domains that already have contacts and activity
            app.define_segment("shop", "Buyers", {"activity": "orderPlaced", "op": "countGte", "value": 2,
                                                  "withinDays": 10}, api(now))
            app.define_segment("travel", "Quiet", {"activity": "pageViewed", "op": "countLt", "value": 1,
                                                   "withinDays": 3}, api(now))
            recent, _ = app.define_segment("shop", "Recent", {"field": "createdAt", "op": "withinLastDays",
                                                              "value": 20}, api(now))
            app.tick(Meta(actor="clock", occurred_at=now + timedelta(days=1)))
    app.redefine_segment("shop", recent.id, "Recent", {"field": "createdAt", "op": "withinLastDays", "value": 5},
                         api(now))
    ann, _ = app.create_contact("shop", {"email": "ann.rebuild@example.com"}, {"vip": True}, api(now))
    # An activity name the store's JSON escapes (quotes, a tab) or writes raw (non-ASCII).
    odd = 'Käik "öö"\tx'
    app.define_segment("shop", "Odd walkers", {"activity": odd, "op": "countGte", "value": 2, "withinDays": 30},
                       api(now))
    app.ingest([parse({"eventId": f"odd-{n}", "domain": "shop", "type": "activity",
                       "occurredAt": (now - timedelta(hours=n)).isoformat(),
                       "contact": {"email": "ann.rebuild@example.com"}, "data": {"name": odd}}) for n in range(3)],
               lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    app.define_segment("shop", "Odd walkers too", {"activity": odd, "op": "countGte", "value": 3, "withinDays": 30},
                       api(now))
    notes = [app.add_note("shop", ann.id, f"note {n}", "maria", api(now))[0] for n in range(3)]
    app.delete_note("shop", ann.id, notes[1], api(now))
    template, _ = app.create_template("shop", "email", "Hi", "Hello", "Hi {{ firstName }}", {}, api(now))
    app.revise_template("shop", template.id, "Hello again", "Hi {{ firstName }}!", {}, api(now + timedelta(seconds=1)))
    app.approve_template("shop", template.id, api(now + timedelta(seconds=2)))
    app.change_subscription("shop", ann.id, "email", "subscribed", api(now), confirmed=True)
    app.send_message("shop", ann.id, "email", template.id, api(now))
    doomed, _ = app.create_contact("shop", {"email": "bob.rebuild@example.com"}, {}, api(now))
    app.add_note("shop", doomed.id, "gone with him", "maria", api(now))
    app.remove_contact("shop", doomed.id, api(now))
    segment, _ = app.define_segment("shop", "VIP", {"field": "variables.vip", "op": "eq", "value": True}, api(now))
    app.set_variables("shop", ann.id, {"vip": False}, api(now))
    app.set_variables("shop", ann.id, {"vip": True}, api(now + timedelta(minutes=1)))
    app.delete_segment("shop", segment.id, api(now))
    for days in (2, 9, 30):
        app.tick(Meta(actor="clock", occurred_at=now + timedelta(days=days)))
    return app.set_variables("shop", ann.id, {"score": rng.randint(0, 1000)}, api(now))[1]


def _keys(conn: psycopg.Connection, schema: str) -> set[tuple[str, str, str]]:
    rows = conn.execute("SELECT tablename, indexname, replace(indexdef, %s, '') FROM pg_indexes WHERE schemaname = %s",
                        (f'"{schema}".', schema)).fetchall()
    rows += conn.execute(
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t "
        "ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s", (schema,)).fetchall()
    return {(t, n, d.replace(f"{schema}.", "")) for t, n, d in rows if t in tables.TABLES}


@pytest.mark.parametrize("feed_process", [True, False], ids=["feed-in-its-own-process", "all-in-one-process"])
def test_bulk_rebuild_equals_the_live_path(container, database_url, feed_process):
    schema = container.settings.db_schema
    position = _log(container.app)
    live = ProjectionRunner(database_url, schema, batch_size=7)  # batch boundaries everywhere
    live.ensure_tables()
    live.catch_up()
    with fresh_schema(database_url) as bulk:
        seen: list[int] = []
        result = rebuild(database_url, schema, bulk, progress=lambda n, pos: seen.append(pos),
                         feed_process=feed_process)
        assert result.position == position and seen[-1] == position
        with psycopg.connect(database_url) as conn:
            before, after = checksums(conn, schema), checksums(conn, bulk)
            assert after == before
            assert after["segment_history"][0] > 50 and after["profile_notes"][0] == 2
            assert _keys(conn, bulk) == _keys(conn, schema)
            analysed = conn.execute("SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = %s "
                                    "AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL", (bulk,)).fetchone()[0]
            assert analysed == len(tables.TABLES) - 1  # every table but the tracking rows
        # The live runner carries on from the rebuilt tables.
        container.app.create_contact("shop", {"email": "after@example.com"}, {}, api(datetime.now(tz=UTC)))
        assert ProjectionRunner(database_url, schema, view_schema=bulk).catch_up() == 1


def test_bulk_rebuild_refuses_tables_that_hold_a_projection(container, database_url):
    schema = container.settings.db_schema
    container.app.create_contact("shop", {"email": "x@example.com"}, {}, api(datetime.now(tz=UTC)))
    runner = ProjectionRunner(database_url, schema)
    runner.ensure_tables()
    runner.catch_up()
    with pytest.raises(RuntimeError, match="fresh tables"):
        rebuild(database_url, schema, schema)


def _analysed(database_url: str, schema: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = %s AND relname = ANY(%s) "
                            "AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL",
                            (schema, list(tables.TABLES))).fetchone()[0]


def test_a_large_catch_up_leaves_its_tables_vacuumed_and_analysed(container, database_url):
    """So the first back-fill after it neither sets every hint bit nor plans with the
    estimates of empty tables."""
    schema = container.settings.db_schema
    load_demo(container.app)
    small = ProjectionRunner(database_url, schema, maintain_after=10**9)
    small.ensure_tables()
    small.catch_up(stop=20)
    assert _analysed(database_url, schema) == 0
    ProjectionRunner(database_url, schema, maintain_after=50).catch_up()
    assert _analysed(database_url, schema) == len(tables.TABLES)


def test_the_live_runner_maintains_its_tables_after_working_off_a_backlog(container, database_url):
    import time

    schema = container.settings.db_schema
    load_demo(container.app)  # the backlog, before the runner starts
    live = ProjectionRunner(database_url, schema, batch_size=20, maintain_after=50)
    live.start()
    try:
        deadline = time.monotonic() + 20
        while _analysed(database_url, schema) < len(tables.TABLES) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.stop()
    assert _analysed(database_url, schema) == len(tables.TABLES) and live.error is None


def test_a_failed_rebuild_leaves_no_half_built_tables(container, database_url):
    schema = container.settings.db_schema
    load_demo(container.app)

    def crash(applied: int, position: int) -> None:
        raise RuntimeError("killed mid-rebuild")

    with fresh_schema(database_url) as bulk:
        with pytest.raises(RuntimeError, match="killed"):
            rebuild(database_url, schema, bulk, progress=crash)
        with psycopg.connect(database_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (bulk,)).fetchone()[0] == 0
        rebuild(database_url, schema, bulk)  # starts over, complete with its indexes
        live = ProjectionRunner(database_url, schema)
        live.ensure_tables()
        live.catch_up()
        with psycopg.connect(database_url) as conn:
            assert checksums(conn, bulk) == checksums(conn, schema)
            assert _keys(conn, bulk) == _keys(conn, schema)


def test_a_failing_feed_process_fails_the_rebuild(container, database_url):
    schema = container.settings.db_schema
    load_demo(container.app)
    with fresh_schema(database_url) as bulk:
        with psycopg.connect(database_url, autocommit=True) as conn:  # the feed's table cannot be written
            runner = ProjectionRunner(database_url, schema, view_schema=bulk)
            runner.ensure_tables()
            conn.execute(f'ALTER TABLE "{bulk}".activity_feed ADD CONSTRAINT no_rows CHECK (false) NOT VALID')
        with pytest.raises(RuntimeError, match="feed process failed"):
            rebuild(database_url, schema, bulk)
        with psycopg.connect(database_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (bulk,)).fetchone()[0] == 0
