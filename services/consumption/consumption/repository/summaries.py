"""The stored summaries (summary.meter_entry as last computed): read at a resident's request, written by the request
that found none valid and by the pricing worker for the meters that have one."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import meter_summaries, price_queue

# A meter waiting for the pricing worker has no valid stored summary: its new readings are read live meanwhile.
STORED_SUMMARIES = (
    sa.select(meter_summaries)
    .where(meter_summaries.c.meter_id.in_(sa.bindparam("meters", expanding=True)),
           ~sa.exists().where(price_queue.c.meter_id == meter_summaries.c.meter_id)))

# Stored only while the meter is still at the version the summary was read at and waits for no pricing: a summary
# computed from a snapshot the worker has since priced past (or new readings have since queued) is never stored.
STORE_SUMMARY = sa.text("""
    INSERT INTO consumption.meter_summaries AS s (meter_id, priced_version, degree_days, body, computed_at)
    SELECT m.meter_id, m.priced_version, :degree_days, :body, now()
    FROM consumption.meters m
    WHERE m.meter_id = :meter AND m.priced_version = :version AND m.erased_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM consumption.price_queue q WHERE q.meter_id = :meter)
    ON CONFLICT (meter_id) DO UPDATE SET priced_version = excluded.priced_version,
        degree_days = excluded.degree_days, body = excluded.body, computed_at = excluded.computed_at
""")


async def stored_summaries(session: AsyncSession, meter_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not meter_ids:
        return {}
    return {r.meter_id: r for r in (await session.execute(STORED_SUMMARIES, {"meters": meter_ids})).all()}


async def store_summary(session: AsyncSession, meter_id: uuid.UUID, version: int, degree_days: str,
                        body: str) -> None:
    """``body``: the JSON as served."""
    await session.execute(STORE_SUMMARY, {"meter": meter_id, "version": version, "degree_days": degree_days,
                                          "body": body})


async def summarised_meters(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Those of these meters that have a stored summary (their residents read it): the worker keeps them current."""
    if not meter_ids:
        return []
    return list((await session.execute(sa.select(meter_summaries.c.meter_id)
                                       .where(meter_summaries.c.meter_id.in_(meter_ids))
                                       .order_by(meter_summaries.c.meter_id))).scalars())
