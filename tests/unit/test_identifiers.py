"""Identifiers: normalised, unique per domain, at least one, freed by removal (DESIGN §2).

Each test reads: given events (earlier commands) → command → the new events, or a typed
error and no new events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import errors
from domain.meta import Meta
from tests.unit.history import head
from tests.unit.history import new_event_names as new_events

AT = Meta(method="api", actor="tester", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def test_identifiers_are_normalised(memory_app):
    contact, _ = memory_app.create_contact(
        "shop", {"email": "  Ann.Lee@Example.COM ", "phoneNumber": "+372 555 12345", "userId": " u-1 "}, {}, AT)
    assert contact.identifiers == {"email": "ann.lee@example.com", "phoneNumber": "+37255512345", "userId": "u-1"}
    assert contact.subscriptions["email"]["address"] == "ann.lee@example.com"
    assert contact.subscriptions["sms"]["address"] == "+37255512345"


def test_create_records_contact_and_one_claim_per_identifier(memory_app):
    before = head(memory_app)
    memory_app.create_contact("shop", {"email": "a@example.com", "userId": "u-1"}, {}, AT)
    assert sorted(new_events(memory_app, before)) == [
        "Contact.Created", "IdentifierClaim.Claimed", "IdentifierClaim.Claimed"]


@pytest.mark.parametrize(("kind", "first", "second"), [
    ("email", "ann@example.com", " ANN@example.com"),
    ("phoneNumber", "+37255512345", "+372 5551 2345"),
    ("userId", "u-1", "u-1 "),
])
def test_identifier_taken_carries_existing_id(memory_app, kind, first, second):
    existing, _ = memory_app.create_contact("shop", {kind: first}, {}, AT)
    before = head(memory_app)
    with pytest.raises(errors.IdentifierTaken) as refused:
        memory_app.create_contact("shop", {kind: second}, {}, AT)
    assert refused.value.extra["existingId"] == str(existing.id)
    assert refused.value.code == "identifier_taken"
    assert new_events(memory_app, before) == []


def test_identifiers_are_unique_per_domain_only(memory_app):
    shop, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    blog, _ = memory_app.create_contact("blog", {"email": "ann@example.com"}, {}, AT)
    assert shop.id != blog.id
    with pytest.raises(errors.ContactNotFound):
        memory_app.contact("blog", shop.id)


def test_changing_to_a_taken_identifier_is_refused(memory_app):
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    bob, _ = memory_app.create_contact("shop", {"email": "bob@example.com"}, {}, AT)
    before = head(memory_app)
    with pytest.raises(errors.IdentifierTaken) as refused:
        memory_app.update_contact("shop", bob.id, {"email": "ANN@example.com"}, None, AT)
    assert refused.value.extra["existingId"] == str(ann.id)
    assert new_events(memory_app, before) == []


def test_changing_an_identifier_frees_the_old_value(memory_app):
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    before = head(memory_app)
    memory_app.update_contact("shop", ann.id, {"email": "ann.lee@example.com"}, None, AT)
    assert sorted(new_events(memory_app, before)) == [
        "Contact.Updated", "IdentifierClaim.Claimed", "IdentifierClaim.Released"]
    other, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    assert other.id != ann.id
    assert memory_app.contact("shop", ann.id).subscriptions["email"]["address"] == "ann.lee@example.com"


@pytest.mark.parametrize("fields", [{}, {"email": None}, {"firstName": "Ann"}])
def test_a_contact_needs_one_identifier(memory_app, fields):
    with pytest.raises(errors.InvalidInput):
        memory_app.create_contact("shop", fields, {}, AT)
    assert head(memory_app) == 0


def test_the_last_identifier_cannot_be_removed(memory_app):
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1"}, {}, AT)
    memory_app.update_contact("shop", ann.id, {"userId": None}, None, AT)
    assert memory_app.contact("shop", ann.id).identifiers == {"email": "ann@example.com"}
    before = head(memory_app)
    with pytest.raises(errors.InvalidInput):
        memory_app.update_contact("shop", ann.id, {"email": None}, None, AT)
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize(("kind", "value"), [
    ("email", "not-an-email"), ("email", "a@"), ("email", 42),
    ("phoneNumber", "55512345"), ("phoneNumber", "+1"), ("phoneNumber", "call me"),
    ("userId", ""), ("userId", "   "), ("userId", "x" * 257),
])
def test_invalid_identifiers_are_refused(memory_app, kind, value):
    with pytest.raises(errors.InvalidInput):
        memory_app.create_contact("shop", {kind: value}, {}, AT)


@pytest.mark.parametrize("slug", ["Shop", "-shop", "", "a" * 64, "shop_1", "shöp"])
def test_invalid_domain_slug_is_refused(memory_app, slug):
    with pytest.raises(errors.InvalidDomain) as refused:
        memory_app.create_contact(slug, {"email": "ann@example.com"}, {}, AT)
    assert refused.value.code == "invalid_domain"


def test_removal_frees_identifiers_and_hides_the_contact(memory_app):
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1"}, {}, AT)
    before = head(memory_app)
    memory_app.remove_contact("shop", ann.id, AT)
    assert sorted(new_events(memory_app, before)) == [
        "Contact.Removed", "IdentifierClaim.Released", "IdentifierClaim.Released"]
    with pytest.raises(errors.ContactNotFound):
        memory_app.contact("shop", ann.id)
    for command in (
        lambda: memory_app.update_contact("shop", ann.id, {"firstName": "A"}, None, AT),
        lambda: memory_app.remove_contact("shop", ann.id, AT),
        lambda: memory_app.add_note("shop", ann.id, "hi", "me", AT),
    ):
        with pytest.raises(errors.ContactNotFound):
            command()
    again, _ = memory_app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1"}, {}, AT)
    assert again.id != ann.id


def test_unknown_contact_is_not_found(memory_app):
    with pytest.raises(errors.ContactNotFound) as refused:
        memory_app.update_contact("shop", uuid4(), {"firstName": "A"}, None, AT)
    assert refused.value.status == 404


def test_a_claim_committed_after_the_uniqueness_check_still_refuses(memory_app, monkeypatch):
    """The race of two creators: the claim appears between the check and the claim step
    (simulated by skipping the check). The late creator must be refused, never saved
    as a second contact with an unclaimed identifier."""
    from domain import handlers

    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    monkeypatch.setattr(handlers, "_check_free", lambda *args: None)
    before = head(memory_app)
    with pytest.raises(errors.IdentifierTaken) as refused:
        memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    assert refused.value.extra["existingId"] == str(ann.id)
    assert new_events(memory_app, before) == []
