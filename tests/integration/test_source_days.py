"""Issue 24: the consumption probe's data lag per source is read from `source_days`, kept at ingestion, never from
the readings (at 370 000 meters their scan of the last weeks timed out). A new newest day of a source moves its lag
at once; an older day received later does not; the figure is the newest day the source delivered, so readings
deleted afterwards (a statement withdrawn, an erasure) leave it as it was."""
from __future__ import annotations

import datetime as dt
import types
import uuid

import sqlalchemy as sa

from consumption import worker
from consumption.models import readings
from metro.collection import PARIS
from metro.metrics import DATA_LAG
from tests.integration.test_readings_ingest import handle, received


def days_of(meter: uuid.UUID, source: str, days: list[dt.date]):
    return received(meter, source, [(d, 1000, "measured", None) for d in days])


async def lags(db, probe, *sources: str) -> tuple[dict[str, float], list[str]]:
    """Each source's lag as the probe sets it, and the statements the probe ran."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await probe(types.SimpleNamespace(db=db))
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    return {s: DATA_LAG.labels(s)._value.get() for s in sources}, statements


async def test_the_probe_follows_each_new_newest_day_without_reading_the_readings(db):
    today = dt.datetime.now(PARIS).date()
    days = [today - dt.timedelta(days=n) for n in range(12)]
    linky, gazpar = f"test-linky-{uuid.uuid4()}", f"test-gazpar-{uuid.uuid4()}"
    probe = worker.probe()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    await handle(db, days_of(first, linky, days[5:10]), days_of(second, gazpar, days[3:4]))
    found, statements = await lags(db, probe, linky, gazpar)
    assert found == {linky: 5, gazpar: 3}
    assert statements and not [s for s in statements if "readings" in s]

    # A new newest day for one source, in a batch that also brings an older day of another meter.
    await handle(db, days_of(first, linky, days[1:3]), days_of(third, linky, days[8:9]))
    assert (await lags(db, probe, linky, gazpar))[0] == {linky: 1, gazpar: 3}

    # Older days received later (a backfill) leave the newest as it is.
    await handle(db, days_of(third, linky, days[4:11]), days_of(third, gazpar, days[6:8]))
    assert (await lags(db, probe, linky, gazpar))[0] == {linky: 1, gazpar: 3}

    # A source whose readings are all deleted afterwards keeps the newest day it delivered.
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(readings).where(readings.c.source.in_([linky, gazpar])))
    assert (await lags(db, probe, linky, gazpar))[0] == {linky: 1, gazpar: 3}
