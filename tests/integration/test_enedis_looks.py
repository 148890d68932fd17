"""A resident's look at their meters under the Data Connect quota (priority.py): the cursors it moves, in
PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from metro.db import Database
from metro.migrations import upgrade_async


async def test_a_look_brings_a_waiting_meter_lacking_days_to_when_the_rule_says(database_url):
    from ingest_enedis import app, repository
    from ingest_enedis.models import cursors
    await upgrade_async(app.spec().package_dir, database_url)
    db = Database(database_url, pool_size=2)
    now = dt.datetime.now(dt.UTC)
    waiting = now + dt.timedelta(days=9)
    long_ago, lately, fresh = (uuid.uuid4() for _ in range(3))
    async with db.session() as session:
        for meter_id, collected_days_ago, last_day in ((long_ago, 5, dt.date(2026, 1, 1)),
                                                       (lately, 1, dt.date(2026, 1, 1)),
                                                       (fresh, 1, dt.date(2100, 1, 1))):
            await session.execute(sa.insert(cursors).values(
                meter_id=meter_id, consent_id=uuid.uuid4(), identifier=str(meter_id)[:14], next_due_at=waiting,
                last_success_at=now - dt.timedelta(days=collected_days_ago), last_day=last_day))
        await session.commit()
    asked = []

    def active_turn(collected_at: dt.datetime, due_at: dt.datetime) -> dt.datetime:
        asked.append(due_at)
        return max(now, collected_at + dt.timedelta(days=3))
    try:
        async with db.session() as session:
            pulled = await repository.mark_seen(session, [long_ago, lately, fresh], now, dt.date(2026, 6, 1),
                                                active_turn)
            await session.commit()
            due = dict((await session.execute(sa.select(cursors.c.meter_id, cursors.c.next_due_at).where(
                cursors.c.meter_id.in_([long_ago, lately, fresh])))).all())
        # Lacking published days: due now when its active turn has passed, at that turn otherwise; a meter with
        # all its days is not asked.
        assert pulled == {long_ago: now, lately: now + dt.timedelta(days=2)} and asked == [waiting, waiting]
        assert due == {long_ago: now, lately: now + dt.timedelta(days=2), fresh: waiting}
    finally:
        await db.dispose()
