"""Every event records when it happened, through which method and who acted (DESIGN §2)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from eventsourcing.domain import CanInitAggregate

from domain import activity, claim, clock, contact, ingest, message, segment, template
from domain.meta import Meta, Recorded, RecordedCreation
from domain.values import METHODS

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))
KAFKA_AT = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


def every_event_class() -> set[str]:
    found = set()
    for module in (activity, claim, clock, contact, message, segment, template):
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if aggregate.__module__ != module.__name__:
                continue
            for name, member in vars(aggregate).items():
                if inspect.isclass(member) and issubclass(member, Recorded | RecordedCreation) and name != "Event":
                    found.add(f"{module.__name__}:{member.__qualname__}")
    return found


def exercise_everything(app) -> None:
    ann, _ = app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1"}, {"city": "Tallinn"}, AT)
    app.update_contact("shop", ann.id, {"firstName": "Ann", "userId": "u-2"}, None, AT)
    app.set_variables("shop", ann.id, {"score": 1}, AT)
    app.change_subscription("shop", ann.id, "email", "subscribed", AT, confirmed=True)
    app.blacklist("shop", ann.id, "sms", "manual", AT)
    app.unblacklist("shop", ann.id, "sms", None, AT)
    note_id, _ = app.add_note("shop", ann.id, "hello", "joe", AT)
    app.delete_note("shop", ann.id, note_id, AT)
    tpl, _ = app.create_template("shop", "email", "t", "s", "b {{ firstName }}", {}, AT)
    app.revise_template("shop", tpl.id, "s", "b2", {}, AT)
    app.approve_template("shop", tpl.id, AT)
    sent, _ = app.send_message("shop", ann.id, "email", tpl.id, AT)
    app.resend_message("shop", ann.id, sent.id, AT)
    seg, _ = app.define_segment("shop", "s", {"field": "email", "op": "exists"}, AT)
    app.redefine_segment("shop", seg.id, "s2", {"field": "email", "op": "exists"}, AT)
    app.delete_segment("shop", seg.id, AT)
    app.tick(AT)
    app.tick(AT)
    envelopes = [
        {"type": "message.status", "data": {"messageId": str(sent.id), "status": "opened"}},
        {"type": "activity", "data": {"name": "orderPlaced", "properties": {"total": 12.5}}},
    ]
    app.ingest([ingest.parse({"eventId": str(uuid4()), "domain": "shop", "occurredAt": KAFKA_AT.isoformat(),
                              "contact": {"email": "ann@example.com"}, **e}) for e in envelopes],
               lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    app.remove_contact("shop", ann.id, AT)
    app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)  # reclaims the released email


def test_every_event_carries_method_actor_and_time(memory_app):
    exercise_everything(memory_app)
    seen = set()
    for notification in memory_app.recorder.select_notifications(1, 10_000):
        event = memory_app.mapper.to_domain_event(notification)
        seen.add(notification.topic)
        assert event.method in METHODS and event.actor, notification.topic
        assert event.timestamp.tzinfo is not None
        expected = (KAFKA_AT, "kafka") if event.method == "kafka" else (AT.occurred_at, "marketer@shop")
        assert (event.timestamp, event.actor) == expected, notification.topic
    assert seen == every_event_class()


def test_kafka_events_keep_the_upstream_time(memory_app):
    envelope = ingest.parse({"eventId": "e1", "domain": "shop", "type": "contact.upserted",
                             "occurredAt": "2025-06-01T08:00:00+03:00", "contact": {"email": "ann@example.com"}})
    (contact_id,) = memory_app.ingest([envelope], lambda e: Meta("kafka", "kafka", e.occurredAt)).results
    created = memory_app.contact("shop", contact_id)
    assert created.created_on == datetime(2025, 6, 1, 5, tzinfo=UTC)
    assert created.created_method == "kafka"


def test_contacts_and_claims_are_created_as_the_library_creates_aggregates():
    """``meta.created`` and ``RecordedCreation.mutate``, the write path's shortcuts, record
    the very event ``_create`` does and build the very aggregate."""
    contact_id = uuid4()
    quick = contact.Contact.create("shop", {"email": "ann@example.com"}, {"firstName": "Ann"}, {"n": 1}, AT,
                                   contact_id=contact_id)
    library = contact.Contact._create(contact.Contact.Created, id=contact_id, domain="shop",
                                      identifiers={"email": "ann@example.com"}, info={"firstName": "Ann"},
                                      variables={"n": 1}, **AT.fields())
    taken = claim.IdentifierClaim.claim("shop", "email", "ann@example.com", contact_id, AT)
    taken_by_library = claim.IdentifierClaim._create(
        claim.IdentifierClaim.Claimed, id=taken.id, domain="shop", kind="email", value="ann@example.com",
        contact_id=contact_id, **AT.fields())
    for ours, theirs in ((quick, library), (taken, taken_by_library)):
        assert ours == theirs
        assert [vars(e) for e in ours.pending_events] == [vars(e) for e in theirs.pending_events]
        # Built from its event as the library's own mutate builds it (also on every read).
        (event,) = ours.pending_events
        assert event.mutate(None) == CanInitAggregate.mutate(event, None)
    assert contact.Contact.create("shop", {"userId": "u-1"}, {}, {}, AT).id != contact.Contact.create(
        "shop", {"userId": "u-1"}, {}, {}, AT).id  # a new id each time, as create_id gives


def test_an_activity_is_recorded_as_the_event_the_library_creates():
    """An activity is kept as its event's fields (``NewEvent``) and stored from them: they
    are the very fields, in the very order, of the event ``_create`` records."""
    activity_id, contact_id = uuid4(), uuid4()
    new = activity.Activity.recorded(activity_id, "shop", contact_id, "orderPlaced", {"total": 12.5}, AT)
    (library,) = activity.Activity._create(activity.Activity.Recorded, id=activity_id, domain="shop",
                                           contact_id=contact_id, name="orderPlaced", properties={"total": 12.5},
                                           **AT.fields()).pending_events
    assert list(vars(new.event()).items()) == list(vars(library).items())
    assert list(new.fields.items()) == [(k, v) for k, v in vars(library).items()
                                        if k not in ("originator_id", "originator_version")]


def test_events_are_triggered_as_the_library_triggers_them():
    """``meta.trigger`` and ``meta.event``, the write path's shortcuts for ``trigger_event``
    and an event class's ``__init__``: the very event, attributes in the very order."""
    from domain.meta import event, trigger

    ours = contact.Contact.create("shop", {"email": "ann@example.com"}, {}, {}, AT, contact_id=uuid4())
    theirs = contact.Contact.create("shop", {"email": "ann@example.com"}, {}, {}, AT, contact_id=ours.id)
    trigger(ours, contact.Contact.SubscriptionChanged, AT, channel="email", status="subscribed",
            previous_status="none", address="ann@example.com", reason=None)
    theirs.trigger_event(contact.Contact.SubscriptionChanged, channel="email", status="subscribed",
                         previous_status="none", address="ann@example.com", reason=None, **AT.fields())
    assert ours == theirs
    assert [list(vars(e).items()) for e in ours.pending_events] == [
        list(vars(e).items()) for e in theirs.pending_events]
    # Whatever __init__ does besides setting the fields, it still does.
    fields = {"originator_id": ours.id, "originator_version": 9, "timestamp": AT.occurred_at, "method": "api",
              "actor": "a"}
    assert vars(event(contact.Contact.Removed, **fields)) == vars(contact.Contact.Removed(**fields))
    with pytest.raises(TypeError):
        event(contact.Contact.Removed, **fields, extra=1)
    with pytest.raises(TypeError):
        event(contact.Contact.Removed, **{**fields, "originator_id": "not-a-uuid"})
