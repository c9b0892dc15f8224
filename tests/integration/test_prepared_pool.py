"""``PreparedPool``, the hot reads' connections: values read as through a cursor, never
more connections than its size, and a connection that failed or was abandoned half-way
is replaced rather than reused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from projections.prepared_pool import PreparedPool
from projections.read_model import parse_json_fast


def _pool(database_url: str, size: int = 2) -> PreparedPool:
    name = f"prepared-pool-{uuid.uuid4().hex[:8]}"

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await conn.execute("SET TIME ZONE 'UTC'")
        await conn.execute(f"SET application_name = '{name}'")
        parse_json_fast(conn)

    pool = PreparedPool(database_url, size, configure)
    pool.application_name = name  # type: ignore[attr-defined]
    return pool


def _sessions(database_url: str, name: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))]


def test_values_read_as_through_a_cursor(database_url):
    async def run() -> list[tuple]:
        pool = _pool(database_url)
        await pool.open()
        try:
            statement = ("SELECT %s::jsonb, %s::timestamptz, %s::uuid, %s::text, %s::bigint, "
                         "%s::text = ANY(%s), NULL::text")
            params = ('{"big": 1e30, "n": [1, 2.5, true]}', datetime(2026, 11, 1, 10, tzinfo=UTC),
                      uuid.UUID(int=7), 'quote " and \\ back', 2**62, 'a"b', ["x", 'a"b'])
            return [await pool.query(statement, params) for _ in range(2)]  # prepared once, run twice
        finally:
            await pool.close()

    first, again = asyncio.run(run())
    assert first == again == [({"big": 1e30, "n": [1, 2.5, True]}, datetime(2026, 11, 1, 10, tzinfo=UTC),
                                uuid.UUID(int=7), 'quote " and \\ back', 2**62, True, None)]


def test_more_readers_than_connections_wait_their_turn(database_url):
    pool = _pool(database_url, size=2)
    seen: list[int] = []

    async def run() -> list:
        await pool.open()
        try:
            async def one(n: int) -> int:
                rows = await pool.query("SELECT %s::int FROM pg_sleep(0.05)", (n,))
                seen.append(len(_sessions(database_url, pool.application_name)))
                return rows[0][0]

            return await asyncio.gather(*(one(n) for n in range(10)))
        finally:
            await pool.close()

    assert asyncio.run(run()) == list(range(10))
    assert max(seen) == 2
    assert _sessions(database_url, pool.application_name) == []  # closed with the pool


def test_a_dropped_session_fails_one_read_and_is_replaced(database_url):
    pool = _pool(database_url, size=1)

    async def run() -> tuple:
        await pool.open()
        try:
            before = await pool.query("SELECT pg_backend_pid()", ())
            with psycopg.connect(database_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (before[0][0],))
            with pytest.raises(psycopg.OperationalError):
                await pool.query("SELECT pg_backend_pid()", ())
            after = await pool.query("SELECT pg_backend_pid()", ())
            return before[0][0], after[0][0]
        finally:
            await pool.close()

    before, after = asyncio.run(run())
    assert before != after


def test_a_failed_statement_or_a_cancelled_read_leaves_a_working_pool(database_url):
    pool = _pool(database_url, size=1)

    async def run() -> list:
        await pool.open()
        try:
            with pytest.raises(psycopg.OperationalError, match="no_such_table"):
                await pool.query("SELECT * FROM no_such_table WHERE id = %s", (1,))
            slow = asyncio.ensure_future(pool.query("SELECT pg_sleep(5)", ()))
            await asyncio.sleep(0.2)
            slow.cancel()  # the client went away mid-query: that connection is abandoned
            with pytest.raises(asyncio.CancelledError):
                await slow
            return await asyncio.wait_for(pool.query("SELECT %s::text", ("fine",)), timeout=2)
        finally:
            await pool.close()

    assert asyncio.run(run()) == [("fine",)]


def test_a_reader_cancelled_as_a_place_frees_up_passes_it_on(database_url):
    """A connection dropped while two readers wait hands its place to the first; if that
    one is cancelled before it runs (its client went away), the second must get it."""
    pool = _pool(database_url, size=1)

    async def run() -> list:
        await pool.open()
        try:
            held = await pool._acquire()  # noqa: SLF001 - the pool's one connection, busy
            first = asyncio.ensure_future(pool.query("SELECT 1", ()))
            second = asyncio.ensure_future(pool.query("SELECT 2", ()))
            await asyncio.sleep(0.05)  # both wait
            pool._discard(held)  # noqa: SLF001 - as when its query failed: the place goes to `first`
            first.cancel()  # … which is cancelled before it runs
            return await asyncio.wait_for(second, timeout=2)
        finally:
            await pool.close()

    assert asyncio.run(run()) == [(2,)]
