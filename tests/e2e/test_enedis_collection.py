"""Issue 3: Data Connect collection over the real processes and the Data Connect sandbox."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import uuid

import aio_pika
import asyncpg
import httpx
import pytest

from devstack.db import fetchval, raw_dsn
from devstack.events import Tap
from devstack.stack import ROOT
from devstack.waiting import eventually
from ingest_enedis.dataconnect_calendar import add_months, earliest_history_day, latest_published_day
from metro.events import (EXCHANGE, ConsentGranted, ConsentRevoked, ContractChanged, Envelope,
                          ReadingsCollected)
from metro.service_auth import ServiceTokens

pytestmark = pytest.mark.timeout(600)  # the first test also pays for starting the stack
PARIS_TODAY = lambda: dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).date()  # noqa: E731


@pytest.fixture(scope="module")
def sandbox(stack):
    client = httpx.Client(base_url=stack.sandboxes["enedis"].url, timeout=30)
    yield client
    client.delete("/_sandbox/faults")
    client.delete("/_sandbox/clock")
    client.close()


@pytest.fixture(scope="module")
def ingest(stack):
    tokens = ServiceTokens.local("gateway")

    class Internal:
        def request(self, method: str, path: str, **kw) -> httpx.Response:
            headers = {"authorization": f"Bearer {tokens.issue('ingest_enedis')}"}
            return httpx.request(method, stack.url("ingest_enedis") + path, headers=headers, timeout=30, **kw)

    return Internal()


def expected_period(activation: dt.date) -> tuple[dt.date, dt.date]:
    today = PARIS_TODAY()
    start = max(earliest_history_day(today), add_months(today, -36), activation)
    # A history a few days over whole 365-day windows is cut to them (a call saved for at most a week).
    whole, extra = divmod((today - start).days, 365)
    if whole and 0 < extra <= 7:
        start += dt.timedelta(days=extra)
    return start, latest_published_day(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)


async def new_meter(stack, sandbox, resident, *, publish: bool = True, **customer) -> dict:
    """A sandbox customer with consent, the meter declared by the resident, and consent.granted published
    as the consent service will once the callback flow is wired."""
    created = sandbox.post("/_sandbox/customers", json={"consent": True, **customer})
    assert created.status_code == 201, created.text
    prm = created.json()["prms"][0]
    activation = dt.date.fromisoformat(created.json()["meters"][0]["activation_date"])
    r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 201, r.text
    meter_id = r.json()["id"]

    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter_id)))
    meter = {"prm": prm, "meter_id": meter_id, "activation": activation,
             "account_id": resident.account.get("id") if resident.account else None}
    if publish:
        await grant(stack, meter)
    return meter


async def grant(stack, meter: dict, consent_id: str | None = None) -> str:
    consent_id = consent_id or str(uuid.uuid4())
    await publish(stack, Envelope(name=ConsentGranted.name, producer="test", payload={
        "consent_id": consent_id, "meter_id": meter["meter_id"], "account_id": meter["account_id"],
        "dso": "enedis", "channel": "dataconnect", "identifier": meter["prm"], "energy": "electricity",
        "history_from": None, "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1095)).isoformat(),
        "dso_reference": None}))
    return consent_id


async def publish(stack, env: Envelope) -> None:
    connection = await aio_pika.connect(stack.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(env.to_bytes(), message_id=str(env.id)), routing_key=env.name)
    finally:
        await connection.close()


def grants_dropped(stack) -> float:
    text = httpx.get(stack.metrics_url("ingest_enedis") + "/metrics", timeout=10).text
    line = next((x for x in text.splitlines()
                 if x.startswith('consent_grants_dropped_total{service="ingest_enedis"}')), None)
    return float(line.split()[-1]) if line else 0.0


def truth(sandbox, meter: dict) -> dict[str, int]:
    start, end = expected_period(meter["activation"])
    r = sandbox.get(f"/_sandbox/ground_truth/{meter['prm']}", params={"start": start.isoformat(),
                                                                      "end": end.isoformat()})
    assert r.status_code == 200, r.text
    return {d["date"]: d["value"] for d in r.json()["days"]}


def served(resident, meter: dict) -> dict[str, int]:
    start, end = expected_period(meter["activation"])
    r = resident.get(f"/meters/{meter['meter_id']}/consumption",
                     params={"from": start.isoformat(), "to": end.isoformat()})
    assert r.status_code == 200, r.text
    return {p["period"]: p["wh"] for p in r.json()["points"] if p["wh"] is not None}


async def collected_exactly(sandbox, resident, meter: dict, timeout: float = 90) -> dict[str, int]:
    expected = truth(sandbox, meter)
    assert len(expected) > 300

    def complete():
        got = served(resident, meter)
        assert got == expected, f"{len(got)} days served, {len(expected)} expected"
        return got
    return await eventually(complete, timeout=timeout, interval=1)


async def cursor(stack, meter: dict):
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        return await conn.fetchrow("select * from ingest_enedis.cursors where meter_id=$1", uuid.UUID(meter["meter_id"]))
    finally:
        await conn.close()


async def test_first_collection_backfills_three_years_equal_to_the_ground_truth(stack, sandbox, ingest, resident):
    async with Tap(stack.amqp_url, "enedis") as tap:
        meter = await new_meter(stack, sandbox, resident)
        await collected_exactly(sandbox, resident, meter)
        days = tap.days(meter["meter_id"])
        assert len(days) == len(set(days)) == len(truth(sandbox, meter))
        assert all(len(e.payload["readings"]) <= ReadingsCollected.MAX_DAYS
                   and e.payload["source"] == "enedis.dataconnect"
                   for e in tap.of(ReadingsCollected.name, meter["meter_id"]))
        contracts = tap.of(ContractChanged.name, meter["meter_id"])
        assert len(contracts) == 1 and contracts[0].payload["status"] == "active"

        # A second run finds nothing missing: not one more day, no new contract.changed.
        asked_at = dt.datetime.now(dt.UTC)
        assert ingest.request("POST", "/internal/collections/run").status_code == 202
        await asyncio.sleep(3)
        assert len(tap.days(meter["meter_id"])) == len(days)
        assert len(tap.of(ContractChanged.name, meter["meter_id"])) == 1

    report = ingest.request("GET", "/internal/collections").json()
    assert report["dso"] == "enedis" and report["quota_used"]["per_second"] == 5
    # The live generation: mesure_synchrone_auto/v2 measures and the ITC contract APIs.
    assert report["api_generation"] == "2026"
    assert report["quota_used"]["total"] >= 1
    # The run asked for is recorded as such (a meter of another test falling due may have opened a scheduled
    # cycle since, so it need not be the last one).
    assert report["last_cycle"]["trigger"] in ("manual", "schedule")
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        assert await conn.fetchval("select count(*) from ingest_enedis.cycles where trigger = 'manual' "
                                   "and started_at >= $1", asked_at) == 1
    finally:
        await conn.close()


async def test_a_kill_mid_backfill_loses_no_day_and_publishes_none_twice(stack, sandbox, resident):
    sandbox.put("/_sandbox/faults", json={"latency_ms": 800})
    try:
        async with Tap(stack.amqp_url, "enedis") as tap:
            meter = await new_meter(stack, sandbox, resident)
            await eventually(lambda: len(tap.of(ReadingsCollected.name, meter["meter_id"])) >= 1, timeout=60)
            stack.kill("ingest_enedis")
            partial = len(tap.of(ReadingsCollected.name, meter["meter_id"]))
            assert partial < 4, "the backfill ended before the kill"
            sandbox.delete("/_sandbox/faults")
            stack.start("ingest_enedis")
            await collected_exactly(sandbox, resident, meter)
            await asyncio.sleep(1)
            days = tap.days(meter["meter_id"])
            assert sorted(days) == sorted(truth(sandbox, meter)), "a day missing or published twice"
    finally:
        sandbox.delete("/_sandbox/faults")
        if "ingest_enedis" not in stack.processes:
            stack.start("ingest_enedis")


async def test_consent_revoked_at_the_dso_stops_collection_and_keeps_history(stack, sandbox, resident):
    sandbox.put("/_sandbox/faults", json={"latency_ms": 600})
    try:
        async with Tap(stack.amqp_url, "enedis") as tap:
            meter = await new_meter(stack, sandbox, resident)
            await eventually(lambda: tap.of(ReadingsCollected.name, meter["meter_id"]), timeout=60)
            assert sandbox.post(f"/_sandbox/consents/{meter['prm']}/revoke").status_code == 200
            revoked = await eventually(lambda: tap.of(ConsentRevoked.name, meter["meter_id"]), timeout=60)
            assert revoked[0].payload["reason"] == "dso" and revoked[0].payload["channel"] == "dataconnect"
            row = await cursor(stack, meter)
            assert row["active"] is False
            kept = tap.days(meter["meter_id"])
            assert kept and len(kept) < len(truth(sandbox, meter))
            await eventually(lambda: len(served(resident, meter)) == len(kept))
    finally:
        sandbox.delete("/_sandbox/faults")


async def test_a_grant_delivered_after_the_revocation_does_not_resume_collection(stack, sandbox, resident):
    sandbox.put("/_sandbox/faults", json={"latency_ms": 600})
    try:
        async with Tap(stack.amqp_url, "enedis") as tap:
            meter = await new_meter(stack, sandbox, resident, publish=False)
            consent_id = await grant(stack, meter)
            await eventually(lambda: tap.of(ReadingsCollected.name, meter["meter_id"]), timeout=60)
            await publish(stack, Envelope(name=ConsentRevoked.name, producer="consent", payload={
                "consent_id": consent_id, "meter_id": meter["meter_id"], "account_id": meter["account_id"],
                "dso": "enedis", "channel": "dataconnect", "identifier": meter["prm"], "reason": "user"}))

            async def stopped():
                row = await cursor(stack, meter)
                return row is not None and not row["active"]
            await eventually(stopped, timeout=30)
            sandbox.delete("/_sandbox/faults")
            dropped = grants_dropped(stack)
            # The same consent's grant, late (a consumer's retry, the outbox's backoff): dropped and counted.
            await grant(stack, meter, consent_id)
            await eventually(lambda: grants_dropped(stack) == dropped + 1, timeout=30)
            kept = len(tap.days(meter["meter_id"]))
            await asyncio.sleep(3)
            assert (await cursor(stack, meter))["active"] is False
            assert len(tap.days(meter["meter_id"])) == kept < len(truth(sandbox, meter))
    finally:
        sandbox.delete("/_sandbox/faults")


async def test_supply_end_revokes_the_consent_with_reason_supply_ended(stack, sandbox, resident):
    async with Tap(stack.amqp_url, "enedis") as tap:
        meter = await new_meter(stack, sandbox, resident, contract={"status": "terminated"})
        revoked = await eventually(lambda: tap.of(ConsentRevoked.name, meter["meter_id"]), timeout=60)
        assert revoked[0].payload["reason"] == "supply_ended"
        assert (await cursor(stack, meter))["active"] is False


async def test_a_burst_of_500_is_retried_and_a_longer_one_waits_for_the_next_attempt(stack, sandbox, ingest, resident):
    sandbox.put("/_sandbox/faults", json={"fail_next_500": 2})
    short = await new_meter(stack, sandbox, resident)
    await collected_exactly(sandbox, resident, short)
    assert (await cursor(stack, short))["last_outcome"] == "ok"

    sandbox.put("/_sandbox/faults", json={"fail_next_500": 3})
    long = await new_meter(stack, sandbox, resident)

    async def backed_off():
        row = await cursor(stack, long)
        return row and row["last_outcome"] == "transient" and row["attempts"] == 1 and \
            row["next_due_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    await eventually(backed_off, timeout=30)
    failures = ingest.request("GET", "/internal/collections").json()["failures"]
    assert long["meter_id"] in [m["meter_id"] for m in failures["meters"]]
    assert served(resident, long) == {}
    assert ingest.request("POST", "/internal/collections/run").status_code == 202
    await collected_exactly(sandbox, resident, long)
    assert (await cursor(stack, long))["active"] is True


async def test_a_burst_of_429_is_waited_out_without_a_tight_loop(stack, sandbox, ingest, resident):
    sandbox.delete("/_sandbox/counters")
    sandbox.put("/_sandbox/faults", json={"fail_next_429": 4})
    started = time.monotonic()
    meter = await new_meter(stack, sandbox, resident)
    await collected_exactly(sandbox, resident, meter)
    assert time.monotonic() - started >= 4  # one second per 429, as the DSO asks
    counters = sandbox.get("/_sandbox/counters").json()
    assert counters["status"].get("429") == 4, counters  # not one retry before the wait
    assert (await cursor(stack, meter))["last_outcome"] == "ok"
    assert ingest.request("GET", "/internal/collections").json()["last_cycle"]["throttled"] >= 4


async def test_a_one_hour_outage_is_filled_once_the_dso_is_back(stack, sandbox, ingest, resident):
    sandbox.put("/_sandbox/faults", json={"outage_minutes": 60})
    try:
        meter = await new_meter(stack, sandbox, resident)

        async def failing():
            row = await cursor(stack, meter)
            return row and row["last_outcome"] == "transient" and row["active"]
        await eventually(failing, timeout=30)
        assert served(resident, meter) == {}
        sandbox.post("/_sandbox/clock/advance", json={"seconds": 3601})
        assert ingest.request("POST", "/internal/collections/run").status_code == 202
        await collected_exactly(sandbox, resident, meter)
        assert (await cursor(stack, meter))["attempts"] == 0
    finally:
        sandbox.delete("/_sandbox/faults")
        sandbox.delete("/_sandbox/clock")


async def consumption_rows(stack, meter: dict) -> list:
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    try:
        return [tuple(r) for r in await conn.fetch(
            "select day, wh, quality, source, extra, collected_at from consumption.readings "
            "where meter_id=$1 order by day", uuid.UUID(meter["meter_id"]))]
    finally:
        await conn.close()


async def replay(stack, *args: str) -> dict:
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingest_enedis", "replay", *args], cwd=ROOT,
        env=stack.env("ingest_enedis"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


async def test_replay_rederives_the_kept_answers_and_a_second_replay_changes_nothing(stack, sandbox,
                                                                                     resident):
    async with Tap(stack.amqp_url, "enedis") as tap:
        # A history of several calls (one PRM in ten the sandbox draws was activated last year: maybe a single call).
        meter = await new_meter(stack, sandbox, resident,
                                activation_date=(dt.date.today() - dt.timedelta(days=900)).isoformat())
        expected = await collected_exactly(sandbox, resident, meter)
        await eventually(lambda: len(tap.days(meter["meter_id"])) == len(expected), timeout=30)
        collection_events = len(tap.of(ReadingsCollected.name, meter["meter_id"]))
        meter_id = uuid.UUID(meter["meter_id"])
        conn = await asyncpg.connect(raw_dsn(stack.database_url))
        try:
            kept = await conn.fetchval("select count(*) from ingest_enedis.raw_payloads where meter_id=$1",
                                       meter_id)
            ranges_sql = "select first_day, end_day from ingest_enedis.collected_ranges where meter_id=$1"
            ranges = await conn.fetch(ranges_sql, meter_id)
            collected = await consumption_rows(stack, meter)
            # A day stored wrong downstream, as a parser bug would have left it. It opens a week stored whole, which
            # is replayed last: the sandbox leaves a day out now and then, as Enedis does.
            stored = [r[0] for r in collected]
            damaged = next(d for i, d in enumerate(stored[len(stored) // 2:-6], len(stored) // 2)
                           if stored[i + 6] == d + dt.timedelta(days=6))
            await conn.execute("update consumption.readings set wh = wh + 1000 where meter_id=$1 and day=$2",
                               meter_id, damaged)

            first = await replay(stack, "--prm", meter["prm"])
            days = len(expected)
            assert first == {"meters": 1, "payloads": kept, "days": days, "events": -(-days // 366),
                             "unreadable": 0}
            assert kept > 1

            async def put_right():
                rows = await consumption_rows(stack, meter)
                return rows if [r[:5] for r in rows] == [r[:5] for r in collected] else None
            repaired = await eventually(put_right, timeout=60)
            assert served(resident, meter) == expected
            assert [r for r in repaired if r[0] != damaged] == [r for r in collected if r[0] != damaged], \
                "an unchanged day is left as it was (collected_at included)"

            second = await replay(stack, "--meter", meter["meter_id"])
            assert second == first

            def replayed():
                events = tap.of(ReadingsCollected.name, meter["meter_id"])[collection_events:]
                return events if len(events) == first["events"] + second["events"] else None
            ids = [e.id for e in await eventually(replayed, timeout=60)]

            async def handled():
                return await conn.fetchval("select count(*) from consumption.inbox where event_id = any($1)",
                                           ids) == len(ids)
            await eventually(handled, timeout=60)
            assert await consumption_rows(stack, meter) == repaired, "the second replay changed nothing"
            assert await conn.fetch(ranges_sql, meter_id) == ranges

            week = await replay(stack, "--meter", meter["meter_id"], "--from", damaged.isoformat(),
                                "--to", (damaged + dt.timedelta(days=6)).isoformat())
            assert (week["meters"], week["days"], week["events"]) == (1, 7, 1)
            assert 1 <= week["payloads"] <= 2
        finally:
            await conn.close()
