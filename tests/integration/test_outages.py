"""Issue 18 item 6: a PostgreSQL outage spends no attempt of the messages consumed meanwhile; only a handler's own
failure leads to the dead-letter queue, and ``dlq replay`` brings a dead letter back, handled once.

The outage is a TCP proxy between the consumer and the shared PostgreSQL, cut and restored (devstack.proxy)."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from devstack.db import scratch_database
from devstack.events import connect, queue_depth
from devstack.proxy import TcpProxy
from devstack.waiting import eventually
from metro import dlq
from metro.bus import Consumer, inbox_table
from metro.db import Database
from metro.events import Envelope, Event

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
metadata = sa.MetaData(schema="outagetest")
inbox = inbox_table(metadata)
handled = sa.Table("handled", metadata, sa.Column("n", sa.Integer, sa.Identity(), primary_key=True),
                   sa.Column("event_id", sa.Uuid, nullable=False), sa.Column("label", sa.Text, nullable=False))
RETRY_MS, RETRIES = 150, 2


class ThingHappened(Event):
    name = "outagetest.thing_happened"
    label: str


@pytest.fixture(scope="module")
async def scratch_url():
    async with scratch_database(f"metroenergies_outage_{SLOT}", metadata) as url:
        yield url


async def start(db: Database, amqp_url: str, queue: str, handle) -> tuple[Consumer, asyncio.Event, asyncio.Task]:
    bus = await connect(amqp_url)
    consumer = Consumer(db, bus, queue, {ThingHappened: handle}, inbox, retry_delay_ms=RETRY_MS,
                        max_retries=RETRIES, batch_size=4)
    await consumer.declare()
    stop = asyncio.Event()
    return consumer, stop, asyncio.create_task(consumer.run(stop))


async def publish(consumer: Consumer, *labels: str) -> list[uuid.UUID]:
    ids = []
    for label in labels:
        event = ThingHappened(label=label)
        envelope = Envelope(name=event.name, producer="test", payload=event.to_payload())
        await consumer.bus.publish(envelope)
        ids.append(envelope.id)
    return ids


async def forget_handled(db: Database) -> None:
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(handled))


async def labels_handled(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(sa.select(handled.c.label).order_by(handled.c.n))).scalars())


async def insert(session, events) -> None:
    for e in events:
        await session.execute(sa.insert(handled).values(event_id=e.id, label=e.payload.label))


async def test_a_database_outage_spends_no_attempt_and_the_events_are_handled_once_it_ends(scratch_url, amqp_url):
    queue = "outagetest.pause"
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    db = Database(proxy.url(scratch_url), pool_size=2)
    direct = Database(scratch_url, pool_size=1)
    await forget_handled(direct)
    consumer, stop, task = await start(db, amqp_url, queue, insert)
    try:
        await publish(consumer, "before")
        await eventually(lambda: labels_handled(direct), timeout=30)

        await proxy.cut()
        await publish(consumer, "during-1", "during-2", "during-3")
        await eventually(lambda: REGISTRY.get_sample_value("consumer_paused", {"queue": queue}) == 1, timeout=30)
        # Longer than every retry of every message would take: the old consumer had dead-lettered them all.
        await asyncio.sleep(4 * (RETRIES + 1) * RETRY_MS / 1000 + 2)
        assert await queue_depth(amqp_url, f"{queue}.dlq") == 0
        assert await queue_depth(amqp_url, f"{queue}.retry") == 0
        assert await labels_handled(direct) == ["before"]

        await proxy.restore()

        async def all_handled():
            return await labels_handled(direct) == ["before", "during-1", "during-2", "during-3"]
        await eventually(all_handled, timeout=60)
        assert REGISTRY.get_sample_value("consumer_paused", {"queue": queue}) == 0
        assert await queue_depth(amqp_url, f"{queue}.dlq") == 0
        assert await queue_depth(amqp_url, queue) == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await consumer.bus.close()
        await proxy.close()
        await db.dispose()
        await direct.dispose()


async def test_a_handler_failure_is_dead_lettered_and_a_replay_handles_it_once(scratch_url, amqp_url):
    queue = "outagetest.poison"
    db = Database(scratch_url, pool_size=2)
    broken = {"poison"}
    await forget_handled(db)

    async def handle(session, events):
        for e in events:
            if e.payload.label in broken:
                raise ValueError("a bug in the handler")
        await insert(session, events)

    consumer, stop, task = await start(db, amqp_url, queue, handle)
    try:
        [poison_id, _] = await publish(consumer, "poison", "fine")
        await eventually(lambda: queue_depth(amqp_url, f"{queue}.dlq"), timeout=60)
        assert await labels_handled(db) == ["fine"]
        [letter] = await dlq.list_dead_letters(amqp_url, [queue])
        assert (letter.event_id, letter.event) == (str(poison_id), ThingHappened.name)
        assert letter.reason == "handler failed after retries" and letter.attempts == RETRIES
        # Listing leaves it there.
        assert [x.event_id for x in await dlq.list_dead_letters(amqp_url, [queue])] == [str(poison_id)]

        # Still broken: a replay has its full attempts again, and ends up dead-lettered again.
        [again] = await dlq.replay(amqp_url, [queue], str(poison_id))
        assert again.event_id == str(poison_id)
        await eventually(lambda: queue_depth(amqp_url, f"{queue}.dlq"), timeout=60)
        [letter] = await dlq.list_dead_letters(amqp_url, [queue])
        assert letter.attempts == RETRIES

        broken.clear()  # the bug fixed
        assert await dlq.replay(amqp_url, [queue], "not-an-event") == []
        assert len(await dlq.replay(amqp_url, [queue])) == 1

        async def handled_once():
            return sorted(await labels_handled(db)) == ["fine", "poison"]
        await eventually(handled_once, timeout=30)
        # The same event sent once more (a replay crashed before its ack): the inbox drops it.
        await publish_again(consumer, poison_id)
        await eventually(lambda: REGISTRY.get_sample_value(
            "events_handled_total", {"queue": queue, "outcome": "duplicate"}), timeout=30)
        assert sorted(await labels_handled(db)) == ["fine", "poison"]
        assert await queue_depth(amqp_url, f"{queue}.dlq") == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await consumer.bus.close()
        await db.dispose()


async def publish_again(consumer: Consumer, event_id: uuid.UUID) -> None:
    event = ThingHappened(label="poison")
    await consumer.bus.publish(Envelope(id=event_id, name=event.name, producer="test", payload=event.to_payload()))
