"""``PostgresReadModel``: the ``projections.reader.ReadModel`` contract over the
projection tables, with its own small connection pool."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from psycopg import Connection, sql
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from projections import schema as tables
from projections.activity import queries as activity
from projections.profile import queries as profile
from projections.reader import Page
from projections.segments import queries as segments

if TYPE_CHECKING:
    from projections.async_reader import AsyncProfileReader


def _configure(conn: Connection[Any]) -> None:
    conn.execute(SESSION_SETUP)
    parse_json_fast(conn)


def parse_json_fast(conn: Any) -> None:
    """Documents come back parsed by orjson, for the projections and the API alike:
    several times faster than the standard library; and a float such as 1e30, which
    jsonb prints as a 31-digit integer, comes back a float. The standard library made it
    an int no JSON encoder here can write: that profile answered 500. (Integers are
    refused past 64 bits when written, so none is lost.)"""
    set_json_loads(orjson.loads, conn)


# Shared with ``projections.async_reader``, which makes the hottest reads on asyncio.
SESSION_SETUP = "SET TIME ZONE 'UTC'"
FIRST_WAIT, LONGEST_WAIT = 0.002, 0.05  # the ?minPosition= poll backs off between these


def head_sql(events: str) -> str:
    return f"SELECT max(notification_id) FROM {events}.profiles_events"


def reached_sql(view: str) -> str:
    """The lowest position among the named projections (parameter: their names)."""
    return f"SELECT coalesce(min(position), 0) FROM {view}.projection_tracking WHERE name = ANY(%s)"


class PostgresReadModel:
    """Reads what the projections built in ``schema`` (the event store's schema).

    ``PostgresReadModel(database_url, schema, pool_size=8)``; ``close()`` when done.
    Creates the projection tables if they are missing, so reads work before the first
    runner has started (they answer empty).
    """

    def __init__(self, database_url: str, schema: str, *, pool_size: int = 8) -> None:
        self.database_url, self.schema = database_url, schema
        self.pool = ConnectionPool(database_url, min_size=1, max_size=pool_size, open=True,
                                   kwargs={"autocommit": True}, configure=_configure, name="read-model")
        self.view = self.events = sql.Identifier(schema).as_string(None)
        with self.pool.connection() as conn:
            tables.create(conn, schema, schema)

    def close(self) -> None:
        self.pool.close()

    def async_twin(self) -> AsyncProfileReader:
        """The same profile reads on asyncio, over the same database and schema; its pool
        is opened and closed by whoever runs the event loop (the API's lifespan)."""
        from projections.async_reader import AsyncProfileReader

        return AsyncProfileReader(self.database_url, self.schema)

    # -- positions ------------------------------------------------------------------

    def head(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(head_sql(self.events)).fetchone()
        return int(row[0] or 0) if row else 0

    def positions(self) -> dict[str, int]:
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT name, position FROM {self.view}.projection_tracking").fetchall()
        found = {name: int(position) for name, position in rows}
        return {name: found.get(name, 0) for name in tables.PROJECTIONS}

    def wait_for(self, position: int, projections: tuple[str, ...] = (), timeout: float = 5.0) -> bool:
        names = list(projections or tables.PROJECTIONS)
        deadline = time.monotonic() + timeout
        pause = FIRST_WAIT
        while True:
            # A connection only for the look, not for the sleep: many waiting requests
            # must not starve the pool.
            with self.pool.connection() as conn:
                row = conn.execute(reached_sql(self.view), (names,)).fetchone()
            if row and int(row[0]) >= position:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_WAIT)

    # -- profile --------------------------------------------------------------------

    def domains(self, allowed: set[str] | None) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return profile.domains(conn, self.view, allowed)

    def contact(self, domain: str, contact_id: UUID) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return profile.contact(conn, self.view, domain, contact_id)

    def find_contacts(self, domain: str, *, email: str | None = None, phone: str | None = None,
                      user_id: str | None = None, limit: int = 50, cursor: str | None = None) -> Page:
        with self.pool.connection() as conn:
            return profile.find_contacts(conn, self.view, domain, email=email, phone=phone, user_id=user_id,
                                         limit=limit, cursor=cursor)

    def subscription_history(self, domain: str, contact_id: UUID, channel: str) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return profile.subscription_history(conn, self.view, domain, contact_id, channel)

    def notes(self, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return profile.notes(conn, self.view, self.events, domain, contact_id)

    def templates(self, domain: str) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return profile.templates(conn, self.view, domain)

    def template(self, domain: str, template_id: UUID) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return profile.template(conn, self.view, domain, template_id)

    # -- activity -------------------------------------------------------------------

    def activity(self, domain: str, contact_id: UUID, *, days: int = 30, types: list[str] | None = None,
                 limit: int = 50, cursor: str | None = None) -> Page:
        with self.pool.connection() as conn:
            return activity.page(conn, self.view, domain, contact_id, days=days, types=types, limit=limit,
                                 cursor=cursor)

    def activity_entry(self, domain: str, contact_id: UUID, activity_id: str) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return activity.entry(conn, self.view, domain, contact_id, activity_id)

    def export_activity(self, domain: str, contact_id: UUID) -> Iterator[dict[str, Any]]:
        with self.pool.connection() as conn:
            yield from activity.export(conn, self.view, domain, contact_id)

    # -- segments -------------------------------------------------------------------

    def segments(self, domain: str) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return segments.segments(conn, self.view, domain)

    def segment(self, domain: str, segment_id: UUID) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return segments.segment(conn, self.view, domain, segment_id)

    def segment_members(self, domain: str, segment_id: UUID, *, limit: int = 50,
                        cursor: str | None = None) -> Page:
        with self.pool.connection() as conn:
            return segments.members(conn, self.view, domain, segment_id, limit=limit, cursor=cursor)

    def contact_segments(self, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return segments.contact_segments(conn, self.view, domain, contact_id)
