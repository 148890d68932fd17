"""Publishing and inspecting events on the test virtual host, as another service would."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import aio_pika

from metro.bus import Bus
from metro.events import EXCHANGE, ConsentRevoked, ContractChanged, Envelope, ReadingsCollected


def readings_event(meter_id: uuid.UUID | str, start: dt.date, values: list[int | None], *,
                   source: str = "test", event_id: uuid.UUID | None = None) -> Envelope:
    readings = [(start + dt.timedelta(days=i), v, "measured", None) for i, v in enumerate(values) if v is not None]
    payload = ReadingsCollected(meter_id=meter_id, source=source, readings=readings)
    return Envelope(id=event_id or uuid.uuid4(), name=payload.name, producer="test", payload=payload.to_payload())


async def connect(amqp_url: str) -> Bus:
    bus = Bus(amqp_url)
    await bus.connect()
    return bus


async def publish(amqp_url: str, *envelopes: Envelope) -> None:
    bus = await connect(amqp_url)
    try:
        for e in envelopes:
            await bus.publish(e)
    finally:
        await bus.close()


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


async def amqp(url: str) -> aio_pika.abc.AbstractRobustConnection:
    """The test's own broker connection; on a loaded machine a first attempt may stall, so it is bounded."""
    for attempt in range(3):
        try:
            return await asyncio.wait_for(aio_pika.connect(url, timeout=10), 20)
        except (TimeoutError, OSError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class Tap:
    """A test queue bound to what a connector publishes, as a downstream consumer would see it."""

    def __init__(self, amqp_url: str, name: str):
        self.amqp_url = amqp_url
        self.name = name
        self.events: list[Envelope] = []

    async def __aenter__(self) -> "Tap":
        self.connection = await amqp(self.amqp_url)
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        self.queue = await channel.declare_queue(f"test.{self.name}.{uuid.uuid4().hex[:8]}", exclusive=True)
        for name in (ReadingsCollected.name, ConsentRevoked.name, ContractChanged.name):
            await self.queue.bind(exchange, routing_key=name)
        await self.queue.consume(self._on_message, no_ack=True)
        return self

    async def _on_message(self, message) -> None:
        self.events.append(Envelope.from_bytes(message.body))

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    def of(self, name: str, meter_id: str) -> list[Envelope]:
        seen, out = set(), []
        for e in self.events:
            # The outbox relay is at-least-once: a redelivered event keeps its id; consumers drop it.
            if e.name == name and e.payload.get("meter_id") == meter_id and e.id not in seen:
                seen.add(e.id)
                out.append(e)
        return out

    def days(self, meter_id: str) -> list[str]:
        return [day for e in self.of(ReadingsCollected.name, meter_id) for day, *_ in e.payload["readings"]]
