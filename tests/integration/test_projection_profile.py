"""The profile projection after a realistic sequence: api() writes and Kafka envelopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from domain import handlers
from domain.ingest import parse
from domain.meta import Meta
from projections.runner import ProjectionRunner


def api() -> Meta:
    return Meta(method="api", actor="key-shop")


def _envelope(event_id: str, kind: str, contact: dict, data: dict, at: datetime | None = None) -> dict:
    return {"eventId": event_id, "domain": "shop", "type": kind, "contact": contact, "data": data,
            "occurredAt": (at or datetime.now(tz=UTC)).isoformat()}


def _ingest(app, *envelopes: dict) -> int:
    result = app.ingest([parse(e) for e in envelopes], lambda e: Meta(method="kafka", actor="kafka",
                                                                      occurred_at=e.occurredAt))
    assert not [r for r in result.results if isinstance(r, Exception)], result.results
    return result.position


def test_profile_document_follows_api_and_kafka(container, runner):
    app, reads = container.app, container.read_model
    ann, _ = app.create_contact("shop", {"email": " Ann@Example.com ", "firstName": "Ann", "language": "et"},
                                {"city": "Tallinn"}, api())
    created_at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    _ingest(app,
            _envelope("e1", "contact.upserted", {"userId": "u-2"},
                      {"email": "bob@example.com", "phoneNumber": "+372 555 12345", "firstName": "Bob",
                       "variables": {"score": 42}}, created_at),
            _envelope("e2", "subscription.changed", {"email": "bob@example.com"},
                      {"channel": "email", "status": "subscribed", "reason": "signup"}, created_at + timedelta(minutes=1)),
            _envelope("e3", "contact.variables_set", {"userId": "u-2"}, {"variables": {"vip": True, "score": None}},
                      created_at + timedelta(minutes=2)),
            _envelope("e4", "blacklist.added", {"userId": "u-2"}, {"channel": "sms", "reason": "complaint"},
                      created_at + timedelta(minutes=3)))
    app.update_contact("shop", ann.id, {"lastName": "Lee"}, {"city": None, "plan": "gold"}, api())
    position = app.set_avatar("shop", ann.id, "https://img.example.com/ann.png", api())[1]
    runner.catch_up()
    assert reads.wait_for(position, timeout=1)

    doc = reads.contact("shop", ann.id)
    assert doc["email"] == "ann@example.com" and doc["lastName"] == "Lee"
    assert doc["variables"] == {"plan": "gold"}
    assert doc["avatarLink"] == "https://img.example.com/ann.png"
    assert doc["createdMethod"] == "api" and doc["updatedMethod"] == "api"
    assert doc["version"] == app.contact("shop", ann.id).version and doc["position"] == position
    assert doc["subscriptions"]["email"] == {"status": "none", "address": "ann@example.com", "blacklisted": False,
                                             "blacklistReason": None, "blacklistedAt": None, "changedAt": None}
    assert reads.contact("other", ann.id) is None  # nothing crosses domains

    (bob,), cursor = reads.find_contacts("shop", phone="+37255512345")
    assert cursor is None and bob["userId"] == "u-2" and bob["firstName"] == "Bob"
    assert bob["variables"] == {"vip": True}
    assert bob["createdAt"] == created_at.isoformat() and bob["createdMethod"] == "kafka"
    assert bob["subscriptions"]["email"]["status"] == "subscribed"
    assert bob["subscriptions"]["sms"]["blacklisted"] is True
    assert bob["subscriptions"]["sms"]["blacklistReason"] == "complaint"
    assert reads.find_contacts("shop", email="BOB@example.com ")[0][0]["id"] == bob["id"]
    assert reads.find_contacts("shop", email="not an email") == ([], None)

    first, cursor = reads.find_contacts("shop", limit=1)
    second, end = reads.find_contacts("shop", limit=1, cursor=cursor)
    assert [first[0]["id"], second[0]["id"]] == [bob["id"], str(ann.id)] and end is None  # by createdAt
    assert reads.domains(None) == [{"domain": "shop", "contacts": 2}]
    assert reads.domains({"blog"}) == []

    history = reads.subscription_history("shop", bob["id"], "email")
    assert history == [{"channel": "email", "status": "subscribed", "previousStatus": "none",
                        "address": "bob@example.com", "reason": "signup", "method": "kafka", "actor": "kafka",
                        "occurredAt": (created_at + timedelta(minutes=1)).isoformat()}]


def test_removed_contact_disappears_and_frees_its_identifiers(container, runner):
    app, reads = container.app, container.read_model
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, api())
    runner.catch_up()
    app.remove_contact("shop", ann.id, api())
    again, position = app.create_contact("shop", {"email": "ann@example.com"}, {}, api())
    runner.catch_up()
    assert reads.contact("shop", ann.id) is None
    assert [c["id"] for c in reads.find_contacts("shop", email="ann@example.com")[0]] == [str(again.id)]
    assert reads.domains(None) == [{"domain": "shop", "contacts": 1}]
    assert reads.positions() == {"profile": position, "activity": position, "segments": position}


def test_notes_are_sealed_and_deleted_text_is_gone(container, runner):
    app, reads = container.app, container.read_model
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, api())
    keep, _ = app.add_note("shop", ann.id, "Prefers calls after 5pm", "maria", api())
    secret, _ = app.add_note("shop", ann.id, "Secret discount code ZX-42", "maria", api())
    runner.catch_up()
    assert [n["text"] for n in reads.notes("shop", ann.id)] == ["Secret discount code ZX-42", "Prefers calls after 5pm"]
    assert reads.contact("shop", ann.id)["notesCount"] == 2

    # A crash right after storing NoteDeleted, before the app shredded the pad: the
    # projection shreds it as it applies the deletion.
    app._run(lambda uow: handlers.contact(uow, "shop", ann.id).delete_note(secret, api()))
    runner.catch_up()
    assert [n["id"] for n in reads.notes("shop", ann.id)] == [keep]
    assert reads.contact("shop", ann.id)["notesCount"] == 1
    with psycopg.connect(container.database_url) as conn:
        dump = "".join(str(row) for table in ("profile_notes", "activity_feed", "profile_contacts", "profiles_note_pads")
                       for row in conn.execute(f'SELECT * FROM "{container.settings.db_schema}".{table}'))
        pads = conn.execute(f'SELECT count(*) FROM "{container.settings.db_schema}".profiles_note_pads '
                            "WHERE note_id = %s", (secret,)).fetchone()[0]
    assert pads == 0
    assert "ZX-42" not in dump and "Prefers calls" not in dump


def test_removing_a_contact_takes_its_notes_and_their_texts(container, runner):
    app, reads = container.app, container.read_model
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, api())
    note, _ = app.add_note("shop", ann.id, "Allergic to cold calls", "maria", api())
    runner.catch_up()
    # Removal through the batch path (as from Kafka): the projection, not the API call, shreds.
    app._run(lambda uow: handlers.remove_contact(uow, handlers.contact(uow, "shop", ann.id), api()))
    runner.catch_up()
    assert reads.notes("shop", ann.id) == []
    with psycopg.connect(container.database_url) as conn:
        left = conn.execute(f'SELECT count(*) FROM "{container.settings.db_schema}".profiles_note_pads '
                            "WHERE note_id = %s", (note,)).fetchone()[0]
    assert left == 0


def test_a_revised_template_is_a_draft_again(container, runner):
    app, reads = container.app, container.read_model
    template, _ = app.create_template("shop", "email", "Welcome", "Hi", "Hello!", {}, api())
    app.approve_template("shop", template.id, api())
    app.revise_template("shop", template.id, "Hi {{ firstName }}", "Hello again!", {"et": "Tere jälle!"}, api())
    runner.catch_up()
    revised = reads.template("shop", template.id)
    assert (revised["status"], revised["subject"], revised["body"], revised["bodies"]) == (
        "draft", "Hi {{ firstName }}", "Hello again!", {"et": "Tere jälle!"})


def test_templates(container, runner):
    app, reads = container.app, container.read_model
    template, _ = app.create_template("shop", "email", "Welcome", "Hi {{ firstName }}", "Hello!", {"et": "Tere!"}, api())
    app.create_template("blog", "sms", "Other", "", "x", {}, api())
    app.approve_template("shop", template.id, api())
    runner.catch_up()
    (listed,) = reads.templates("shop")
    assert listed["id"] == str(template.id) and listed["status"] == "approved"
    assert listed["bodies"] == {"et": "Tere!"} and listed["channel"] == "email" and listed["subject"] == "Hi {{ firstName }}"
    assert reads.template("shop", template.id) == listed
    assert reads.template("blog", template.id) is None


def test_a_single_write_is_readable_within_milliseconds(container):
    import time

    live = ProjectionRunner(container.database_url, container.settings.db_schema)
    live.start()
    try:
        reads = container.read_model
        assert reads.wait_for(container.app.create_contact("shop", {"userId": "warm"}, {}, api())[1], timeout=5)
        latencies = []
        for n in range(10):
            contact, position = container.app.create_contact("shop", {"userId": f"u-{n}"}, {}, api())
            started = time.perf_counter()
            assert reads.wait_for(position, timeout=5)
            latencies.append(time.perf_counter() - started)
            assert reads.contact("shop", contact.id)["userId"] == f"u-{n}"
    finally:
        live.stop()
    latencies.sort()
    print(f"write-to-read latency median {latencies[5] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert latencies[5] < 0.2  # woken by the store's NOTIFY, not by polling the log


def test_a_nul_stored_before_it_was_refused_does_not_stop_the_projections(container, runner):
    """The API and the consumer refuse U+0000 now; a store written before holds it in its
    log, and no projection table can: it reads as U+FFFD instead of stopping them all."""
    app = container.app
    bob, _ = app.create_contact("shop", {"email": "bob@example.com", "firstName": "Bo\u0000b"}, {"note": "\u0000"},
                                api())  # the domain itself takes it, as before the door was shut
    _ingest(app, _envelope("a-1", "activity", {"email": "bob@example.com"}, {"name": "viewed\u0000"}))
    ann, position = app.create_contact("shop", {"email": "ann@example.com"}, {}, api())
    runner.catch_up()
    reads = container.read_model
    assert reads.positions() == {"profile": position, "activity": position, "segments": position}
    profile = reads.contact("shop", bob.id)
    assert profile["firstName"] == "Bo\ufffdb" and profile["variables"] == {"note": "\ufffd"}
    (viewed,) = [e for e in reads.export_activity("shop", bob.id) if e["type"] == "activity"]
    assert viewed["summary"] == "viewed\ufffd" and viewed["data"]["name"] == "viewed\ufffd"
    assert reads.contact("shop", ann.id)["email"] == "ann@example.com"
