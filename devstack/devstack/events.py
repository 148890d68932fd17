"""Publishing and inspecting events on the test virtual host, as another service would."""
from __future__ import annotations

import datetime as dt
import uuid

import aio_pika

from metro.bus import Bus
from metro.events import Envelope, ReadingsCollected


def readings_event(meter_id: uuid.UUID | str, start: dt.date, values: list[int | None], *,
                   source: str = "test", event_id: uuid.UUID | None = None) -> Envelope:
    readings = [(start + dt.timedelta(days=i), v, "measured", None) for i, v in enumerate(values) if v is not None]
    payload = ReadingsCollected(meter_id=meter_id, source=source, readings=readings)
    return Envelope(id=event_id or uuid.uuid4(), name=payload.name, producer="test", payload=payload.to_payload())


async def connect(amqp_url: str) -> Bus:
    bus = Bus(amqp_url)
    await bus.connect()
    return bus


async def queue_depth(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        return q.declaration_result.message_count
    finally:
        await connection.close()


async def drain(amqp_url: str, queue: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(amqp_url)
    got = []
    try:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        while (m := await q.get(fail=False, no_ack=True)) is not None:
            got.append(m)
    finally:
        await connection.close()
    return got
