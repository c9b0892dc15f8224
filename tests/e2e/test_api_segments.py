"""Segments through the HTTP API: define, list, read, redefine, delete, membership both ways."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import problem_code

TALLINN = {"field": "variables.city", "op": "eq", "value": "Tallinn"}


def test_segment_lifecycle_and_membership(api, domain):
    ann = api.contact(domain, email="ann@example.com", variables={"city": "Tallinn"})
    api.contact(domain, email="bob@example.com", variables={"city": "Tartu"})
    created = api.post(f"/v1/domains/{domain}/segments", json={"name": "Tallinn", "conditions": TALLINN})
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["name"] == "Tallinn" and segment["position"] == int(created.headers["Profiles-Position"])
    base = f"/v1/domains/{domain}/segments/{segment['id']}"

    assert [s["id"] for s in api.get(f"/v1/domains/{domain}/segments").json()["items"]] == [segment["id"]]
    assert api.get(base).json()["name"] == "Tallinn"
    members = api.get(f"{base}/contacts").json()["items"]
    assert [m["id"] for m in members] == [ann["id"]] and members[0]["email"] == "ann@example.com" and members[0]["since"]
    mine = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/segments").json()["items"]
    assert [(s["id"], s["name"]) for s in mine] == [(segment["id"], "Tallinn")]

    redefined = api.put(base, json={"name": "Tartu", "conditions": {**TALLINN, "value": "Tartu"}})
    assert redefined.status_code == 200 and redefined.json()["name"] == "Tartu"
    assert [m["email"] for m in api.get(f"{base}/contacts").json()["items"]] == ["bob@example.com"]
    assert api.get(f"/v1/domains/{domain}/contacts/{ann['id']}/segments").json()["items"] == []

    deleted = api.delete(base)
    assert deleted.status_code == 204 and "Profiles-Position" in deleted.headers
    gone = api.get(base)
    assert gone.status_code == 404 and problem_code(gone) == "segment_not_found"
    assert problem_code(api.delete(base)) == "segment_not_found"


def test_invalid_conditions_are_refused(api, domain):
    for conditions in ({"field": "shoeSize", "op": "eq", "value": 1}, {"all": []}, {"field": "email", "op": "like"},
                       {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": TALLINN}}}}}}}}}}):
        response = api.post(f"/v1/domains/{domain}/segments", json={"name": "x", "conditions": conditions})
        assert response.status_code == 422 and problem_code(response) == "invalid_condition", conditions
    assert problem_code(api.post(f"/v1/domains/{domain}/segments", json={"name": "x"})) == "validation_error"
    missing = api.put(f"/v1/domains/{domain}/segments/{uuid.uuid4()}", json={"name": "x", "conditions": TALLINN})
    assert missing.status_code == 404 and problem_code(missing) == "segment_not_found"
    assert problem_code(api.get(f"/v1/domains/{domain}/segments/{uuid.uuid4()}/contacts")) == "segment_not_found"


def test_a_date_rule_compares_instants_and_refuses_what_is_no_date(api, domain):
    events = [{"eventId": f"tz-{n}", "type": "contact.upserted", "occurredAt": at, "contact": {"email": email},
               "data": {"birthday": birthday}}
              for n, (email, at, birthday) in enumerate([
                  ("early@example.com", "2026-11-28T11:30:00+02:00", "1990-05-01"),   # 09:30 UTC
                  ("late@example.com", "2026-11-28T09:30:00-02:00", "1999-12-31")])]  # 11:30 UTC
    assert api.post(f"/v1/domains/{domain}/events", json={"events": events}).json()["rejected"] == []

    def members(conditions: dict) -> list[str]:
        created = api.post(f"/v1/domains/{domain}/segments", json={"name": "when", "conditions": conditions})
        assert created.status_code == 201, created.text
        listed = api.get(f"/v1/domains/{domain}/segments/{created.json()['id']}/contacts").json()["items"]
        return sorted(m["email"] for m in listed)

    # 10:00 UTC, written with Tallinn's offset: only the contact created after it
    after = {"field": "createdAt", "op": "gt", "value": "2026-11-28T12:00:00+02:00"}
    assert members(after) == ["late@example.com"]
    assert members({"field": "createdAt", "op": "lt", "value": "2026-11-28T10:00"}) == ["early@example.com"]
    assert members({"field": "birthday", "op": "gte", "value": "1995-01-01"}) == ["late@example.com"]
    stored = api.get(f"/v1/domains/{domain}/segments").json()["items"]
    assert after | {"value": "2026-11-28T10:00:00+00:00"} in [s["conditions"] for s in stored]  # kept in UTC

    for conditions in ({"field": "createdAt", "op": "gt", "value": "yesterday"},
                       {"field": "createdAt", "op": "lte", "value": 20261128},
                       {"field": "birthday", "op": "lt", "value": "01/05/1990"},
                       {"field": "birthday", "op": "in", "value": ["1990-05-01", "1990-02-30"]}):
        refused = api.post(f"/v1/domains/{domain}/segments", json={"name": "x", "conditions": conditions})
        assert refused.status_code == 422 and problem_code(refused) == "invalid_condition", conditions
        assert "date" in refused.json()["detail"]
