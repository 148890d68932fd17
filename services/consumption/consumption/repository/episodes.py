"""Anomaly episodes found by the scans."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import anomaly_episodes


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
