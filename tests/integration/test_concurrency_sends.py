"""A send or a note retried with its Idempotency-Key is stored once, also when the
retries reach several processes at once (a client that timed out and retried against
another API instance): the message's or note's id derives from the key, and the event
store takes one."""

from __future__ import annotations

from domain.meta import Meta
from tests.integration.processes import count, other_process, race


def test_processes_racing_on_one_idempotency_key_send_once(container):
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    app.change_subscription("shop", ann.id, "email", "subscribed", Meta(), confirmed=True)
    template, _ = app.create_template("shop", "email", "Hi", "Hi {{ firstName }}", "Hello", {}, Meta())
    app.approve_template("shop", template.id, Meta())

    def send(process, n, r):
        return process.send_message("shop", ann.id, "email", template.id, Meta(), idempotency_key="k-1")[0].id

    (ids,) = race(container.env, send, threads=4)
    assert len(set(ids)) == 1
    assert count(container.database_url, container.settings.db_schema, "domain.message:Message.Sent") == 1


def test_processes_racing_on_one_keyed_note_add_it_once_and_it_reads_back(container):
    """Each attempt seals the text with the note's pad if it has one: had one replaced
    another's pad, the stored note would read back as noise."""
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())

    def add(process, n, r):
        return process.add_note("shop", ann.id, "Door code 4711", "Kati", Meta(), idempotency_key=f"note-{r}")[0]

    rounds = race(container.env, add, rounds=3, threads=4)
    assert all(len(set(ids)) == 1 for ids in rounds)
    assert count(container.database_url, container.settings.db_schema, "domain.contact:Contact.NoteAdded") == 3
    fresh = other_process(container.env)
    try:
        contact = fresh.contact("shop", ann.id)
        assert {fresh.read_note(i, n["sealed"]) for i, n in contact.notes.items()} == {"Door code 4711"}
    finally:
        fresh.close()
