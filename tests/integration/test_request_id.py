"""Issue 19 item 4: the request id under which an event is written travels on its envelope; the consumer handles
it under that id (its logs say it) and the events it writes carry it on; an event from an older producer, without
one, is handled under its own id; the dead-letter depth is read from the broker."""
from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from devstack.db import fresh_schema
from devstack.events import connect, publish
from devstack.waiting import eventually
from metro.bus import Consumer, inbox_table
from metro.db import Database, make_metadata
from metro.events import Envelope, Event
from metro.logs import correlation_id
from metro.outbox import Outbox, OutboxRelay, backlog, outbox_table

metadata = make_metadata("requestidtest")
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
QUEUE = "requestidtest.facts"


class FactNoted(Event):
    name = "requestidtest.fact_noted"
    fact_id: uuid.UUID


class FactEchoed(Event):
    name = "requestidtest.fact_echoed"
    fact_id: uuid.UUID


async def test_the_request_id_goes_from_the_outbox_to_the_consumer_and_onto_what_it_writes(database_url, amqp_url):
    db = Database(database_url, pool_size=2)
    await fresh_schema(db, metadata)
    bus = await connect(amqp_url)
    box = Outbox(outbox, "requestidtest")
    seen: dict[uuid.UUID, str] = {}

    async def handle(session, events):
        for e in events:
            seen[e.payload.fact_id] = correlation_id.get()
            await box.add(session, FactEchoed(fact_id=e.payload.fact_id))

    consumer = Consumer(db, bus, QUEUE, {FactNoted: handle}, inbox, retry_delay_ms=200, max_retries=1)
    await consumer.declare()
    assert (await bus.depths([f"{QUEUE}.dlq", "requestidtest.absent"])) == {f"{QUEUE}.dlq": 0}

    carried, older = uuid.uuid4(), uuid.uuid4()
    token = correlation_id.set("req-4f2a")
    try:
        async with db.session() as session, session.begin():
            await box.add(session, FactNoted(fact_id=carried))
    finally:
        correlation_id.reset(token)
    assert (await backlog(db, box))[0] == 1
    assert await OutboxRelay(db, bus, box).publish_pending() == 1
    old_envelope = Envelope(name=FactNoted.name, producer="older", payload={"fact_id": str(older)})
    assert b"request_id" not in old_envelope.to_bytes()
    await publish(amqp_url, old_envelope)

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await eventually(lambda: len(seen) == 2, timeout=30)
    stop.set()
    await asyncio.wait_for(task, 10)

    assert seen == {carried: "req-4f2a", older: str(old_envelope.id)}
    async with db.session() as session:
        echoed = dict((await session.execute(
            sa.select(outbox.c.payload["fact_id"].astext, outbox.c.request_id)
            .where(outbox.c.name == FactEchoed.name))).all())
    assert echoed == {str(carried): "req-4f2a", str(older): str(old_envelope.id)}
    await bus.close()
    await db.dispose()
