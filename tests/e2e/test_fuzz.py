"""Issue 18: schemathesis over the gateway's OpenAPI as a resident, an adviser and an administrator. A few
hundred cases here with a fixed seed; `make drills` runs ten thousand and more (drills/fuzz.py)."""

from __future__ import annotations

import pytest

from devstack.db import fetch
from drills.fuzz import ROLES, fuzz, gateway_openapi, people, report

CASES_PER_ROLE = 50
SEED = 20261206
# Would start DSO collection cycles in the middle of other tests' counts of DSO calls.
SHARED_STACK = {("POST", "/api/v1/admin/collections/{dso}/run")}


@pytest.fixture(scope="module")
async def login_failures_cleared(stack):
    """Fuzzed logins count against the per-address limit that the later tests' logins share."""
    yield
    await fetch(stack.database_url, "delete from gateway.login_failures")


def test_no_server_error_every_refusal_coded_and_every_answer_as_the_schema_says(
    stack, login_failures_cleared
):
    found = people(stack)
    outcomes = [
        fuzz(
            stack.url("gateway"),
            gateway_openapi(),
            found[role],
            CASES_PER_ROLE,
            skip=SHARED_STACK,
            seed=SEED,
            coverage=False,
        )
        for role in ROLES
    ]
    text = report(outcomes)
    print(text)
    assert all(o.cases >= CASES_PER_ROLE for o in outcomes), text
    assert not any(o.failures for o in outcomes), text
