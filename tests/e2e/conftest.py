"""The HTTP API end to end: real PostgreSQL, the real projection runner, Starlette's
TestClient in-process.

One store (schema) and one running service per test module keep the suite fast; every
test owns its data through its own domain slug (the ``domain`` fixture). Reads after a
write pass the write's ``Profiles-Position`` as ``?minPosition=`` — never a sleep.
"""

from __future__ import annotations

import importlib
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_schema

KEYS = {"shop": "k-shop", "blog": "k-blog", "*": "k-admin"}
ADMIN = {"Authorization": f"Bearer {KEYS['*']}"}


class Api:
    """A client that remembers the last write's position and reads at or after it."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.position = 0

    def _track(self, response: Any) -> Any:
        if "profiles-position" in response.headers:
            self.position = max(self.position, int(response.headers["profiles-position"]))
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self._track(self.client.request(method, path, headers=headers, **kwargs))

    def get(self, path: str, **params: Any) -> Any:
        """GET that waits for every write this client made (read-your-writes)."""
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("minPosition", self.position)
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    # -- small builders the tests share -------------------------------------------------

    def contact(self, domain: str, **fields: Any) -> dict[str, Any]:
        response = self.post(f"/v1/domains/{domain}/contacts", json=fields)
        assert response.status_code == 201, response.text
        return response.json()

    def approved_template(self, domain: str, channel: str = "email", **fields: Any) -> dict[str, Any]:
        body = {"channel": channel, "name": f"t-{uuid.uuid4().hex[:6]}", "subject": "Hi {{ firstName }}",
                "body": "Hello {{ firstName }} from {{ variables.city }}", **fields}
        created = self.post(f"/v1/domains/{domain}/templates", json=body)
        assert created.status_code == 201, created.text
        approved = self.post(f"/v1/domains/{domain}/templates/{created.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
        return approved.json()

    def subscribe(self, domain: str, contact_id: str, channel: str = "email", **extra: Any) -> Any:
        response = self.put(f"/v1/domains/{domain}/contacts/{contact_id}/subscriptions/{channel}",
                            json={"status": "subscribed", "confirm": True, **extra})
        assert response.status_code == 200, response.text
        return response.json()


def problem_code(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and "type" in body
    return body["code"]


@pytest.fixture(scope="module")
def api_schema(database_url: str) -> Iterator[str]:
    with fresh_schema(database_url) as name:
        yield name


@pytest.fixture(scope="module")
def service(database_url: str, api_schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app as ``profiles serve`` builds it: container, projection workers, API."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from profiles.bootstrap import build
    from profiles.runtime import Runtime
    from profiles.settings import Settings

    settings = Settings(DATABASE_URL=database_url, PROFILES_DB_SCHEMA=api_schema,
                        PROFILES_DATA_DIR=Path(tmp_path_factory.mktemp("data")), KAFKA_BOOTSTRAP_SERVERS=None,
                        PROFILES_API_KEYS=",".join(f"{d}:{k}" for d, k in KEYS.items()))
    container = build(settings)
    runtime = Runtime(container)
    _add_projection_workers(runtime)
    app = create_app(container, runtime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(app, raise_server_exceptions=True)
    with runtime, client:
        client.container = container  # type: ignore[attr-defined]
        yield client
    container.close()


def _add_projection_workers(runtime: Any) -> None:
    """The projection workers exactly as ``profiles serve`` adds them."""
    try:
        cli_projections = importlib.import_module("profiles.cli_projections")
    except ModuleNotFoundError as e:
        if e.name != "profiles.cli_projections":
            raise
        from projections.runner import ProjectionRunner

        settings = runtime.container.settings
        runtime.add(ProjectionRunner(runtime.container.database_url, settings.db_schema))
        return
    cli_projections.add_workers(runtime)


@pytest.fixture
def api(service: Any) -> Api:
    return Api(service, ADMIN)


@pytest.fixture
def domain() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"
