"""Transactional outbox: events are rows written with the state they describe; a relay publishes them.

The relay claims rows with ``FOR UPDATE SKIP LOCKED`` (replicas share the work), publishes with
publisher confirms and marks them published in the same transaction; a row whose publish failed is
retried with backoff. A crash between publish and commit republishes: consumers are idempotent.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

import aio_pika
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from metro.bus import Bus
from metro.db import Database, unavailable
from metro.events import Envelope, Event
from metro.logs import current_request_id
from metro.metrics import EVENTS_PUBLISHED

log = logging.getLogger(__name__)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox", metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("request_id", sa.Text),
        sa.Index(None, "next_attempt_at", postgresql_where=sa.text("published_at IS NULL")),
    )


class Outbox:
    def __init__(self, table: sa.Table, producer: str):
        self.table = table
        self.producer = producer

    async def add(self, session: AsyncSession, event: Event, *, event_id: uuid.UUID | None = None) -> uuid.UUID:
        """Write one event in the caller's transaction."""
        event_id = event_id or uuid.uuid4()
        await session.execute(sa.insert(self.table).values(
            id=event_id, name=event.name, version=event.version, occurred_at=dt.datetime.now(dt.UTC),
            payload=event.to_payload(), request_id=current_request_id()))
        return event_id

    async def add_many(self, session: AsyncSession, events: list[Event]) -> None:
        if not events:
            return
        now, request_id = dt.datetime.now(dt.UTC), current_request_id()
        await session.execute(sa.insert(self.table), [
            {"id": uuid.uuid4(), "name": e.name, "version": e.version, "occurred_at": now,
             "payload": e.to_payload(), "request_id": request_id}
            for e in events])


async def backlog(db: Database, outbox: Outbox) -> tuple[int, float]:
    """How many rows wait to be published, and the age in seconds of the oldest (0 when none)."""
    t = outbox.table
    async with db.reader() as session:
        row = (await session.execute(
            sa.select(sa.func.count(), sa.func.extract("epoch", sa.func.now() - sa.func.min(t.c.occurred_at)))
            .where(t.c.published_at.is_(None)))).one()
    return row[0], float(row[1] or 0)


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, outbox: Outbox, *, batch: int = 200,
                 idle_interval: float = 0.2):
        self.db = db
        self.bus = bus
        self.outbox = outbox
        self.batch = batch
        self.idle_interval = idle_interval

    async def publish_pending(self) -> int:
        """Publish one batch of due rows; returns how many were published."""
        t = self.outbox.table
        async with self.db.session() as session, session.begin():
            rows = (await session.execute(
                sa.select(t.c.id, t.c.name, t.c.version, t.c.occurred_at, t.c.payload, t.c.attempts,
                          t.c.request_id)
                .where(t.c.published_at.is_(None), t.c.next_attempt_at <= sa.func.now())
                .order_by(t.c.seq).limit(self.batch)
                .with_for_update(skip_locked=True))).all()
            if not rows:
                return 0
            envelopes = [Envelope(id=r.id, name=r.name, version=r.version, occurred_at=r.occurred_at,
                                  producer=self.outbox.producer, payload=r.payload, request_id=r.request_id)
                         for r in rows]
            results = await asyncio.gather(*(self.bus.publish(e) for e in envelopes),
                                           return_exceptions=True)
            now = dt.datetime.now(dt.UTC)
            done = [r.id for r, res in zip(rows, results) if not isinstance(res, BaseException)]
            if done:
                await session.execute(sa.update(t).where(t.c.id.in_(done)).values(published_at=now))
            for r, res in zip(rows, results):
                if isinstance(res, BaseException):
                    delay = min(60, 2 ** min(r.attempts, 6))
                    log.warning("publish failed", extra={"event_id": str(r.id), "error": repr(res)})
                    await session.execute(sa.update(t).where(t.c.id == r.id).values(
                        attempts=t.c.attempts + 1, last_error=repr(res)[:500],
                        next_attempt_at=now + dt.timedelta(seconds=delay)))
            EVENTS_PUBLISHED.labels(self.outbox.producer).inc(len(done))
            return len(done)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                n = await self.publish_pending()
            except (aio_pika.exceptions.AMQPError, OSError, ConnectionError) as exc:
                log.warning("outbox relay cannot publish now", extra={"error": repr(exc)})
                n = 0
                await asyncio.sleep(1)
            except Exception as exc:
                # The rows stay unpublished in the database and go out once both ends answer again.
                if unavailable(exc):
                    log.warning("outbox relay: database unavailable", extra={"error": repr(exc)[:300]})
                else:
                    log.exception("outbox relay failed")
                n = 0
                await asyncio.sleep(1)
            if n == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.idle_interval)
                except TimeoutError:
                    pass
