"""Consent through the HTTP API: confirmation, opt-in-only channels, blacklist, audit trail."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import problem_code


def _sub(api, domain, contact_id, channel, **body):
    return api.put(f"/v1/domains/{domain}/contacts/{contact_id}/subscriptions/{channel}", json=body)


@pytest.mark.parametrize("body", [{"status": "subscribed"}, {"status": "subscribed", "confirm": False}])
def test_a_subscription_change_needs_confirmation(api, domain, body):
    ann = api.contact(domain, email="ann@example.com")
    response = _sub(api, domain, ann["id"], "email", **body)
    assert response.status_code == 428 and problem_code(response) == "confirmation_required"
    profile = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}").json()
    assert profile["subscriptions"]["email"]["status"] == "none"


def test_confirmed_change_answers_the_profile_and_is_audited(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    response = _sub(api, domain, ann["id"], "email", status="subscribed", confirm=True, reason="asked at the desk")
    assert response.status_code == 200, response.text
    assert response.json()["subscriptions"]["email"]["status"] == "subscribed"
    assert int(response.headers["Profiles-Position"]) == response.json()["position"]  # one event: the same
    _sub(api, domain, ann["id"], "email", status="unsubscribed", confirm=True)

    history = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/subscriptions/email/history")
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [(e["previousStatus"], e["status"]) for e in entries] == [("none", "subscribed"), ("subscribed", "unsubscribed")]
    assert entries[0]["reason"] == "asked at the desk" and entries[0]["method"] == "api"
    assert entries[0]["actor"] == "admin" and entries[0]["address"] == "ann@example.com" and entries[0]["occurredAt"]


def test_opt_in_only_channels_need_a_prior_subscription(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    for channel in ("webPush", "telegram", "viber"):
        response = _sub(api, domain, ann["id"], channel, status="subscribed", confirm=True, address="chat-1")
        assert response.status_code == 409 and problem_code(response) == "no_prior_subscription", channel


def test_opt_in_from_the_person_allows_a_later_manual_resubscription(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    envelope = {"eventId": str(uuid.uuid4()), "type": "subscription.changed", "occurredAt": "2026-11-28T10:00:00Z",
                "contact": {"email": "ann@example.com"},
                "data": {"channel": "telegram", "status": "subscribed", "address": "tg-42"}}
    assert api.post(f"/v1/domains/{domain}/events", json={"events": [envelope]}).json()["accepted"] == 1
    assert _sub(api, domain, ann["id"], "telegram", status="unsubscribed", confirm=True).status_code == 200
    again = _sub(api, domain, ann["id"], "telegram", status="subscribed", confirm=True)
    assert again.status_code == 200 and again.json()["subscriptions"]["telegram"]["address"] == "tg-42"


def test_sms_without_a_phone_has_no_address(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    response = _sub(api, domain, ann["id"], "sms", status="subscribed", confirm=True)
    assert response.status_code == 409 and problem_code(response) == "no_address"


def test_blacklisted_channel_cannot_be_subscribed_until_removed(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/blacklist/email"
    listed = api.put(base, json={"reason": "complaint"})
    assert listed.status_code == 200 and "Profiles-Position" in listed.headers
    email = listed.json()["subscriptions"]["email"]
    assert email["blacklisted"] is True and email["blacklistReason"] == "complaint"

    refused = _sub(api, domain, ann["id"], "email", status="subscribed", confirm=True)
    assert refused.status_code == 409 and problem_code(refused) == "blacklisted"

    removed = api.delete(base)
    assert removed.status_code == 204 and "Profiles-Position" in removed.headers
    assert api.get(f"/v1/domains/{domain}/contacts/{ann['id']}").json()["subscriptions"]["email"]["blacklisted"] is False
    assert _sub(api, domain, ann["id"], "email", status="subscribed", confirm=True).status_code == 200


def test_blacklist_and_subscription_input_is_validated(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    for path, body in (("blacklist/email", {"reason": "because"}), ("blacklist/fax", {"reason": "manual"}),
                       ("subscriptions/fax", {"status": "subscribed", "confirm": True}),
                       ("subscriptions/email", {"status": "maybe", "confirm": True})):
        response = api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/{path}", json=body)
        assert response.status_code == 422 and problem_code(response) == "validation_error", path
    missing = api.put(f"/v1/domains/{domain}/contacts/{uuid.uuid4()}/blacklist/email", json={"reason": "manual"})
    assert missing.status_code == 404 and problem_code(missing) == "contact_not_found"
