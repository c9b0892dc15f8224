"""A ``PreparedPool`` whose sessions can be told apart on the server, for the pool's tests."""

from __future__ import annotations

import uuid

import psycopg

from projections.prepared_pool import PreparedPool
from projections.read_model import parse_json_fast


def named_pool(database_url: str, size: int = 2) -> PreparedPool:
    """A pool configured as the API's, each session named ``pool.application_name``."""
    name = f"prepared-pool-{uuid.uuid4().hex[:8]}"

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await conn.execute("SET TIME ZONE 'UTC'")
        await conn.execute(f"SET application_name = '{name}'")
        parse_json_fast(conn)

    pool = PreparedPool(database_url, size, configure)
    pool.application_name = name  # type: ignore[attr-defined]
    return pool


def sessions(database_url: str, name: str) -> list[int]:
    """The backend pids of the sessions named ``name``."""
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))]
