"""``PreparedPool``: a few connections that run the hottest reads' statements, prepared,
through psycopg's libpq layer (``psycopg.pq``) directly.

Why: a profile read is one indexed row, and psycopg's pool and cursor machinery around it
cost more CPU than the rest of the request (bench B4: 75 µs of the server's ~130 µs per
read; driven directly, 34 µs). On one event loop serving many clients that CPU is the
latency. The connections are still ``psycopg.AsyncConnection``s (connected, configured
and closed by psycopg), and rows are loaded by psycopg's own ``Transformer`` with the
connection's loaders, so a value reads exactly as through a cursor; only the cursor's
send/receive machinery is skipped.

A connection that fails, or whose request is cancelled mid-query, is closed and replaced
on a later request: its protocol state is unknown. Every failure is raised as
``psycopg.OperationalError``, which the API answers from its ordinary routes (503
``database_unavailable`` when the database is really away).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer

Configure = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]
_PLACEHOLDER = re.compile(r"%s")


class PreparedPool:
    """Up to ``size`` connections, opened as needed (``configure`` runs on each new one).
    ``query(sql, params)`` runs a psycopg-style statement (``%s`` placeholders; values
    sent as text) prepared on each connection the first time, and returns its rows as
    tuples of Python values."""

    def __init__(self, url: str, size: int, configure: Configure) -> None:
        self.url = url
        self.size = size
        self.configure = configure
        self._idle: list[_Connection] = []
        self._count = 0  # idle, busy and being opened
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self._closed = False

    async def open(self) -> None:
        """Open one connection now, so a database that does not answer shows at start."""
        self._release(await self._acquire())

    async def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        conn = await self._acquire()
        try:
            rows = await conn.query(sql, params)
        except BaseException:
            self._discard(conn)
            raise
        self._release(conn)
        return rows

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(psycopg.OperationalError("the pool is closed"))

    async def _acquire(self) -> _Connection:
        if self._closed:
            raise psycopg.OperationalError("the pool is closed")
        if self._idle:
            return self._idle.pop()
        if self._count >= self.size:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                # Handed something just before the cancel: a connection, or a free place.
                # Pass it on, or the next waiter would wait for a release that never comes.
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    handed = waiter.result()
                    if handed is None:
                        self._hand_on(None)
                    else:
                        self._release(handed)
                raise
            if handed is not None:
                return handed
        # A free place (or the one a discarded connection left): open a connection in it.
        self._count += 1
        try:
            return await _Connection.open(self.url, self.configure)
        except BaseException:
            self._count -= 1
            self._hand_on(None)
            raise

    def _release(self, conn: _Connection) -> None:
        if self._closed:
            self._discard(conn)
        elif not self._hand_on(conn):
            self._idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.abandon()
        self._count -= 1
        self._hand_on(None)  # a waiter may open one in its place

    def _hand_on(self, conn: _Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)  # None: the waiter opens one in the freed place
                return True
        return False


class _Connection:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.pgconn: pq.abc.PGconn = conn.pgconn
        self.rows = Transformer(conn)
        self.prepared: dict[str, bytes] = {}  # statement → its name on this connection

    @classmethod
    async def open(cls, url: str, configure: Configure) -> _Connection:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        try:
            await configure(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        pgconn = self.pgconn
        name = self.prepared.get(sql)
        if name is None:
            name = f"hot{len(self.prepared)}".encode()
            numbered = iter(range(1, len(params) + 1))
            pgconn.send_prepare(name, _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql).encode())
            await self._wait()
            self._result()
            self.prepared[sql] = name
        pgconn.send_query_prepared(name, [_text(p) for p in params])
        await self._wait()
        result = self._result()
        self.rows.set_pgresult(result)
        return self.rows.load_rows(0, result.ntuples, tuple)  # type: ignore[no-any-return]

    async def _wait(self) -> None:
        """Until the whole request is sent and its answer is in (libpq is non-blocking)."""
        pgconn, loop = self.pgconn, asyncio.get_running_loop()
        while pgconn.flush():
            await _ready(loop.add_writer, loop.remove_writer, pgconn.socket)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                return
            await _ready(loop.add_reader, loop.remove_reader, pgconn.socket)

    def _result(self) -> pq.abc.PGresult:
        answer, error = None, None
        while (result := self.pgconn.get_result()) is not None:
            if result.status == pq.ExecStatus.FATAL_ERROR:
                error = result.get_error_message()
            answer = answer or result
        if error is not None or answer is None:
            raise psycopg.OperationalError(error or "no result")
        return answer

    def abandon(self) -> None:
        """Close at once, whatever the protocol state (a request may be half-way)."""
        self.pgconn.finish()

    async def close(self) -> None:
        await self.conn.close()


async def _ready(add: Any, remove: Any, fd: int) -> None:
    ready = asyncio.get_running_loop().create_future()
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text form (the server casts it to the column's type)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):  # an array, for ``= ANY($1)``
        quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value)
        return ("{" + ",".join(f'"{v}"' for v in quoted) + "}").encode()
    return str(value).encode()
