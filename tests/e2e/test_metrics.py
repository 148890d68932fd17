"""Issue 19 item 4: every running service serves its metric families on its metrics port, the public port does
not serve /metrics, and a request id given at the gateway reaches the next service and the events it causes."""
from __future__ import annotations

import json
import uuid

import aio_pika
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.client import random_prm
from devstack.events import amqp
from devstack.waiting import eventually
from metro.events import EXCHANGE, Envelope, MeterDeclared
from metro.services import ERASING, NAMES
from tests.e2e.test_enedis_collection import new_meter, sandbox  # noqa: F401 (the sandbox fixture)

pytestmark = pytest.mark.timeout(600)  # the first test of a run also pays for starting the stack

# Family -> the labels one of its samples must carry ({} : any sample, None: the family declared, no sample
# needed because nothing of the kind has happened yet in a fresh stack).
SHARED = {
    "http_request_duration_seconds": {},
    "db_pool_checked_out": {"service": "{svc}"},
    "db_pool_capacity": {"service": "{svc}"},
    "outbox_pending": {"producer": "{svc}"},
    "outbox_oldest_unpublished_age_seconds": {"producer": "{svc}"},
    "events_published_total": None,
}
OWN = {
    "consumption": {"pricing_backlog_meters": {}, "pricing_backlog_oldest_age_seconds": {},
                    "data_newest_day_age_days": {"channel": "enedis.dataconnect"}},
    "notify": {"mail_send_failures_total": {"outcome": "failed"}},
    "ingest_enedis": {"dso_last_successful_cycle_timestamp_seconds": {"dso": "enedis"},
                      "dso_quota_used": {"dso": "enedis", "window": "hour"},
                      "dso_quota_limit": {"dso": "enedis", "window": "hour"},
                      "collection_meters_failing": {"dso": "enedis", "outcome": "transient"},
                      "dso_calls_total": {"dso": "enedis", "outcome": "ok"}},
    "ingest_grdf": {"dso_quota_used": {"dso": "grdf", "window": "day"},
                    "collection_meters_failing": {"dso": "grdf", "outcome": "quota_exceeded"},
                    "dso_last_successful_cycle_timestamp_seconds": None, "dso_calls_total": None},
    "ingest_sge": {"dso_last_successful_cycle_timestamp_seconds": None, "collection_cycles_total": None},
}


def families(stack, svc: str) -> dict[str, list]:
    r = httpx.get(stack.metrics_url(svc) + "/metrics", timeout=10)
    assert r.status_code == 200, f"{svc}: {r.status_code}"
    found = {}
    for family in text_string_to_metric_families(r.text):
        # The parser names a counter's family without its _total suffix.
        name = family.name + "_total" if family.type == "counter" else family.name
        found[name] = family.samples
    return found


def missing(stack, svc: str) -> list[str]:
    expected = {**SHARED, **OWN.get(svc, {})}
    if svc in ERASING:
        expected["dlq_messages"] = {"queue": f"{svc}.erasure.dlq"}
    found = families(stack, svc)
    gaps = []
    for name, labels in expected.items():
        if name not in found:
            gaps.append(f"{svc}: no family {name}")
        elif labels is not None:
            wanted = {k: v.format(svc=svc) for k, v in labels.items()}
            if not any(wanted.items() <= s.labels.items() for s in found[name]):
                gaps.append(f"{svc}: {name} has no sample with {wanted}")
    return gaps


async def test_each_service_serves_every_family_on_its_metrics_port_and_not_on_the_public_one(stack, sandbox,
                                                                                           resident):
    # One collected meter, so that the collection's and the data's figures exist.
    await new_meter(stack, sandbox, resident)

    async def complete():
        gaps = [gap for svc in NAMES for gap in missing(stack, svc)]
        assert not gaps, "\n".join(gaps)
        return True
    await eventually(complete, timeout=120, interval=2)

    lag = [s.value for s in families(stack, "consumption")["data_newest_day_age_days"]
           if s.labels["channel"] == "enedis.dataconnect"]
    assert 0 < lag[0] <= 3  # Data Connect publishes D-1 in the morning
    assert httpx.get(stack.url("gateway") + "/metrics", timeout=10).status_code == 404
    assert httpx.get(stack.url("consent") + "/metrics", timeout=10).status_code == 404


async def test_a_request_id_reaches_the_next_service_and_the_events_it_causes(stack, resident):
    request_id = f"test-{uuid.uuid4().hex}"
    connection = await amqp(stack.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"test.request_id.{uuid.uuid4().hex[:8]}", exclusive=True)
        await queue.bind(exchange, routing_key=MeterDeclared.name)
        seen: list[Envelope] = []

        async def keep(message) -> None:
            seen.append(Envelope.from_bytes(message.body))
        await queue.consume(keep, no_ack=True)

        r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()},
                          headers={"x-request-id": request_id})
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == request_id
        meter_id = r.json()["id"]
        declared = await eventually(lambda: [e for e in seen if e.payload.get("meter_id") == meter_id], timeout=30)
        assert {e.request_id for e in declared} == {request_id}
    finally:
        await connection.close()

    # The consent service logged the gateway's call under the same id, with the route template only.
    lines = [json.loads(x) for x in (stack.log_dir / "consent.log").read_text().splitlines() if request_id in x]
    access = [x for x in lines if x.get("logger") == "metro.access"]
    assert access and all(x["request_id"] == request_id and meter_id not in x["route"] for x in access)

    # An id that is not a plain token is replaced, never logged as given.
    r = resident.get("/meters", headers={"x-request-id": "not a token!"})
    assert r.status_code == 200 and r.headers["x-request-id"] != "not a token!"
