"""Renovations declared on a building or a dwelling, and the monthly rollups of their meters around the works."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import renovations


async def upsert_renovation(session: AsyncSession, values: dict[str, Any]) -> None:
    """A replayed declaration writes the same row."""
    stmt = insert(renovations).values(**values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[renovations.c.id], set_={k: stmt.excluded[k] for k in values if k != "id"}))


async def holder_renovations(session: AsyncSession, holder_id: uuid.UUID,
                             building_id: uuid.UUID | None = None) -> list[sa.Row]:
    query = sa.select(renovations).where(renovations.c.holder_id == holder_id)
    if building_id is not None:
        query = query.where(renovations.c.building_id == building_id)
    return list((await session.execute(query.order_by(renovations.c.day, renovations.c.id))).all())


async def programme_renovations(session: AsyncSession, programme: str | None) -> list[sa.Row]:
    """Every renovation of the programme, or of every programme."""
    query = sa.select(renovations).where(renovations.c.programme.is_not(None))
    if programme is not None:
        query = query.where(renovations.c.programme == programme)
    return list((await session.execute(query.order_by(renovations.c.programme, renovations.c.day))).all())


# Per renovation and meter: the 12 whole months before the works' month and the 12 after it (the works' month on
# neither side), summed from the meter's rollups; an erased meter counts for nothing.
AROUND_WORKS = sa.text("""
    WITH r AS (
        SELECT id, unnest(meter_ids) AS meter_id, date_trunc('month', day)::date AS m0
        FROM consumption.renovations WHERE id = ANY(CAST(:ids AS uuid[]))
    )
    SELECT r.id, r.meter_id, m.energy,
           coalesce(sum(x.wh) FILTER (WHERE x.month < r.m0), 0)::bigint AS wh_before,
           coalesce(sum(x.days_present) FILTER (WHERE x.month < r.m0), 0) AS present_before,
           coalesce(sum(x.wh) FILTER (WHERE x.month > r.m0), 0)::bigint AS wh_after,
           coalesce(sum(x.days_present) FILTER (WHERE x.month > r.m0), 0) AS present_after
    FROM r JOIN consumption.meters m ON m.meter_id = r.meter_id AND m.erased_at IS NULL
    LEFT JOIN consumption.monthly_rollups x
      ON x.meter_id = r.meter_id AND x.month >= (r.m0 - interval '12 months')::date
         AND x.month < (r.m0 + interval '13 months')::date AND x.month <> r.m0
    GROUP BY r.id, r.meter_id, m.energy
""")


async def around_works(session: AsyncSession, ids: list[uuid.UUID]) -> list[sa.Row]:
    if not ids:
        return []
    return list((await session.execute(AROUND_WORKS, {"ids": ids})).all())
