"""Issue 18 item 8: published outbox rows and handled inbox rows are pruned after their retention, in short
batches that step over rows someone holds; an unpublished row is never pruned, whatever its age."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from types import SimpleNamespace

import sqlalchemy as sa

from devstack.db import fresh_schema
from metro.bus import inbox_table
from metro.db import Database, make_metadata
from metro.outbox import outbox_table
from metro.retention import housekeeping, prune_inbox, prune_outbox

metadata = make_metadata("retentiontest")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
NOW = dt.datetime.now(dt.UTC)
OLD, RECENT = NOW - dt.timedelta(days=40), NOW - dt.timedelta(hours=1)


def outbox_rows(n: int, occurred: dt.datetime, published: dt.datetime | None) -> list[dict]:
    return [{"id": uuid.uuid4(), "name": "test.happened", "occurred_at": occurred, "published_at": published,
             "payload": {"meter_id": str(uuid.uuid4()), "kwh": [1.5] * 48}} for _ in range(n)]


async def fill(db: Database) -> None:
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(outbox), outbox_rows(2500, OLD, OLD + dt.timedelta(seconds=1)))
        await session.execute(sa.insert(outbox), outbox_rows(3, OLD, None))
        await session.execute(sa.insert(outbox), outbox_rows(40, RECENT, RECENT))
        await session.execute(sa.insert(outbox), outbox_rows(5, RECENT, None))
        await session.execute(sa.insert(inbox), [{"event_id": uuid.uuid4(), "queue": "q", "handled_at": OLD}
                                                 for _ in range(3000)])
        await session.execute(sa.insert(inbox), [{"event_id": uuid.uuid4(), "queue": "q", "handled_at": RECENT}
                                                 for _ in range(30)])


async def counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        published = (await session.execute(sa.select(sa.func.count()).select_from(outbox)
                                           .where(outbox.c.published_at.is_not(None)))).scalar_one()
        unpublished = (await session.execute(sa.select(sa.func.count()).select_from(outbox)
                                             .where(outbox.c.published_at.is_(None)))).scalar_one()
        handled = (await session.execute(sa.select(sa.func.count()).select_from(inbox))).scalar_one()
    return {"published": published, "unpublished": unpublished, "inbox": handled}


async def test_old_published_and_handled_rows_go_unpublished_and_recent_ones_stay(database_url):
    db = Database(database_url, pool_size=3)
    await fresh_schema(db, metadata)
    await fill(db)
    assert await counts(db) == {"published": 2540, "unpublished": 8, "inbox": 3030}

    # Someone holds one old published row (a relay, an erasure): pruning steps over it instead of waiting.
    async with db.session() as holder, holder.begin():
        held = (await holder.execute(sa.select(outbox.c.id).where(outbox.c.published_at < RECENT).limit(1)
                                     .with_for_update())).scalar_one()
        pruned = await asyncio.wait_for(prune_outbox(db, outbox, dt.timedelta(days=7), batch=300), 30)
    assert pruned == 2499
    assert await prune_inbox(db, inbox, dt.timedelta(days=30), pages=2) == 3000
    assert await counts(db) == {"published": 41, "unpublished": 8, "inbox": 30}

    # The next run takes the row that was held; the unpublished rows, 40 days old, are still there.
    assert await prune_outbox(db, outbox, dt.timedelta(days=7)) == 1
    async with db.session() as session:
        assert (await session.execute(sa.select(outbox.c.id).where(outbox.c.id == held))).first() is None
    assert await counts(db) == {"published": 40, "unpublished": 8, "inbox": 30}
    await db.dispose()


async def test_every_service_runtime_prunes_on_its_interval(database_url):
    db = Database(database_url, pool_size=2)
    await fresh_schema(db, metadata)
    await fill(db)
    stop = asyncio.Event()
    rt = SimpleNamespace(db=db, stop=stop, outbox=SimpleNamespace(table=outbox), inbox=inbox,
                         settings=SimpleNamespace(outbox_retention=dt.timedelta(days=7),
                                                  inbox_retention=dt.timedelta(days=30),
                                                  housekeeping_interval=dt.timedelta(seconds=0.1)))
    task = asyncio.create_task(housekeeping(rt))
    try:
        for _ in range(300):
            if await counts(db) == {"published": 40, "unpublished": 8, "inbox": 30}:
                break
            await asyncio.sleep(0.1)
        assert await counts(db) == {"published": 40, "unpublished": 8, "inbox": 30}
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await db.dispose()
