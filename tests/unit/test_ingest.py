"""The contact-event envelope of DESIGN §3: resolve, create only on upsert, never merge."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import errors, ingest
from domain.meta import Meta
from tests.unit.history import head
from tests.unit.history import new_event_names as new_events

AT = Meta(method="api", actor="tester", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def envelope(type_: str, contact: dict, data: dict | None = None, event_id: str | None = None, **extra) -> dict:
    return {"eventId": event_id or str(uuid4()), "domain": "shop", "type": type_,
            "occurredAt": "2026-01-01T09:00:00Z", "contact": contact, "data": data or {}, **extra}


def feed(app, *raw: dict) -> list:
    parsed = [ingest.parse(r) for r in raw]
    return app.ingest(parsed, lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt)).results


def test_upsert_creates_then_updates(memory_app):
    (created,) = feed(memory_app, envelope("contact.upserted", {"email": "Ann@Example.com"},
                                           {"firstName": "Ann", "birthday": "1990-05-01", "variables": {"city": "Tartu"}}))
    before = head(memory_app)
    (updated,) = feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"},
                                           {"lastName": "Lee", "variables": {"city": "Tallinn"}}))
    assert updated == created
    assert new_events(memory_app, before) == ["Contact.Updated", "Contact.VariablesChanged"]
    contact = memory_app.contact("shop", created)
    assert contact.info == {"firstName": "Ann", "lastName": "Lee", "birthday": "1990-05-01"}
    assert contact.variables == {"city": "Tallinn"}
    assert contact.created_method == contact.updated_method == "kafka"


def test_new_identifier_values_come_from_data(memory_app):
    (ann,) = feed(memory_app, envelope("contact.upserted", {"userId": "u-1", "email": "ann@example.com"}))
    feed(memory_app, envelope("contact.upserted", {"userId": "u-1"}, {"email": "ann.lee@example.com"}))
    assert memory_app.contact("shop", ann).identifiers == {"userId": "u-1", "email": "ann.lee@example.com"}


def test_identifiers_of_two_different_contacts_conflict(memory_app):
    feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"}),
         envelope("contact.upserted", {"userId": "u-2"}))
    before = head(memory_app)
    for type_, data in (("contact.upserted", {"firstName": "X"}), ("activity", {"name": "orderPlaced"})):
        (result,) = feed(memory_app, envelope(type_, {"email": "ann@example.com", "userId": "u-2"}, data))
        assert isinstance(result, errors.IdentifierConflict) and result.code == "identifier_conflict"
    assert new_events(memory_app, before) == []


def test_an_identifier_differing_from_the_stored_one_conflicts(memory_app):
    feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com", "userId": "u-1"}))
    before = head(memory_app)
    (result,) = feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com", "userId": "u-9"},
                                          {"firstName": "Mallory"}))
    assert isinstance(result, errors.IdentifierConflict)
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize(("type_", "data"), [
    ("contact.upserted", {}), ("activity", {"name": "pageViewed"}), ("contact.variables_set", {"variables": {"a": 1}}),
])
def test_a_kind_the_contact_lacks_is_added(memory_app, type_, data):
    (ann,) = feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"}))
    (result,) = feed(memory_app, envelope(type_, {"email": "ann@example.com", "phoneNumber": "+372 5551 2345"}, data))
    assert result == ann
    assert memory_app.contact("shop", ann).identifiers == {"email": "ann@example.com", "phoneNumber": "+37255512345"}


@pytest.mark.parametrize(("type_", "data"), [
    ("contact.variables_set", {"variables": {"a": 1}}), ("contact.removed", {}),
    ("subscription.changed", {"channel": "email", "status": "subscribed"}),
    ("blacklist.added", {"channel": "email", "reason": "manual"}), ("blacklist.removed", {"channel": "email"}),
    ("message.status", {"messageId": str(uuid4()), "status": "delivered"}),
    ("activity", {"name": "orderPlaced"}),
])
def test_only_upsert_creates(memory_app, type_, data):
    (result,) = feed(memory_app, envelope(type_, {"email": "ghost@example.com"}, data))
    assert isinstance(result, errors.ContactNotFound) and result.code == "contact_not_found"
    assert head(memory_app) == 0


def test_telegram_opt_in_without_any_address_is_no_address(memory_app):
    feed(memory_app, envelope("contact.upserted", {"userId": "u-1"}))
    (result,) = feed(memory_app, envelope("subscription.changed", {"userId": "u-1"},
                                          {"channel": "telegram", "status": "subscribed"}))
    assert isinstance(result, errors.NoAddress)
    (ok,) = feed(memory_app, envelope("subscription.changed", {"userId": "u-1"},
                                      {"channel": "telegram", "status": "subscribed", "address": "chat-1"}))
    assert memory_app.contact("shop", ok).subscriptions["telegram"]["address"] == "chat-1"


def test_the_same_event_id_is_applied_once(memory_app):
    first = envelope("activity", {"email": "ann@example.com"}, {"name": "orderPlaced"}, event_id="evt-1")
    feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"}))
    before = head(memory_app)
    results = feed(memory_app, first, first)
    assert isinstance(results[1], ingest.Duplicate)
    (again,) = feed(memory_app, first)
    assert isinstance(again, ingest.Duplicate)
    assert new_events(memory_app, before) == ["Activity.Recorded"]


def test_a_refused_event_id_is_not_remembered_as_applied(memory_app):
    """Redelivery after the cause is fixed (here: the contact now exists) must apply."""
    late = envelope("activity", {"email": "ann@example.com"}, {"name": "orderPlaced"}, event_id="evt-late")
    (refused,) = feed(memory_app, late)
    assert isinstance(refused, errors.ContactNotFound)
    feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"}))
    before = head(memory_app)
    (applied,) = feed(memory_app, late)
    assert not isinstance(applied, ingest.Duplicate | errors.DomainError)
    assert new_events(memory_app, before) == ["Activity.Recorded"]


def test_removal_variables_and_blacklist(memory_app):
    (ann,) = feed(memory_app, envelope("contact.upserted", {"userId": "u-1"}, {"variables": {"a": 1, "b": 2}}))
    feed(memory_app, envelope("contact.variables_set", {"userId": "u-1"}, {"variables": {"a": None, "c": "x"}}),
         envelope("blacklist.added", {"userId": "u-1"}, {"channel": "sms", "reason": "listUnsubscribe"}))
    contact = memory_app.contact("shop", ann)
    assert contact.variables == {"b": 2, "c": "x"}
    assert contact.subscriptions["sms"]["blacklistReason"] == "listUnsubscribe"
    feed(memory_app, envelope("blacklist.removed", {"userId": "u-1"}, {"channel": "sms"}),
         envelope("contact.removed", {"userId": "u-1"}))
    with pytest.raises(errors.ContactNotFound):
        memory_app.contact("shop", ann)
    (again,) = feed(memory_app, envelope("contact.upserted", {"userId": "u-1"}))
    assert again != ann


@pytest.mark.parametrize(("raw", "code"), [
    (envelope("contact.merged", {"email": "a@example.com"}), "unknown_type"),
    (envelope("activity", {"email": "a@example.com"}, {"name": "x"}, domain="Shop"), "invalid_domain"),
    (envelope("activity", {}, {"name": "x"}), "validation_error"),
    (envelope("activity", {"email": "not-an-email"}, {"name": "x"}), "validation_error"),
    (envelope("activity", {"email": "a@example.com"}, {"name": "x", "extra": 1}), "validation_error"),
    (envelope("activity", {"email": "a@example.com"}, {"name": "x"}, occurredAt="2026-01-01T09:00:00"),
     "validation_error"),
    (envelope("subscription.changed", {"email": "a@example.com"}, {"channel": "fax", "status": "subscribed"}),
     "validation_error"),
    (envelope("message.status", {"email": "a@example.com"}, {"messageId": "nope", "status": "delivered"}),
     "validation_error"),
    ({"domain": "shop"}, "validation_error"),
    # Not JSON, or nested without end: stored, they would stop every reader of the log.
    (envelope("activity", {"email": "a@example.com"}, {"name": "x", "properties": {"v": float("nan")}}),
     "validation_error"),
    (envelope("activity", {"email": "a@example.com"}, {"name": "x", "properties": {"v": [[float("inf")]]}}),
     "validation_error"),
    (envelope("activity", {"email": "a@example.com"}, {"name": "x", "properties": {"v": [[[[[[[[[1]]]]]]]]]}}),
     "validation_error"),
])
def test_invalid_envelopes_are_refused_with_a_dlq_code(raw, code):
    with pytest.raises(errors.DomainError) as refused:
        ingest.parse(raw)
    assert refused.value.code == code


def test_domain_rule_refusals_in_data_are_typed(memory_app):
    (result,) = feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"}, {"language": "klingon"}))
    assert isinstance(result, errors.InvalidInput)
    (result,) = feed(memory_app, envelope("contact.upserted", {"email": "ann@example.com"},
                                          {"avatarLink": "javascript:alert(1)"}))
    assert isinstance(result, errors.InvalidInput)
    assert head(memory_app) == 0


def test_an_event_that_changed_nothing_is_still_applied_once(memory_app):
    """E1 sets city=A while it already is A; E2 sets B; E1 redelivered must not undo E2."""
    feed(memory_app, envelope("contact.upserted", {"userId": "u-1"}, {"variables": {"city": "A"}}))
    first = envelope("contact.variables_set", {"userId": "u-1"}, {"variables": {"city": "A"}}, event_id="e1")
    feed(memory_app, first)
    (ann,) = feed(memory_app, envelope("contact.variables_set", {"userId": "u-1"}, {"variables": {"city": "B"}}))
    (again,) = feed(memory_app, first)
    assert isinstance(again, ingest.Duplicate)
    assert memory_app.contact("shop", ann).variables == {"city": "B"}


def test_a_repeat_in_one_batch_applies_when_the_first_was_refused(memory_app):
    """As if they came in two batches: the refusal is not remembered, the retry applies."""
    refused = envelope("contact.upserted", {"email": "ann@example.com"}, {"language": "klingon"}, event_id="e9")
    fixed = envelope("contact.upserted", {"email": "ann@example.com"}, {"language": "et"}, event_id="e9")
    first, second, third = feed(memory_app, refused, fixed, fixed)
    assert isinstance(first, errors.InvalidInput)
    assert memory_app.contact("shop", second).info == {"language": "et"}
    assert isinstance(third, ingest.Duplicate)


def test_envelopes_naming_one_contact_do_not_share_what_a_command_adds(memory_app):
    # Parsed identifiers are shared between envelopes naming the same contact (cached):
    # an upsert giving the contact a new email must not add it to the next envelope's.
    first = envelope("contact.upserted", {"userId": "u-9"}, {"email": "nine@example.com"})
    feed(memory_app, first)
    again = ingest.parse(envelope("activity", {"userId": " u-9"}, {"name": "x"}))
    assert again.identifiers == {"userId": "u-9"}
    assert ingest.parse(envelope("activity", {"userId": "u-9"}, {"name": "x"})).identifiers == {"userId": "u-9"}
    with pytest.raises(errors.InvalidInput, match="contact needs userId, email or phoneNumber"):
        ingest.parse(envelope("activity", {"email": None}, {"name": "x"}))
