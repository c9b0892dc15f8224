"""The hottest reads (a profile, a search by one identifier) answered on the asyncio path
answer exactly what the read model holds, and refuse what the routes refuse (bench B4)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson

from tests.e2e.conftest import KEYS, Api, problem_code


def _created(api: Api, domain: str, **fields: Any) -> dict[str, Any]:
    contact = api.contact(domain, **fields)
    # Read-your-write once; the reads under test then carry no minPosition.
    assert api.get(f"/v1/domains/{domain}/contacts/{contact['id']}").status_code == 200
    return contact


def test_profile_and_search_answer_the_read_models_documents(service, api, domain):
    email = f"ann.{uuid.uuid4().hex[:8]}@example.com"
    ann = _created(api, domain, email=email, firstName="Ann", variables={"city": "Tallinn", "score": 42})
    read_model = service.container.read_model

    profile = service.get(f"/v1/domains/{domain}/contacts/{ann['id']}", headers=api.headers)
    assert profile.status_code == 200 and profile.headers["content-type"] == "application/json"
    assert profile.content == orjson.dumps(read_model.contact(domain, uuid.UUID(ann["id"])))
    # With minPosition the read takes the FastAPI route: the same answer, byte for byte.
    routed = service.get(f"/v1/domains/{domain}/contacts/{ann['id']}", params={"minPosition": 1},
                         headers=api.headers)
    assert (routed.status_code, routed.headers, routed.content) == (200, profile.headers, profile.content)

    found = service.get(f"/v1/domains/{domain}/contacts", params={"email": f"  {email.upper()} "},
                        headers=api.headers)
    items, next_cursor = read_model.find_contacts(domain, email=email)
    assert found.status_code == 200 and found.content == orjson.dumps({"items": items, "nextCursor": next_cursor})
    routed = service.get(f"/v1/domains/{domain}/contacts", params={"email": email, "minPosition": 1},
                         headers=api.headers)
    assert (routed.status_code, routed.headers, routed.content) == (200, found.headers, found.content)
    assert [c["id"] for c in found.json()["items"]] == [ann["id"]]


def test_searches_by_phone_and_user_id_answer_as_the_route_does(service, api, domain):
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    ann = _created(api, domain, phoneNumber="+372 5551 2345", userId=user_id, firstName="Ann")
    base = f"/v1/domains/{domain}/contacts"
    for params in ({"phoneNumber": "+37255512345"}, {"phoneNumber": " +372 5551 2345 "}, {"userId": user_id}):
        found = service.get(base, params=params, headers=api.headers)
        assert found.status_code == 200 and [c["id"] for c in found.json()["items"]] == [ann["id"]], params
        routed = service.get(base, params={**params, "minPosition": 1}, headers=api.headers)
        assert (routed.status_code, routed.headers, routed.content) == (200, found.headers, found.content)
    for params, status in (({"phoneNumber": "not a phone"}, 200), ({"userId": "nobody-" + user_id}, 200),
                           ({"phoneNumber": "+3" * 30}, 422), ({"userId": "u" * 300}, 422)):
        response = service.get(base, params=params, headers=api.headers)
        assert response.status_code == status, (params, response.text)
        if status == 200:
            assert response.json() == {"items": [], "nextCursor": None}
        else:
            assert problem_code(response) == "validation_error"


def test_the_async_reader_reads_what_the_sync_one_reads(service, api, domain):
    contacts = [_created(api, domain, email=f"c{i}.{uuid.uuid4().hex[:6]}@example.com", userId=f"u-{i}")
                for i in range(3)]
    read_model = service.container.read_model
    head = read_model.head()

    async def both() -> list[tuple[Any, Any]]:
        reader = read_model.async_twin()
        await reader.open()
        try:
            pairs = [(await reader.head(), head), (await reader.wait_for(head, ("profile",), timeout=5), True)]
            for c in contacts:
                cid = uuid.UUID(c["id"])
                pairs.append((await reader.contact(domain, cid), read_model.contact(domain, cid)))
                pairs.append((await reader.find_contacts(domain, email=c["email"]),
                              read_model.find_contacts(domain, email=c["email"])))
                pairs.append((await reader.find_contacts(domain, user_id=c["userId"]),
                              read_model.find_contacts(domain, user_id=c["userId"])))
            pairs.append((await reader.contact(domain, uuid.uuid4()), None))
            pairs.append((await reader.find_contacts(domain, email="not an email"), ([], None)))
            cursor: str | None = None  # the Contact List, two at a time, on both readers
            while True:
                page = await reader.find_contacts(domain, limit=2, cursor=cursor)
                pairs.append((page, read_model.find_contacts(domain, limit=2, cursor=cursor)))
                cursor = page[1]
                if cursor is None:
                    break
            return pairs
        finally:
            await reader.close()

    for got, expected in asyncio.run(both()):
        assert got == expected
    assert not read_model.async_twin().is_open


def test_another_domains_key_and_unknown_keys_are_refused(service, domain):
    shop = Api(service, {"Authorization": f"Bearer {KEYS['shop']}"})
    ann = _created(shop, "shop", email=f"{uuid.uuid4().hex[:8]}@example.com")
    blog = {"Authorization": f"Bearer {KEYS['blog']}"}
    for path, params in ((f"/v1/domains/shop/contacts/{ann['id']}", {}),
                         ("/v1/domains/shop/contacts", {"email": ann["email"]})):
        refused = service.get(path, params=params, headers=blog)
        assert refused.status_code == 403 and problem_code(refused) == "forbidden"
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = service.get(path, params=params, headers=headers)
            assert response.status_code == 401 and problem_code(response) == "unauthorized"
        assert service.get(path, params=params, headers=shop.headers).status_code == 200
    # The contact is not in blog's Contact List, whoever asks.
    admin = {"Authorization": f"Bearer {KEYS['*']}"}
    missing = service.get(f"/v1/domains/blog/contacts/{ann['id']}", headers=admin)
    assert missing.status_code == 404 and problem_code(missing) == "contact_not_found"
    assert service.get("/v1/domains/blog/contacts", params={"email": ann["email"]},
                       headers=admin).json() == {"items": [], "nextCursor": None}


def test_unusual_reads_get_the_routes_answers(service, api, domain):
    ann = _created(api, domain, email=f"{uuid.uuid4().hex[:8]}@example.com")
    base = f"/v1/domains/{domain}/contacts"
    upper = service.get(f"{base}/{ann['id'].upper()}", headers=api.headers)
    assert upper.status_code == 200 and upper.json()["id"] == ann["id"]
    for path, params, status, code in (
        (f"{base}/{uuid.uuid4()}", {}, 404, "contact_not_found"),
        (f"{base}/not-a-uuid", {}, 422, "validation_error"),
        ("/v1/domains/Bad_Slug/contacts", {"email": ann["email"]}, 422, "invalid_domain"),
        (base, {"email": "x" * 400}, 422, "validation_error"),
        (f"{base}/{ann['id']}", {"minPosition": "-1"}, 422, "validation_error"),
    ):
        response = service.get(path, params=params, headers=api.headers)
        assert response.status_code == status and problem_code(response) == code, (path, response.text)
    assert service.get(base, params={"email": "not an email"}, headers=api.headers).json() == \
        {"items": [], "nextCursor": None}
    both = service.get(base, params={"email": ann["email"], "limit": 1}, headers=api.headers).json()
    assert [c["id"] for c in both["items"]] == [ann["id"]]


def test_the_hot_reads_are_timed_under_their_route_templates(service, api, domain):
    ann = _created(api, domain, email=f"{uuid.uuid4().hex[:8]}@example.com")
    service.get(f"/v1/domains/{domain}/contacts/{ann['id']}", headers=api.headers)
    service.get(f"/v1/domains/{domain}/contacts", params={"email": ann["email"]}, headers=api.headers)
    scraped = service.get("/metrics").text
    for template in ("/v1/domains/{domain}/contacts/{contactId}", "/v1/domains/{domain}/contacts"):
        assert f'route="{template}",status="200"' in scraped.replace('method="GET",', "")


def test_a_read_waiting_for_its_position_leaves_the_event_loop_free(service):
    read_model = service.container.read_model

    async def wait_and_tick() -> tuple[bool, int]:
        reader = read_model.async_twin()
        await reader.open()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        try:
            # A position no write has reached yet: the wait times out, sleeping between looks.
            return await reader.wait_for(read_model.head() + 1_000_000, ("profile",), timeout=0.5), ticks
        finally:
            ticker.cancel()
            await reader.close()

    reached, ticks = asyncio.run(wait_and_tick())
    assert not reached and ticks >= 20


def test_without_the_lifespan_the_hot_reads_take_the_sync_read_model(container):
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(container))  # no `with`: the async reader never opens
    missing = client.get(f"/v1/domains/shop/contacts/{uuid.uuid4()}")
    assert missing.status_code == 404 and problem_code(missing) == "contact_not_found"
    assert client.get("/v1/domains/shop/contacts", params={"email": "a@example.com", "minPosition": 0}).json() == \
        {"items": [], "nextCursor": None}


def test_a_position_the_profile_has_not_reached_is_503_on_the_async_path(container, monkeypatch):
    """No projection runs here: the write is stored, the profile never catches up."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from api import deps
    from api.app import create_app
    from domain.meta import Meta

    monkeypatch.setattr(deps, "WAIT_SECONDS", 0.3)
    contact, position = container.app.create_contact(
        "shop", {"email": "ann@example.com"}, {}, Meta(method="api", actor="test", occurred_at=datetime.now(UTC)))
    with TestClient(create_app(container)) as client:  # the lifespan opens the async reader
        for path, params in ((f"/v1/domains/shop/contacts/{contact.id}", {}),
                             ("/v1/domains/shop/contacts", {"email": "ann@example.com"})):
            lagging = client.get(path, params={**params, "minPosition": position})
            assert lagging.status_code == 503 and problem_code(lagging) == "projection_lagging"
            beyond = client.get(path, params={**params, "minPosition": position + 1})
            assert beyond.status_code == 422 and problem_code(beyond) == "validation_error"
