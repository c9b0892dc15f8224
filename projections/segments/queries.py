"""Segment reads: definitions with member counts, and membership both ways."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

from projections.cursors import decode, encode, iso

Page = tuple[list[dict[str, Any]], str | None]
_SEGMENT = "id, name, conditions, members, created_at, updated_at, domain"


def _segment(r: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": str(r[0]), "name": r[1], "conditions": r[2], "members": int(r[3]), "createdAt": iso(r[4]),
            "updatedAt": iso(r[5]), "domain": r[6]}


def segments(conn: Connection[Any], view: str, domain: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {_SEGMENT} FROM {view}.segment_definitions WHERE domain = %s "
                        "ORDER BY created_at, id", (domain,)).fetchall()
    return [_segment(r) for r in rows]


def segment(conn: Connection[Any], view: str, domain: str, segment_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_SEGMENT} FROM {view}.segment_definitions WHERE domain = %s AND id = %s",
                       (domain, segment_id)).fetchone()
    return _segment(row) if row else None


def members(conn: Connection[Any], view: str, domain: str, segment_id: UUID, *, limit: int,
            cursor: str | None) -> Page:
    limit = max(1, min(limit, 1000))
    after = decode(cursor, UUID)[0] if cursor else UUID(int=0)
    rows = conn.execute(
        f"SELECT m.contact_id, p.email, p.phone, p.user_id, m.since FROM {view}.segment_members m "
        f"JOIN {view}.profile_contacts p ON p.id = m.contact_id "
        "WHERE m.segment_id = %s AND m.domain = %s AND m.contact_id > %s::uuid ORDER BY m.contact_id LIMIT %s",
        (segment_id, domain, after, limit + 1)).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"id": str(r[0]), "email": r[1], "phoneNumber": r[2], "userId": r[3], "since": iso(r[4])} for r in rows]
    return items, (encode(rows[-1][0]) if more else None)


def contact_segments(conn: Connection[Any], view: str, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT d.id, d.name, m.since FROM {view}.segment_members m JOIN {view}.segment_definitions d "
        "ON d.id = m.segment_id WHERE m.contact_id = %s AND m.domain = %s ORDER BY m.since, d.name",
        (contact_id, domain)).fetchall()
    return [{"id": str(r[0]), "name": r[1], "since": iso(r[2])} for r in rows]
