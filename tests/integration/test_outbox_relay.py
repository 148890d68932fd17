"""Issue 2: the outbox survives a relay killed between commit and publish, and between publish and the
mark; the idempotent consumer turns the resulting duplicate into exactly one effect."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from devstack.db import fresh_schema
from devstack.events import connect, queue_depth
from devstack.relay_process import metadata, table as outbox
from devstack.stack import ROOT
from devstack.waiting import eventually
from metro.bus import Consumer, inbox_table
from metro.db import Database
from metro.events import Event
from metro.outbox import Outbox

inbox = inbox_table(metadata)
facts = sa.Table("facts", metadata, sa.Column("id", UUID(as_uuid=True), primary_key=True))
effects = sa.Table("effects", metadata, sa.Column("fact_id", UUID(as_uuid=True)),
                   sa.Column("n", sa.Integer, sa.Identity(), primary_key=True))


class FactRecorded(Event):
    name = "relaytest.fact_recorded"
    fact_id: uuid.UUID


def run_relay(database_url: str, amqp_url: str, *, crash: bool) -> int:
    env = {"METRO_CRASH_AFTER_PUBLISH": "1"} if crash else {}
    import os
    return subprocess.run([sys.executable, "-m", "devstack.relay_process", database_url, amqp_url],
                          cwd=ROOT, env={**os.environ, **env}, timeout=60).returncode


async def test_event_committed_then_relay_killed_arrives_once(database_url, amqp_url):
    db = Database(database_url, pool_size=2)
    await fresh_schema(db, metadata)
    bus = await connect(amqp_url)
    received = asyncio.Event()

    async def handle(session, events):
        for e in events:
            await session.execute(sa.insert(effects).values(fact_id=e.payload.fact_id))
        received.set()

    consumer = Consumer(db, bus, "relaytest.facts", {FactRecorded: handle}, inbox,
                        retry_delay_ms=200, max_retries=2)
    await consumer.declare()

    fact_id = uuid.uuid4()
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(facts).values(id=fact_id))
        await Outbox(outbox, "relaytest").add(session, FactRecorded(fact_id=fact_id))
    # Committed, and no relay alive: nothing is on the broker yet.
    assert await queue_depth(amqp_url, "relaytest.facts") == 0

    # The relay dies after the broker confirmed and before the row is marked: the message is out, the row is not.
    assert run_relay(database_url, amqp_url, crash=True) == 137
    await eventually(lambda: queue_depth(amqp_url, "relaytest.facts"))
    async with db.session() as session:
        assert (await session.execute(sa.select(outbox.c.published_at))).scalar_one() is None

    # A new relay publishes it again and marks it; the broker now holds the event twice.
    assert run_relay(database_url, amqp_url, crash=False) == 0
    assert await queue_depth(amqp_url, "relaytest.facts") == 2
    async with db.session() as session:
        assert (await session.execute(sa.select(outbox.c.published_at))).scalar_one() is not None

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(received.wait(), 20)
    await eventually(lambda: _depth_zero(amqp_url))
    stop.set()
    await asyncio.wait_for(task, 10)
    async with db.session() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(effects))).scalar_one() == 1
        assert (await session.execute(sa.select(sa.func.count()).select_from(inbox))).scalar_one() == 1
    await bus.close()
    await db.dispose()


async def _depth_zero(amqp_url: str) -> bool:
    return await queue_depth(amqp_url, "relaytest.facts") == 0
