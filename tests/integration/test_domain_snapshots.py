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
