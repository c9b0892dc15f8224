"""Subscriptions and the blacklist: rules 1, 2 and 6 of DESIGN §2."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import errors, ingest
from domain.meta import Meta
from tests.unit.history import head, new_events

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def from_kafka(app, contact: dict, channel: str, status: str, address: str | None = None) -> object:
    data = {"channel": channel, "status": status} | ({"address": address} if address else {})
    envelope = ingest.parse({"eventId": f"e-{head(app)}-{channel}-{status}", "domain": "shop",
                             "type": "subscription.changed", "occurredAt": "2026-01-01T09:00:00Z",
                             "contact": contact, "data": data})
    result = app.ingest([envelope], lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    return result.results[0]


@pytest.fixture
def ann(memory_app):
    contact, _ = memory_app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1"}, {}, AT)
    return contact.id


def subscribe(app, contact_id, channel, **kwargs):
    return app.change_subscription("shop", contact_id, channel, "subscribed", AT, confirmed=True, **kwargs)


def test_email_with_an_address_can_be_subscribed_manually(memory_app, ann):
    before = head(memory_app)
    contact, _ = subscribe(memory_app, ann, "email")
    (event,) = new_events(memory_app, before)
    assert type(event).__qualname__ == "Contact.SubscriptionChanged"
    assert (event.channel, event.status, event.previous_status, event.address) == (
        "email", "subscribed", "none", "ann@example.com")
    assert (event.method, event.actor, event.timestamp) == ("ui", "marketer@shop", AT.occurred_at)
    assert contact.subscriptions["email"]["status"] == "subscribed"


def test_sms_without_a_phone_number_has_no_address(memory_app, ann):
    with pytest.raises(errors.NoAddress) as refused:
        subscribe(memory_app, ann, "sms")
    assert refused.value.code == "no_address"
    memory_app.update_contact("shop", ann, {"phoneNumber": "+37255512345"}, None, AT)
    contact, _ = subscribe(memory_app, ann, "sms")
    assert contact.subscriptions["sms"]["address"] == "+37255512345"


def test_a_subscription_change_needs_confirmation(memory_app, ann):
    before = head(memory_app)
    for status in ("subscribed", "unsubscribed"):
        with pytest.raises(errors.ConfirmationRequired) as refused:
            memory_app.change_subscription("shop", ann, "email", status, AT, confirmed=False)
        assert (refused.value.code, refused.value.status) == ("confirmation_required", 428)
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize("channel", ["webPush", "telegram", "viber"])
def test_opt_in_channels_cannot_be_subscribed_manually_without_prior_opt_in(memory_app, ann, channel):
    before = head(memory_app)
    with pytest.raises(errors.NoPriorSubscription) as refused:
        subscribe(memory_app, ann, channel, address="addr-1")
    assert refused.value.code == "no_prior_subscription"
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize("channel", ["webPush", "telegram", "viber"])
def test_opt_in_channels_can_be_resubscribed_after_the_persons_own_opt_in(memory_app, ann, channel):
    assert from_kafka(memory_app, {"userId": "u-1"}, channel, "subscribed", address="chat-42") == ann
    from_kafka(memory_app, {"userId": "u-1"}, channel, "unsubscribed")
    before = head(memory_app)
    contact, _ = subscribe(memory_app, ann, channel)
    (event,) = new_events(memory_app, before)
    assert (event.status, event.previous_status, event.address) == ("subscribed", "unsubscribed", "chat-42")
    assert contact.subscriptions[channel]["status"] == "subscribed"


def test_own_opt_in_without_address_on_telegram_is_no_address(memory_app, ann):
    result = from_kafka(memory_app, {"userId": "u-1"}, "telegram", "subscribed")
    assert isinstance(result, errors.NoAddress)
    assert memory_app.contact("shop", ann).subscriptions["telegram"]["status"] == "none"


def test_own_opt_in_on_email_uses_the_contacts_email(memory_app, ann):
    assert from_kafka(memory_app, {"userId": "u-1"}, "email", "subscribed") == ann
    assert memory_app.contact("shop", ann).subscriptions["email"]["address"] == "ann@example.com"


def test_unsubscribing_needs_no_prior_subscription_nor_address(memory_app, ann):
    contact, _ = memory_app.change_subscription("shop", ann, "viber", "unsubscribed", AT, confirmed=True)
    assert contact.subscriptions["viber"]["status"] == "unsubscribed"


def test_a_blacklisted_channel_cannot_be_subscribed_until_unblacklisted(memory_app, ann):
    before = head(memory_app)
    memory_app.blacklist("shop", ann, "email", "manual", AT)
    (event,) = new_events(memory_app, before)
    assert (type(event).__qualname__, event.channel, event.reason) == ("Contact.Blacklisted", "email", "manual")
    with pytest.raises(errors.Blacklisted):
        subscribe(memory_app, ann, "email")
    assert isinstance(from_kafka(memory_app, {"userId": "u-1"}, "email", "subscribed"), errors.Blacklisted)
    contact, _ = memory_app.unblacklist("shop", ann, "email", None, AT)
    assert contact.subscriptions["email"]["blacklisted"] is False
    contact, _ = subscribe(memory_app, ann, "email")
    assert contact.subscriptions["email"]["status"] == "subscribed"


def test_blacklist_reason_is_validated(memory_app, ann):
    with pytest.raises(errors.InvalidInput):
        memory_app.blacklist("shop", ann, "email", "because", AT)
    for reason in ("manual", "hardBounce", "complaint", "listUnsubscribe"):
        contact, _ = memory_app.blacklist("shop", ann, "sms", reason, AT)
        assert contact.subscriptions["sms"]["blacklistReason"] == reason


@pytest.mark.parametrize(("channel", "status"), [("fax", "subscribed"), ("email", "maybe")])
def test_unknown_channel_or_status_is_refused(memory_app, ann, channel, status):
    with pytest.raises(errors.InvalidInput):
        memory_app.change_subscription("shop", ann, channel, status, AT, confirmed=True)


def test_the_same_status_again_records_nothing(memory_app, ann):
    subscribe(memory_app, ann, "email")
    before = head(memory_app)
    subscribe(memory_app, ann, "email")
    assert new_events(memory_app, before) == []


def test_consent_trail_keeps_source_and_reason(memory_app, ann):
    before = head(memory_app)
    subscribe(memory_app, ann, "email", reason="asked at the counter")
    memory_app.change_subscription("shop", ann, "email", "unsubscribed", AT, confirmed=True, reason="asked by phone")
    trail = [(e.status, e.previous_status, e.reason, e.method, e.actor) for e in new_events(memory_app, before)]
    assert trail == [("subscribed", "none", "asked at the counter", "ui", "marketer@shop"),
                     ("unsubscribed", "subscribed", "asked by phone", "ui", "marketer@shop")]


@pytest.mark.parametrize("channel", ["webPush", "telegram", "viber"])
def test_manual_resubscription_keeps_the_opted_in_address(memory_app, ann, channel):
    from_kafka(memory_app, {"userId": "u-1"}, channel, "subscribed", address="own-42")
    from_kafka(memory_app, {"userId": "u-1"}, channel, "unsubscribed")
    before = head(memory_app)
    with pytest.raises(errors.NoPriorSubscription):
        subscribe(memory_app, ann, channel, address="typed-in-by-marketer")
    assert new_events(memory_app, before) == []
    contact, _ = subscribe(memory_app, ann, channel, address="own-42")
    assert contact.subscriptions[channel]["address"] == "own-42"
