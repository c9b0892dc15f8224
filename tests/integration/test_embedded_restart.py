"""The embedded path (no DATABASE_URL): start → create → read → stop → restart → read."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import psycopg
import pytest

from domain import errors
from domain.meta import Meta
from profiles.bootstrap import build
from profiles.settings import Settings

AT = Meta(method="api", actor="tester", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def stop(container) -> None:
    container.close()
    container.server.cleanup()


def test_embedded_server_keeps_data_across_a_restart(tmp_path):
    settings = Settings(DATABASE_URL=None, PROFILES_DATA_DIR=tmp_path, KAFKA_BOOTSTRAP_SERVERS=None,
                        PROFILES_API_KEYS=None)
    first = build(settings)
    try:
        assert first.server is not None
        ann, _ = first.app.create_contact("shop", {"email": "ann@example.com", "firstName": "Ann"}, {}, AT)
        assert first.app.contact("shop", ann.id).info == {"firstName": "Ann"}
        first_url = first.database_url
    finally:
        stop(first)
    assert not (tmp_path / "pg" / "postmaster.pid").exists()  # really stopped
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first_url, connect_timeout=2).close()

    second = build(settings)
    try:
        contact = second.app.contact("shop", ann.id)
        assert (contact.identifiers, contact.info) == ({"email": "ann@example.com"}, {"firstName": "Ann"})
        with pytest.raises(errors.IdentifierTaken):
            second.app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    finally:
        stop(second)


def test_starting_the_embedded_server_says_so_in_one_line(tmp_path):
    """What a newcomer's ``make run`` shows first: the service's own line, not the
    library's initdb and pg_ctl output (fifty lines at INFO) nor its warning about
    XDG_RUNTIME_DIR, which servers and containers lack."""
    script = ("import sys; from pathlib import Path; from profiles import logs; logs.configure(); "
              "from profiles.database import resolve_url; "
              "url, server = resolve_url(None, Path(sys.argv[1])); server.cleanup()")
    env = {name: value for name, value in os.environ.items() if name != "XDG_RUNTIME_DIR"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].endswith(f"INFO profiles.database embedded PostgreSQL started data_dir={tmp_path / 'pg'}")
