"""Rebuilding from position 0 gives exactly the live tables; a crash mid-batch loses and
doubles nothing."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from domain.ingest import parse
from domain.meta import Meta
from profiles import cli
from profiles.demo import load_demo
from projections import schema as tables
from projections.replay import ReplayBusy, ReplayStopped, checksums, replay, try_lock
from projections.runner import ProjectionRunner, connect


def api(at: datetime | None = None) -> Meta:
    return Meta(method="api", actor="key-shop", occurred_at=at or datetime.now(tz=UTC))


def _history(app) -> int:
    """A realistic log: the demo domain, then edits, sends, segments and clock ticks."""
    load_demo(app)
    now = datetime.now(tz=UTC)
    ann, _ = app.create_contact("shop", {"email": "ann@example.com", "phoneNumber": "+37255512345"},
                                {"vip": True}, api(now - timedelta(days=3)))
    app.define_segment("shop", "VIP", {"field": "variables.vip", "op": "eq", "value": True}, api())
    app.define_segment("shop", "Active", {"activity": "pageViewed", "op": "countGte", "value": 2, "withinDays": 1}, api())
    envelopes = [{"eventId": f"pv-{n}", "domain": "shop", "type": "activity",
                  "occurredAt": (now - timedelta(hours=30 - n)).isoformat(), "contact": {"email": "ann@example.com"},
                  "data": {"name": "pageViewed"}} for n in range(10)]
    app.ingest([parse(e) for e in envelopes], lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    app.set_variables("shop", ann.id, {"vip": False}, api())
    note, _ = app.add_note("shop", ann.id, "call back", "maria", api())
    app.delete_note("shop", ann.id, note, api())
    app.change_subscription("shop", ann.id, "sms", "subscribed", api(), confirmed=True)
    app.tick(Meta(actor="clock", occurred_at=now + timedelta(hours=1)))
    app.tick(Meta(actor="clock", occurred_at=now + timedelta(days=2)))
    return app.remove_contact("shop", ann.id, api())


@pytest.mark.parametrize("memory_budget", [None, 1], ids=["in bulk", "batch by batch, over its memory"])
def test_rebuild_equals_live_built_in_small_batches(container, memory_budget, caplog):
    live = ProjectionRunner(container.database_url, container.settings.db_schema, batch_size=7)
    live.start()  # follows the writes as they happen, in batches of whatever has arrived
    try:
        position = _history(container.app)
        assert container.read_model.wait_for(position, timeout=10)
    finally:
        live.stop()
    schema = container.settings.db_schema
    with connect(container.database_url) as conn:
        before = checksums(conn, schema)
    result = replay(container.database_url, schema, batch_size=1000, progress=False, memory_budget=memory_budget)
    assert result.mismatched == [] and result.position == position and result.events > 100
    assert any("replaying batch by batch" in r.getMessage() for r in caplog.records) == (memory_budget == 1)
    with connect(container.database_url) as conn:
        assert checksums(conn, schema) == before
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s",
                            (f"{schema}\\_\\_%",)).fetchone()[0] == 0
    assert container.read_model.positions()["segments"] == position


def test_replay_verb_reports_a_mismatch(container, monkeypatch, capsys):
    runner = ProjectionRunner(container.database_url, container.settings.db_schema)
    runner.ensure_tables()
    load_demo(container.app)
    runner.catch_up()
    monkeypatch.setenv("DATABASE_URL", container.database_url)
    monkeypatch.setenv("PROFILES_DB_SCHEMA", container.settings.db_schema)
    assert cli.main(["replay"]) == 0
    assert re.search(r"^replayed \d+ events", capsys.readouterr().out, re.M)
    with psycopg.connect(container.database_url, autocommit=True) as conn:  # a projection bug, fixed since
        conn.execute(f'UPDATE "{container.settings.db_schema}".activity_feed SET summary = \'wrong\' '
                     "WHERE type = 'activity'")
    assert cli.main(["replay"]) == 1
    assert "activity_feed" in capsys.readouterr().err
    with psycopg.connect(container.database_url) as conn:  # reads now come from the rebuilt tables
        wrong = conn.execute(f'SELECT count(*) FROM "{container.settings.db_schema}".activity_feed '
                             "WHERE summary = 'wrong'").fetchone()[0]
    assert wrong == 0


class Crash(Exception):
    pass


def test_crash_between_view_write_and_commit_loses_and_doubles_nothing(container):
    schema = container.settings.db_schema
    position = _history(container.app)
    runner = ProjectionRunner(container.database_url, schema, batch_size=50)
    runner.ensure_tables()
    runner.catch_up(stop=120)  # some batches done

    def crash() -> None:
        raise Crash("killed between writing the view rows and committing")

    runner.before_commit = crash
    with pytest.raises(Crash):
        runner.catch_up()
    assert container.read_model.positions()["activity"] == 120
    runner.before_commit = None  # restart
    runner.catch_up()
    assert container.read_model.positions() == {"profile": position, "activity": position, "segments": position}
    with connect(container.database_url) as conn:
        crashed = checksums(conn, schema)
        feed = conn.execute(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".activity_feed').fetchone()
    assert feed[0] == feed[1] > 100
    result = replay(container.database_url, schema, progress=False)  # an uninterrupted build agrees
    assert result.mismatched == []
    with connect(container.database_url) as conn:
        assert checksums(conn, schema) == crashed


def test_replay_switches_over_while_the_live_runner_and_writers_go_on(container):
    """No downtime: reads and the live runner keep working through the switch-over and
    carry on, on the rebuilt tables."""
    import threading

    app, reads, schema = container.app, container.read_model, container.settings.db_schema
    live = ProjectionRunner(container.database_url, schema, batch_size=5)
    live.start()
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            written.append(app.create_contact("load", {"userId": f"u-{n}"}, {"n": n}, api())[1])
            n += 1

    thread = threading.Thread(target=writer)
    try:
        _history(app)
        thread.start()
        result = replay(container.database_url, schema, batch_size=50, progress=False)
        assert result.mismatched == []
        during = len(written)
        stop.set()
        thread.join()
        contact, position = app.create_contact("load", {"userId": "after"}, {}, api())
        assert reads.wait_for(position, timeout=10)  # the live runner carries on, on the new tables
        assert reads.contact("load", contact.id)["userId"] == "after"
        assert reads.domains({"load"}) == [{"domain": "load", "contacts": len(written) + 1}]
    finally:
        stop.set()
        live.stop()
    assert live.error is None
    assert during > 0  # writes really went on during the rebuild


@pytest.fixture
def never_projected(container) -> tuple[int, dict]:
    """A store with history whose projection tables are gone (a new deployment's read
    side, a restored event store): (log head, the checksums a batch-by-batch build gives)."""
    schema = container.settings.db_schema
    position = _history(container.app)
    reference = ProjectionRunner(container.database_url, schema, bulk_start_after=None)
    reference.ensure_tables()
    reference.catch_up()
    with connect(container.database_url) as conn:
        expected = checksums(conn, schema)
        for table in tables.TABLES:
            conn.execute(f'DROP TABLE "{schema}".{table}')
    return position, expected


def _run_until(container, runner: ProjectionRunner, position: int) -> dict:
    runner.start()
    try:
        assert container.read_model.wait_for(position, timeout=30)
        with connect(container.database_url) as conn:
            built = checksums(conn, container.settings.db_schema)
        contact, later = container.app.create_contact("shop", {"userId": "after"}, {}, api())
        assert container.read_model.wait_for(later, timeout=10)  # then it follows new writes live
        assert container.read_model.contact("shop", contact.id)["userId"] == "after"
    finally:
        runner.stop()
    assert runner.error is None
    return built


def test_projections_that_never_ran_over_a_long_log_are_built_in_bulk_first(container, never_projected, caplog):
    position, expected = never_projected
    caplog.set_level(logging.INFO, logger="projections")
    runner = ProjectionRunner(container.database_url, container.settings.db_schema, bulk_start_after=1)
    assert _run_until(container, runner, position) == expected
    assert "building them in bulk first" in caplog.text
    assert re.search(rf"built projections in bulk events=\d+ position={position}\b", caplog.text)


def test_while_another_replay_runs_the_runner_projects_batch_by_batch(container, never_projected, caplog):
    position, expected = never_projected
    schema = container.settings.db_schema
    caplog.set_level(logging.INFO, logger="projections")
    with connect(container.database_url) as other:
        assert try_lock(other, schema)  # another process's replay of this schema
        with pytest.raises(ReplayBusy, match="another replay"):
            replay(container.database_url, schema, progress=False)
        runner = ProjectionRunner(container.database_url, schema, bulk_start_after=1)
        assert _run_until(container, runner, position) == expected
    assert "projecting batch by batch meanwhile" in caplog.text
    assert "built projections in bulk" not in caplog.text


def test_replay_over_never_projected_tables_switches_in_without_comparing(container, never_projected, capsys,
                                                                          monkeypatch):
    position, expected = never_projected
    schema = container.settings.db_schema
    monkeypatch.setenv("DATABASE_URL", container.database_url)
    monkeypatch.setenv("PROFILES_DB_SCHEMA", schema)
    assert cli.main(["replay"]) == 0
    out = capsys.readouterr().out
    assert "the projections had never run" in out and f"log position {position})" in out
    with connect(container.database_url) as conn:
        assert checksums(conn, schema) == expected


@pytest.mark.parametrize("memory_budget", [None, 1], ids=["in bulk", "batch by batch"])
def test_a_stopped_replay_leaves_nothing_half_built(container, never_projected, memory_budget):
    import threading

    schema = container.settings.db_schema
    stopping = threading.Event()
    stopping.set()  # as a runner's stop() would, while the build goes on
    with pytest.raises(ReplayStopped):
        replay(container.database_url, schema, progress=False, memory_budget=memory_budget, stopping=stopping)
    with connect(container.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s",
                            (f"{schema}\\_\\_%",)).fetchone()[0] == 0
    assert container.read_model.positions() == {"profile": 0, "activity": 0, "segments": 0}
