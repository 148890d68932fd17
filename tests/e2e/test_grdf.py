"""Issue 4: GRDF ADICT over the real processes and the ADICT sandbox: declaration, the holder's
validation, collection equal to the ground truth, both revocations, and damaged answers."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
import uuid
from zoneinfo import ZoneInfo

import aio_pika
import asyncpg
import httpx
import pytest

from devstack.client import admin_user
from devstack.db import raw_dsn
from devstack.events import Tap, amqp
from devstack.sandbox_grdf import CLIENT_ID, CLIENT_SECRET
from devstack.waiting import eventually
from ingest_grdf.adict import AdictClient, years_before
from ingest_grdf.service import latest_published_day
from metro.events import (EXCHANGE, ConsentGranted, ConsentRevoked, ContractChanged, Envelope,
                          ReadingsCollected)
from metro.service_auth import ServiceTokens

# Generous: the first test also pays for starting the whole stack on a shared machine.
pytestmark = pytest.mark.timeout(600)


def paris_today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Europe/Paris")).date()


def expected_period() -> tuple[dt.date, dt.date]:
    """Three years of informative gas days up to the last one GRDF has published (customers are older)."""
    return (years_before(paris_today(), 3) + dt.timedelta(days=1),
            latest_published_day(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1))


def new_pce() -> str:
    return "38" + "".join(random.choices("0123456789", k=12))


@pytest.fixture(scope="module")
def sandbox(stack):
    client = httpx.Client(base_url=stack.sandboxes["grdf"].url + "/_sandbox", timeout=30)
    yield client
    client.delete("/faults")
    client.close()


@pytest.fixture(scope="module")
def admin(stack):
    user = admin_user(stack.url("gateway"))
    yield user
    user.close()


@pytest.fixture(scope="module")
def ingest(stack):
    tokens = ServiceTokens.local("gateway")

    def request(method: str, path: str, **kw) -> httpx.Response:
        headers = {"authorization": f"Bearer {tokens.issue('ingest_grdf')}"}
        return httpx.request(method, stack.url("ingest_grdf") + path, headers=headers, timeout=30, **kw)
    return request


def customer(sandbox, holder: str = "ROUSSEAU", postal_code: str = "38000") -> str:
    pce = new_pce()
    r = sandbox.post("/customers", json={"pce": pce, "holder_name": holder, "postal_code": postal_code,
                                         "profile": "heating"})
    assert r.status_code == 201, r.text
    return pce


def declare(resident, pce: str, *, holder: str = "Jeanne Rousseau", postal_code: str = "38000") -> dict:
    r = resident.post("/meters", json={"energy": "gas", "dso": "grdf", "identifier": pce, "grdf_holder": {
        "holder_name": holder, "postal_code": postal_code, "email": "jeanne.rousseau@example.org"}})
    assert r.status_code == 201, r.text
    return r.json()


def consent_of(resident, meter_id: str) -> dict:
    meters = {m["id"]: m for m in resident.get("/meters").json()}
    return meters[meter_id]["consent"]


def right_of(sandbox, pce: str) -> dict:
    rights = [r for r in sandbox.get("/access_rights").json() if r["id_pce"] == pce]
    assert len(rights) == 1, rights
    return rights[0]


def truth(sandbox, pce: str) -> dict[str, int]:
    start, end = expected_period()
    r = sandbox.get(f"/ground_truth/{pce}", params={"start": start.isoformat(), "end": end.isoformat()})
    assert r.status_code == 200, r.text
    return {d["day"]: d["wh"] for d in r.json()["days"]}


def served(resident, meter_id: str) -> dict[str, int]:
    start, end = expected_period()
    r = resident.get(f"/meters/{meter_id}/consumption", params={"from": start.isoformat(), "to": end.isoformat()})
    assert r.status_code == 200, r.text
    return {p["period"]: p["wh"] for p in r.json()["points"] if p["wh"] is not None}


async def collected_exactly(sandbox, resident, pce: str, meter_id: str, timeout: float = 60) -> dict[str, int]:
    expected = truth(sandbox, pce)
    assert len(expected) > 1000

    def complete():
        got = served(resident, meter_id)
        assert got == expected, f"{len(got)} days served, {len(expected)} expected"
        return got
    return await eventually(complete, timeout=timeout, interval=1)


async def db_fetch(stack, query: str, *args):
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def active_meter(stack, sandbox, resident) -> tuple[str, str, dict]:
    """A PCE declared by the resident and validated by the holder at GRDF: the consent becomes active."""
    pce = customer(sandbox)
    meter = declare(resident, pce)
    assert meter["consent"]["status"] == "awaiting_holder", meter["consent"]
    right = right_of(sandbox, pce)
    assert right["etat_droit_acces"] == "A valider"
    mail = [m for m in sandbox.get("/mailbox").json() if m["id_pce"] == pce]
    assert mail and mail[0]["to"] == "jeanne.rousseau@example.org"
    page = sandbox.get(f"/holder/{right['id_droit_acces']}")
    assert page.status_code == 200 and "J'accepte" in page.text
    assert sandbox.post(f"/holder/{right['id_droit_acces']}/accept").status_code == 200
    await eventually(lambda: consent_of(resident, meter["id"])["status"] == "active", timeout=30)
    return pce, meter["id"], right


async def test_declared_pce_waits_for_the_holder_then_is_collected_and_stops_when_revoked_at_grdf(
        stack, sandbox, admin, ingest, resident):
    async with Tap(stack.amqp_url, "grdf") as tap:
        pce, meter_id, right = await active_meter(stack, sandbox, resident)
        assert admin.post("/admin/collections/grdf/run").status_code == 202
        expected = await collected_exactly(sandbox, resident, pce, meter_id)
        days = tap.days(meter_id)
        assert len(days) == len(set(days)) == len(expected), "a day missing or published twice"
        assert all(e.payload["source"] == "grdf.adict"
                   and len(e.payload["readings"]) <= ReadingsCollected.MAX_DAYS
                   for e in tap.of(ReadingsCollected.name, meter_id))
        contracts = tap.of(ContractChanged.name, meter_id)
        assert len(contracts) == 1 and contracts[0].payload["tariff_option"] in ("T1", "T2")

        # Each day keeps the volume and the conversion coefficient GRDF computed the energy from.
        one = sorted(expected)[-10]
        truth_day = sandbox.get(f"/ground_truth/{pce}", params={
            "start": one, "end": (dt.date.fromisoformat(one) + dt.timedelta(days=1)).isoformat()}).json()["days"][0]
        rows = await db_fetch(stack, "select extra from consumption.readings where meter_id=$1 and day=$2",
                              uuid.UUID(meter_id), dt.date.fromisoformat(one))
        extra = json.loads(rows[0]["extra"]) if isinstance(rows[0]["extra"], str) else rows[0]["extra"]
        assert extra == {"volume_m3": truth_day["volume_m3"], "conversion_coefficient": truth_day["coeff_conversion"]}

        report = admin.get("/admin/collections").json()["collections"]
        grdf = next(c for c in report if c["dso"] == "grdf")
        assert grdf["last_cycle"]["calls"] >= 4 and grdf["quota_used"]["total"] >= 5

        # The holder withdraws at GRDF: the next collection learns it, the consent is revoked, nothing more.
        assert sandbox.post(f"/access_rights/{right['id_droit_acces']}/revoke").status_code == 200
        assert admin.post("/admin/collections/grdf/run").status_code == 202
        await eventually(lambda: consent_of(resident, meter_id)["status"] == "revoked", timeout=30)
        revoked = tap.of(ConsentRevoked.name, meter_id)
        assert revoked and revoked[0].payload["reason"] == "dso"
        kept = len(tap.days(meter_id))
        assert admin.post("/admin/collections/grdf/run").status_code == 202
        await asyncio.sleep(2)
        assert len(tap.days(meter_id)) == kept
        assert served(resident, meter_id) == expected, "history collected before the revocation stays"


async def test_resident_withdrawal_gives_the_access_right_up_at_grdf(stack, sandbox, resident):
    pce, meter_id, right = await active_meter(stack, sandbox, resident)
    r = resident.delete(f"/meters/{meter_id}/consent")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"

    def revoked_at_grdf():
        now = right_of(sandbox, pce)
        assert now["etat_droit_acces"] == "Révoquée", now["etat_droit_acces"]
        return now
    now = await eventually(revoked_at_grdf, timeout=30)
    assert now["source_revocation"] == "Tiers"


async def test_a_holder_or_address_that_grdf_does_not_know_makes_the_consent_invalid_with_a_reason(
        stack, sandbox, resident):
    pce = customer(sandbox, holder="BERTRAND", postal_code="38100")
    wrong_postcode = declare(resident, pce, holder="Bertrand", postal_code="38000")
    consent = wrong_postcode["consent"]
    assert consent["status"] == "invalid" and consent["reason"] == "grdf_postal_code_mismatch"
    assert "grdf_postal_code_mismatch" in consent["warnings"]
    history = resident.get(f"/meters/{wrong_postcode['id']}/consents").json()
    assert history[0]["history"][-1]["evidence"]["grdf_code"] == "grdf_postal_code_mismatch"
    other = customer(sandbox, holder="BERTRAND", postal_code="38100")
    wrong_holder = declare(resident, other, holder="Lambert", postal_code="38100")
    assert (wrong_holder["consent"]["status"], wrong_holder["consent"]["reason"]) == ("invalid", "grdf_holder_mismatch")
    assert [r for r in sandbox.get("/access_rights").json() if r["id_pce"] == pce] == []


# ---- damaged answers: the meter is granted directly so that no access-right listing meets the fault ----

async def granted_meter(stack, sandbox, resident) -> tuple[str, str]:
    """A PCE with an Active right at GRDF, a declared meter, and consent.granted on the bus."""
    pce = customer(sandbox, postal_code="38400")
    meter = declare(resident, pce, postal_code="38000")  # refused by GRDF: no right for ingest-grdf to watch
    assert meter["consent"]["status"] == "invalid"
    today = paris_today()
    async with AdictClient(stack.sandboxes["grdf"].url, CLIENT_ID, CLIENT_SECRET, min_interval=0) as adict:
        declared = await adict.declare_access(pce, "Rousseau", "38400", "jeanne.rousseau@example.org", today,
                                              today + dt.timedelta(days=365))
    assert sandbox.post(f"/access_rights/{declared['access_right_id']}/accept").status_code == 200
    return pce, meter["id"], declared["access_right_id"]


async def grant(stack, meter_id: str, pce: str, account_id: str | None, access_right_id: str) -> None:
    connection = await amqp(stack.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        env = Envelope(name=ConsentGranted.name, producer="test", payload={
            "consent_id": str(uuid.uuid4()), "meter_id": meter_id, "account_id": account_id, "dso": "grdf",
            "channel": "adict", "identifier": pce, "energy": "gas", "history_from": None,
            "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat(),
            "dso_reference": access_right_id})
        await asyncio.wait_for(exchange.publish(aio_pika.Message(env.to_bytes(), message_id=str(env.id)),
                                                routing_key=env.name), 30)
    finally:
        await connection.close()


async def cursor(stack, meter_id: str):
    rows = await db_fetch(stack, "select * from ingest_grdf.cursors where meter_id=$1", uuid.UUID(meter_id))
    return rows[0] if rows else None


async def test_a_malformed_line_an_error_mid_stream_and_a_truncated_body_are_retried_and_never_half_stored(
        stack, sandbox, resident):
    pce, meter_id, right_id = await granted_meter(stack, sandbox, resident)
    async with Tap(stack.amqp_url, "grdf") as tap:
        for kind in ("truncated", "malformed_line", "error_in_stream"):
            assert sandbox.post("/faults", json={"kind": kind, "count": 1}).status_code == 200
        await grant(stack, meter_id, pce, None, right_id)
        expected = await collected_exactly(sandbox, resident, pce, meter_id)
        assert sandbox.get("/faults").json()["counts"] == {"truncated": 0, "malformed_line": 0,
                                                          "error_in_stream": 0}
        days = tap.days(meter_id)
        assert len(days) == len(set(days)) == len(expected)
        row = await cursor(stack, meter_id)
        assert row["last_outcome"] == "ok" and row["attempts"] == 0


async def test_a_damage_that_persists_stores_nothing_and_the_meter_is_retried_later(stack, sandbox, admin, resident):
    pce, meter_id, right_id = await granted_meter(stack, sandbox, resident)
    async with Tap(stack.amqp_url, "grdf") as tap:
        assert sandbox.post("/faults", json={"kind": "truncated", "count": 3}).status_code == 200
        await grant(stack, meter_id, pce, None, right_id)

        async def backed_off():
            row = await cursor(stack, meter_id)
            return row and row["last_outcome"] == "transient" and row["attempts"] == 1 and \
                row["next_due_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
        await eventually(backed_off, timeout=30)
        assert tap.days(meter_id) == [] and served(resident, meter_id) == {}
        assert await db_fetch(stack, "select 1 from ingest_grdf.raw_payloads where meter_id=$1",
                              uuid.UUID(meter_id)) == []
        assert await db_fetch(stack, "select 1 from ingest_grdf.collected_ranges where meter_id=$1",
                              uuid.UUID(meter_id)) == []
        failures = admin.get("/admin/collections").json()["collections"]
        grdf = next(c for c in failures if c["dso"] == "grdf")
        assert meter_id in [m["meter_id"] for m in grdf["failures"]["meters"]]

        assert admin.post("/admin/collections/grdf/run").status_code == 202
        await collected_exactly(sandbox, resident, pce, meter_id)


async def test_a_burst_of_429_is_waited_out_as_grdf_asks(stack, sandbox, ingest, resident):
    pce, meter_id, right_id = await granted_meter(stack, sandbox, resident)
    assert sandbox.post("/faults", json={"kind": "http_429", "count": 4, "retry_after": 1}).status_code == 200
    started = time.monotonic()
    await grant(stack, meter_id, pce, None, right_id)
    await collected_exactly(sandbox, resident, pce, meter_id)
    assert time.monotonic() - started >= 4  # one second per 429, as Retry-After says
    assert sandbox.get("/faults").json()["counts"]["http_429"] == 0
    assert (await cursor(stack, meter_id))["last_outcome"] == "ok"
    report = ingest("GET", "/internal/collections").json()
    assert report["last_cycle"]["throttled"] >= 4 or report["outcomes"].get("quota_exceeded", 0) >= 4


# ---- partial answers: a retry code on one line of an otherwise good stream ----

def gaps_of(ingest, meter_id: str) -> list[dict]:
    report = ingest("GET", "/internal/collections").json()
    return [g for g in report["gaps"]["ranges"] if g["meter_id"] == meter_id]


async def test_a_day_grdf_keeps_failing_mid_stream_is_a_gap_with_its_reason_and_is_filled_once_served(
        stack, sandbox, admin, ingest, resident):
    pce, meter_id, right_id = await granted_meter(stack, sandbox, resident)
    bad = expected_period()[0] + dt.timedelta(days=500)  # in the middle of the second year's stream
    fault = {"kind": "failing_period", "pce": pce, "start": bad.isoformat()}
    assert sandbox.post("/faults", json=fault).status_code == 200
    expected = truth(sandbox, pce)
    others = {day: wh for day, wh in expected.items() if day != bad.isoformat()}
    assert len(others) == len(expected) - 1 > 1000
    async with Tap(stack.amqp_url, "grdf") as tap:
        await grant(stack, meter_id, pce, None, right_id)

        def every_other_day():
            got = served(resident, meter_id)
            assert got == others, f"{len(got)} days served, {len(others)} expected"
            return True
        await eventually(every_other_day, timeout=90, interval=1)
        [gap] = await eventually(lambda: gaps_of(ingest, meter_id), timeout=30)
        assert (gap["first_day"], gap["end_day"]) == (bad.isoformat(), (bad + dt.timedelta(days=1)).isoformat())
        assert gap["code"] == "2000100" and "période mentionnée ci-dessus" in gap["reason"]
        row = await cursor(stack, meter_id)
        assert row["last_outcome"] == "ok" and row["attempts"] == 0
        days = tap.days(meter_id)
        assert len(days) == len(set(days)) == len(others) and bad.isoformat() not in days

        # GRDF serves the day again: the next collection asks that day alone and fills it.
        asked_before = {r["id"] for r in await db_fetch(stack, "select id from ingest_grdf.raw_payloads "
                                                               "where meter_id=$1", uuid.UUID(meter_id))}
        assert sandbox.delete("/faults").status_code == 200
        assert admin.post("/admin/collections/grdf/run").status_code == 202
        await collected_exactly(sandbox, resident, pce, meter_id)
        await eventually(lambda: gaps_of(ingest, meter_id) == [], timeout=30)
        asked = [(r["period_start"], r["period_end"]) for r in await db_fetch(
            stack, "select id, period_start, period_end from ingest_grdf.raw_payloads where meter_id=$1",
            uuid.UUID(meter_id)) if r["id"] not in asked_before]
        assert (bad, bad + dt.timedelta(days=1)) in asked
        assert not [p for p in asked if p[0] <= bad < p[1] and p[1] - p[0] > dt.timedelta(days=1)]
        days = tap.days(meter_id)
        assert len(days) == len(set(days)) == len(expected)


async def test_a_period_failing_for_the_first_calls_only_is_filled_in_the_same_collection(
        stack, sandbox, ingest, resident):
    pce, meter_id, right_id = await granted_meter(stack, sandbox, resident)
    first = expected_period()[0] + dt.timedelta(days=800)
    fault = {"kind": "failing_period", "pce": pce, "start": first.isoformat(),
             "end": (first + dt.timedelta(days=3)).isoformat(), "count": 2}
    assert sandbox.post("/faults", json=fault).status_code == 200
    await grant(stack, meter_id, pce, None, right_id)
    await collected_exactly(sandbox, resident, pce, meter_id, timeout=90)
    [fault] = [f for f in sandbox.get("/faults").json()["failing_periods"] if f["pce"] == pce]
    assert fault["remaining"] == 0
    assert gaps_of(ingest, meter_id) == []
    assert (await cursor(stack, meter_id))["last_outcome"] == "ok"
