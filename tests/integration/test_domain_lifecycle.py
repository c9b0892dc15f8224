"""A contact's whole life on real PostgreSQL, and its survival of a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest

from domain import errors, ingest
from domain.meta import Meta
from profiles.bootstrap import build

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)


def at(minutes: int, method: str = "api") -> Meta:
    return Meta(method=method, actor="kafka" if method == "kafka" else "key:shop", occurred_at=T0 + timedelta(minutes=minutes))


def stored_topics(database_url: str, schema: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f'SELECT topic FROM "{schema}".profiles_events ORDER BY notification_id').fetchall()
    return [r[0].split(":")[1] for r in rows]


def test_full_lifecycle(container, database_url, schema):
    app = container.app
    ann, p1 = app.create_contact("shop", {"email": "Ann@Example.com", "userId": "u-1", "firstName": "Ann",
                                          "language": "et", "timezone": "Europe/Tallinn"}, {"city": "Tartu"}, at(0))
    ann_id = ann.id
    _, p2 = app.update_contact("shop", ann_id, {"lastName": "Lee", "phoneNumber": "+372 5551 2345"},
                               {"city": "Tallinn", "score": 7}, at(1))
    assert p2 > p1
    app.set_avatar("shop", ann_id, "https://cdn.example.com/ann.png", at(2))
    app.change_subscription("shop", ann_id, "email", "subscribed", at(3), confirmed=True, reason="signup form")
    app.blacklist("shop", ann_id, "sms", "manual", at(4))
    app.unblacklist("shop", ann_id, "sms", "cleared", at(5))
    template, _ = app.create_template("shop", "email", "welcome", "Tere {{ firstName }}",
                                      "Hello {{ firstName }} from {{ variables.city }}",
                                      {"et": "Tere {{ firstName }}, {{ variables.city }}"}, at(6))
    with pytest.raises(errors.TemplateNotApproved):
        app.send_message("shop", ann_id, "email", template.id, at(7))
    app.approve_template("shop", template.id, at(8))
    sent, _ = app.send_message("shop", ann_id, "email", template.id, at(9))
    assert (sent.subject, sent.body, sent.address) == ("Tere Ann", "Tere Ann, Tallinn", "ann@example.com")
    resent, _ = app.resend_message("shop", ann_id, sent.id, at(10))
    assert (resent.body, resent.resend_of) == (sent.body, sent.id)
    note_id, _ = app.add_note("shop", ann_id, "VIP, call first", "joe", at(11))
    app.delete_note("shop", ann_id, note_id, at(12))
    envelope = ingest.parse({"eventId": str(uuid4()), "domain": "shop", "type": "message.status",
                             "occurredAt": (T0 + timedelta(minutes=13)).isoformat(), "contact": {"userId": "u-1"},
                             "data": {"messageId": str(sent.id), "status": "bounced", "hard": True}})
    app.ingest([envelope], lambda e: Meta("kafka", "kafka", e.occurredAt))
    contact = app.contact("shop", ann_id)
    assert contact.subscriptions["email"]["blacklistReason"] == "hardBounce"
    assert (contact.updated_method, contact.updated_at) == ("kafka", T0 + timedelta(minutes=13))
    app.remove_contact("shop", ann_id, at(14))
    with pytest.raises(errors.ContactNotFound):
        app.contact("shop", ann_id)
    again, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, at(15))
    assert again.id != ann_id

    topics = stored_topics(database_url, schema)
    for expected in ("Contact.Created", "Contact.Updated", "Contact.VariablesChanged", "Contact.SubscriptionChanged",
                     "Contact.Blacklisted", "Contact.Unblacklisted", "Template.Created", "Template.Approved",
                     "Message.Sent", "Contact.NoteAdded", "Contact.NoteDeleted", "Message.StatusRecorded",
                     "Contact.Removed", "IdentifierClaim.Released", "IdentifierClaim.Reclaimed"):
        assert expected in topics, expected
    assert topics.count("Message.Sent") == 2


def test_a_contact_survives_a_restart(settings, container):
    ann, _ = container.app.create_contact("shop", {"email": "ann@example.com", "firstName": "Ann"},
                                          {"score": 3}, at(0))
    container.app.change_subscription("shop", ann.id, "email", "subscribed", at(1), confirmed=True)
    container.close()

    restarted = build(settings)
    try:
        contact = restarted.app.contact("shop", ann.id)
        assert contact.info == {"firstName": "Ann"} and contact.variables == {"score": 3}
        assert contact.subscriptions["email"]["status"] == "subscribed"
        assert (contact.created_on, contact.updated_at) == (T0, T0 + timedelta(minutes=1))
        with pytest.raises(errors.IdentifierTaken) as refused:
            restarted.app.create_contact("shop", {"email": "ANN@example.com"}, {}, at(2))
        assert refused.value.extra["existingId"] == str(ann.id)
    finally:
        restarted.close()


READER = """
import json, sys, uuid
from profiles.bootstrap import build
from profiles.settings import Settings
container = build(Settings())
try:
    contact = container.app.contact("shop", uuid.UUID(sys.argv[1]))
    print(json.dumps({"identifiers": contact.identifiers, "info": contact.info,
                      "email": contact.subscriptions["email"]["status"]}))
finally:
    container.close()
"""


def test_a_contact_survives_a_new_process(settings, container, database_url, schema):
    import json
    import os
    import subprocess
    import sys

    ann, _ = container.app.create_contact("shop", {"email": "ann@example.com", "firstName": "Ann"}, {}, at(0))
    container.app.change_subscription("shop", ann.id, "email", "subscribed", at(1), confirmed=True)
    container.close()
    env = {**os.environ, "DATABASE_URL": database_url, "PROFILES_DB_SCHEMA": schema}
    done = subprocess.run([sys.executable, "-c", READER, str(ann.id)], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "identifiers": {"email": "ann@example.com"}, "info": {"firstName": "Ann"}, "email": "subscribed"}
