"""Issue 24: the readings of `readings.collected` are COPYed straight into the table for the days not stored yet and
merged only where a stored day lies among the incoming ones. A batch mixing new days, identical replays and
corrected days stores exactly the expected rows: a replayed day keeps its row (even its collection time), a
corrected day takes the new value, quality and source, an erased meter stores nothing, and the pricing and scan
queues learn of every live meter. A day stored by another transaction while the COPY runs is merged, not refused."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa

from consumption import handlers, repository
from consumption.models import anomaly_scan_queue, price_queue, readings
from metro.events import ReadingsCollected, Received

D = dt.date


def received(meter: uuid.UUID, source: str, rows: list[tuple]) -> Received[ReadingsCollected]:
    return Received[ReadingsCollected](id=uuid.uuid4(), name=ReadingsCollected.name, producer="test",
                                       occurred_at=dt.datetime.now(dt.UTC),
                                       payload=ReadingsCollected(meter_id=meter, source=source, readings=rows))


async def handle(db, *events: Received[ReadingsCollected]) -> None:
    async with db.session() as session, session.begin():
        await handlers.on_readings_collected(session, list(events))


async def stored(db, *meters: uuid.UUID) -> dict[tuple, tuple]:
    async with db.session() as session:
        result = await session.execute(
            sa.select(readings.c.meter_id, readings.c.day, readings.c.wh, readings.c.quality, readings.c.source,
                      readings.c.extra, readings.c.collected_at).where(readings.c.meter_id.in_(meters)))
        return {(r.meter_id, r.day): (r.wh, r.quality, r.source, r.extra, r.collected_at) for r in result}


async def test_a_batch_of_new_replayed_and_corrected_days_stores_exactly_the_expected_rows(db):
    kept, fresh, twice, erased = (uuid.uuid4() for _ in range(4))
    async with db.session() as session, session.begin():
        await repository.mark_erased(session, [erased])
    # A year-end stored first: 30 December 2024 to 3 January 2025 (two partitions).
    first = [(D(2024, 12, 30) + dt.timedelta(days=i), 1000 + i, "estimated", None) for i in range(5)]
    await handle(db, received(kept, "enedis", first))
    before = await stored(db, kept)
    assert len(before) == 5
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(price_queue))
        await session.execute(sa.delete(anomaly_scan_queue))

    await handle(
        db,
        # The same meter again: two days replayed as stored, one corrected (value and quality), one whose SGE
        # maximum power arrives, and a new day after them.
        received(kept, "enedis", [(D(2024, 12, 30), 1000, "estimated", None),
                                  (D(2024, 12, 31), 1001, "estimated", None),
                                  (D(2025, 1, 1), 1500, "measured", None),
                                  (D(2025, 1, 2), 1003, "estimated", {"max_power_va": 6000}),
                                  (D(2025, 1, 4), 1100, "measured", None)]),
        # A meter never seen: its days straight in.
        received(fresh, "grdf", [(D(2025, 1, 1), 40, "measured", None), (D(2025, 1, 2), 41, "measured", None)]),
        # Two messages of one meter in one batch: the later message wins its day.
        received(twice, "enedis", [(D(2025, 2, 1), 7, "estimated", None), (D(2025, 2, 2), 8, "measured", None)]),
        received(twice, "sge", [(D(2025, 2, 2), 9, "measured", None), (D(2025, 2, 3), 10, "measured", None)]),
        received(erased, "enedis", [(D(2025, 1, 1), 99, "measured", None)]),
    )
    after = await stored(db, kept, fresh, twice, erased)
    assert {k: v[:4] for k, v in after.items()} == {
        (kept, D(2024, 12, 30)): (1000, "estimated", "enedis", None),
        (kept, D(2024, 12, 31)): (1001, "estimated", "enedis", None),
        (kept, D(2025, 1, 1)): (1500, "measured", "enedis", None),
        (kept, D(2025, 1, 2)): (1003, "estimated", "enedis", {"max_power_va": 6000}),
        (kept, D(2025, 1, 3)): (1004, "estimated", "enedis", None),  # not in the batch: untouched
        (kept, D(2025, 1, 4)): (1100, "measured", "enedis", None),
        (fresh, D(2025, 1, 1)): (40, "measured", "grdf", None),
        (fresh, D(2025, 1, 2)): (41, "measured", "grdf", None),
        (twice, D(2025, 2, 1)): (7, "estimated", "enedis", None),
        (twice, D(2025, 2, 2)): (9, "measured", "sge", None),
        (twice, D(2025, 2, 3)): (10, "measured", "sge", None),
    }
    # A replayed day is left as it was, collection time included; a corrected one is collected again.
    for day in (D(2024, 12, 30), D(2024, 12, 31), D(2025, 1, 3)):
        assert after[kept, day][4] == before[kept, day][4]
    for day in (D(2025, 1, 1), D(2025, 1, 2)):
        assert after[kept, day][4] > before[kept, day][4]
    async with db.session() as session:
        queued = dict((await session.execute(sa.select(price_queue.c.meter_id, price_queue.c.since))).all())
        scans = set((await session.execute(sa.select(anomaly_scan_queue.c.meter_id))).scalars())
    assert queued == {kept: D(2024, 12, 30), fresh: D(2025, 1, 1), twice: D(2025, 2, 1)}
    assert scans == {kept, fresh, twice}


async def waiting_copy(db) -> None:
    """Until a COPY into the readings waits on a row lock."""
    async with db.reader() as session:
        for _ in range(200):
            if await session.scalar(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'COPY%readings%'")):
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the COPY never waited on the other transaction's row")


async def test_a_day_stored_meanwhile_by_another_transaction_is_merged(db):
    meter = uuid.uuid4()
    days = [(D(2025, 3, 1) + dt.timedelta(days=i), 10 + i, "measured", None) for i in range(3)]
    # Another consumer's transaction has stored the second day, not committed yet: this one finds no stored day,
    # COPYs, waits on that row's key, and once the other commits merges instead of failing.
    async with db.session() as other, other.begin():
        await handlers.on_readings_collected(other, [received(meter, "enedis",
                                                              [(D(2025, 3, 2), 5, "estimated", None)])])
        task = asyncio.create_task(handle(db, received(meter, "enedis", days)))
        await waiting_copy(db)
        assert not task.done()
    await asyncio.wait_for(task, 10)
    assert {k[1]: v[:3] for k, v in (await stored(db, meter)).items()} == {
        D(2025, 3, 1): (10, "measured", "enedis"), D(2025, 3, 2): (11, "measured", "enedis"),
        D(2025, 3, 3): (12, "measured", "enedis")}
