"""Per-domain API keys: 401 without a known key, 403 for another domain's, on every route."""

from __future__ import annotations

import logging
import re
import uuid

import pytest

from tests.e2e.conftest import KEYS, Api, problem_code

PATH_VALUES = {"contactId": str(uuid.uuid4()), "channel": "email", "name": "city", "templateId": str(uuid.uuid4()),
               "activityId": "a-1", "noteId": "n-1", "segmentId": str(uuid.uuid4())}


def _domain_routes() -> list[tuple[str, str]]:
    from api.app import ROUTERS

    found = []
    for module in ROUTERS:
        for route in module.router.routes:
            if route.path.startswith("/v1/domains/{domain}"):
                path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "{" + m.group(1) + "}"), route.path)
                found += [(method, path) for method in sorted(route.methods)]
    return found


ROUTES = _domain_routes()


def test_every_domain_route_is_covered():
    assert len(ROUTES) == 33  # every /v1/domains/{domain} route of DESIGN §4 (+ GET one template)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_another_domains_key_is_refused_on_every_route(service, method, path):
    shop = Api(service, {"Authorization": f"Bearer {KEYS['shop']}"})
    response = shop.request(method, path.format(domain="blog"), json={})
    assert response.status_code == 403 and problem_code(response) == "forbidden"
    nobody = Api(service, {})
    response = nobody.request(method, path.format(domain="shop"), json={})
    assert response.status_code == 401 and problem_code(response) == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer ", "Basic k-shop", "k-shop", "Bearer k-shop2"])
def test_unknown_or_malformed_keys_are_401(service, header):
    response = service.get("/v1/domains/shop/contacts", headers={"Authorization": header})
    assert response.status_code == 401 and problem_code(response) == "unauthorized"


def test_a_domain_key_works_on_its_own_domain(service):
    shop = Api(service, {"Authorization": f"Bearer {KEYS['shop']}"})
    ann = shop.contact("shop", email=f"{uuid.uuid4().hex[:8]}@example.com")
    assert shop.get(f"/v1/domains/shop/contacts/{ann['id']}").status_code == 200
    history = shop.get(f"/v1/domains/shop/contacts/{ann['id']}/activity").json()["items"]
    assert history and history[-1]["type"] == "contact.created"


def test_domains_lists_what_the_key_may_see(service):
    shop = Api(service, {"Authorization": f"Bearer {KEYS['shop']}"})
    blog = Api(service, {"Authorization": f"Bearer {KEYS['blog']}"})
    shop.contact("shop", userId=f"u-{uuid.uuid4().hex[:8]}")
    blog.contact("blog", userId=f"u-{uuid.uuid4().hex[:8]}")
    admin = Api(service, {"Authorization": f"Bearer {KEYS['*']}"})
    admin.position = max(shop.position, blog.position)

    mine = shop.get("/v1/domains", minPosition=admin.position).json()["items"]
    assert [d["domain"] for d in mine] == ["shop"] and mine[0]["contacts"] >= 1
    every = {d["domain"]: d["contacts"] for d in admin.get("/v1/domains").json()["items"]}
    assert {"shop", "blog"} <= set(every) and every["blog"] >= 1
    assert service.get("/v1/domains").status_code == 401


def test_a_key_sees_its_domain_before_the_first_contact(service):
    from api.deps import KeyRing

    service.app.state.keys = KeyRing({**{k: d for d, k in KEYS.items()}, "k-new": "brand-new"})
    try:
        listed = service.get("/v1/domains", headers={"Authorization": "Bearer k-new"}).json()["items"]
    finally:
        service.app.state.keys = KeyRing({k: d for d, k in KEYS.items()})
    assert listed == [{"domain": "brand-new", "contacts": 0}]


@pytest.mark.parametrize("slug", ["Shop", "-shop", "a" * 64, "a" * 300, "sh_op", "ünicode"])
def test_an_invalid_domain_slug_is_422(api, slug):
    response = api.get(f"/v1/domains/{slug}/contacts")
    assert response.status_code == 422 and problem_code(response) == "invalid_domain"


def test_without_keys_the_api_is_open_and_says_so(container, caplog):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with caplog.at_level(logging.WARNING, logger="api.app"):
        app = create_app(container)
    assert any("PROFILES_API_KEYS" in r.getMessage() for r in caplog.records)
    assert TestClient(app).get("/v1/domains/shop/contacts").status_code != 401
