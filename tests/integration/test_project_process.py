"""``profiles project`` is the read side's process beside ``serve --api-only`` (README,
Scaling): it projects what the API writes and keeps the clock ticking."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from domain.meta import Meta
from tests.integration.conftest import wait_for


def test_the_project_process_projects_and_ticks_the_clock(container, tmp_path):
    settings = container.settings
    ann, _ = container.app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PROFILES_DB_SCHEMA": settings.db_schema,
           "KAFKA_BOOTSTRAP_SERVERS": ""}
    with open(tmp_path / "project.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "profiles.cli", "project"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: container.read_model.contact("shop", ann.id) is not None, timeout=60,
                 message="the contact in the profile projection")

        def ticks() -> int:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute(f'SELECT count(*) FROM "{settings.db_schema}".profiles_events '
                                    "WHERE topic LIKE 'domain.clock:%%'").fetchone()[0]

        wait_for(lambda: ticks() >= 1, timeout=30, message="a clock event recorded by the project process")
    finally:
        process.terminate()
        process.wait(timeout=30)
