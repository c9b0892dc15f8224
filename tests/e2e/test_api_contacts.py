"""Contacts through the HTTP API: create, search, read, change, remove, avatar, variables."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import problem_code


def test_create_answers_201_with_the_fresh_profile_and_its_position(api, domain):
    response = api.post(f"/v1/domains/{domain}/contacts", json={
        "email": " ANN@Example.com ", "phoneNumber": "+372 555 12345", "userId": "u-1", "firstName": "Ann",
        "language": "et", "timezone": "Europe/Tallinn", "birthday": "1990-05-01", "variables": {"city": "Tallinn"}})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ann@example.com" and body["phoneNumber"] == "+37255512345"
    assert body["userId"] == "u-1" and body["firstName"] == "Ann" and body["domain"] == domain
    assert body["variables"] == {"city": "Tallinn"}
    assert body["createdMethod"] == "api" and body["createdAt"]
    assert body["subscriptions"]["email"]["address"] == "ann@example.com"
    # The document carries the position of its own last event; the header that of the whole write
    # (identifier claims are saved in the same transaction).
    assert int(response.headers["Profiles-Position"]) >= body["position"] > 0


@pytest.mark.parametrize(("param", "value"), [
    ("email", "ANN@Example.com "),
    ("phoneNumber", "+372 555 12345"),
    ("userId", " u-1 "),
])
def test_search_by_each_identifier_normalises_the_query(api, domain, param, value):
    ann = api.contact(domain, email="ann@example.com", phoneNumber="+37255512345", userId="u-1")
    api.contact(domain, email="bob@example.com")

    found = api.get(f"/v1/domains/{domain}/contacts", **{param: value})

    assert found.status_code == 200, found.text
    assert [c["id"] for c in found.json()["items"]] == [ann["id"]]


def test_search_with_an_impossible_identifier_finds_nothing(api, domain):
    api.contact(domain, email="ann@example.com")
    found = api.get(f"/v1/domains/{domain}/contacts", email="not an email")
    assert found.status_code == 200 and found.json() == {"items": [], "nextCursor": None}


def test_the_contact_list_pages_with_a_cursor(api, domain):
    created = {api.contact(domain, userId=f"u-{n}")["id"] for n in range(5)}
    seen, cursor = [], None
    for _ in range(5):
        page = api.get(f"/v1/domains/{domain}/contacts", limit=2, cursor=cursor).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 5


def test_read_a_profile_and_404_for_unknown(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    assert api.get(f"/v1/domains/{domain}/contacts/{ann['id']}").json()["email"] == "ann@example.com"
    missing = api.get(f"/v1/domains/{domain}/contacts/{uuid.uuid4()}")
    assert missing.status_code == 404 and problem_code(missing) == "contact_not_found"


def test_a_contact_of_another_domain_is_not_found(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    other = api.get(f"/v1/domains/{domain}-x/contacts/{ann['id']}")
    assert other.status_code == 404 and problem_code(other) == "contact_not_found"


def test_create_needs_an_identifier_and_valid_values(api, domain):
    for body in ({"firstName": "Ann"}, {"email": "nope"}, {"phoneNumber": "12"}, {"timezone": "Mars/Base", "userId": "u"},
                 {"userId": "u", "avatarLink": "javascript:alert(1)"}, {"userId": "u", "variables": {"1bad": 1}},
                 {"userId": "u", "variables": {"big": 10**30}}, {"userId": "u", "surname": "x"}):
        response = api.post(f"/v1/domains/{domain}/contacts", json=body)
        assert response.status_code == 422, (body, response.text)
        assert problem_code(response) == "validation_error"


def test_an_identifier_belongs_to_one_contact(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    taken = api.post(f"/v1/domains/{domain}/contacts", json={"email": "Ann@Example.com"})
    assert taken.status_code == 409 and problem_code(taken) == "identifier_taken"
    assert taken.json()["existingId"] == ann["id"]

    bob = api.contact(domain, email="bob@example.com")
    stolen = api.patch(f"/v1/domains/{domain}/contacts/{bob['id']}", json={"email": "ann@example.com"})
    assert stolen.status_code == 409 and problem_code(stolen) == "identifier_taken"


def test_patch_merges_and_null_removes(api, domain):
    ann = api.contact(domain, email="ann@example.com", firstName="Ann", lastName="Lee",
                      variables={"city": "Tallinn", "score": 1})
    response = api.patch(f"/v1/domains/{domain}/contacts/{ann['id']}", json={
        "lastName": None, "phoneNumber": "+372 555 12345", "variables": {"city": None, "score": 42, "vip": True}})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["firstName"] == "Ann" and body.get("lastName") is None
    assert body["phoneNumber"] == "+37255512345"
    assert body["variables"] == {"score": 42, "vip": True}
    assert int(response.headers["Profiles-Position"]) >= body["position"] > ann["position"]
    assert body["updatedMethod"] == "api"


@pytest.mark.parametrize("field", ["createdAt", "updatedMethod", "id", "version", "subscriptions"])
def test_derived_fields_are_read_only(api, domain, field):
    ann = api.contact(domain, email="ann@example.com")
    response = api.patch(f"/v1/domains/{domain}/contacts/{ann['id']}", json={field: "x"})
    assert response.status_code == 422 and problem_code(response) == "read_only_field"


def test_writes_from_the_profile_page_are_marked_ui(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    response = api.patch(f"/v1/domains/{domain}/contacts/{ann['id']}", json={"firstName": "Ann"},
                         headers={"Profiles-Client": "ui"})
    assert response.status_code == 200, response.text
    assert response.json()["createdMethod"] == "api" and response.json()["updatedMethod"] == "ui"


def test_delete_removes_from_the_list_and_frees_identifiers(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    response = api.delete(f"/v1/domains/{domain}/contacts/{ann['id']}")
    assert response.status_code == 204 and int(response.headers["Profiles-Position"]) > ann["position"]
    assert response.content == b""

    gone = api.get(f"/v1/domains/{domain}/contacts/{ann['id']}")
    assert gone.status_code == 404 and problem_code(gone) == "contact_not_found"
    assert api.get(f"/v1/domains/{domain}/contacts", email="ann@example.com").json()["items"] == []
    again = api.contact(domain, email="ann@example.com")
    assert again["id"] != ann["id"]
    twice = api.delete(f"/v1/domains/{domain}/contacts/{ann['id']}")
    assert twice.status_code == 404 and problem_code(twice) == "contact_not_found"


def test_avatar_is_an_http_url(api, domain):
    ann = api.contact(domain, email="ann@example.com")
    url = "https://cdn.example.com/ann.png"
    response = api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/avatar", json={"url": url})
    assert response.status_code == 200 and response.json()["avatarLink"] == url
    for bad in ("ftp://x/y.png", "data:image/png;base64,AAAA", "https://" + "a" * 2100):
        refused = api.put(f"/v1/domains/{domain}/contacts/{ann['id']}/avatar", json={"url": bad})
        assert refused.status_code == 422 and problem_code(refused) == "validation_error"


def test_variables_list_search_set_and_delete(api, domain):
    ann = api.contact(domain, email="ann@example.com", variables={"city": "Tallinn", "plan": "gold"})
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/variables"

    put = api.put(f"{base}/score", json={"value": 42})
    assert put.status_code == 200 and put.json() == {"name": "score", "value": 42, "position": api.position}
    assert [v["name"] for v in api.get(base).json()["items"]] == ["city", "plan", "score"]
    assert api.get(base, search="TALL").json()["items"] == [{"name": "city", "value": "Tallinn"}]
    assert [v["name"] for v in api.get(base, search="PL").json()["items"]] == ["plan"]

    deleted = api.delete(f"{base}/plan")
    assert deleted.status_code == 204 and "Profiles-Position" in deleted.headers
    assert [v["name"] for v in api.get(base).json()["items"]] == ["city", "score"]

    for name, body in (("9lives", {"value": 1}), ("ok", {"value": {"nested": 1}}), ("ok", {"value": 2**70}), ("ok", {})):
        refused = api.put(f"{base}/{name}", json=body)
        assert refused.status_code == 422 and problem_code(refused) == "validation_error", (name, body)
