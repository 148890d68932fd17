"""Issue 16: a consumer receives each event as its typed payload, and an event whose payload does not validate
(or of a version nobody here handles) goes to the dead-letter queue with the reason, without holding back the
events around it."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from devstack.db import fresh_schema
from devstack.events import connect, drain, queue_depth
from devstack.waiting import eventually
from metro.bus import Consumer, inbox_table
from metro.db import Database, make_metadata
from metro.events import Envelope, ReadingsCollected

metadata = make_metadata("typedtest")
inbox = inbox_table(metadata)
QUEUE = "typedtest.readings"


async def test_invalid_payload_is_dead_lettered_with_the_validation_error(database_url, amqp_url):
    db = Database(database_url, pool_size=2)
    await fresh_schema(db, metadata)
    bus = await connect(amqp_url)
    received: list = []

    async def handle(session, events):
        received.extend(events)

    consumer = Consumer(db, bus, QUEUE, {ReadingsCollected: handle}, inbox, retry_delay_ms=200, max_retries=2)
    await consumer.declare()
    meter = uuid.uuid4()
    good = ReadingsCollected(meter_id=meter, source="test", readings=[(dt.date(2025, 1, 1), 4200, "measured", None)])
    await bus.publish(Envelope(name=good.name, producer="test", payload=good.to_payload()))
    await bus.publish(Envelope(name=good.name, producer="test", payload={
        "meter_id": str(meter), "source": "test", "readings": [["2025-01-02", "a lot", "measured", None]]}))
    await bus.publish(Envelope(name=good.name, version=2, producer="test", payload=good.to_payload()))
    await bus.publish(Envelope(name=good.name, producer="test", payload={**good.to_payload(), "unit": "kWh"}))

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await eventually(lambda: queue_depth(amqp_url, f"{QUEUE}.dlq"), timeout=30)
    await eventually(lambda: len(received) == 1, timeout=30)
    await eventually(lambda: _depth_is(amqp_url, f"{QUEUE}.dlq", 3), timeout=30)
    stop.set()
    await asyncio.wait_for(task, 10)

    [event] = received
    assert event.payload == good
    assert event.payload.readings[0] == (dt.date(2025, 1, 1), 4200, "measured", None)
    reasons = [m.headers["x-metro-reason"] for m in await drain(amqp_url, f"{QUEUE}.dlq")]
    assert len(reasons) == 3
    [bad_wh] = [r for r in reasons if "readings.0.1" in r]
    assert "invalid readings.collected" in bad_wh and "integer" in bad_wh
    assert any("version 2 is not handled here" in r for r in reasons)
    assert any("unit" in r and "'Wh'" in r for r in reasons)
    await bus.close()
    await db.dispose()


async def _depth_is(amqp_url: str, queue: str, n: int) -> bool:
    return await queue_depth(amqp_url, queue) == n
