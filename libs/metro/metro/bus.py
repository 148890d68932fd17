"""RabbitMQ: the durable topic exchange, publishing with confirms, and idempotent batch consumers.

Topology per consuming queue ``Q`` (quorum queues, RabbitMQ 3.10 without plugins):
  Q          bound to the events exchange; rejected messages dead-letter to ``Q.retry``
  Q.retry    holds a message ``retry_delay_ms`` then dead-letters it back to ``Q``
  Q.dlq      where a message lands after ``max_retries`` failed attempts, for a person to look at
The quorum delivery limit on ``Q`` also catches a message that crashes the process before it is settled.

Only a handler's own failure spends an attempt. When PostgreSQL is unavailable (``metro.db.unavailable``), the
consumer pauses: it takes no new batch, keeps the messages in hand unsettled (so neither their order nor their
attempts change), probes the database with backoff and handles them once it answers. A broker outage is the
robust connection's: it reconnects, declares the queues and consumes again; messages delivered on the lost
channel are redelivered by the broker, and the inbox drops those already handled.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from metro.db import Database, unavailable, wait_until_available
from metro.events import EXCHANGE, Envelope, Event, Received
from metro.logs import correlation_id
from metro.metrics import CONSUMER_PAUSED, EVENTS_HANDLED

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, list[Received[Any]]], Awaitable[None]]
# The key whose events must be applied in order (e.g. the meter of a reading); other keys may go in parallel.
OrderKey = Callable[[Received[Any]], Hashable]


# A failure classified as an outage while the database answered the very next probe, this many times in a row
# for one batch, is the handler's own after all: it then spends an attempt, so nothing loops forever.
MAX_FALSE_OUTAGES = 5
PUBLISH_TIMEOUT_S = 30


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


class Unreadable(Exception):
    """A message no handler of this queue can take: not an envelope, an unknown version, an invalid payload."""


class Bus:
    def __init__(self, url: str):
        self.url = url
        self.connection: AbstractRobustConnection | None = None
        self._publish_channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(self.url)
        self._publish_channel = await self.connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)

    async def close(self) -> None:
        if self.connection:
            await self.connection.close()

    async def publish(self, envelope: Envelope) -> None:
        """Returns once the broker confirmed the message."""
        assert self._exchange, "bus not connected"
        await self._exchange.publish(
            aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.id),
                             content_type="application/json",
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                             type=envelope.name),
            routing_key=envelope.name, timeout=PUBLISH_TIMEOUT_S)

    async def depths(self, queues: list[str]) -> dict[str, int]:
        """Messages ready in each queue that exists (a passive declare on a channel of its own: declaring a
        missing queue closes the channel)."""
        assert self.connection, "bus not connected"
        found: dict[str, int] = {}
        for name in queues:
            channel = await self.connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                found[name] = queue.declaration_result.message_count or 0
            except aio_pika.exceptions.ChannelClosed:
                continue
            finally:
                if not channel.is_closed:
                    await channel.close()
        return found

    async def ping(self) -> bool:
        return bool(self.connection and not self.connection.is_closed)


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox", metadata,
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def _attempts(message: AbstractIncomingMessage, queue: str) -> int:
    deaths = (message.headers or {}).get("x-death") or []
    return sum(int(d.get("count", 0)) for d in deaths if d.get("queue") == queue)


class Consumer:
    """Consumes one queue in batches: one transaction per batch, inbox-deduplicated, ack after commit.

    A batch that fails is replayed message by message so that one poison message does not hold back
    the others; the failing one is retried after a delay and dead-lettered after ``max_retries``.

    With an ``order_key``, up to ``concurrency`` batches are in flight at once (one prepares in Python
    while PostgreSQL writes another), but a batch sharing a key with one in flight waits for it: events of
    one key are still applied in the order they were received.
    """

    def __init__(self, db: Database, bus: Bus, queue: str, handlers: dict[type[Event], Handler], inbox: sa.Table,
                 *, retry_delay_ms: int = 5000, max_retries: int = 3, batch_size: int = 64,
                 batch_wait: float = 0.02, order_key: OrderKey | None = None, concurrency: int = 2):
        self.db = db
        self.bus = bus
        self.queue = queue
        self.handlers = handlers
        self._envelopes: dict[str, dict[int, type[Received[Any]]]] = {}
        for model in handlers:
            self._envelopes.setdefault(model.name, {})[model.version] = Received[model]  # type: ignore[valid-type]
        self.inbox = inbox
        self.retry_delay_ms = retry_delay_ms
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.order_key = order_key
        self.concurrency = concurrency if order_key else 1
        self._in_flight: dict[asyncio.Task, set[Hashable] | None] = {}
        self._pending: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        # Delivery tags received and not settled yet, by channel: a batch is acked in one frame when none before it is.
        self._unsettled: dict[Any, set[int]] = {}
        self._channel: aio_pika.abc.AbstractChannel | None = None
        # Cleared while the database is unavailable: no new batch is taken until it answers again.
        self._database_up = asyncio.Event()
        self._database_up.set()

    async def declare(self) -> None:
        assert self.bus.connection
        ch = await self.bus.connection.channel(publisher_confirms=True)
        await ch.set_qos(prefetch_count=self.batch_size * 4)
        exchange = await ch.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        quorum = {"x-queue-type": "quorum"}
        await ch.declare_queue(dlq_name(self.queue), durable=True, arguments=quorum)
        await ch.declare_queue(f"{self.queue}.retry", durable=True, arguments={
            **quorum, "x-message-ttl": self.retry_delay_ms,
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue,
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
        q = await ch.declare_queue(self.queue, durable=True, arguments={
            **quorum, "x-delivery-limit": self.max_retries + 2,
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": f"{self.queue}.retry",
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
        for name in self._envelopes:
            await q.bind(exchange, routing_key=name)
        self._channel = ch
        self._queue = q

    async def run(self, stop: asyncio.Event) -> None:
        await self.declare()
        tag = await self._queue.consume(self._received)
        try:
            while not stop.is_set():
                await self._database_up.wait()
                batch = await self._next_batch(stop)
                if batch:
                    try:
                        await self._dispatch(batch)
                    except Exception:  # the loop never dies: unsettled messages come back from the broker
                        log.exception("batch not dispatched", extra={"queue": self.queue})
        finally:
            if self._in_flight:
                await asyncio.wait(list(self._in_flight))
            try:
                await self._queue.cancel(tag)
            except Exception:  # channel already gone during shutdown
                pass

    async def _received(self, message: AbstractIncomingMessage) -> None:
        if message.channel not in self._unsettled:  # a new channel: the lost ones' deliveries come again on it
            self._unsettled = {c: t for c, t in self._unsettled.items() if not c.is_closed}
        self._unsettled.setdefault(message.channel, set()).add(message.delivery_tag)
        await self._pending.put(message)

    async def _next_batch(self, stop: asyncio.Event) -> list[AbstractIncomingMessage]:
        try:
            first = await asyncio.wait_for(self._pending.get(), 0.5)
        except TimeoutError:
            return []
        batch = [first]
        deadline = asyncio.get_running_loop().time() + self.batch_wait
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 and self._pending.empty():
                break
            try:
                batch.append(self._pending.get_nowait() if not self._pending.empty()
                             else await asyncio.wait_for(self._pending.get(), max(remaining, 0.001)))
            except TimeoutError:
                break
        return batch

    async def _dispatch(self, batch: list[AbstractIncomingMessage]) -> None:
        good = await self._parse(batch)
        if not good:
            return
        if self.concurrency == 1:
            await self._settle(good)
            return
        try:
            keys: set[Hashable] | None = {self.order_key(e) for _, e in good}  # type: ignore[misc]
        except Exception:  # no key: the batch goes alone
            keys = None
        before = [t for t, k in self._in_flight.items() if keys is None or k is None or k & keys]
        if before:
            await asyncio.wait(before)
        while len(self._in_flight) >= self.concurrency:
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self._settle(good))
        self._in_flight[task] = keys
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task) -> None:
        self._in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("batch not settled", extra={"queue": self.queue, "error": repr(task.exception())[:300]})

    async def _parse(self, batch: list[AbstractIncomingMessage]) -> list[tuple[AbstractIncomingMessage, Received]]:
        good: list[tuple[AbstractIncomingMessage, Received]] = []
        for m in batch:
            if m.channel.is_closed:  # delivered before the broker connection was lost: it is delivered again
                continue
            try:
                good.append((m, self.validate(m.body, m.type)))
            except Exception as exc:
                reason = str(exc) if isinstance(exc, Unreadable) else f"unreadable: {exc!r}"
                log.error("unreadable message", extra={"queue": self.queue, "error": reason[:300]})
                await self._dead_letter(m, reason[:1000])
        return good

    def validate(self, body: bytes, name: str | None) -> Received[Any]:
        """The envelope and its payload validated in one pass over the bytes, by the model registered for the
        event's name (the message's AMQP type) and version."""
        if not name:  # published without a type: the body says
            name = Envelope.from_bytes(body).name
        versions = self._envelopes.get(name)
        if not versions:
            raise Unreadable(f"no handler for {name!r}")
        if len(versions) == 1:
            [(version, envelope_type)] = versions.items()
        else:
            version = Envelope.from_bytes(body).version
            envelope_type = versions.get(version)
            if envelope_type is None:
                raise Unreadable(f"{name} version {version} is not handled here")
        try:
            received = envelope_type.model_validate_json(body)
        except ValidationError as exc:
            raise Unreadable(f"invalid {name}: {exc}") from None
        if received.version != version:
            raise Unreadable(f"{name} version {received.version} is not handled here")
        return received

    async def _settle(self, good: list[tuple[AbstractIncomingMessage, Received]]) -> None:
        try:
            await self._attempt([e for _, e in good])
        except Exception:
            if len(good) == 1:
                await self._fail(good[0][0], good[0][1])
                return
            for m, e in good:
                try:
                    await self._attempt([e])
                except Exception:
                    await self._fail(m, e)
                else:
                    await self._ack([m])
            return
        await self._ack([m for m, _ in good])

    async def _ack(self, messages: list[AbstractIncomingMessage]) -> None:
        """One ack (``multiple``) for the batch when every earlier delivery on its channel is settled: the others are
        in another batch still in flight, whose messages must not be acked before its commit."""
        last = max(messages, key=lambda m: m.delivery_tag or 0)
        unsettled = self._unsettled.get(last.channel, set())
        tags = {m.delivery_tag for m in messages}
        if (len(messages) > 1 and all(m.channel is last.channel for m in messages)
                and not any(t < last.delivery_tag for t in unsettled - tags)):
            unsettled -= tags
            await _settled_or_lost(last.ack(multiple=True), self.queue)
            return
        for m in messages:
            self._forget(m)
            await _settled_or_lost(m.ack(), self.queue)

    def _forget(self, message: AbstractIncomingMessage) -> None:
        self._unsettled.get(message.channel, set()).discard(message.delivery_tag)

    async def _attempt(self, envelopes: list[Received]) -> None:
        """Handles the envelopes, waiting out any database outage in between: only the handler's own error
        comes out of here, and only it spends an attempt."""
        false_outages = 0
        while True:
            try:
                await self._handle(envelopes)
                return
            except Exception as exc:
                if not unavailable(exc) or false_outages >= MAX_FALSE_OUTAGES:
                    raise
                EVENTS_HANDLED.labels(self.queue, "unavailable").inc(len(envelopes))
                failed_probes = await self._pause(exc)
                false_outages = 0 if failed_probes else false_outages + 1

    async def _pause(self, exc: Exception) -> int:
        """Waits until the database answers; one probe for all the batches in flight."""
        if not self._database_up.is_set():
            await self._database_up.wait()
            return 1
        self._database_up.clear()
        CONSUMER_PAUSED.labels(self.queue).set(1)
        log.warning("database unavailable: consumer paused", extra={"queue": self.queue, "error": repr(exc)[:300]})
        try:
            failed = await wait_until_available(self.db.engine)
        finally:
            self._database_up.set()
            CONSUMER_PAUSED.labels(self.queue).set(0)
        log.info("database back: consumer resumed", extra={"queue": self.queue, "failed_probes": failed})
        return failed

    async def _handle(self, envelopes: list[Received]) -> None:
        async with self.db.session() as session, session.begin():
            # The ids as one array parameter: one statement text whatever the batch's size, compiled once.
            ids = sa.select(sa.func.unnest(sa.literal([e.id for e in envelopes], ARRAY(UUID(as_uuid=True)))),
                            sa.literal(self.queue))
            fresh = set((await session.execute(
                insert(self.inbox).from_select([self.inbox.c.event_id, self.inbox.c.queue], ids)
                .on_conflict_do_nothing().returning(self.inbox.c.event_id))).scalars())
            todo = [e for e in envelopes if e.id in fresh]
            seen: set = set()
            todo = [e for e in todo if not (e.id in seen or seen.add(e.id))]
            for model, group in _group_in_order(todo):
                handler = self.handlers[model]
                token = correlation_id.set(group[0].request_id or str(group[0].id))
                try:
                    await handler(session, group)
                finally:
                    correlation_id.reset(token)
        EVENTS_HANDLED.labels(self.queue, "ok").inc(len(todo))
        EVENTS_HANDLED.labels(self.queue, "duplicate").inc(len(envelopes) - len(todo))

    async def _fail(self, message: AbstractIncomingMessage, envelope: Received) -> None:
        attempts = _attempts(message, self.queue)
        log.exception("event handling failed", extra={"queue": self.queue, "event_id": str(envelope.id),
                                                      "event": envelope.name, "attempt": attempts + 1})
        EVENTS_HANDLED.labels(self.queue, "failed").inc()
        if attempts >= self.max_retries:
            await self._dead_letter(message, "handler failed after retries")
        else:
            self._forget(message)
            await _settled_or_lost(message.reject(requeue=False), self.queue)

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        assert self._channel
        try:
            await self._channel.default_exchange.publish(
                aio_pika.Message(message.body, headers={**(message.headers or {}), "x-metro-reason": reason},
                                 message_id=message.message_id, type=message.type,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=dlq_name(self.queue), timeout=PUBLISH_TIMEOUT_S)
        except Exception as exc:  # left unsettled: the broker delivers it again and it fails or lands here again
            log.warning("cannot dead-letter now", extra={"queue": self.queue, "error": repr(exc)[:300]})
            return
        self._forget(message)
        await _settled_or_lost(message.ack(), self.queue)
        EVENTS_HANDLED.labels(self.queue, "dead_lettered").inc()


async def _settled_or_lost(settle: Awaitable[Any], queue: str) -> None:
    """An ack or reject on a channel the broker connection lost: the broker has put the message back already and
    delivers it again (the inbox drops it if it was handled)."""
    try:
        await settle
    except (aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError, ConnectionError,
            RuntimeError) as exc:
        log.info("message not settled: the broker delivers it again", extra={"queue": queue, "error": repr(exc)})


def _group_in_order(envelopes: Iterable[Received]) -> list[tuple[type[Event], list[Received]]]:
    """Consecutive events of the same model and request id form one group, so order across events is kept and
    each group is handled under its request id (events without one, from workers, stay together)."""
    groups: list[tuple[type[Event], list[Received]]] = []
    for e in envelopes:
        model = type(e.payload)
        if groups and groups[-1][0] is model and groups[-1][1][0].request_id == e.request_id:
            groups[-1][1].append(e)
        else:
            groups.append((model, [e]))
    return groups
