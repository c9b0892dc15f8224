"""Shared fixtures. Each test owns its data: its own PostgreSQL schema or in-memory app."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from domain.application import ContactProfiles


@pytest.fixture
def memory_app() -> Iterator[ContactProfiles]:
    app = ContactProfiles(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``DATABASE_URL`` when given (CI: the machine's PostgreSQL over TCP), else an
    embedded server for the session."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from profiles.database import resolve_url

    url, server = resolve_url(None, tmp_path_factory.mktemp("embedded"))
    yield url
    server.cleanup()


@contextmanager
def fresh_schema(database_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema for one test (or module), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def pg_dump(database_url: str, schema: str) -> bytes:
    """``pg_dump`` of one schema, by a pg_dump at least as new as the server (it refuses
    an older one): the embedded server's own for the embedded PostgreSQL 18, else the
    machine's for the machine's server."""
    with psycopg.connect(database_url) as conn:
        server_major = conn.info.server_version // 10000
    candidates = [Path(p) / "pg_dump" for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), reverse=True)
    try:
        from profiles.database import embedded_package

        bundled = Path(embedded_package().__file__).parent
        candidates[:0] = sorted(bundled.glob("pginstall*/bin/pg_dump"), reverse=True)
    except ImportError:
        pass
    for binary in candidates:
        if binary.is_file() and _major(binary) >= server_major:
            done = subprocess.run([str(binary), "--no-owner", "-n", schema, "--dbname", database_url],
                                  capture_output=True, check=True, timeout=60)
            return done.stdout
    raise FileNotFoundError(f"no pg_dump for PostgreSQL {server_major} on this machine")


def _major(binary: Path) -> int:
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout
    return int(version.split()[-1].split(".")[0])


@pytest.fixture
def schema(database_url: str) -> Iterator[str]:
    with fresh_schema(database_url) as name:
        yield name


@pytest.fixture
def settings(database_url: str, schema: str, tmp_path: Path):
    from profiles.settings import Settings

    return Settings(DATABASE_URL=database_url, PROFILES_DB_SCHEMA=schema, PROFILES_DATA_DIR=tmp_path,
                    KAFKA_BOOTSTRAP_SERVERS=None, PROFILES_API_KEYS=None)


@pytest.fixture
def container(settings):
    from profiles.bootstrap import build

    built = build(settings)
    yield built
    built.close()
