"""A meter's days as stored: the readings (COPYed, then merged), the load-curve days and maximum power, the days a resident's statements spread."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, NamedTuple

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID
import sqlalchemy as sa
from metro.db import named_rows
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import load_curve_days, readings, source_days

# Readings arrive by the tens of thousands per batch. Most are days not stored yet (a first collection, the next
# day): those are COPYed (binary) straight into the table, as fast as PostgreSQL takes rows. Only the meters with a
# stored day within the batch's days go the slower way: COPYed into a session-private staging table, then merged in
# one statement whose upsert keyed on (meter_id, day) leaves a replay unchanged and updates a corrected day.
CREATE_STAGE = """
    CREATE TEMP TABLE IF NOT EXISTS readings_stage
      (meter_id uuid, day date, wh bigint, quality text, source text, extra text) ON COMMIT DELETE ROWS
"""


MERGE_STAGE = """
    INSERT INTO consumption.readings (meter_id, day, wh, quality, source, extra)
    SELECT meter_id, day, wh, quality, source, extra::jsonb FROM readings_stage
    ON CONFLICT (meter_id, day) DO UPDATE
      SET wh = excluded.wh, quality = excluded.quality, source = excluded.source, extra = excluded.extra,
          collected_at = now()
      WHERE (consumption.readings.wh, consumption.readings.quality, consumption.readings.extra)
            IS DISTINCT FROM (excluded.wh, excluded.quality, excluded.extra)
"""

# The meters with at least one stored day within [first, last] of their incoming days: one index probe each (the
# LATERAL ... LIMIT 1 keeps it so whatever the statistics; a semi-join may hash a whole scan of the readings).
STORED_WITHIN = """
    SELECT b.meter_id FROM unnest($1::uuid[], $2::date[], $3::date[]) AS b(meter_id, first, last)
    CROSS JOIN LATERAL (SELECT FROM consumption.readings r
                        WHERE r.meter_id = b.meter_id AND r.day >= b.first AND r.day <= b.last LIMIT 1) AS stored
"""

READING_COLUMNS = ["meter_id", "day", "wh", "quality", "source", "extra"]

# A batch's newest day per source, unless a day as new is already stored for it: once the first batch of a new day
# has committed, the others insert nothing (no row lock, no index entry). Concurrent first batches of the same day
# wait for the first one's commit, once per source and day; no row is ever updated, so none becomes a hot spot.
RECORD_SOURCE_DAYS = """
    INSERT INTO consumption.source_days (source, day)
    SELECT b.source, b.day FROM unnest($1::text[], $2::date[]) AS b(source, day)
    WHERE NOT EXISTS (SELECT FROM consumption.source_days s WHERE s.source = b.source AND s.day >= b.day)
    ON CONFLICT DO NOTHING
"""


async def copy_merge(session: AsyncSession, create: str, stage: str, records: Iterable[tuple], merge: str) -> None:
    """COPY (binary) ``records`` into the session-private ``stage`` table, then merge them in one statement."""
    conn = await _driver_connection(session)
    await conn.execute(create)
    await conn.copy_records_to_table(stage, records=records)
    await conn.execute(merge)
    # ON COMMIT DELETE ROWS empties it only at the end of the transaction, which may merge several batches.
    await conn.execute(f"TRUNCATE {stage}")


async def _driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection, inside the session's transaction."""
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


class MeterReadings(NamedTuple):
    """One meter's incoming days as columns of one length, at most one per day (``extra``: JSON text or None)."""
    day: Sequence[dt.date]
    wh: Sequence[int]
    quality: Sequence[str]
    source: Sequence[str]
    extra: Sequence[str | None]


def _records(readings: dict[uuid.UUID, MeterReadings], meters: list[uuid.UUID]) -> Iterator[tuple]:
    """The rows of ``meters``, (meter_id, day, wh, quality, source, extra), made as the COPY takes them: none is
    kept once sent, so a batch of tens of thousands leaves nothing for the garbage collector to walk through.
    The meter as asyncpg's own UUID, which it copies as is (a uuid.UUID's bytes are computed again for each row)."""
    return chain.from_iterable(zip(repeat(PgUUID(m.bytes)), *readings[m]) for m in meters)


async def upsert_readings(session: AsyncSession, readings: dict[uuid.UUID, MeterReadings]) -> None:
    """``readings``: by meter, in the order they are written.

    A meter none of whose incoming days is stored has its rows COPYed straight into the readings; the others are
    merged. Should another transaction store one of those days meanwhile, the COPY fails on the key, is undone (to
    its savepoint) and those rows are merged instead. The batch's newest day per source goes to ``source_days``
    (the data-lag probe's, see newest_days) in the same transaction."""
    meters = [m for m, r in readings.items() if r.day]
    if not meters:
        return
    conn = await _driver_connection(session)
    # First, and in source order: a batch waiting on another's new day holds no reading's lock, nor a day the other
    # would wait on.
    newest = _newest_by_source(readings, meters)
    await conn.execute(RECORD_SOURCE_DAYS, list(newest), list(newest.values()))
    stored = {r[0] for r in await conn.fetch(STORED_WITHIN, meters, [min(readings[m].day) for m in meters],
                                             [max(readings[m].day) for m in meters])}
    if stored:
        await copy_merge(session, CREATE_STAGE, "readings_stage",
                         _records(readings, [m for m in meters if m in stored]), MERGE_STAGE)
    new = [m for m in meters if m not in stored]
    if not new:
        return
    await conn.execute("SAVEPOINT readings_copy")
    try:
        await conn.copy_records_to_table("readings", schema_name="consumption", records=_records(readings, new),
                                         columns=READING_COLUMNS)
    except asyncpg.UniqueViolationError:
        await conn.execute("ROLLBACK TO SAVEPOINT readings_copy")
        await copy_merge(session, CREATE_STAGE, "readings_stage", _records(readings, new), MERGE_STAGE)
    await conn.execute("RELEASE SAVEPOINT readings_copy")


def _newest_by_source(readings: dict[uuid.UUID, MeterReadings], meters: list[uuid.UUID]) -> dict[str, dt.date]:
    """By source, in source order. Without a Python step per meter or reading (a batch holds tens of thousands)."""
    batch = list(map(readings.__getitem__, meters))
    sources = list(map(set, map(attrgetter("source"), batch)))
    if max(map(len, sources)) == 1:
        # The usual batch: each meter's days from one source.
        pairs = set(zip(map(min, sources), map(max, map(attrgetter("day"), batch))))
    else:
        pairs = set(chain.from_iterable(map(zip, map(attrgetter("source"), batch), map(attrgetter("day"), batch))))
    # Sorted, each source's newest day is set last.
    return dict(sorted(pairs))


async def upsert_curve_days(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """``rows``: load_curve_days rows, at most one per (meter_id, day); what a row leaves out (the curve of a
    day that came with its peak only, or the reverse) keeps what was stored."""
    if not rows:
        return
    t = load_curve_days
    stmt = insert(t).values(rows)
    x = stmt.excluded
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[t.c.meter_id, t.c.day],
        set_={"step_minutes": sa.func.coalesce(x.step_minutes, t.c.step_minutes),
              "watts": sa.func.coalesce(x.watts, t.c.watts), "max_va": sa.func.coalesce(x.max_va, t.c.max_va),
              "max_at": sa.func.coalesce(x.max_at, t.c.max_at), "source": x.source, "collected_at": sa.func.now()},
        where=sa.tuple_(t.c.step_minutes, t.c.watts, t.c.max_va, t.c.max_at).is_distinct_from(
            sa.tuple_(sa.func.coalesce(x.step_minutes, t.c.step_minutes), sa.func.coalesce(x.watts, t.c.watts),
                      sa.func.coalesce(x.max_va, t.c.max_va), sa.func.coalesce(x.max_at, t.c.max_at)))))


async def curve_days(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> list[sa.Row]:
    t = load_curve_days
    return list(await session.execute(
        sa.select(t.c.day, t.c.step_minutes, t.c.watts, t.c.max_va, t.c.max_at)
        .where(t.c.meter_id == meter_id, t.c.day >= start, t.c.day < end).order_by(t.c.day)))


async def max_power_days(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> list[sa.Row]:
    """Each day's maximum power: Data Connect's (with its moment) where collected, else the R151's kept with the
    day's reading (SGE gives no moment)."""
    t, r = load_curve_days, readings
    curve = (sa.select(t.c.day, t.c.max_va.label("va"), t.c.max_at.label("at"), t.c.source)
             .where(t.c.meter_id == meter_id, t.c.day >= start, t.c.day < end, t.c.max_va.is_not(None)))
    sge_va = r.c.extra["max_power_va"].astext.cast(sa.Integer)
    files = (sa.select(r.c.day, sge_va.label("va"), sa.null().label("at"), r.c.source)
             .where(r.c.meter_id == meter_id, r.c.day >= start, r.c.day < end, r.c.extra.has_key("max_power_va"),
                    r.c.day.not_in(sa.select(curve.subquery().c.day))))
    return list(await session.execute(sa.union_all(curve, files).order_by("day")))


async def daily(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date, *,
                with_extra: bool = False) -> list[Any]:
    cols = [readings.c.day, readings.c.wh, readings.c.quality]
    if with_extra:
        cols.append(readings.c.extra)
    result = await session.execute(
        sa.select(*cols)
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end)
        .order_by(readings.c.day))
    return named_rows(result)


async def stream_daily(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date,
                       chunk: int = 1000) -> AsyncIterator[tuple[dt.date, int, str]]:
    """(day, Wh, quality) of [start, end) by day, from a server-side cursor (inside a transaction)."""
    result = await session.stream(
        sa.select(readings.c.day, readings.c.wh, readings.c.quality)
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end)
        .order_by(readings.c.day).execution_options(yield_per=chunk))
    async for day, wh, quality in result:
        yield day, wh, quality


async def last_day(session: AsyncSession, meter_id: uuid.UUID) -> dt.date | None:
    return (await session.execute(sa.select(sa.func.max(readings.c.day))
                                  .where(readings.c.meter_id == meter_id))).scalar_one()


async def meter_days_total(session: AsyncSession, meter_id: uuid.UUID, start: dt.date,
                           end: dt.date) -> tuple[int, int]:
    """The meter's Wh and days with a reading over the days [start, end), from its readings: for periods that
    are not whole months (a commitment's measured effect)."""
    row = (await session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(readings.c.wh), 0), sa.func.count())
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end))).one()
    return int(row[0]), int(row[1])


async def newest_days(session: AsyncSession, since: dt.date) -> dict[str, dt.date]:
    """The newest day each source (the DSO channel) delivered, if from ``since``: read from ``source_days``
    (a few rows per source and day), never from the readings. It is the newest day ingested from the source: a later
    deletion (a statement withdrawn, an erasure) does not take it back, as the data did arrive that fresh."""
    t = source_days
    result = await session.execute(sa.select(t.c.source, sa.func.max(t.c.day)).where(t.c.day >= since)
                                   .group_by(t.c.source))
    return dict(result.all())


async def manual_days(session: AsyncSession, meter_id: uuid.UUID, source: str) -> set[dt.date]:
    return set((await session.execute(sa.select(readings.c.day).where(
        readings.c.meter_id == meter_id, readings.c.source == source))).scalars())


async def delete_readings(session: AsyncSession, meter_id: uuid.UUID, days: list[dt.date]) -> None:
    await session.execute(sa.delete(readings).where(readings.c.meter_id == meter_id, readings.c.day.in_(days)))
