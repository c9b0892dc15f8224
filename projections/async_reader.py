"""``AsyncProfileReader``: the hottest profile reads (one contact, search by identifier)
and the ``?minPosition=`` wait, on asyncio connections (``projections.prepared_pool``).

Why a second reader: a sync read from an ``async`` API costs a hop to the threadpool per
request, which was most of a profile read's time under load (bench B4). The statements
are ``projections.profile.queries``' and ``projections.read_model``'s, so the two readers
cannot drift apart. Build it with ``PostgresReadModel.async_twin()``; ``open()`` and
``close()`` it on the event loop that will use it (the API's lifespan), never at import.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql

from projections import schema as tables
from projections.prepared_pool import PreparedPool
from projections.profile import queries as profile
from projections.read_model import FIRST_WAIT, LONGEST_WAIT, SESSION_SETUP, head_sql, parse_json_fast, reached_sql
from projections.reader import Page


async def _configure(conn: AsyncConnection[Any]) -> None:
    await conn.execute(SESSION_SETUP)
    parse_json_fast(conn)


class AsyncProfileReader:
    """``contact``, ``find_contacts``, ``head`` and ``wait_for`` of ``reader.ReadModel``,
    awaitable. Reopenable: each ``open()`` starts a fresh pool (a test client may run the
    app's lifespan more than once)."""

    # Pipelined connections serve any number of concurrent reads, so more of them than the
    # database has cores only adds backends that compete for those cores (bench B4 at 32
    # clients, 200 000 contacts: 10 566 req/s with 8, 12 151 with 2, 12 507 with 1); two
    # let the other keep answering while one is held up by a slow read.
    PIPELINES = 2

    def __init__(self, database_url: str, schema: str, *, pool_size: int = PIPELINES) -> None:
        self.database_url = database_url
        self.pool_size = pool_size
        self.view = self.events = sql.Identifier(schema).as_string(None)
        self._pool: PreparedPool | None = None

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def open(self) -> None:
        pool = PreparedPool(self.database_url, self.pool_size, _configure)
        await pool.open()
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._pool is None:
            raise RuntimeError("AsyncProfileReader used before open()")
        return await self._pool.query(statement, params)

    # -- positions ------------------------------------------------------------------

    async def head(self) -> int:
        rows = await self._query(head_sql(self.events))
        return int(rows[0][0] or 0) if rows else 0

    async def wait_for(self, position: int, projections: tuple[str, ...] = (), timeout: float = 5.0) -> bool:
        """As ``PostgresReadModel.wait_for``, sleeping on the event loop between looks."""
        names = list(projections or tables.PROJECTIONS)
        deadline = time.monotonic() + timeout
        pause = FIRST_WAIT
        while True:
            rows = await self._query(reached_sql(self.view), (names,))  # a connection for the look only
            if rows and int(rows[0][0]) >= position:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_WAIT)

    # -- profile --------------------------------------------------------------------

    async def contact(self, domain: str, contact_id: UUID) -> dict[str, Any] | None:
        rows = await self._query(*profile.contact_query(self.view, domain, contact_id))
        return rows[0][0] if rows else None

    async def find_contacts(self, domain: str, *, email: str | None = None, phone: str | None = None,
                            user_id: str | None = None, limit: int = 50, cursor: str | None = None) -> Page:
        query = profile.find_contacts_query(self.view, domain, email=email, phone=phone, user_id=user_id,
                                            limit=limit, cursor=cursor)
        if query is None:
            return [], None
        statement, params, limit = query
        return profile.contacts_page(await self._query(statement, params), limit)
