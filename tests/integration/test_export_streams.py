"""Exports stream in constant memory: a contact's complete feed and the analysts' log."""

from __future__ import annotations

import io
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import psycopg

from domain.meta import Meta
from projections import export
from projections.runner import ProjectionRunner

ROWS = 30_000


def _peak(consume) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = consume()
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_complete_feed_of_a_long_history_streams_in_constant_memory(container):
    runner = ProjectionRunner(container.database_url, container.settings.db_schema)
    runner.ensure_tables()
    contact, _ = container.app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    runner.catch_up()
    schema = container.settings.db_schema
    with psycopg.connect(container.database_url, autocommit=True) as conn:  # a long history: 30 000 entries
        conn.execute(
            f'INSERT INTO "{schema}".activity_feed (id, domain, contact_id, occurred_at, position, type, name, '
            "summary, data) SELECT md5(n::text)::uuid, 'shop', %s, now() - n * interval '10 min', "
            "0, 'activity', 'pageViewed', 'pageViewed', jsonb_build_object('name', 'pageViewed', 'n', n) "
            "FROM generate_series(1, %s) n", (contact.id, ROWS))
    reads = container.read_model
    count, peak = _peak(lambda: sum(1 for _ in reads.export_activity("shop", contact.id)))
    assert count == ROWS + 1
    assert peak < 5_000_000, f"export held {peak} bytes"  # the whole history as dicts is > 25 MB
    recent, _ = reads.activity("shop", contact.id, limit=50)
    assert len(recent) == 50  # the 30-day page is an index range scan, whatever the history length


def test_event_log_export_filters_and_streams(container):
    app, schema = container.app, container.settings.db_schema
    old = datetime(2026, 1, 1, tzinfo=UTC)
    app.create_contact("shop", {"email": "ann@example.com"}, {"n": 1}, Meta(occurred_at=old))
    ann = app.create_contact("blog", {"email": "ann@example.com"}, {}, Meta(occurred_at=old + timedelta(days=10)))[0]
    app.set_variables("blog", ann.id, {"n": 2}, Meta(occurred_at=old + timedelta(days=20)))
    lines = [orjson.loads(x) for x in _export(container, domain="blog").splitlines()]
    assert {x["domain"] for x in lines} == {"blog"}
    assert [x["type"] for x in lines if x["id"] == str(ann.id)] == ["Contact.Created", "Contact.VariablesChanged"]
    windowed = [orjson.loads(x) for x in _export(container, since=old + timedelta(days=5),
                                                 until=old + timedelta(days=15)).splitlines()]
    assert windowed and all(x["occurredAt"].startswith("2026-01-11") for x in windowed)

    with psycopg.connect(container.database_url, autocommit=True) as conn:  # a long log of activities
        conn.execute(
            f'INSERT INTO "{schema}".profiles_events (originator_id, originator_version, topic, state) '
            "SELECT md5(n::text)::uuid, 1, 'domain.activity:Activity.Recorded', convert_to(jsonb_build_object("
            "'timestamp', jsonb_build_object('_type_', 'datetime_iso', '_data_', '2026-02-01T00:00:00+00:00'), "
            "'domain', 'shop', 'method', 'kafka', 'actor', 'kafka', 'name', 'pageViewed', "
            "'contact_id', jsonb_build_object('_type_', 'uuid_hex', '_data_', %s::text), "
            "'properties', jsonb_build_object('n', n))::text, 'UTF8') FROM generate_series(1, %s) n",
            (uuid.uuid4().hex, ROWS // 2))

    def consume() -> int:
        return sum(1 for _ in export.events(container.database_url, schema, domain="shop"))

    count, peak = _peak(consume)
    assert count == ROWS // 2 + 2  # + the shop contact and its email claim
    assert peak < 5_000_000, f"export held {peak} bytes"


def _export(container, **filters) -> bytes:
    out = io.BytesIO()
    export.write(container.database_url, container.settings.db_schema, out, show_progress=False, **filters)
    return out.getvalue()


def test_export_events_verb_writes_ndjson(container, monkeypatch, tmp_path, capsys):
    from profiles import cli

    container.app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    container.app.create_contact("blog", {"email": "bob@example.com"}, {}, Meta())
    monkeypatch.setenv("DATABASE_URL", container.database_url)
    monkeypatch.setenv("PROFILES_DB_SCHEMA", container.settings.db_schema)
    out = tmp_path / "events.ndjson"
    assert cli.main(["export-events", "--domain", "blog", "--output", str(out)]) == 0
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert [x["type"] for x in lines] == ["Contact.Created", "IdentifierClaim.Claimed"]
    assert "exported 2 events" in capsys.readouterr().err


def test_export_reads_events_stored_before_ingest_refused_them(container):
    """A NUL escape and a year-0 instant (0001-01-01T00:30+01:00) are refused on the way in
    now; stores written before keep them, and the analysts' export must still read the
    whole log, as the projections do (``projections.events.decode``)."""
    schema = container.settings.db_schema
    contact = uuid.uuid4().hex
    with psycopg.connect(container.database_url, autocommit=True) as conn:
        for n, (at, name) in enumerate([("2026-02-01T00:00:00+00:00", "page\x00Viewed"),  # stored as the escape \u0000
                                        ("0001-01-01T00:30:00+01:00", "signedUp")], start=1):
            state = orjson.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": at}, "domain": "shop",
                                  "method": "kafka", "actor": "kafka", "name": name,
                                  "contact_id": {"_type_": "uuid_hex", "_data_": contact}, "properties": {}})
            conn.execute(f'INSERT INTO "{schema}".profiles_events (originator_id, originator_version, topic, state) '
                         "VALUES (md5(%s)::uuid, 1, 'domain.activity:Activity.Recorded', %s)", (str(n), state))

    lines = [orjson.loads(x) for x in _export(container, domain="shop").splitlines()]
    assert [(x["data"]["name"], x["occurredAt"]) for x in lines] == [
        ("page\ufffdViewed", "2026-02-01T00:00:00+00:00"), ("signedUp", "0001-01-01T00:30:00+01:00")]
    since = [orjson.loads(x)["data"]["name"] for x in _export(
        container, since=datetime(2026, 1, 1, tzinfo=UTC)).splitlines()]
    assert since == ["page\ufffdViewed"]
    until = [orjson.loads(x)["data"]["name"] for x in _export(
        container, until=datetime(2026, 1, 1, tzinfo=UTC)).splitlines()]
    assert until == ["signedUp"]
