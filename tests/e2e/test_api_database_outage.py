"""The database drops the service's sessions (a restart, a failover, an operator's
pg_terminate_backend): requests meanwhile answer 503 ``database_unavailable`` with
Retry-After, never 500, and the next ones succeed without a restart of the service."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.e2e.conftest import Api, problem_code

# This module's service names its sessions (libpq reads PGAPPNAME), so the test drops
# those and no other: the server may be shared with other work.
APP_NAME = f"profiles-outage-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", autouse=True)
def _named_sessions() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:  # set before the module's service connects
        patch.setenv("PGAPPNAME", APP_NAME)
        yield


def _drop_the_services_sessions(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True, application_name="outage-test") as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                (APP_NAME,)).fetchall())


def test_sessions_dropped_under_the_service_answer_503_then_recover(service, api: Api, domain, database_url):
    ann = api.contact(domain, email=f"o.{uuid.uuid4().hex[:8]}@example.com")
    profile = f"/v1/domains/{domain}/contacts/{ann['id']}"
    requests = [
        lambda: service.get(profile, headers=api.headers),  # the asyncio fast path
        lambda: api.get(profile),  # with minPosition: the routes
        lambda: api.get(f"{profile}/variables"),
        lambda: api.put(f"{profile}/variables/n", {"value": 1}),  # a write
    ]
    assert all(r().status_code == 200 for r in requests)  # every pool has its sessions open
    assert _drop_the_services_sessions(database_url) > 0
    seen: list[int] = []
    for request in requests:
        response = request()
        seen.append(response.status_code)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert problem_code(response) == "database_unavailable"
            assert response.headers["retry-after"] == "1"
    assert 503 in seen
    deadline = time.monotonic() + 10
    while not all(r().status_code == 200 for r in requests):
        assert time.monotonic() < deadline, "the service did not recover"
        time.sleep(0.2)
