"""Every SQL statement of the consumption service."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import meters, readings

UPSERT_READINGS = sa.text("""
    INSERT INTO consumption.readings (meter_id, day, wh, quality, source, extra)
    SELECT m, d, w, q, s, e::jsonb
    FROM unnest(CAST(:m AS uuid[]), CAST(:d AS date[]), CAST(:w AS bigint[]), CAST(:q AS text[]),
                CAST(:s AS text[]), CAST(:e AS text[])) AS t(m, d, w, q, s, e)
    ON CONFLICT (meter_id, day) DO UPDATE
      SET wh = excluded.wh, quality = excluded.quality, source = excluded.source, extra = excluded.extra,
          collected_at = now()
      WHERE (consumption.readings.wh, consumption.readings.quality, consumption.readings.extra)
            IS DISTINCT FROM (excluded.wh, excluded.quality, excluded.extra)
""")


async def upsert_readings(session: AsyncSession, rows: dict[str, list[Any]]) -> None:
    if rows["m"]:
        await session.execute(UPSERT_READINGS, rows)


async def erased_meters(session: AsyncSession, meter_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    result = await session.execute(sa.select(meters.c.meter_id).where(
        meters.c.meter_id.in_(meter_ids), meters.c.erased_at.is_not(None)))
    return set(result.scalars())


async def upsert_meter(session: AsyncSession, meter_id: uuid.UUID, account_id: uuid.UUID, energy: str,
                       dso: str) -> None:
    stmt = insert(meters).values(meter_id=meter_id, account_id=account_id, energy=energy, dso=dso)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[meters.c.meter_id],
        set_={"account_id": stmt.excluded.account_id, "energy": stmt.excluded.energy, "dso": stmt.excluded.dso},
        where=meters.c.erased_at.is_(None)))


async def meter_owner(session: AsyncSession, meter_id: uuid.UUID) -> tuple[uuid.UUID | None, str] | None:
    row = (await session.execute(sa.select(meters.c.account_id, meters.c.energy).where(
        meters.c.meter_id == meter_id, meters.c.erased_at.is_(None)))).first()
    return (row.account_id, row.energy) if row else None


async def daily(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> list[sa.Row]:
    result = await session.execute(
        sa.select(readings.c.day, readings.c.wh, readings.c.quality)
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end)
        .order_by(readings.c.day))
    return list(result.all())


async def last_day(session: AsyncSession, meter_id: uuid.UUID) -> dt.date | None:
    return (await session.execute(sa.select(sa.func.max(readings.c.day))
                                  .where(readings.c.meter_id == meter_id))).scalar_one()
