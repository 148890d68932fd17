"""Issue 2: one thin flow through the real processes, PostgreSQL and RabbitMQ."""
from __future__ import annotations

import datetime as dt
import random
import uuid

import asyncpg
import pytest

from devstack.client import ApiUser, admin_user
from devstack.db import fetchval, raw_dsn
from devstack.events import connect, drain, queue_depth, readings_event
from devstack.waiting import eventually

PRM = lambda: "".join(random.choice("0123456789") for _ in range(14))  # noqa: E731


def declare(user: ApiUser, identifier: str | None = None) -> dict:
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": identifier or PRM()})
    assert r.status_code == 201, r.text
    return r.json()


async def wait_meter_known(stack, meter_id: str):
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter_id)))


async def test_collected_readings_are_read_back_by_the_owner_and_hidden_from_others(stack, resident, api):
    meter = declare(resident)
    await wait_meter_known(stack, meter["id"])
    start = dt.date(2025, 1, 1)
    values = [random.randint(3000, 40000) for _ in range(365)]
    bus = await connect(stack.amqp_url)
    await bus.publish(readings_event(meter["id"], start, values))
    await bus.close()

    def complete():
        r = resident.get(f"/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2026-01-01"})
        assert r.status_code == 200, r.text
        points = r.json()["points"]
        assert [p["wh"] for p in points] == values
        return points
    points = await eventually(complete)
    assert all(p["quality"] == "measured" for p in points)

    monthly = resident.get(f"/meters/{meter['id']}/consumption",
                           params={"from": "2025-01-01", "to": "2026-01-01", "step": "month"}).json()["points"]
    assert len(monthly) == 12 and monthly[0]["wh"] == sum(values[:31])
    assert sum(p["wh"] for p in monthly) == sum(values)

    # A corrected day arrives later: the year served next shows it (a series is never served stale).
    corrected = values[:68] + [values[68] + 1234] + values[69:]
    bus = await connect(stack.amqp_url)
    await bus.publish(readings_event(meter["id"], start, corrected))
    await bus.close()

    def corrected_served():
        r = resident.get(f"/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2026-01-01"})
        assert [p["wh"] for p in r.json()["points"]] == corrected
        return True
    await eventually(corrected_served)

    other = ApiUser(stack.url("gateway")).signup()
    r = other.get(f"/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2026-01-01"})
    assert r.status_code == 404 and r.json()["error"] == "meter_not_found"
    assert other.get(f"/meters/{meter['id']}").status_code == 404
    anonymous = api.get(f"/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2026-01-01"})
    assert anonymous.status_code == 401


async def test_duplicate_and_poison_events_change_nothing_and_poison_lands_in_dead_letters(stack, resident):
    meter = declare(resident)
    await wait_meter_known(stack, meter["id"])
    first = readings_event(meter["id"], dt.date(2025, 3, 1), [1000, 2000, 3000])
    poison = readings_event(meter["id"], dt.date(2025, 3, 4), [4000])
    poison.payload["readings"][0][1] = "not a number"
    later = readings_event(meter["id"], dt.date(2025, 3, 5), [5000])
    bus = await connect(stack.amqp_url)
    for event in (first, first, poison, later, first):
        await bus.publish(event)
    await bus.close()

    def series():
        return resident.get(f"/meters/{meter['id']}/consumption",
                            params={"from": "2025-03-01", "to": "2025-03-06"}).json()["points"]
    await eventually(lambda: series()[4]["wh"] == 5000)
    assert [p["wh"] for p in series()] == [1000, 2000, 3000, None, 5000]

    async def dead_lettered():
        return await queue_depth(stack.amqp_url, "consumption.readings.dlq") >= 1
    await eventually(dead_lettered, timeout=30)
    dead = await drain(stack.amqp_url, "consumption.readings.dlq")
    assert [m.message_id for m in dead] == [str(poison.id)]
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        handled = await conn.fetchval("select count(*) from consumption.inbox where event_id = any($1::uuid[])",
                                      [first.id, later.id, poison.id])
    finally:
        await conn.close()
    assert handled == 2


async def test_consumer_killed_mid_stream_loses_nothing_after_restart(stack, resident):
    meter = declare(resident)
    await wait_meter_known(stack, meter["id"])
    start = dt.date(2024, 1, 1)
    values = [random.randint(1000, 9000) for _ in range(200)]
    stack.kill("consumption")
    bus = await connect(stack.amqp_url)
    for i in range(0, 200, 10):
        await bus.publish(readings_event(meter["id"], start + dt.timedelta(days=i), values[i:i + 10]))
    await bus.close()
    stack.start("consumption")

    def complete():
        r = resident.get(f"/meters/{meter['id']}/consumption",
                         params={"from": "2024-01-01", "to": (start + dt.timedelta(days=200)).isoformat()})
        return [p["wh"] for p in r.json()["points"]] == values
    await eventually(complete)


@pytest.mark.parametrize("body,status,code", [
    ('{"email": "x@example.org", "password": ', 400, "malformed_json"),
    ({"email": "x@example.org", "password": "correct horse battery", "accepted_terms_version": "2026-11",
      "admin": True}, 422, "unknown_field"),
    ({"email": "x@example.org", "password": "short", "accepted_terms_version": "2026-11"}, 422, "weak_password"),
    ({"email": "not-an-email", "password": "correct horse battery", "accepted_terms_version": "2026-11"}, 422,
     "invalid_field"),
    ({"email": "x@example.org", "password": "correct horse battery", "accepted_terms_version": "1999"}, 422,
     "terms_version_mismatch"),
])
def test_bad_signups_get_a_clear_error_code(api, body, status, code):
    kwargs = {"content": body, "headers": {"content-type": "application/json"}} if isinstance(body, str) \
        else {"json": body}
    r = api.post("/auth/signup", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["detail"]


def test_email_already_used_is_refused(stack, resident, api):
    r = api.post("/auth/signup", json={"email": resident.email.upper(), "password": "another strong passphrase",
                                       "accepted_terms_version": resident.account["terms"]["current_version"]})
    assert r.status_code == 409 and r.json()["error"] == "email_taken"


@pytest.mark.parametrize("identifier,code", [("1234", "invalid_identifier"), ("1234567890123a", "invalid_identifier")])
def test_wrong_prm_is_refused(resident, identifier, code):
    r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": identifier})
    assert r.status_code == 422 and r.json()["error"] == code
    assert resident.get("/meters").json() == []


def test_a_meter_cannot_be_claimed_by_two_accounts(stack, resident):
    prm = PRM()
    declare(resident, prm)
    other = ApiUser(stack.url("gateway")).signup()
    r = other.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 409 and r.json()["error"] == "meter_already_claimed"
    again = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert again.json()["error"] == "meter_already_declared"


async def test_expired_session_is_told_apart_from_no_session(stack, resident):
    assert resident.get("/me").status_code == 200
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        await conn.execute("update gateway.sessions set expires_at = now() - interval '1 minute' "
                           "where account_id = $1", uuid.UUID(resident.account["id"]))
    finally:
        await conn.close()
    r = resident.get("/me")
    assert r.status_code == 401 and r.json()["error"] == "session_expired"


def test_state_changes_with_a_cookie_need_the_csrf_token(resident):
    r = resident.http.put("/me/dwelling", json={"street": "1 rue Félix Poulat", "postal_code": "38000",
                                                "municipality": "Grenoble", "insee_code": "38185"})
    assert r.status_code == 403 and r.json()["error"] == "csrf_failed"
    ok = resident.put("/me/dwelling", json={"street": "1 rue Félix Poulat", "postal_code": "38000",
                                            "municipality": "Grenoble", "insee_code": "38185", "surface_m2": 62})
    assert ok.status_code == 200 and resident.get("/me/dwelling").json()["surface_m2"] == 62


def test_bearer_token_for_scripts_needs_no_csrf(stack, resident):
    r = resident.http.post("/auth/tokens", json={"email": resident.email, "password": "correct horse battery staple"})
    assert r.status_code == 201
    script = ApiUser(stack.url("gateway"))
    script.http.headers["authorization"] = f"Bearer {r.json()['token']}"
    assert script.http.get("/me").json()["email"] == resident.email
    assert script.http.post("/meters", json={"energy": "gas", "dso": "grdf", "identifier": "GI123456",
                                             "grdf_holder": {"holder_name": "Dupont", "postal_code": "38000",
                                                             "email": resident.email}}).status_code == 201


def test_login_is_rate_limited_per_account(stack, resident, api):
    for _ in range(5):
        assert api.login(resident.email, "wrong password 123").status_code == 401
    r = api.login(resident.email)
    assert r.status_code == 429 and r.json()["error"] == "too_many_login_attempts"
    assert int(r.headers["retry-after"]) > 0


def test_new_terms_force_reacceptance(stack, resident):
    admin = admin_user(stack.url("gateway"))
    version = f"test-{uuid.uuid4().hex[:6]}"
    r = admin.post("/admin/terms", json={"version": version, "summary": "New", "text": "New terms",
                                         "data_collected": [{"data": "e-mail", "why": "login", "kept": "always"}]})
    assert r.status_code == 201, r.text
    assert resident.login(resident.email).json()["terms"]["acceptance_required"] is True
    blocked = resident.get("/meters")
    assert blocked.status_code == 403 and blocked.json()["error"] == "terms_acceptance_required"
    assert resident.post("/me/terms", json={"version": version}).json()["terms"]["acceptance_required"] is False
    assert resident.get("/meters").status_code == 200
    assert resident.get("/api/v1/nothing").status_code == 404
