"""A service's dead letters: listed, shown and replayed by ``python -m <service> dlq list|show|replay``.

A message lands in ``Q.dlq`` after its handler failed ``max_retries`` times (or when no handler can read it),
with the reason in ``x-metro-reason`` (metro.bus). Replaying sends it back to ``Q`` as if new: the retry
history (``x-death``) is dropped, so it has all its attempts again. Its event id is kept: a queue whose inbox
already holds it drops it, so a replay never applies an event twice. It goes to ``Q`` itself through the
default exchange, the way the retry queue sends it back, not to the events exchange: the other services'
queues had their own copy.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from metro.bus import PUBLISH_TIMEOUT_S, dlq_name

_HISTORY = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
            "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-metro-reason")


@dataclass
class DeadLetter:
    queue: str
    event_id: str
    event: str
    reason: str
    attempts: int
    dead_since: dt.datetime | None
    body: bytes = field(repr=False)
    headers: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, queue: str, message: AbstractIncomingMessage) -> DeadLetter:
        headers = dict(message.headers or {})
        deaths = [d for d in headers.get("x-death") or [] if d.get("queue") == queue]
        times = [d["time"] for d in deaths if isinstance(d.get("time"), dt.datetime)]
        reason = headers.get("x-metro-reason")
        return cls(queue=queue, event_id=message.message_id or "", event=message.type or "",
                   reason=reason.decode() if isinstance(reason, bytes) else str(reason or ""),
                   attempts=sum(int(d.get("count", 0)) for d in deaths),
                   dead_since=max(times) if times else None, body=message.body, headers=headers)

    def summary(self) -> dict[str, Any]:
        return {"id": self.event_id, "queue": self.queue, "event": self.event, "attempts": self.attempts,
                "dead_since": self.dead_since.isoformat() if self.dead_since else None, "reason": self.reason}


async def _connect(amqp_url: str) -> aio_pika.abc.AbstractConnection:
    return await aio_pika.connect(amqp_url, timeout=30)


async def _each(channel: aio_pika.abc.AbstractChannel, queue: str):
    """Every message of the queue's DLQ, taken without settling: what is neither acked nor rejected goes back
    when the channel closes, in its order."""
    dlq = await channel.declare_queue(dlq_name(queue), passive=True)
    while (message := await dlq.get(no_ack=False, fail=False)) is not None:
        yield message


async def list_dead_letters(amqp_url: str, queues: Iterable[str]) -> list[DeadLetter]:
    connection = await _connect(amqp_url)
    found: list[DeadLetter] = []
    try:
        for queue in queues:
            channel = await connection.channel()
            try:
                found += [DeadLetter.of(queue, m) async for m in _each(channel, queue)]
            except aio_pika.exceptions.ChannelClosed:  # no such queue yet: nothing was ever consumed there
                continue
            finally:
                if not channel.is_closed:
                    await channel.close()
    finally:
        await connection.close()
    return found


async def replay(amqp_url: str, queues: Iterable[str], event_id: str | None = None) -> list[DeadLetter]:
    """Sends back the dead letters with this event id (every one when None) to their queue; returns them."""
    connection = await _connect(amqp_url)
    replayed: list[DeadLetter] = []
    try:
        for queue in queues:
            channel = await connection.channel(publisher_confirms=True)
            try:
                async for message in _each(channel, queue):
                    if event_id is not None and message.message_id != event_id:
                        continue
                    letter = DeadLetter.of(queue, message)
                    headers = {k: v for k, v in letter.headers.items() if k not in _HISTORY}
                    headers["x-metro-replayed"] = int(headers.get("x-metro-replayed", 0)) + 1
                    await channel.default_exchange.publish(
                        aio_pika.Message(message.body, headers=headers, message_id=message.message_id,
                                         type=message.type, content_type=message.content_type,
                                         delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=queue, timeout=PUBLISH_TIMEOUT_S)
                    await message.ack()  # after the confirm: a crash in between replays it twice, the inbox drops one
                    replayed.append(letter)
            except aio_pika.exceptions.ChannelClosed:
                continue
            finally:
                if not channel.is_closed:
                    await channel.close()
    finally:
        await connection.close()
    return replayed
