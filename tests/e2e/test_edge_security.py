"""Issue 18 items 2-4: login throttling nobody can turn against residents, security headers and private
operations, and the rights that work whatever terms were accepted."""
from __future__ import annotations

import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from devstack.client import STRONG_PASSWORD, ApiUser, admin_user
from devstack.db import fetchval
from devstack.stack import Stack

WRONG = "wrong password 123"


def new_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:10]}@example.org"


def client_address() -> str:
    """An address of its own for each test (TEST-NET-3), so that no other test's failures weigh on it."""
    return f"203.0.113.{random.randint(1, 254)}"


def login(url: str, email: str, password: str = WRONG, forwarded_for: str | None = None,
          local_address: str | None = None) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    with httpx.Client(base_url=url + "/api/v1", transport=transport, timeout=120) as http:
        return http.post("/auth/login", json={"email": email, "password": password}, headers=headers)


@pytest.fixture(scope="module")
def slow_gateway(stack):
    """A second gateway on the same database that slows a client address after 2 failures (50 by default), so
    that a test needs few password checks to reach it."""
    second = Stack(database_url=stack.database_url, amqp_url=stack.amqp_url, base_port=stack.base_port + 25,
                   log_dir=stack.log_dir / "slow-gateway",
                   extra_env={"{P}LOGIN_SLOW_AFTER_PER_CLIENT": "2", "{P}RUN_WORKERS": "false"})
    second.start("gateway")
    try:
        yield second.url("gateway")
    finally:
        second.stop_all()


def test_behind_a_trusted_proxy_each_client_is_slowed_for_its_own_failures_only(slow_gateway, resident):
    a, b = client_address(), client_address()
    while b == a:
        b = client_address()
    # The client wrote the left part itself; the proxy (trusted: the loopback in local mode) added its peer.
    for _ in range(2):
        r = login(slow_gateway, new_email(), forwarded_for=f"198.51.100.7, {a}")
        assert r.status_code == 401 and "server-timing" not in r.headers
    slowed = login(slow_gateway, new_email(), forwarded_for=f"198.51.100.7, {a}")
    assert slowed.status_code == 401 and slowed.headers["server-timing"] == "throttle;dur=1000"
    assert "server-timing" not in login(slow_gateway, new_email(), forwarded_for=b).headers
    # Slowed, not locked out: a resident behind that address still logs in.
    ok = login(slow_gateway, resident.email, STRONG_PASSWORD, forwarded_for=a)
    assert ok.status_code == 200 and ok.headers["server-timing"] == "throttle;dur=2000"


def test_an_untrusted_peer_cannot_choose_its_address_with_x_forwarded_for(slow_gateway):
    a = client_address()
    for _ in range(2):
        assert login(slow_gateway, new_email(), forwarded_for=a).status_code == 401
    assert login(slow_gateway, new_email(), forwarded_for=a).headers["server-timing"].startswith("throttle")
    # 127.0.0.2 is not a trusted proxy: its header is ignored; it is neither taken for `a` nor spared its own.
    r = login(slow_gateway, new_email(), forwarded_for=a, local_address="127.0.0.2")
    assert r.status_code == 401 and "server-timing" not in r.headers
    login(slow_gateway, new_email(), forwarded_for=client_address(), local_address="127.0.0.2")
    again = login(slow_gateway, new_email(), forwarded_for=client_address(), local_address="127.0.0.2")
    assert again.headers["server-timing"].startswith("throttle")


async def test_a_parallel_burst_on_one_account_checks_at_most_the_limit_of_passwords(stack, resident):
    address = client_address()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: login(stack.url("gateway"), resident.email, forwarded_for=address),
                                range(20)))
    codes = Counter(r.status_code for r in answers)
    # Only a checked password answers 401: the other attempts were refused before any hash.
    assert codes[401] <= 5 and codes[401] + codes[429] == 20, codes
    right = login(stack.url("gateway"), resident.email, STRONG_PASSWORD, forwarded_for=address)
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    # Recorded under keys that name nobody.
    assert await fetchval(stack.database_url, "select count(*) from gateway.login_failures") >= codes[401]
    naming = "select count(*) from gateway.login_failures where key ilike $1"
    assert await fetchval(stack.database_url, naming, f"%{resident.email.split('@')[0]}%") == 0


def test_every_answer_carries_the_security_headers(stack):
    for path in ("/api/v1/terms/current", "/api/v1/nothing", "/api/v1/openapi.json"):
        r = httpx.get(stack.url("gateway") + path, timeout=30)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in r.headers["permissions-policy"]
        # Local mode is plain HTTP: HSTS only outside it.
        assert "strict-transport-security" not in r.headers


def test_api_docs_and_detailed_health_are_for_administrators(stack, resident, api):
    assert api.get("/docs").status_code == 401
    assert resident.get("/docs").status_code == 403
    assert resident.get("/admin/health").status_code == 403
    assert api.get("/openapi.json").status_code == 200
    public = api.get("/health")
    assert public.status_code == 200 and public.json() == {"status": "ok"}
    admin = admin_user(stack.url("gateway"))
    try:
        docs = admin.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        assert "script-src https://cdn.jsdelivr.net 'sha256-" in docs.headers["content-security-policy"]
        detailed = admin.get("/admin/health").json()
        assert detailed["status"] == "ok" and detailed["checks"]["gateway.database"] == "ok"
        assert {"consent", "consumption", "notify"} <= set(detailed["checks"])
    finally:
        admin.close()


def test_a_resident_who_has_not_accepted_new_terms_can_still_export_delete_log_out_and_read_them(stack):
    resident = ApiUser(stack.url("gateway")).signup()
    again = ApiUser(stack.url("gateway"))
    admin = admin_user(stack.url("gateway"))
    try:
        version = f"rights-{uuid.uuid4().hex[:6]}"
        collected = [{"data": "e-mail", "why": "login", "kept": "always"}]
        r = admin.post("/admin/terms", json={"version": version, "summary": "New", "text": "New terms",
                                             "data_collected": collected})
        assert r.status_code == 201, r.text
        assert resident.get("/me").json()["terms"]["acceptance_required"] is True
        assert resident.get("/meters").json()["error"] == "terms_acceptance_required"

        assert resident.get("/terms/current").json()["version"] == version
        export = resident.get("/me/export")
        assert export.status_code == 200 and export.json()["account_id"] == resident.account["id"]
        assert resident.get("/me/export", params={"format": "csv"}).status_code == 200
        assert resident.get("/me/data").status_code == 200
        assert resident.post("/auth/logout").status_code == 204
        assert resident.get("/me").status_code == 401

        assert again.login(resident.email).status_code == 200
        deletion = again.delete("/me")
        assert deletion.status_code == 202, deletion.text
        assert again.login(resident.email).status_code in (401, 403)
    finally:
        for user in (resident, again, admin):
            user.close()
