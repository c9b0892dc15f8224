"""A bounded schemathesis run over /openapi.json: no 5xx, no answer outside its schema.

Every operation gets a few generated requests, valid (positive) and invalid (negative),
against the running service. Bounded by ``MAX_EXAMPLES`` so the whole run stays well
under a minute on two cores.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.e2e.conftest import ADMIN

FUZZ_DOMAIN = "fuzz"
MAX_EXAMPLES = 8


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_server_error_and_no_schema_violation(service, mode):
    created = service.post(f"/v1/domains/{FUZZ_DOMAIN}/contacts", json={"userId": f"fuzz-{mode.value}"}, headers=ADMIN)
    contact_id = created.json()["id"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 37

    for operation in operations:
        # A real domain and contact, so generated bodies reach the domain rules rather than
        # stopping at the slug check or a 404 (the contact is removed by nothing but its DELETE).
        fixed = {"domain": FUZZ_DOMAIN} if "{domain}" in operation.path else None
        if "{contactId}" in operation.path and not (operation.method == "delete" and operation.path.endswith("{contactId}")):
            fixed = {**(fixed or {}), "contactId": contact_id}
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

        @given(case=strategy)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(headers=ADMIN, checks=[not_a_server_error, response_schema_conformance])

        try:
            exercise()
        except Unsatisfiable:
            pass  # nothing to make invalid: an operation without parameters or body
        except Exception as failure:  # collect them all: one run shows every broken operation
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}"[:2000])

    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 60
