"""DESIGN §2 rule 5: after a note is deleted, nothing in the database yields its text —
proved with ``pg_dump`` of the schema, event store included."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import psycopg

from domain.meta import Meta
from tests.conftest import pg_dump

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def dump(database_url: str, schema: str) -> str:
    return pg_dump(database_url, schema).decode()


def spellings(text: str) -> list[str]:
    """The plain text and the forms a dump could hold it in: bytea columns (the event
    state) are dumped as hex, and base64 is how the sealed text travels."""
    raw = text.encode()
    return [text, raw.hex(), base64.b64encode(raw).decode()]


def sealed_texts(database_url: str, schema: str) -> dict[str, str]:
    import json

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f'SELECT state FROM "{schema}".profiles_events WHERE topic LIKE %s',
                            ("%Contact.NoteAdded",)).fetchall()
    return {s["note_id"]: s["sealed_text"] for s in (json.loads(bytes(r[0])) for r in rows)}


def test_a_deleted_note_leaves_no_trace_in_pg_dump(container, database_url, schema):
    app = container.app
    secret = f"Allergic to peanuts, ask for Mrs {uuid.uuid4().hex}"
    author = f"author-{uuid.uuid4().hex}"
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    note_id, _ = app.add_note("shop", ann.id, secret, author, AT)
    kept_id, _ = app.add_note("shop", ann.id, "a note that stays", author, AT)

    sealed = sealed_texts(database_url, schema)
    assert app.read_note(note_id, sealed[note_id]) == secret  # readable while the note lives
    before = dump(database_url, schema)
    assert note_id in before  # its key row is there…
    assert author.encode().hex() in before  # …and the dump does show event contents (as hex)
    assert not any(s in before for s in spellings(secret))  # never stored in plain form

    app.delete_note("shop", ann.id, note_id, AT)

    after = dump(database_url, schema)
    for spelling in spellings(secret):
        assert spelling not in after
    assert app.read_note(note_id, sealed[note_id]) is None
    with psycopg.connect(database_url) as conn:
        pads = {r[0] for r in conn.execute(f'SELECT note_id FROM "{schema}".profiles_note_pads')}
    assert pads == {kept_id}
    assert app.read_note(kept_id, sealed[kept_id]) == "a note that stays"
