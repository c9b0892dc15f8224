"""Many commands, one transaction: a refused command leaves nothing behind, the rest is saved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import errors, handlers
from domain.meta import Meta
from tests.unit.history import head

AT = Meta(method="import", actor="loader", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def topics(app, since: int = 0) -> list[str]:
    return [n.topic.split(":")[1] for n in app.recorder.select_notifications(since + 1, 1000)]


def create(email: str, **fields):
    return lambda uow: handlers.create_contact(uow, "shop", {"email": email, **fields}, {}, AT)


def test_refused_commands_leave_nothing_and_the_others_are_saved(memory_app):
    result = memory_app.execute([
        create("ann@example.com"),
        create("not-an-email"),
        create("bob@example.com", language="klingon"),
        create("carol@example.com"),
        create("ANN@example.com"),  # taken by the first command of this very batch
    ])
    ann, invalid, bad_language, carol, taken = result.results
    assert isinstance(invalid, errors.InvalidInput) and isinstance(bad_language, errors.InvalidInput)
    assert isinstance(taken, errors.IdentifierTaken) and taken.extra["existingId"] == str(ann.id)
    assert sorted(topics(memory_app)) == sorted(["Contact.Created", "IdentifierClaim.Claimed"] * 2)
    assert result.position == head(memory_app) == 4
    with pytest.raises(errors.ContactNotFound):
        memory_app.contact("blog", carol.id)
    assert memory_app.contact("shop", carol.id).identifiers == {"email": "carol@example.com"}


def test_a_command_refused_after_recording_is_rolled_back_entirely(memory_app):
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    before = head(memory_app)

    def half_applied(uow):
        target = handlers.contact(uow, "shop", ann.id)
        handlers.update_contact(uow, target, {"firstName": "Half"}, None, AT)
        raise errors.NotesLimit("refused after an event was recorded")

    def rename(uow):
        return handlers.update_contact(uow, handlers.contact(uow, "shop", ann.id), {"lastName": "Lee"}, None, AT)

    result = memory_app.execute([half_applied, rename, create("bob@example.com")])
    assert isinstance(result.results[0], errors.NotesLimit)
    contact = memory_app.contact("shop", ann.id)
    assert contact.info == {"lastName": "Lee"}
    assert sorted(topics(memory_app, before)) == ["Contact.Created", "Contact.Updated", "IdentifierClaim.Claimed"]


def test_single_command_api_raises_the_refusal(memory_app):
    result = memory_app.execute([create("x")])
    with pytest.raises(errors.InvalidInput):
        result.single()
    assert head(memory_app) == 0


def test_a_batch_of_only_refusals_stores_nothing(memory_app):
    result = memory_app.execute([create("x"), create("y")])
    assert all(isinstance(r, errors.InvalidInput) for r in result.results)
    assert head(memory_app) == 0 and result.position == 0


def test_many_contacts_in_one_batch(memory_app):
    result = memory_app.execute([create(f"p{n}@example.com") for n in range(200)])
    assert len({c.id for c in result.results}) == 200
    assert result.position == 400
