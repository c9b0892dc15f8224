"""Sending, resending and delivery status (DESIGN §2 rules 2–3, the §4 check order, §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import errors, ingest
from domain.meta import Meta
from tests.unit.history import head, new_events

AT = Meta(method="ui", actor="marketer@shop", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


@pytest.fixture
def shop(memory_app):
    """Ann, subscribed to email; an approved email template, a draft one and an sms one."""
    ann, _ = memory_app.create_contact("shop", {"email": "ann@example.com", "userId": "u-1", "firstName": "Ann"},
                                       {}, AT)
    memory_app.change_subscription("shop", ann.id, "email", "subscribed", AT, confirmed=True)
    approved, _ = memory_app.create_template("shop", "email", "welcome", "Hi {{ firstName }}", "Welcome {{ firstName }}",
                                             {}, AT)
    memory_app.approve_template("shop", approved.id, AT)
    draft, _ = memory_app.create_template("shop", "email", "draft", "s", "b", {}, AT)
    sms, _ = memory_app.create_template("shop", "sms", "code", "", "Code 1234", {}, AT)
    memory_app.approve_template("shop", sms.id, AT)
    return {"ann": ann.id, "approved": approved.id, "draft": draft.id, "sms": sms.id}


def test_send_records_the_rendered_content(memory_app, shop):
    before = head(memory_app)
    message, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    (event,) = new_events(memory_app, before)
    assert type(event).__qualname__ == "Message.Sent"
    assert (event.channel, event.address, event.subject, event.body, event.kind, event.resend_of) == (
        "email", "ann@example.com", "Hi Ann", "Welcome Ann", "sent", None)
    assert (event.contact_id, event.template_id, event.method, event.actor) == (
        shop["ann"], shop["approved"], "ui", "marketer@shop")
    assert message.id == event.originator_id


def test_send_checks_run_in_the_contract_order(memory_app, shop):
    """Each case holds every later failure too; the earliest one must win."""
    ann, stranger = shop["ann"], uuid4()
    memory_app.blacklist("shop", ann, "sms", "manual", AT)
    # viber: not subscribed; sms: blacklisted and not subscribed.
    cases = [
        ("webPush", shop["sms"], stranger, errors.ChannelNotSendable),
        ("viber", shop["sms"], stranger, errors.TemplateChannelMismatch),
        ("email", uuid4(), ann, errors.TemplateNotFound),
        ("email", shop["draft"], stranger, errors.ContactNotFound),
        ("sms", shop["sms"], stranger, errors.ContactNotFound),
        ("email", shop["draft"], ann, errors.TemplateNotApproved),
        ("sms", shop["sms"], ann, errors.Blacklisted),
    ]
    before = head(memory_app)
    for channel, template_id, contact_id, error in cases:
        with pytest.raises(error) as refused:
            memory_app.send_message("shop", contact_id, channel, template_id, AT)
        assert type(refused.value) is error, (channel, refused.value)
    memory_app.unblacklist("shop", ann, "sms", None, AT)
    memory_app.update_contact("shop", ann, {"phoneNumber": "+37255512345"}, None, AT)
    with pytest.raises(errors.NotSubscribed):
        memory_app.send_message("shop", ann, "sms", shop["sms"], AT)
    assert [type(e).__qualname__ for e in new_events(memory_app, before) if "Message" in type(e).__qualname__] == []


def test_codes_match_the_http_contract():
    assert [(e.code, e.status) for e in (
        errors.ChannelNotSendable(), errors.TemplateChannelMismatch(), errors.TemplateNotFound(),
        errors.ContactNotFound(), errors.TemplateNotApproved(), errors.Blacklisted(), errors.NotSubscribed(),
    )] == [("channel_not_sendable", 422), ("template_channel_mismatch", 422), ("template_not_found", 404),
           ("contact_not_found", 404), ("template_not_approved", 409), ("blacklisted", 409), ("not_subscribed", 409)]


def test_a_template_of_another_domain_is_not_found(memory_app, shop):
    foreign, _ = memory_app.create_template("blog", "email", "t", "s", "b", {}, AT)
    memory_app.approve_template("blog", foreign.id, AT)
    with pytest.raises(errors.TemplateNotFound):
        memory_app.send_message("shop", shop["ann"], "email", foreign.id, AT)


def test_unsubscribed_channel_is_not_messaged(memory_app, shop):
    memory_app.change_subscription("shop", shop["ann"], "email", "unsubscribed", AT, confirmed=True)
    with pytest.raises(errors.NotSubscribed):
        memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)


def test_resend_repeats_exactly_the_stored_content(memory_app, shop):
    original, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    memory_app.revise_template("shop", shop["approved"], "New {{ lastName }}", "Changed body", {}, AT)
    memory_app.approve_template("shop", shop["approved"], AT)
    memory_app.update_contact("shop", shop["ann"], {"firstName": "Anna"}, None, AT)
    before = head(memory_app)
    resent, _ = memory_app.resend_message("shop", shop["ann"], original.id, AT)
    (event,) = new_events(memory_app, before)
    assert (event.subject, event.body, event.kind, event.resend_of) == ("Hi Ann", "Welcome Ann", "resent", original.id)
    assert resent.id != original.id
    fresh, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    assert (fresh.subject, fresh.body) == ("New ", "Changed body")


def test_resend_obeys_the_blacklist_and_subscription(memory_app, shop):
    original, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    memory_app.blacklist("shop", shop["ann"], "email", "complaint", AT)
    with pytest.raises(errors.Blacklisted):
        memory_app.resend_message("shop", shop["ann"], original.id, AT)
    memory_app.unblacklist("shop", shop["ann"], "email", None, AT)
    memory_app.change_subscription("shop", shop["ann"], "email", "unsubscribed", AT, confirmed=True)
    with pytest.raises(errors.NotSubscribed):
        memory_app.resend_message("shop", shop["ann"], original.id, AT)


def test_resend_of_an_unknown_or_foreign_message_is_not_found(memory_app, shop):
    original, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    bob, _ = memory_app.create_contact("shop", {"email": "bob@example.com"}, {}, AT)
    for contact_id, message_id in ((shop["ann"], uuid4()), (bob.id, original.id)):
        with pytest.raises(errors.MessageNotFound):
            memory_app.resend_message("shop", contact_id, message_id, AT)


def status(app, message_id, value, **extra):
    envelope = ingest.parse({"eventId": str(uuid4()), "domain": "shop", "type": "message.status",
                             "occurredAt": "2026-01-02T10:00:00Z", "contact": {"userId": "u-1"},
                             "data": {"messageId": str(message_id), "status": value, **extra}})
    return app.ingest([envelope], lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt)).results[0]


@pytest.mark.parametrize(("value", "extra", "reason"), [
    ("bounced", {"hard": True}, "hardBounce"), ("complained", {}, "complaint")])
def test_hard_bounce_and_complaint_blacklist_the_channel(memory_app, shop, value, extra, reason):
    message, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    before = head(memory_app)
    assert status(memory_app, message.id, value, **extra) == shop["ann"]
    events = {type(e).__qualname__: e for e in new_events(memory_app, before)}
    assert sorted(events) == ["Contact.Blacklisted", "Message.StatusRecorded"]
    blacklisted = events["Contact.Blacklisted"]
    assert (blacklisted.channel, blacklisted.reason, blacklisted.method) == ("email", reason, "kafka")
    with pytest.raises(errors.Blacklisted):
        memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)


@pytest.mark.parametrize(("value", "extra"), [
    ("bounced", {}), ("bounced", {"hard": False}), ("delivered", {}), ("opened", {}), ("clicked", {}), ("failed", {})])
def test_other_statuses_only_record(memory_app, shop, value, extra):
    message, _ = memory_app.send_message("shop", shop["ann"], "email", shop["approved"], AT)
    before = head(memory_app)
    status(memory_app, message.id, value, **extra)
    assert [type(e).__qualname__ for e in new_events(memory_app, before)] == ["Message.StatusRecorded"]
    assert memory_app.contact("shop", shop["ann"]).subscriptions["email"]["blacklisted"] is False


def test_status_of_an_unknown_message_is_refused(memory_app, shop):
    assert isinstance(status(memory_app, uuid4(), "delivered"), errors.MessageNotFound)
