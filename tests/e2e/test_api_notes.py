"""Notes through the HTTP API: five at most, and a deleted note's text is gone for good."""

from __future__ import annotations

import uuid

from tests.conftest import pg_dump
from tests.e2e.conftest import problem_code


def test_add_list_and_limit_notes(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/notes"

    created = api.post(base, json={"text": "Prefers SMS", "author": "Kati"})
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["text"] == "Prefers SMS" and note["author"] == "Kati" and note["id"] and note["createdAt"]
    assert note["position"] == int(created.headers["Profiles-Position"])
    assert api.post(base, json={"text": "no author"}).json()["author"] == "admin"
    for n in range(3):
        assert api.post(base, json={"text": f"note {n}", "author": "Kati"}).status_code == 201

    sixth = api.post(base, json={"text": "one too many", "author": "Kati"})
    assert sixth.status_code == 409 and problem_code(sixth) == "notes_limit"

    listed = api.get(base).json()["items"]
    assert len(listed) == 5 and listed[0]["text"] == "note 2" and listed[-1]["text"] == "Prefers SMS"
    assert api.get(f"/v1/domains/{domain}/contacts/{ann['id']}").json()["notesCount"] == 5

    for body in ({"text": ""}, {"text": "x" * 2001}, {"author": "a"}):
        refused = api.post(base, json=body)
        assert refused.status_code == 422 and problem_code(refused) == "validation_error"


def test_deleting_a_note_destroys_its_text(api, domain, service, database_url, api_schema):
    ann = api.contact(domain, email="ann@example.com")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/notes"
    secret = f"secret-{uuid.uuid4().hex}"
    note = api.post(base, json={"text": f"Door code {secret}", "author": "Kati"}).json()
    assert any(secret in n["text"] for n in api.get(base).json()["items"])

    deleted = api.delete(f"{base}/{note['id']}")
    assert deleted.status_code == 204 and "Profiles-Position" in deleted.headers
    assert api.get(base).json()["items"] == []
    feed = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity").json()["items"]
    assert "note.deleted" in {e["type"] for e in feed} and secret not in str(feed)

    dump = pg_dump(database_url, api_schema)
    assert api_schema.encode() in dump  # the dump did cover our tables
    assert secret.encode() not in dump

    again = api.delete(f"{base}/{note['id']}")
    assert again.status_code == 404 and problem_code(again) == "note_not_found"


def test_a_note_retried_with_its_idempotency_key_is_added_once(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/notes"

    def add(key: str, text: str, author: str = "Kati"):
        return api.post(base, json={"text": text, "author": author}, headers={"Idempotency-Key": key})

    first = add("note-1", "Call after 5pm")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = add("note-1", "Call after 5pm")  # the answer was lost; the client retries
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert {k: again.json()[k] for k in ("id", "text", "author", "createdAt")} == {
        k: first.json()[k] for k in ("id", "text", "author", "createdAt")}
    listed = api.get(base).json()["items"]
    assert [(n["id"], n["text"]) for n in listed] == [(first.json()["id"], "Call after 5pm")]

    for text, author in (("Call after 6pm", "Kati"), ("Call after 5pm", "Joe"), ("x", "Kati")):
        reused = add("note-1", text, author)
        assert reused.status_code == 409 and problem_code(reused) == "idempotency_key_reused", (text, author)
    assert api.get(base).json()["items"] == listed  # the first note still reads as written

    other_key = add("note-2", "Call after 5pm")  # a new key is a new note, even with the same text
    assert other_key.status_code == 201 and other_key.json()["id"] != first.json()["id"]
    assert api.delete(f"{base}/{other_key.json()['id']}").status_code == 204
    late = add("note-2", "Call after 5pm")  # a retry arriving after the note was deleted
    assert late.status_code == 409 and problem_code(late) == "idempotency_key_reused"
    assert [n["id"] for n in api.get(base).json()["items"]] == [first.json()["id"]]  # deleted stays deleted
    other_contact = api.contact(domain, email="bo@example.com")
    elsewhere = api.post(f"/v1/domains/{domain}/contacts/{other_contact['id']}/notes",
                         json={"text": "Call after 5pm", "author": "Kati"}, headers={"Idempotency-Key": "note-1"})
    assert elsewhere.status_code == 201 and "Idempotent-Replayed" not in elsewhere.headers
