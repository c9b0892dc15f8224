"""Reads of the profile tables, in the shapes of DESIGN §4."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

from domain import errors, values
from domain.vault import unseal
from projections.cursors import decode, encode, instant, iso

Page = tuple[list[dict[str, Any]], str | None]


def domains(conn: Connection[Any], view: str, allowed: set[str] | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT d, coalesce(sum(n), 0)::bigint FROM ("
        f"SELECT domain AS d, contacts AS n FROM {view}.profile_domains "
        f"UNION ALL SELECT DISTINCT domain, 0 FROM {view}.profile_templates "
        f"UNION ALL SELECT DISTINCT domain, 0 FROM {view}.segment_definitions) x GROUP BY d ORDER BY d").fetchall()
    return [{"domain": d, "contacts": int(n)} for d, n in rows if allowed is None or d in allowed]


# The two hottest reads are also made by ``projections.async_reader`` on an asyncio
# connection: the statement builders below serve both, so there is one SQL for each.


def contact_query(view: str, domain: str, contact_id: UUID) -> tuple[str, tuple[Any, ...]]:
    return f"SELECT doc FROM {view}.profile_contacts WHERE id = %s AND domain = %s", (contact_id, domain)


def contact(conn: Connection[Any], view: str, domain: str, contact_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(*contact_query(view, domain, contact_id)).fetchone()
    return row[0] if row else None


def find_contacts_query(view: str, domain: str, *, email: str | None, phone: str | None, user_id: str | None,
                        limit: int, cursor: str | None) -> tuple[str, tuple[Any, ...], int] | None:
    """(statement, parameters, limit), or None when nothing can match."""
    where, params = ["domain = %s"], [domain]
    try:
        for column, kind, value in (("email", "email", email), ("phone", "phoneNumber", phone),
                                    ("user_id", "userId", user_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(values.identifier(kind, value))
    except errors.InvalidInput:
        return None  # a value that cannot be an identifier matches no contact
    if cursor:
        at, cid = decode(cursor, instant, UUID)
        where.append("(created_at, id) > (%s::timestamptz, %s::uuid)")
        params += [at, cid]
    limit = max(1, min(limit, 1000))
    statement = (f"SELECT doc, created_at, id FROM {view}.profile_contacts WHERE {' AND '.join(where)} "
                 f"ORDER BY created_at, id LIMIT %s")
    return statement, (*params, limit + 1), limit


def contacts_page(rows: list[Any], limit: int) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return [r[0] for r in rows], (encode(iso(rows[-1][1]), rows[-1][2]) if more else None)


def find_contacts(conn: Connection[Any], view: str, domain: str, *, email: str | None, phone: str | None,
                  user_id: str | None, limit: int, cursor: str | None) -> Page:
    query = find_contacts_query(view, domain, email=email, phone=phone, user_id=user_id, limit=limit, cursor=cursor)
    if query is None:
        return [], None
    statement, params, limit = query
    return contacts_page(conn.execute(statement, params).fetchall(), limit)


def subscription_history(conn: Connection[Any], view: str, domain: str, contact_id: UUID,
                         channel: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT channel, status, previous_status, address, reason, method, actor, occurred_at "
        f"FROM {view}.profile_consents WHERE contact_id = %s AND domain = %s AND channel = %s ORDER BY position",
        (contact_id, domain, channel)).fetchall()
    return [{"channel": r[0], "status": r[1], "previousStatus": r[2], "address": r[3], "reason": r[4],
             "method": r[5], "actor": r[6], "occurredAt": iso(r[7])} for r in rows]


def notes(conn: Connection[Any], view: str, events: str, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
    # The pad comes from the vault's table: a note whose pad is shredded has no text left
    # and is not shown, even before the projection has applied its deletion.
    rows = conn.execute(
        f"SELECT n.note_id, n.author, n.created_at, n.sealed_text, p.pad FROM {view}.profile_notes n "
        f"JOIN {events}.profiles_note_pads p ON p.note_id = n.note_id "
        f"WHERE n.contact_id = %s AND n.domain = %s ORDER BY n.position DESC", (contact_id, domain)).fetchall()
    return [{"id": r[0], "text": unseal(bytes(r[4]), r[3]), "author": r[1], "createdAt": iso(r[2])} for r in rows]


_TEMPLATE = "id, channel, name, subject, body, bodies, status, created_at, updated_at, domain"


def _template(r: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": str(r[0]), "channel": r[1], "name": r[2], "subject": r[3], "body": r[4], "bodies": r[5],
            "status": r[6], "createdAt": iso(r[7]), "updatedAt": iso(r[8]), "domain": r[9]}


def templates(conn: Connection[Any], view: str, domain: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {_TEMPLATE} FROM {view}.profile_templates WHERE domain = %s "
                        "ORDER BY created_at, id", (domain,)).fetchall()
    return [_template(r) for r in rows]


def template(conn: Connection[Any], view: str, domain: str, template_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_TEMPLATE} FROM {view}.profile_templates WHERE domain = %s AND id = %s",
                       (domain, template_id)).fetchone()
    return _template(row) if row else None
