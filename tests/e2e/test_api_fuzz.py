"""A bounded schemathesis run over /openapi.json: no 5xx, no answer outside its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.e2e.conftest import ADMIN

FUZZ_DOMAIN = "fuzz"


@pytest.fixture(scope="module")
def openapi(service):
    service.post(f"/v1/domains/{FUZZ_DOMAIN}/contacts", json={"email": "fuzz@example.com"}, headers=ADMIN)
    return schemathesis.openapi.from_asgi("/openapi.json", service.app)


schema = schemathesis.pytest.from_fixture("openapi")


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_schema_violation(case):
    if "domain" in (case.path_parameters or {}):
        # Mostly a real domain, so generated bodies reach the domain rules, not only the slug check.
        case.path_parameters["domain"] = FUZZ_DOMAIN
    case.call_and_validate(headers=ADMIN, checks=[not_a_server_error, response_schema_conformance])
