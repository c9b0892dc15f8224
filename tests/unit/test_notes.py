"""Notes: at most five live ones; deletion destroys the text (DESIGN §2 rule 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import errors
from domain.meta import Meta
from tests.unit.history import head, new_events

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


@pytest.fixture
def ann(memory_app):
    contact, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    return contact.id


def test_a_note_is_stored_only_as_ciphertext(memory_app, ann):
    before = head(memory_app)
    note_id, _ = memory_app.add_note("shop", ann, "Prefers calls after 5pm", "joe", AT)
    (event,) = new_events(memory_app, before)
    assert (type(event).__qualname__, event.note_id, event.author) == ("Contact.NoteAdded", note_id, "joe")
    assert "Prefers" not in event.sealed_text
    stored = b"".join(n.state for n in memory_app.recorder.select_notifications(1, 1000))
    assert b"Prefers" not in stored
    assert memory_app.read_note(note_id, event.sealed_text) == "Prefers calls after 5pm"


def test_a_sixth_note_is_refused(memory_app, ann):
    for n in range(5):
        memory_app.add_note("shop", ann, f"note {n}", "joe", AT)
    before = head(memory_app)
    with pytest.raises(errors.NotesLimit) as refused:
        memory_app.add_note("shop", ann, "one too many", "joe", AT)
    assert refused.value.code == "notes_limit"
    assert new_events(memory_app, before) == []


def test_deleting_a_note_makes_room_and_destroys_its_text(memory_app, ann):
    ids = [memory_app.add_note("shop", ann, f"secret {n}", "joe", AT)[0] for n in range(5)]
    sealed = {e.note_id: e.sealed_text for e in new_events(memory_app, 0) if hasattr(e, "sealed_text")}
    before = head(memory_app)
    memory_app.delete_note("shop", ann, ids[0], AT)
    (event,) = new_events(memory_app, before)
    assert (type(event).__qualname__, event.note_id) == ("Contact.NoteDeleted", ids[0])
    assert memory_app.read_note(ids[0], sealed[ids[0]]) is None
    assert memory_app.read_note(ids[1], sealed[ids[1]]) == "secret 1"
    assert len(memory_app.contact("shop", ann).notes) == 4
    memory_app.add_note("shop", ann, "room again", "joe", AT)


def test_deleting_an_unknown_or_deleted_note_is_not_found(memory_app, ann):
    note_id, _ = memory_app.add_note("shop", ann, "x", "joe", AT)
    memory_app.delete_note("shop", ann, note_id, AT)
    for target in (note_id, "no-such-note"):
        with pytest.raises(errors.NoteNotFound):
            memory_app.delete_note("shop", ann, target, AT)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001, None])
def test_note_text_is_validated(memory_app, ann, text):
    with pytest.raises(errors.InvalidInput):
        memory_app.add_note("shop", ann, text, "joe", AT)


def test_a_note_of_2000_chars_is_accepted(memory_app, ann):
    note_id, _ = memory_app.add_note("shop", ann, "é" * 2000, "joe", AT)
    assert note_id in memory_app.contact("shop", ann).notes


def test_removing_a_contact_destroys_its_notes_texts(memory_app, ann):
    note_id, _ = memory_app.add_note("shop", ann, "Call after the holidays", "joe", AT)
    (sealed,) = [e.sealed_text for e in new_events(memory_app, 0) if hasattr(e, "sealed_text")]
    memory_app.remove_contact("shop", ann, AT)
    assert memory_app.read_note(note_id, sealed) is None


def test_a_contact_snapshotted_before_deleted_notes_were_kept_still_takes_keyed_notes(memory_app, ann):
    """Contacts restored from older snapshots have no ``deleted_notes``: deleting a note
    starts the list, and a late retry of its keyed request is refused, not re-added."""
    contact = memory_app.repository.get(ann)
    del vars(contact)["deleted_notes"]  # as restored from a snapshot taken before the list
    note_id, _ = memory_app.add_note("shop", ann, "Call on Monday", "joe", AT, idempotency_key="k-1")
    assert memory_app.add_note("shop", ann, "Call on Monday", "joe", AT, idempotency_key="k-1")[0] == note_id
    memory_app.delete_note("shop", ann, note_id, AT)
    with pytest.raises(errors.IdempotencyKeyReused):
        memory_app.add_note("shop", ann, "Call on Monday", "joe", AT, idempotency_key="k-1")
    assert memory_app.repository.get(ann).notes == {}
