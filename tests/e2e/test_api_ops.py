"""Operations and robustness: health, readiness, metrics, OpenAPI, and no 500 for bad input."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import ADMIN, problem_code


def test_health_and_readiness(api, domain):
    api.contact(domain, userId="u-1")
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["position"] >= api.position
    assert {"profile", "activity", "segments"} <= set(body["projections"])
    assert all(body["position"] - p <= 10_000 for p in body["projections"].values())


def test_metrics_expose_latency_events_and_lag(api, domain):
    api.contact(domain, userId="u-1")
    api.get(f"/v1/domains/{domain}/contacts")
    text = api.get("/metrics").text
    assert 'profiles_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/domains/{domain}/contacts",status="201"}' in text \
        or 'route="/v1/domains/{domain}/contacts"' in text
    assert "profiles_events_appended_total" in text
    assert 'profiles_projection_lag_events{projection="profile"}' in text


def test_openapi_and_docs(service):
    schema = service.get("/openapi.json").json()
    assert "/v1/domains/{domain}/contacts/{contactId}/activity/{activityId}/resend" in schema["paths"]
    assert service.get("/docs").status_code == 200
    post = schema["paths"]["/v1/domains/{domain}/contacts"]["post"]
    assert "application/problem+json" in post["responses"]["409"]["content"]
    assert post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["components"]["schemas"]["ContactCreate"].get("examples")


def test_unknown_routes_and_methods_are_problems(service):
    response = service.get("/nowhere", headers=ADMIN)
    assert response.status_code == 404 and problem_code(response) == "not_found"
    response = service.request("PATCH", "/healthz", headers=ADMIN)
    assert response.status_code == 405 and problem_code(response) == "method_not_allowed"


def test_bad_input_never_ends_in_500(api, domain):
    base = f"/v1/domains/{domain}/contacts"
    checks = [
        api.post(base, content=b"{not json", headers={"content-type": "application/json"}),
        api.post(base, content=b"[" * 50_000 + b"]" * 50_000, headers={"content-type": "application/json"}),
        api.post(base, content=b'{"userId": "u", "variables": {"n": 1e999}}', headers={"content-type": "application/json"}),
        api.post(base, content=b'{"userId": "u", "variables": {"n": NaN}}', headers={"content-type": "application/json"}),
        api.post(base, json=["a list"]),
        api.post(base, json={"userId": "u" * 300}),
        api.get(f"{base}/not-a-uuid"),
        api.get(f"{base}/{uuid.uuid4()}/activity/export", format="pdf"),
        api.get(base, limit=10**30),
        api.get(base, minPosition=-1),
        api.get(base, minPosition=10**30),
        api.get(base, minPosition=api.position + 10**9),
        api.post(f"/v1/domains/{domain}/segments", content=b'{"name": "n", "conditions": {"field": "email", "op": "eq", "value": Infinity}}',
                 headers={"content-type": "application/json"}),
    ]
    for response in checks:
        assert response.status_code == 422, (response.request.url, response.text)
        assert problem_code(response) == "validation_error"
    large = api.post(base, content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"})
    assert large.status_code == 413 and problem_code(large) == "payload_too_large"
    # Sent chunked, without a Content-Length to refuse it by: refused as it grows.
    chunked = api.post(base, content=iter([b"{" + b" " * (1 << 20), b" " * (1 << 20) + b"}"]),
                       headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and problem_code(chunked) == "payload_too_large"


def test_a_small_body_sent_chunked_is_read_whole(api, domain):
    body = iter([b'{"userId": "u-chunked", ', b'"email": "chunked@example.com"}'])
    created = api.post(f"/v1/domains/{domain}/contacts", content=body, headers={"content-type": "application/json"})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "chunked@example.com"


def test_a_position_the_projections_never_reach_is_503(container):
    """A read model that never reaches the position: the GET answers 503, not stale data."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    class Stalled:
        def head(self) -> int:
            return 10

        def wait_for(self, position, projections=(), timeout=5.0) -> bool:
            return False

    container.read_model = Stalled()
    client = TestClient(create_app(container))
    response = client.get("/v1/domains/shop/contacts", params={"minPosition": 5})
    assert response.status_code == 503 and problem_code(response) == "projection_lagging"


def test_readiness_fails_when_a_projection_lags_more_than_10000_events(container):
    from fastapi.testclient import TestClient

    from api.app import create_app

    class FarBehind:
        def positions(self) -> dict[str, int]:
            return {"profile": 0, "activity": -10_001, "segments": 0}  # head 0: activity 10 001 behind

    container.read_model = FarBehind()
    response = TestClient(create_app(container)).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"position": 0, "projections": {"profile": 0, "activity": -10_001, "segments": 0}}
    container.read_model = None
    assert TestClient(create_app(container)).get("/readyz").status_code == 503


def test_a_write_whose_projection_lags_still_tells_its_position(container):
    """The write is stored; only the fresh document is missing: 503 with Profiles-Position."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    class Stalled:
        def wait_for(self, position, projections=(), timeout=5.0) -> bool:
            return False

    container.read_model = Stalled()
    response = TestClient(create_app(container)).post("/v1/domains/shop/contacts", json={"userId": "u-1"})
    assert response.status_code == 503 and problem_code(response) == "projection_lagging"
    assert int(response.headers["Profiles-Position"]) == container.app.recorder.max_notification_id() > 0
