"""Issue 2: a consumer with an order key handles batches in parallel, yet applies the events of one key in the
order they were published (readings of one meter must never be overwritten by an older message)."""
from __future__ import annotations

import asyncio
import random

import sqlalchemy as sa

from devstack.db import fresh_schema
from devstack.events import connect, queue_depth
from devstack.waiting import eventually
from metro.bus import Consumer, inbox_table
from metro.db import Database
from metro.events import Envelope, Event

metadata = sa.MetaData(schema="keytest")
inbox = inbox_table(metadata)
applied = sa.Table("applied", metadata, sa.Column("n", sa.Integer, sa.Identity(), primary_key=True),
                   sa.Column("key", sa.Text, nullable=False), sa.Column("seq", sa.Integer, nullable=False))

KEYS, STEPS = 12, 25


class StepTaken(Event):
    name = "keytest.step"
    key: str
    seq: int


async def test_events_of_one_key_keep_their_order_while_batches_run_in_parallel(database_url, amqp_url):
    db = Database(database_url, pool_size=4)
    await fresh_schema(db, metadata)
    bus = await connect(amqp_url)
    in_flight, most_in_flight = 0, 0
    rng = random.Random(3)

    async def handle(session, events):
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        try:
            for e in events:
                await session.execute(sa.insert(applied).values(key=e.payload.key, seq=e.payload.seq))
            await asyncio.sleep(rng.uniform(0.01, 0.08))  # a slow batch: the next one must not overtake it
        finally:
            in_flight -= 1

    consumer = Consumer(db, bus, "keytest.steps", {StepTaken: handle}, inbox, retry_delay_ms=200,
                        max_retries=2, batch_size=5, order_key=lambda e: e.payload.key, concurrency=2)
    await consumer.declare()
    # Keys interleaved, each key's steps in order: consecutive batches share keys now and then.
    for seq in range(STEPS):
        for k in rng.sample(range(KEYS), KEYS):
            step = StepTaken(key=f"k{k}", seq=seq)
            await bus.publish(Envelope(name=step.name, producer="test", payload=step.to_payload()))

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def all_applied() -> bool:
        async with db.session() as session:
            n = (await session.execute(sa.select(sa.func.count()).select_from(applied))).scalar_one()
        return n == KEYS * STEPS and await queue_depth(amqp_url, "keytest.steps") == 0

    await eventually(all_applied, timeout=60)
    stop.set()
    await asyncio.wait_for(task, 10)
    async with db.session() as session:
        rows = (await session.execute(sa.select(applied.c.key, applied.c.seq).order_by(applied.c.n))).all()
    per_key: dict[str, list[int]] = {}
    for key, seq in rows:
        per_key.setdefault(key, []).append(seq)
    assert per_key == {f"k{k}": list(range(STEPS)) for k in range(KEYS)}
    assert most_in_flight == 2, "batches never overlapped: the test shows nothing about ordering"
    await bus.close()
    await db.dispose()
