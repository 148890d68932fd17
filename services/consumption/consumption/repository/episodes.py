"""Anomaly episodes found by the scans."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import anomaly_episodes, priced_days


async def record_episodes(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Inserts the episodes not yet announced; returns the keys that are new."""
    if not rows:
        return set()
    result = await session.execute(insert(anomaly_episodes).values(rows).on_conflict_do_nothing()
                                   .returning(anomaly_episodes.c.episode_key))
    return set(result.scalars())


async def recent_episodes(session: AsyncSession, meter_ids: list[uuid.UUID], since: dt.date) -> list[sa.Row]:
    if not meter_ids:
        return []
    result = await session.execute(
        sa.select(anomaly_episodes).where(anomaly_episodes.c.meter_id.in_(meter_ids),
                                          anomaly_episodes.c.end >= since)
        .order_by(anomaly_episodes.c.start.desc()))
    return list(result.all())


async def episodes_touching(session: AsyncSession, meter_ids: list[uuid.UUID], start: dt.date,
                            end: dt.date) -> list[sa.Row]:
    """Episodes with at least one day in [start, end), oldest first."""
    if not meter_ids:
        return []
    e = anomaly_episodes
    return list((await session.execute(
        sa.select(e).where(e.c.meter_id.in_(meter_ids), e.c.end >= start, e.c.start < end)
        .order_by(e.c.meter_id, e.c.start))).all())


async def priced_days_of(session: AsyncSession, meter_ids: list[uuid.UUID], start: dt.date,
                         end: dt.date) -> list[sa.Row]:
    """(meter_id, day, wh, eur) of the priced days of these meters in [start, end]."""
    if not meter_ids:
        return []
    p = priced_days
    return list((await session.execute(
        sa.select(p.c.meter_id, p.c.day, p.c.wh, p.c.eur).where(
            p.c.meter_id.in_(meter_ids), p.c.day >= start, p.c.day <= end))).all())
