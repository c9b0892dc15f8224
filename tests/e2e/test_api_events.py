"""``POST /events``: the Kafka envelope over HTTP, item by item, nothing half-applied."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import problem_code


def _envelope(type_: str = "contact.upserted", contact=None, data=None, event_id=None):
    return {"eventId": event_id or str(uuid.uuid4()), "type": type_, "occurredAt": "2026-11-28T10:00:00Z",
            "contact": contact or {"email": "ann@example.com"}, "data": data if data is not None else {"firstName": "Ann"}}


def test_valid_events_apply_and_invalid_ones_are_reported_by_index(api, domain):
    batch = [
        _envelope(data={"firstName": "Ann", "variables": {"city": "Tallinn"}}),
        {"eventId": "x", "type": "contact.upserted"},
        _envelope("no.such.type"),
        _envelope("contact.variables_set", contact={"email": "nobody@example.com"}, data={"variables": {"a": 1}}),
        _envelope("activity", data={"name": "orderPlaced", "properties": {"total": 12.5}}),
        _envelope(data={"firstName": "X"}) | {"domain": "someone-else"},
        "not an object",
        _envelope("activity", data={"name": "x", "properties": {"big": 10**40}}),
    ]
    response = api.post(f"/v1/domains/{domain}/events", json={"events": batch})

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "validation_error"), (2, "unknown_type"), (3, "contact_not_found"), (5, "invalid_domain"),
        (6, "validation_error"), (7, "validation_error")]
    assert all(r["message"] for r in body["rejected"])
    assert body["position"] == int(response.headers["Profiles-Position"])

    found = api.get(f"/v1/domains/{domain}/contacts", email="ann@example.com").json()["items"]
    assert found[0]["firstName"] == "Ann" and found[0]["variables"] == {"city": "Tallinn"}
    assert found[0]["createdMethod"] == "api"
    feed = api.get(f"/v1/domains/{domain}/contacts/{found[0]['id']}/activity", type="activity").json()["items"]
    assert [e["type"] for e in feed] == ["activity"]


def test_the_same_event_id_is_applied_once(api, domain):
    event = _envelope("activity", data={"name": "pageViewed"})
    api.post(f"/v1/domains/{domain}/events", json={"events": [_envelope()]})
    first = api.post(f"/v1/domains/{domain}/events", json={"events": [event]}).json()
    second = api.post(f"/v1/domains/{domain}/events", json={"events": [event, event]}).json()
    assert first["accepted"] == 1 and second["accepted"] == 2 and second["rejected"] == []
    contact = api.get(f"/v1/domains/{domain}/contacts", email="ann@example.com").json()["items"][0]
    feed = api.get(f"/v1/domains/{domain}/contacts/{contact['id']}/activity", type="activity").json()["items"]
    assert len(feed) == 1


def test_a_batch_is_at_most_1000_events(api, domain):
    response = api.post(f"/v1/domains/{domain}/events", json={"events": [_envelope()] * 1001})
    assert response.status_code == 422 and problem_code(response) == "validation_error"
    many = [_envelope(contact={"userId": f"u-{n}"}, data={}) for n in range(1000)]
    accepted = api.post(f"/v1/domains/{domain}/events", json={"events": many})
    assert accepted.status_code == 202 and accepted.json()["accepted"] == 1000
    assert problem_code(api.post(f"/v1/domains/{domain}/events", json={"items": []})) == "validation_error"


def test_upstream_times_with_an_offset_read_back_in_utc_everywhere(api, domain):
    at = "2026-11-28T12:00:00+02:00"
    batch = [_envelope(data={"firstName": "Ann"}) | {"occurredAt": at},
             _envelope("subscription.changed", data={"channel": "email", "status": "subscribed"}) | {"occurredAt": at}]
    assert api.post(f"/v1/domains/{domain}/events", json={"events": batch}).json()["accepted"] == 2

    ann = api.get(f"/v1/domains/{domain}/contacts", email="ann@example.com").json()["items"][0]
    assert ann["createdAt"] == ann["updatedAt"] == ann["subscriptions"]["email"]["changedAt"] == "2026-11-28T10:00:00+00:00"
    feed = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity").json()["items"]
    assert {e["occurredAt"] for e in feed} == {"2026-11-28T10:00:00+00:00"}
