"""Issue 24: the anomaly worker, which runs beside the readings consumer, looks its claimed meters up in one
statement rather than one round trip each. A declared meter's spike is announced once; a meter whose address is in
question and a meter not declared (its readings came first) announce nothing and leave the queue all the same."""
from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import sqlalchemy as sa

from consumption import app, handlers, models, repository, worker
from consumption.models import anomaly_scan_queue
from metro.events import AnomalyDetected, ReadingsCollected, Received
from metro.outbox import Outbox

START = dt.date(2025, 3, 3)


def weeks_with_a_spike(meter: uuid.UUID) -> Received[ReadingsCollected]:
    days = [(START + dt.timedelta(days=i), 8_000, "measured", None) for i in range(55)]
    days.append((START + dt.timedelta(days=55), 30_000, "measured", None))
    return Received[ReadingsCollected](id=uuid.uuid4(), name=ReadingsCollected.name, producer="test",
                                       occurred_at=dt.datetime.now(dt.UTC),
                                       payload=ReadingsCollected(meter_id=meter, source="test", readings=days))


async def test_claimed_meters_are_looked_up_at_once_and_only_live_ones_announce(db):
    live, held, undeclared = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(anomaly_scan_queue))
        await repository.upsert_meter(session, live, uuid.uuid4(), "electricity", "enedis")
        await repository.upsert_meter(session, held, uuid.uuid4(), "electricity", "enedis", address_hold=True,
                                      hold_at=dt.datetime.now(dt.UTC))
        await handlers.on_readings_collected(session, [weeks_with_a_spike(m) for m in (live, held, undeclared)])

    lookups: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "FROM consumption.meters" in statement:
            lookups.append(statement)

    rt = SimpleNamespace(db=db, outbox=Outbox(models.outbox, "consumption"), settings=app.Settings())
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await worker.scan_pending(rt) == 3
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert len(lookups) == 1
    async with db.session() as session:
        announced = (await session.execute(sa.select(models.outbox.c.payload).where(
            models.outbox.c.name == AnomalyDetected.name))).scalars().all()
        assert not (await session.execute(sa.select(anomaly_scan_queue.c.meter_id))).all()
    mine = [p for p in announced if p["meter_id"] in {str(live), str(held), str(undeclared)}]
    assert [p["meter_id"] for p in mine] == [str(live)]
    assert mine[0]["start"] == str(START + dt.timedelta(days=55))
