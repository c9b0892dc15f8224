"""A contact with a long history loads from a snapshot, on both load paths."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from domain.ingest import parse
from domain.meta import Meta
from profiles.bootstrap import PostgresContactProfiles


def test_a_long_history_loads_from_its_latest_snapshot(container):
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    for n in range(450):
        app.set_variables("shop", ann.id, {"visits": n}, Meta())
    schema = container.settings.db_schema
    with psycopg.connect(container.database_url) as conn:
        snapshots = conn.execute(f'SELECT originator_version FROM "{schema}".profiles_snapshots '
                                 "WHERE originator_id = %s ORDER BY 1", (ann.id,)).fetchall()
    assert [v for (v,) in snapshots] == [200, 400]

    # A fresh process (cold cache): the single-command path and the batch prefetch path
    # both rebuild the contact from snapshot 400 plus the events after it.
    for path in ("command", "batch"):
        cold = PostgresContactProfiles(container.env)
        try:
            if path == "command":
                contact, _ = cold.set_variables("shop", ann.id, {"path": path}, Meta())
            else:
                envelope = parse({"eventId": "e-1", "domain": "shop", "type": "contact.variables_set",
                                  "occurredAt": datetime.now(tz=UTC).isoformat(),
                                  "contact": {"email": "ann@example.com"}, "data": {"variables": {"path": path}}})
                result = cold.ingest([envelope], lambda e: Meta(method="kafka", actor="kafka"))
                assert result.results == [ann.id]
                contact = cold.contact("shop", ann.id)
            assert contact.variables == {"visits": 449, "path": path}
        finally:
            cold.close()
    assert contact.version == 453


def test_a_batch_crossing_an_interval_snapshots_the_state_it_saved(container):
    """The snapshot is taken from the contact in memory at the batch's last version (not
    reloaded at the interval's): a cold load from it equals the contact as saved."""
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    at = datetime.now(tz=UTC).isoformat()
    envelopes = [parse({"eventId": f"v-{n}", "domain": "shop", "type": "contact.variables_set", "occurredAt": at,
                        "contact": {"email": "ann@example.com"}, "data": {"variables": {"visits": n}}})
                 for n in range(250)]
    app.ingest(envelopes, lambda e: Meta(method="kafka", actor="kafka"))
    schema = container.settings.db_schema
    with psycopg.connect(container.database_url) as conn:
        snapshots = conn.execute(f'SELECT originator_version FROM "{schema}".profiles_snapshots '
                                 "WHERE originator_id = %s", (ann.id,)).fetchall()
    assert snapshots == [(251,)]
    cold = PostgresContactProfiles(container.env)
    try:
        contact = cold.contact("shop", ann.id)
        assert (contact.version, contact.variables) == (251, {"visits": 249})
        contact, _ = cold.set_variables("shop", ann.id, {"after": True}, Meta())
        assert (contact.version, contact.variables) == (252, {"visits": 249, "after": True})
    finally:
        cold.close()
