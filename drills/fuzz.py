"""Schemathesis over the gateway's OpenAPI, as a resident with a consented meter, an adviser the resident
shared with and an administrator, against the real processes: no 5xx, every 4xx a stable error code, every
response and every refusal as the schema says.

`python -m drills.fuzz --cases 10000` starts its own stack (database, virtual host and ports of
METRO_TEST_SLOT) and prints, per role, the cases run and the failures by check; it exits 1 on any failure.
tests/e2e/test_fuzz.py runs a few hundred cases through `fuzz()` against the test session's stack.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import schemathesis
from schemathesis.engine import from_schema
from schemathesis.engine.events import ScenarioFinished
from schemathesis.specs.openapi.checks import RejectedPositiveData

from devstack import sandboxes as sandbox_support
from devstack.client import ADMIN_EMAIL, ADMIN_PASSWORD, STRONG_PASSWORD, ApiUser, admin_user, random_prm
from devstack.enedis_consent import consent_at_dso, create_customer
from devstack.events import publish, readings_event
from devstack.stack import ROOT, Stack, reset_database, reset_vhost
from metro.events import AnomalyDetected, Envelope

ROLES = ("adviser", "admin", "resident")
# Operations that would end the fuzzing identity's session or account, or change the platform for every
# account (new terms must be accepted by all): each is covered by its own e2e tests.
NEVER = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/me"), ("POST", "/api/v1/admin/terms")}
ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Rules that tie one field to another or to the platform's state, which a JSON schema cannot state (each
# operation's description says them): a 422 with one of these codes on schema-valid data is the API
# keeping its rule, not a schema looser than the API.
BEYOND_SCHEMA = {
    "invalid_period": "`to` after `from`",
    "period_too_long": "the span a step or a comparison allows",
    "terms_version_mismatch": "the terms version in force",
    "weak_password": "a password's variety and difference from the e-mail address",
    "invalid_quiet_hours": "quiet hours that end when they start",
    "address_query_too_short": "3 letters or digits once accents and punctuation are set aside",
    "push_endpoint_refused": "a Web Push endpoint at one of the known push services",
    "contract_not_electricity": "a tariff option declared for an electricity meter",
    "offpeak_hours_required": "off-peak hours that name a range for an off-peak option",
    "invalid_token": "a token from a link the platform e-mailed and that was not used yet (400)",
    "token_expired": "a link within its lifetime (410)",
    "undeliverable_email": "an e-mail address at a domain that can receive mail (not .test, .local, ...)",
}
BEYOND_SCHEMA_PREFIXES = ("tariff_csv_", "degree_days_csv_", "address_file_")
DWELLING = {
    "street": "5 place Grenette",
    "postal_code": "38000",
    "municipality": "Grenoble",
    "insee_code": "38185",
    "surface_m2": 68,
    "occupants": 3,
    "dwelling_type": "apartment",
    "heating_energy": "electricity",
}


@schemathesis.check
def stable_error_code(ctx, response, case) -> bool | None:
    """A refusal names its reason with a stable code: {"error": code, "detail": message}."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}") from None
    if not (
        isinstance(body, dict)
        and set(body) == {"error", "detail"}
        and isinstance(body["detail"], str)
        and isinstance(body["error"], str)
        and ERROR_CODE.match(body["error"])
    ):
        raise AssertionError(f"{response.status_code} body is not {{error, detail}}: {str(body)[:200]}")
    return None


def _beyond_schema(response) -> bool:
    try:
        code = response.json().get("error", "")
    except (ValueError, AttributeError):
        return False
    return code in BEYOND_SCHEMA or code.startswith(BEYOND_SCHEMA_PREFIXES)


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    return not (
        isinstance(failure, RejectedPositiveData) and response.status_code in (400, 410, 422)
        and _beyond_schema(response)
    )


@dataclass
class Person:
    role: str
    token: str
    # Real identifiers for path parameters, given to schemathesis as examples beside the random ones.
    examples: dict[str, str] = field(default_factory=dict)


@dataclass
class RoleOutcome:
    role: str
    cases: int = 0
    seconds: float = 0.0
    # schema-valid requests refused under a rule in BEYOND_SCHEMA
    beyond_schema: int = 0
    failures: Counter = field(default_factory=Counter)
    # (operation, check, status, title) of each distinct failure: its message and how to reproduce it
    seen: dict[tuple[str, str, int, str], str] = field(default_factory=dict)


def gateway_openapi() -> dict:
    """The document the gateway serves, built from the app object (it is for administrators only online)."""
    from gateway.app import Settings, spec
    from metro.app import create_service_app

    return create_service_app(spec(), Settings()).openapi()


def _token(user: ApiUser, email: str, password: str) -> str:
    r = user.http.post("/auth/tokens", json={"email": email, "password": password, "name": "fuzz"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _wait(check, timeout: float = 90, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} not met within {timeout}s")


def people(stack: Stack) -> dict[str, Person]:
    """A resident with a dwelling and an Enedis meter whose consent is active, with 60 days of readings and an
    in-app notification; an adviser the resident shared everything with; the administrator. Each with a bearer
    token (no CSRF)."""
    gateway = stack.url("gateway")
    resident = ApiUser(gateway).signup()
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    sandbox = stack.sandboxes["enedis"].url
    prm = random_prm()
    customer = create_customer(sandbox, prm)
    r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 201, r.text
    meter = r.json()
    answer = consent_at_dso(sandbox, meter["consent"]["authorize_url"], customer)
    resident.http.get(answer.headers["location"].replace(gateway + "/api/v1", ""))
    _wait(
        lambda: resident.get(f"/meters/{meter['id']}").json()["consent"]["status"] == "active",
        what="consent active",
    )
    # Readings as the collector publishes them: a collection cycle here would disturb other tests' DSO counts.
    asyncio.run(
        publish(
            stack.amqp_url,
            readings_event(meter["id"], dt.date(2025, 1, 1), [5000 + 37 * i for i in range(60)]),
        )
    )
    _wait(
        lambda: [
            p
            for p in resident.get(
                f"/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2025-03-02"}
            )
            .json()
            .get("points", [])
            if p["wh"]
        ],
        what="readings stored",
    )
    admin = admin_user(gateway)
    adviser = ApiUser(gateway).signup()
    r = admin.put(f"/admin/accounts/{adviser.account['id']}/roles", json={"roles": ["adviser"]})
    assert r.status_code == 200, r.text
    r = resident.post(
        "/me/shares",
        json={"adviser_email": adviser.email, "resident_name": "Fuzz",
              "scopes": ["consumption", "dwelling", "contract"]},
    )
    assert r.status_code == 201, r.text
    share = r.json()
    r = adviser.post(f"/adviser/residents/{resident.account['id']}/advice", json={"body": "Fermez les volets."})
    assert r.status_code == 201, r.text
    note = r.json()
    r = adviser.post(
        "/admin/news",
        json={"title_fr": "Hiver", "title_en": "Winter", "body_fr": "Volets.", "body_en": "Shutters."},
    )
    assert r.status_code == 201, r.text
    news = r.json()
    asyncio.run(
        publish(
            stack.amqp_url,
            Envelope(
                name=AnomalyDetected.name,
                producer="consumption",
                payload={
                    "meter_id": meter["id"],
                    "account_id": resident.account["id"],
                    "episode_key": "2025-01-01",
                    "kind": "day",
                    "start": "2025-01-01",
                    "end": "2025-01-02",
                    "expected_wh": 1000,
                    "observed_wh": 9000,
                    "excess_wh": 8000,
                },
            ),
        )
    )
    _wait(lambda: resident.get("/me/notifications").json(), what="an in-app notification")
    ids = {
        "meter_id": meter["id"],
        "resident_id": resident.account["id"],
        "account_id": resident.account["id"],
        "share_id": share["id"],
        "note_id": note["id"],
        "news_id": news["id"],
        "notification_id": resident.get("/me/notifications").json()[0]["id"],
        "dso": "enedis",
        "energy": "electricity",
    }
    found = {
        "resident": Person("resident", _token(resident, resident.email, STRONG_PASSWORD), ids),
        "adviser": Person("adviser", _token(adviser, adviser.email, STRONG_PASSWORD), ids),
        "admin": Person("admin", _token(admin, ADMIN_EMAIL, ADMIN_PASSWORD), ids),
    }
    for user in (resident, adviser, admin):
        user.close()
    return found


def _with_examples(document: dict, examples: dict[str, str]) -> dict:
    """The document with real identifiers as path parameters' examples, so that some cases reach real rows."""
    document = copy.deepcopy(document)
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in examples:
                    parameter["example"] = examples[parameter["name"]]
    return document


def fuzz(
    base_url: str,
    document: dict,
    person: Person,
    cases: int,
    *,
    skip: Iterable[tuple[str, str]] = (),
    seed: int | None = None,
    coverage: bool = True,
) -> RoleOutcome:
    """`cases` generated cases spread over every operation of the document but `NEVER` and `skip`, as
    `person`;
    with `coverage`, schemathesis' coverage phase adds each parameter's boundary and wrong-type values."""
    excluded = NEVER | set(skip)
    operations = sum(
        1
        for path, item in document["paths"].items()
        for method in item
        if (method.upper(), path) not in excluded
    )
    settings = {
        "base-url": base_url,
        "auth": {"openapi": {"HTTPBearer": {"bearer": person.token}}, "auto-signup": False},
        "generation": {
            "max-examples": max(1, math.ceil(cases / operations)),
            "database": "none",
            "mode": "all",
        },
        # Each case stands alone: stateful chains would delete what the other roles' cases read.
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}},
        "request-timeout": 30,
        "cache": {"enabled": False},
    }
    if seed is not None:
        settings["seed"] = seed
    config = schemathesis.Config.from_dict(settings)
    schema = schemathesis.openapi.from_dict(_with_examples(document, person.examples), config=config)
    schema = schema.exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in excluded)
    outcome = RoleOutcome(person.role)
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if not isinstance(event, ScenarioFinished):
            continue
        recorder = event.recorder
        outcome.cases += len(recorder.cases)
        outcome.beyond_schema += sum(recorder.filtered_failures.values())
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                outcome.failures[check.name] += 1
                failure = check.failure_info.failure
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction else None
                status = response.status_code if response else 0
                body = response.text_lossy()[:300] if response else ""
                outcome.seen.setdefault(
                    (recorder.label, check.name, status, failure.title),
                    f"{failure.message.strip()}\n{check.failure_info.code_sample}\n-> {body}",
                )
    outcome.seconds = time.monotonic() - started
    return outcome


def report(outcomes: list[RoleOutcome]) -> str:
    lines = [f"{'role':<10} {'cases':>7} {'failures':>9} {'seconds':>8} {'beyond':>7}  failures by check"]
    for o in outcomes:
        by_check = ", ".join(f"{k} {v}" for k, v in o.failures.most_common()) or "-"
        lines.append(
            f"{o.role:<10} {o.cases:>7} {sum(o.failures.values()):>9} {o.seconds:>8.1f} "
            f"{o.beyond_schema:>7}  {by_check}"
        )
    lines.append(
        f"{'total':<10} {sum(o.cases for o in outcomes):>7} "
        f"{sum(sum(o.failures.values()) for o in outcomes):>9} {sum(o.seconds for o in outcomes):>8.1f} "
        f"{sum(o.beyond_schema for o in outcomes):>7}"
    )
    lines.append(
        "(beyond: schema-valid requests refused under a rule a JSON schema cannot state, BEYOND_SCHEMA)"
    )
    for o in outcomes:
        for (operation, check, status, title), detail in sorted(o.seen.items()):
            lines.append(f"  [{o.role}] {operation}: {check} ({status}) {title}")
            lines.extend(f"      {line}" for line in detail.splitlines()[:10])
    return "\n".join(lines)


@contextmanager
def running_stack(slot: int) -> Iterator[Stack]:
    """Every service and the DSO sandboxes on the slot's ports, with a database and virtual host of their
    own."""
    work = ROOT / "test-artifacts" / f"fuzz{slot}"
    ports = {k: v + 100 * slot for k, v in sandbox_support.TEST_PORTS.items()}
    vhost = f"metro_fuzz_{slot}"
    handles = sandbox_support.start_all(work / "sandboxes", ports)
    stack = Stack(
        database_url=reset_database(f"metroenergies_fuzz_{slot}"),
        amqp_url=reset_vhost(vhost),
        base_port=18000 + 100 * slot,
        log_dir=work / "logs",
        extra_env={k: v for h in handles.values() for k, v in h.service_env.items()},
    )
    stack.sandboxes = handles
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
        for h in handles.values():
            h.stop()
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=120, check=False
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drills.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases in all, shared among the roles")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    slot = int(os.environ.get("METRO_TEST_SLOT", "0"))
    document = gateway_openapi()
    started = time.monotonic()
    with running_stack(slot) as stack:
        found = people(stack)
        outcomes = [
            fuzz(
                stack.url("gateway"),
                document,
                found[role],
                math.ceil(args.cases / len(ROLES)),
                seed=args.seed,
            )
            for role in ROLES
        ]
    print(report(outcomes))
    print(
        f"fuzzing drill: {sum(o.cases for o in outcomes)} cases in {time.monotonic() - started:.0f} s "
        f"(stack start and set-up included)"
    )
    return 1 if any(o.failures for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
