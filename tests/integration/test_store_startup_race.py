"""Processes that start together on a new database (the consumers of one group, the
scaled deployment) all come up: creating the tables is safe to race."""

from __future__ import annotations

import threading

from profiles.bootstrap import PostgresContactProfiles
from profiles.database import eventsourcing_env


def test_applications_started_at_once_on_a_new_schema_all_come_up(database_url, schema):
    env = eventsourcing_env(database_url, schema, 2)
    starters = 6
    gate = threading.Barrier(starters)
    failures: list[BaseException] = []
    apps: list[PostgresContactProfiles] = []

    def start() -> None:
        gate.wait()
        try:
            apps.append(PostgresContactProfiles(env))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion
            failures.append(e)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert failures == []
        assert len(apps) == starters
        assert apps[0].recorder.max_notification_id() in (None, 0)
    finally:
        for app in apps:
            app.close()
