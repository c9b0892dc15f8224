"""``PreparedPool``, the hot reads' pipelined connections: values read as through a
cursor, never more connections than its size, every read its own answer however many
share a connection (a failing or cancelled one included), and a connection that failed
is replaced rather than reused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.integration.prepared_pools import named_pool, sessions


def test_values_read_as_through_a_cursor(database_url):
    async def run() -> list[tuple]:
        pool = named_pool(database_url)
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


def test_placeholders_read_as_psycopg_reads_them_and_a_misuse_fails_only_its_own_call(database_url):
    """``%%`` is a percent sign; a wrong number of parameters or an unknown placeholder is
    refused before anything is sent, the connection and its other reads untouched."""
    pool = named_pool(database_url, size=1)

    async def run() -> tuple:
        await pool.open()
        try:
            pid = await pool.query("SELECT pg_backend_pid()", ())
            like = await pool.query("SELECT %s::text LIKE 'a%%', '100%%' || %s::text", ("abc", "!"))
            with pytest.raises(psycopg.ProgrammingError, match="2 placeholders but 1 parameters"):
                await pool.query("SELECT %s::text LIKE 'a%%', '100%%' || %s::text", ("abc",))
            with pytest.raises(psycopg.ProgrammingError, match="'%d'"):
                await pool.query("SELECT %d", (1,))
            with pytest.raises(psycopg.ProgrammingError, match="at most 65535"):  # libpq would drop the connection
                await pool.query("SELECT " + ", ".join(["%s"] * 65536), [1] * 65536)
            return pid, like, await pool.query("SELECT pg_backend_pid()", ())
        finally:
            await pool.close()

    pid, like, still = asyncio.run(run())
    assert like == [(True, "100%!")]
    assert still == pid  # the same connection served on


def test_more_readers_than_connections_share_them(database_url):
    pool = named_pool(database_url, size=2)
    seen: list[int] = []

    async def run() -> list:
        await pool.open()
        try:
            async def one(n: int) -> int:
                rows = await pool.query("SELECT %s::int FROM pg_sleep(0.05)", (n,))
                seen.append(len(sessions(database_url, pool.application_name)))
                return rows[0][0]

            return await asyncio.gather(*(one(n) for n in range(10)))
        finally:
            await pool.close()

    assert asyncio.run(run()) == list(range(10))
    assert max(seen) == 2
    assert sessions(database_url, pool.application_name) == []  # closed with the pool


def test_a_dropped_session_fails_one_read_and_is_replaced(database_url):
    pool = named_pool(database_url, size=1)

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


def test_a_failed_statement_or_a_cancelled_read_leaves_a_workingnamed_pool(database_url):
    pool = named_pool(database_url, size=1)

    async def run() -> list:
        await pool.open()
        try:
            with pytest.raises(psycopg.errors.UndefinedTable, match="no_such_table"):
                await pool.query("SELECT * FROM no_such_table WHERE id = %s", (1,))
            slow = asyncio.ensure_future(pool.query("SELECT 'slow' FROM pg_sleep(0.3)", ()))
            await asyncio.sleep(0.1)
            slow.cancel()  # the client went away mid-query: its answer is dropped when it comes
            with pytest.raises(asyncio.CancelledError):
                await slow
            return await asyncio.wait_for(pool.query("SELECT %s::text", ("fine",)), timeout=2)
        finally:
            await pool.close()

    assert asyncio.run(run()) == [("fine",)]


def test_reads_sharing_a_connection_each_get_their_own_answer(database_url):
    """Fifty reads in flight on one connection: a failing one and a cancelled one in the
    middle take nothing from their neighbours, and nothing is answered out of turn."""
    pool = named_pool(database_url, size=1)

    async def run() -> tuple[list, int]:
        await pool.open()
        try:
            reads = [asyncio.ensure_future(pool.query("SELECT 10 / %s::int", (n,))) for n in range(-25, 25)]
            await asyncio.sleep(0)  # all sent …
            reads[30].cancel()  # … and one given up before its answer came
            answers = await asyncio.gather(*reads, return_exceptions=True)
            return answers, len(sessions(database_url, pool.application_name))
        finally:
            await pool.close()

    answers, open_sessions = asyncio.run(run())
    assert open_sessions == 1
    for n, answer in zip(range(-25, 25), answers, strict=True):
        if n == 0:
            assert isinstance(answer, psycopg.errors.DivisionByZero), answer
        elif n == 5:  # reads[30]
            assert isinstance(answer, asyncio.CancelledError)
        else:
            assert answer == [(int(10 / n),)], n
